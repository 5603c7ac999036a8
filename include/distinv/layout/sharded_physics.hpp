#pragma once
// layout/sharded_physics.hpp: layout::Sharded<Op, Comm> (shard(op, comm)), the operators of
// physics/ as LinearPhysics on SlabTensor<T, 4, Comm>: Blur (direct path, 5 paddings; fft refused),
// Downsampling, Inpainting (mask on slabs), Denoising. Thin adapters over the replicated kernels:
// a convolution gathers the rows its outputs read (the halo through the row padding, from any
// rank), convolves them row-valid (Blur::convolve); its adjoint convolves back and scatter_adds,
// exactly. Output layouts: ShardedBase::output_partition; forward draws the replicated noise
// slab by slab (layout/slab_noise.hpp). Core + physics + layout.
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <variant>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/rows.hpp"
#include "distinv/layout/slab_noise.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/denoising.hpp"
#include "distinv/physics/downsampling.hpp"
#include "distinv/physics/inpainting.hpp"
#include "distinv/physics/noise.hpp"

namespace distinv::layout {

/// Op on signals in the slab layout; specialised below for each operator of physics/.
template <class Op, CommBackend Comm>
class Sharded;

namespace detail {

/// What every sharded operator shares: the operator and the backend, the layouts of outputs and
/// inputs, the LinearPhysics members from Derived's apply(x, out) / apply_adjoint(y, in), and
/// forward. Derived may replace output_shape / input_shape (the default asks the operator).
template <class Derived, class Op, class Comm>
class ShardedBase {
 public:
  using operator_type = Op;
  using scalar_type = typename Op::scalar_type;
  using tensor_type = SlabTensor<scalar_type, 4, Comm>;

  Op const& op() const noexcept { return op_; }
  Comm const& comm() const noexcept { return comm_; }
  Shape<4> output_shape(Shape<4> const& in) const { return op_.output_shape(in); }
  Shape<4> input_shape(Shape<4> const& out) const { return op_.input_shape(out); }

  /// The layout of A(x) for x of shape `in` laid out as `part`: `part` when A keeps the rows,
  /// else the balanced partition of the output's rows (valid Blur, Downsampling: at least one
  /// output row per rank). A(x, part) and A_adjoint(y, part) take any other partition.
  RowPartition output_partition(Shape<4> const& in, RowPartition const& part) const {
    return same_or_balanced(self().output_shape(in)[2], part);
  }
  /// The layout of Aᵀ(y) for y of shape `out` laid out as `part` (the same rule backwards).
  RowPartition input_partition(Shape<4> const& out, RowPartition const& part) const {
    return same_or_balanced(self().input_shape(out)[2], part);
  }

  tensor_type A(tensor_type const& x) const { return self().apply(x, output_partition(x.shape(), x.partition())); }
  /// A(x) laid out as `out`.
  tensor_type A(tensor_type const& x, RowPartition const& out) const { return self().apply(x, out); }
  tensor_type A_adjoint(tensor_type const& y) const {
    return self().apply_adjoint(y, input_partition(y.shape(), y.partition()));
  }
  /// Aᵀ(y) laid out as `in`.
  tensor_type A_adjoint(tensor_type const& y, RowPartition const& in) const { return self().apply_adjoint(y, in); }
  tensor_type A_vjp(tensor_type const& x, tensor_type const& v) const { return self().apply_adjoint(v, x.partition()); }
  tensor_type A_adjoint_A(tensor_type const& x) const { return A_vjp(x, A(x)); }
  tensor_type A_A_adjoint(tensor_type const& y) const { return self().apply(A_adjoint(y), y.partition()); }

  /// A(x) with the operator's noise, the same values as the replicated operator draws from rng,
  /// drawn slab by slab (layout/slab_noise.hpp: the ranks draw their rows in turn, no rank holds
  /// more than its slab); every rank's rng ends where the replicated draw leaves it.
  tensor_type forward(tensor_type const& x, std::mt19937_64& rng) const {
    tensor_type y = A(x);
    layout::apply_noise(op_.noise(), y, rng);
    return y;
  }

 protected:
  ShardedBase(Op op, Comm comm) : op_(std::move(op)), comm_(std::move(comm)) {}

  /// Throws Error unless `part` lays out `rows` rows over this backend's ranks.
  void require_partition(RowPartition const& part, Index rows, char const* what) const {
    DISTINV_REQUIRE(part.rows() == rows && part.ranks() == comm_.size(), what, ": expected a partition of ", rows,
                    " rows over ", comm_.size(), " ranks, got ", part.to_string());
  }
  /// Throws Error unless `out` is `in` (an operator that acts row by row keeps the layout).
  static void require_kept(RowPartition const& in, RowPartition const& out, char const* what) {
    DISTINV_REQUIRE(in == out, what, ": keeps its input's layout ", in.to_string(), ", asked for ", out.to_string());
  }

 private:
  RowPartition same_or_balanced(Index rows, RowPartition const& part) const {
    return part.rows() == rows ? part : RowPartition::balanced(rows, comm_.size());
  }
  Derived const& self() const noexcept { return static_cast<Derived const&>(*this); }

  Op op_;
  Comm comm_;
};

/// The row blocks of a convolution on slabs: output row i of a layout `out` reads input rows
/// [i * stride - top, i * stride - top + kh) through the row padding (-1: a zero row), so rank
/// r's outputs read one contiguous block of rows, gathered by a RowExchange over the input's
/// layout. The exchange of each pair of layouts is built once (a collective) and kept; an
/// operator is used by its own rank only.
template <class Comm>
class BlockRows {
 public:
  BlockRows() = default;
  BlockRows(Index stride, Index top, Index kh, kernels::Padding pad) : stride_(stride), top_(top), kh_(kh), pad_(pad) {}
  /// Of a blur (or none: one row per output), outputs `stride` rows apart.
  template <class BlurT>
  static BlockRows of(BlurT const* blur, Index stride) {
    if (!blur) return BlockRows(stride, 0, 1, kernels::Padding::zeros);
    Index const top = blur->padding() == kernels::Padding::valid ? 0 : kernels::kernel_pads(blur->kh()).before;
    return BlockRows(stride, top, blur->kh(), blur->padding());
  }

  RowExchange<Comm> const& exchange(Comm const& comm, RowPartition const& in, RowPartition const& out) const {
    auto key = std::pair(in.offsets(), out.offsets());
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      int const r = comm.rank();
      std::vector<Index> rows;
      for (Index g = out.lo(r) * stride_ - top_; g < (out.hi(r) - 1) * stride_ - top_ + kh_; ++g)
        rows.push_back(kernels::pad_index(pad_, g, in.rows()));
      it = cache_.emplace(std::move(key), RowExchange<Comm>(comm, in, std::move(rows))).first;
    }
    return it->second;
  }

  /// A of a row-block operator: y (shape `out`, laid out as `out_part`) from x's gathered
  /// block, local(block, y's local tensor) computing this rank's outputs.
  template <class X, class Local>
  X apply(Comm const& comm, X const& x, Shape<4> const& out, RowPartition const& out_part, Local&& local) const {
    auto const block = exchange(comm, x.partition(), out_part).gather(x);
    X y(comm, out, out_part);
    local(block, y.local());
    return y;
  }
  /// Its adjoint: x (shape `in`, laid out as `in_part`) from local(y's local tensor, the block's
  /// shape), the block that scatter_add returns to the rows' owners.
  template <class X, class LocalAdjoint>
  X apply_adjoint(Comm const& comm, X const& y, Shape<4> const& in, RowPartition const& in_part,
                  LocalAdjoint&& local) const {
    auto const& ex = exchange(comm, in_part, y.partition());
    Shape<4> block = in;
    block[2] = Index(ex.rows().size());
    auto x = X::zeros(comm, in, in_part);
    ex.scatter_add(local(y.local(), block), x);
    return x;
  }

 private:
  Index stride_ = 1, top_ = 0, kh_ = 1;
  kernels::Padding pad_ = kernels::Padding::zeros;
  mutable std::map<std::pair<std::vector<Index>, std::vector<Index>>, RowExchange<Comm>> cache_;
};

/// The geometry of a gathered block of shape `block` under `blur`: rows valid (the halo is in
/// the block), columns padded as the blur pads them.
template <class BlurT>
kernels::Conv2dGeometry block_geometry(BlurT const& blur, Shape<4> const& block) {
  return kernels::make_conv2d_geometry(block[0], block[1], block[2], block[3], blur.filter().dimension(0),
                                       blur.filter().dimension(1), blur.kh(), blur.kw(), kernels::Padding::valid,
                                       blur.padding());
}
/// The blur of a gathered block (its rows less kh - 1).
template <class BlurT, class T>
Tensor4<T> convolve_block(BlurT const& blur, Tensor4<T> const& block) {
  auto const g = block_geometry(blur, distinv::shape_of(block));
  Tensor4<T> out(distinv::shape_of(block)[0], distinv::shape_of(block)[1], g.Ho, g.Wo);
  blur.convolve(g, block.data(), out.data());
  return out;
}
/// Its adjoint: the block of shape `block` from the blurred block yb.
template <class BlurT, class T>
Tensor4<T> convolve_block_adjoint(BlurT const& blur, Tensor4<T> const& yb, Shape<4> const& block) {
  Tensor4<T> out(block);
  blur.convolve_adjoint(block_geometry(blur, block), yb.data(), out.data());
  return out;
}

/// The slab FFT is issue #11 item 4: BlurMethod::fft is refused; automatic runs the direct path.
inline void require_direct(physics::BlurMethod method, char const* what) {
  DISTINV_REQUIRE(method != physics::BlurMethod::fft, what,
                  ": BlurMethod::fft has no slab path yet (the distributed FFT is to come); use BlurMethod::direct "
                  "or automatic, which run the direct path on slabs");
}

}  // namespace detail

/// Blur on slabs (direct path, every padding): the kernel's halo rows, then the local blur.
template <class T, class Fft, CommBackend Comm>
class Sharded<physics::Blur<T, device::Host, Fft>, Comm>
    : public detail::ShardedBase<Sharded<physics::Blur<T, device::Host, Fft>, Comm>,
                                 physics::Blur<T, device::Host, Fft>, Comm> {
  using blur_type = physics::Blur<T, device::Host, Fft>;
  using base = detail::ShardedBase<Sharded, blur_type, Comm>;
  friend base;

 public:
  using typename base::tensor_type;

  /// `blur` on slabs linked by `comm` (throws Error for BlurMethod::fft).
  Sharded(blur_type blur, Comm comm) : base(std::move(blur), std::move(comm)) {
    detail::require_direct(this->op().method(), "Sharded<Blur>");
    rows_ = detail::BlockRows<Comm>::of(&this->op(), 1);
  }

 private:
  tensor_type apply(tensor_type const& x, RowPartition const& out_part) const {
    auto const& blur = this->op();
    Shape<4> const out = blur.output_shape(x.shape());
    this->require_partition(out_part, out[2], "Sharded<Blur>::A");
    return rows_.apply(this->comm(), x, out, out_part, [&](Tensor4<T> const& block, Tensor4<T>& y) {
      blur.convolve(detail::block_geometry(blur, distinv::shape_of(block)), block.data(), y.data());
    });
  }
  tensor_type apply_adjoint(tensor_type const& y, RowPartition const& in_part) const {
    auto const& blur = this->op();
    Shape<4> const in = blur.input_shape(y.shape());
    this->require_partition(in_part, in[2], "Sharded<Blur>::A_adjoint");
    return rows_.apply_adjoint(this->comm(), y, in, in_part, [&](Tensor4<T> const& yl, Shape<4> const& block) {
      return detail::convolve_block_adjoint(blur, yl, block);
    });
  }

  detail::BlockRows<Comm> rows_;
};

/// Downsampling on slabs: the block of rows its outputs read (the blur's halo, outputs factor
/// rows apart), the local blur, the local decimation; the adjoint backwards.
template <class T, CommBackend Comm>
class Sharded<physics::Downsampling<T>, Comm>
    : public detail::ShardedBase<Sharded<physics::Downsampling<T>, Comm>, physics::Downsampling<T>, Comm> {
  using base = detail::ShardedBase<Sharded, physics::Downsampling<T>, Comm>;
  friend base;

 public:
  using typename base::tensor_type;

  /// `op` on slabs linked by `comm` (throws Error if its blur's method is BlurMethod::fft).
  Sharded(physics::Downsampling<T> op, Comm comm) : base(std::move(op), std::move(comm)) {
    auto const& blur = this->op().blur();
    if (blur) detail::require_direct(blur->method(), "Sharded<Downsampling>");
    rows_ = detail::BlockRows<Comm>::of(blur ? &*blur : nullptr, this->op().factor());
  }

 private:
  tensor_type apply(tensor_type const& x, RowPartition const& out_part) const {
    auto const& op = this->op();
    Shape<4> const out = op.output_shape(x.shape());
    this->require_partition(out_part, out[2], "Sharded<Downsampling>::A");
    return rows_.apply(this->comm(), x, out, out_part, [&](Tensor4<T> const& block, Tensor4<T>& y) {
      y = op.decimate(op.blur() ? detail::convolve_block(*op.blur(), block) : block, distinv::shape_of(y));
    });
  }
  tensor_type apply_adjoint(tensor_type const& y, RowPartition const& in_part) const {
    auto const& op = this->op();
    Shape<4> const in = op.input_shape(y.shape());
    DISTINV_REQUIRE(op.output_shape(in) == y.shape(),
                    "Sharded<Downsampling>::A_adjoint: expected a measurement of shape ",
                    distinv::to_string(op.output_shape(in)), ", got ", distinv::to_string(y.shape()));
    this->require_partition(in_part, in[2], "Sharded<Downsampling>::A_adjoint");
    return rows_.apply_adjoint(this->comm(), y, in, in_part, [&](Tensor4<T> const& yl, Shape<4> const& block) {
      if (!op.blur()) return op.zero_fill(yl, block);
      auto const g = detail::block_geometry(*op.blur(), block);
      return detail::convolve_block_adjoint(*op.blur(), op.zero_fill(yl, {block[0], block[1], g.Ho, g.Wo}), block);
    });
  }

  detail::BlockRows<Comm> rows_;
};

/// Inpainting on slabs: the mask in the signal's layout, applied row by row (no communication).
template <class T, CommBackend Comm>
class Sharded<physics::Inpainting<T>, Comm>
    : public detail::ShardedBase<Sharded<physics::Inpainting<T>, Comm>, physics::Inpainting<T>, Comm> {
  using base = detail::ShardedBase<Sharded, physics::Inpainting<T>, Comm>;
  friend base;

 public:
  using typename base::tensor_type;

  /// From the mask (1 or B, 1 or C, H, W) in the slab layout, the signals' layout.
  explicit Sharded(tensor_type mask, physics::NoiseModel<T> noise = physics::NoNoise{})
      : base(local_op(mask, std::move(noise)), mask.comm()), shape_(mask.shape()), part_(mask.partition()) {}
  /// From the whole mask, which every rank holds (each keeps its rows), laid out as `part`.
  Sharded(physics::Inpainting<T> const& op, Comm comm, RowPartition part)
      : Sharded(tensor_type::scatter(std::move(comm), op.mask(), std::move(part)), op.noise()) {}

  /// The output shape (the input's); throws Error unless the mask broadcasts over it.
  Shape<4> output_shape(Shape<4> const& in) const { return physics::Inpainting<T>::output_shape(shape_, in); }
  /// The input shape of a measurement of shape `out`: the same.
  Shape<4> input_shape(Shape<4> const& out) const { return output_shape(out); }
  /// The layout of the mask, and so of the signals.
  RowPartition const& partition() const noexcept { return part_; }

 private:
  static physics::Inpainting<T> local_op(tensor_type const& mask, physics::NoiseModel<T> noise) {
    physics::Inpainting<T> op(mask.local());
    op.set_noise(std::move(noise));
    return op;
  }
  tensor_type masked(tensor_type const& x, RowPartition const& out_part, char const* what) const {
    output_shape(x.shape());
    DISTINV_REQUIRE(x.partition() == part_, what, ": expected a signal laid out as the mask, ", part_.to_string(),
                    ", got ", x.partition().to_string());
    base::require_kept(x.partition(), out_part, what);
    tensor_type y(this->comm(), x.shape(), part_);
    y.local() = this->op().A(x.local());
    return y;
  }
  tensor_type apply(tensor_type const& x, RowPartition const& out) const {
    return masked(x, out, "Sharded<Inpainting>::A");
  }
  tensor_type apply_adjoint(tensor_type const& y, RowPartition const& in) const {
    return masked(y, in, "Sharded<Inpainting>::A_adjoint");
  }

  Shape<4> shape_;
  RowPartition part_;
};

/// Denoising on slabs: the identity.
template <class T, CommBackend Comm>
class Sharded<physics::Denoising<T>, Comm>
    : public detail::ShardedBase<Sharded<physics::Denoising<T>, Comm>, physics::Denoising<T>, Comm> {
  using base = detail::ShardedBase<Sharded, physics::Denoising<T>, Comm>;
  friend base;

 public:
  using typename base::tensor_type;
  /// `op` (its noise) on slabs linked by `comm`.
  Sharded(physics::Denoising<T> op, Comm comm) : base(std::move(op), std::move(comm)) {}
  /// The input shape of a measurement of shape `out`: the same.
  Shape<4> input_shape(Shape<4> const& out) const { return out; }

 private:
  tensor_type apply(tensor_type const& x, RowPartition const& out) const {
    base::require_kept(x.partition(), out, "Sharded<Denoising>::A");
    return x;
  }
  tensor_type apply_adjoint(tensor_type const& y, RowPartition const& in) const {
    base::require_kept(y.partition(), in, "Sharded<Denoising>::A_adjoint");
    return y;
  }
};

/// The operator `op` on slabs linked by `comm` (Inpainting: Sharded(op, comm, partition)).
template <class Op, CommBackend Comm>
Sharded<Op, Comm> shard(Op op, Comm comm) {
  return Sharded<Op, Comm>(std::move(op), std::move(comm));
}

}  // namespace distinv::layout
