#pragma once
// layout/sharded_physics.hpp: layout::Sharded<Op, Comm> (shard(op, comm)), an operator as a
// LinearPhysics on SlabTensor<T, 4, Comm>, for any operator with a slab path: a SlabOperator
// (layout/slab_operator.hpp: its own A / A_adjoint on slabs) runs through SlabOperatorAdapter; a
// local operator that declares its row footprint (physics::RowLocalPhysics: Blur, Downsampling,
// Inpainting, Denoising, or the user's own stencil) through RowLocalAdapter, which gathers the
// rows a rank's outputs read (halo via RowExchange) and runs the operator's own block kernel,
// the adjoint scattering the block back (scatter_add, exact). An operator with neither is one
// static_assert pointing to the guide page. Core + physics + layout.
#include <map>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/rows.hpp"
#include "distinv/layout/slab_operator.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/denoising.hpp"
#include "distinv/physics/downsampling.hpp"
#include "distinv/physics/inpainting.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/row_footprint.hpp"

namespace distinv::layout {

/// Tag of RowLocalAdapter's constructor from an operator that already holds only this rank's rows
/// of its per-pixel data (built from its slab of a mask, weight image or coil maps).
struct RowsHeld {};
/// The RowsHeld tag.
inline constexpr RowsHeld rows_held{};

/// A local operator (physics::RowLocalPhysics) on slabs: for outputs laid out as `out`, rank r
/// gathers the input rows its outputs read (RowSpan::of(footprint, out.lo(r), out.hi(r)), through
/// the padding, from any rank: one RowExchange per pair of layouts, built once and kept) and runs
/// the operator's A_rows on that block; the adjoint runs A_adjoint_rows and adds the block back into
/// the rows' owners (RowExchange::scatter_add), exactly. A row-by-row operator on one layout
/// exchanges nothing. Made with a partition, an operator with per-pixel data (physics::PixelRows)
/// keeps only its rows of it (on_rows) and then takes signals laid out that way only.
template <physics::RowLocalPhysics Op, CommBackend Comm>
class RowLocalAdapter : public SlabAdapterBase<RowLocalAdapter<Op, Comm>, Op, Comm> {
  using base = SlabAdapterBase<RowLocalAdapter, Op, Comm>;
  friend base;
  using slab_t = typename base::tensor_type;

 public:
  /// `op` on slabs linked by `comm`, for signals laid out by any partition (per-pixel data whole).
  /// Throws Error if the operator has no footprint (e.g. a Blur of BlurMethod::fft).
  RowLocalAdapter(Op op, Comm comm) : base(std::move(op), std::move(comm)), footprint_(this->op().row_footprint()) {}
  /// `op` on slabs for signals laid out as `part`: each rank keeps only the per-pixel data of its
  /// rows (op.on_rows of its span), and the whole operator may then be dropped.
  RowLocalAdapter(Op const& op, Comm comm, RowPartition part)
    requires physics::PixelRows<Op>
      : RowLocalAdapter(bound(op, comm, part), comm, part, rows_held) {}
  /// `op`, which already holds only this rank's rows of its per-pixel data for signals laid out as
  /// `part` (what on_rows of this rank's span gives), on slabs linked by `comm`.
  RowLocalAdapter(Op op, Comm comm, RowPartition part, RowsHeld)
      : base(std::move(op), std::move(comm)), footprint_(this->op().row_footprint()) {
    this->require_partition(part, part.rows(), "RowLocalAdapter");
    RowPartition out = same_or_balanced(footprint_.output_rows(part.rows()), part);
    held_ = std::pair(std::move(part), std::move(out));
  }

  /// The operator's row footprint.
  physics::RowFootprint const& footprint() const noexcept { return footprint_; }
  /// The input layout an operator made with a partition is bound to (its per-pixel rows), if any.
  std::optional<RowPartition> bound_partition() const {
    return held_ ? std::optional<RowPartition>(held_->first) : std::nullopt;
  }

 private:
  static Op bound(Op const& op, Comm const& comm, RowPartition const& part) {
    physics::RowFootprint const f = op.row_footprint();
    DISTINV_REQUIRE(part.ranks() == comm.size(), "RowLocalAdapter: expected a partition over ", comm.size(),
                    " ranks, got ", part.to_string());
    RowPartition const out = same_or_balanced(f.output_rows(part.rows()), part);
    return op.on_rows(physics::RowSpan::of(f, out.lo(comm.rank()), out.hi(comm.rank())));
  }

  /// This rank's block for outputs of shape `out` laid out as `out_part`, inputs of shape `in`.
  physics::RowBlock block(Shape<4> const& in, Shape<4> const& out, RowPartition const& out_part) const {
    int const r = this->comm().rank();
    physics::RowBlock b;
    static_cast<physics::RowSpan&>(b) = physics::RowSpan::of(footprint_, out_part.lo(r), out_part.hi(r));
    b.block = {in[0], in[1], b.in_hi - b.in_lo, in[3]};
    b.out = {out[0], out[1], b.out_hi - b.out_lo, out[3]};
    return b;
  }
  /// Checks the shapes and layouts of one call (before any communication).
  void check(Shape<4> const& in, Shape<4> const& out, RowPartition const& in_part, RowPartition const& out_part,
             char const* what) const {
    this->require_partition(in_part, in[2], what);
    this->require_partition(out_part, out[2], what);
    DISTINV_REQUIRE(footprint_.output_rows(in[2]) == out[2], what, ": the operator's row footprint gives ",
                    footprint_.output_rows(in[2]), " output rows for ", in[2], " input rows, its output_shape ",
                    out[2]);
    if (held_)
      DISTINV_REQUIRE(in_part == held_->first && out_part == held_->second, what, ": holds the per-pixel rows of ",
                      "signals laid out as ", held_->first.to_string(), " (outputs ", held_->second.to_string(),
                      "), got ", in_part.to_string(), " (outputs ", out_part.to_string(), ")");
  }
  /// True when this rank's block is its own slab (row by row, one layout): no exchange.
  bool direct(RowPartition const& in, RowPartition const& out) const { return footprint_.pointwise() && in == out; }

  RowExchange<Comm> const& exchange(RowPartition const& in, RowPartition const& out) const {
    auto key = std::pair(in.offsets(), out.offsets());
    auto it = exchanges_.find(key);
    if (it == exchanges_.end()) {
      int const r = this->comm().rank();
      auto const span = physics::RowSpan::of(footprint_, out.lo(r), out.hi(r));
      std::vector<Index> rows;
      for (Index g = span.in_lo; g < span.in_hi; ++g) rows.push_back(kernels::pad_index(footprint_.padding, g, in.rows()));
      it = exchanges_.emplace(std::move(key), RowExchange<Comm>(this->comm(), in, std::move(rows))).first;
    }
    return it->second;
  }

  slab_t apply(slab_t const& x, RowPartition const& out_part) const {
    Shape<4> const out = this->output_shape(x.shape());
    check(x.shape(), out, x.partition(), out_part, "Sharded::A");
    auto const b = block(x.shape(), out, out_part);
    slab_t y(this->comm(), out, out_part);
    auto rows = direct(x.partition(), out_part) ? this->op().A_rows(x.local(), b)
                                                : this->op().A_rows(exchange(x.partition(), out_part).gather(x), b);
    DISTINV_REQUIRE(distinv::shape_of(rows) == b.out, "Sharded::A: the operator's A_rows gave a block of shape ",
                    distinv::to_string(distinv::shape_of(rows)), ", expected ", distinv::to_string(b.out));
    y.local() = std::move(rows);
    return y;
  }
  slab_t apply_adjoint(slab_t const& y, RowPartition const& in_part) const {
    Shape<4> const in = this->input_shape(y.shape());
    DISTINV_REQUIRE(this->output_shape(in) == y.shape(), "Sharded::A_adjoint: expected a measurement of shape ",
                    distinv::to_string(this->output_shape(in)), ", got ", distinv::to_string(y.shape()));
    check(in, y.shape(), in_part, y.partition(), "Sharded::A_adjoint");
    auto const b = block(in, y.shape(), y.partition());
    auto rows = this->op().A_adjoint_rows(y.local(), b);
    DISTINV_REQUIRE(distinv::shape_of(rows) == b.block, "Sharded::A_adjoint: the operator's A_adjoint_rows gave a ",
                    "block of shape ", distinv::to_string(distinv::shape_of(rows)), ", expected ",
                    distinv::to_string(b.block));
    if (direct(in_part, y.partition())) {
      slab_t x(this->comm(), in, in_part);
      x.local() = std::move(rows);
      return x;
    }
    auto x = slab_t::zeros(this->comm(), in, in_part);
    exchange(in_part, y.partition()).scatter_add(rows, x);
    return x;
  }

  physics::RowFootprint footprint_;
  std::optional<std::pair<RowPartition, RowPartition>> held_;  ///< (inputs, outputs) of bound per-pixel rows
  mutable std::map<std::pair<std::vector<Index>, std::vector<Index>>, RowExchange<Comm>> exchanges_;
};

/// True when `Op` runs on slabs: it models SlabOperator or declares its row footprint
/// (physics::RowLocalPhysics).
template <class Op, class Comm>
inline constexpr bool has_slab_path_v = SlabOperator<Op, Comm> || physics::RowLocalPhysics<Op>;

/// Compiles only for an operator with a slab path (has_slab_path_v), else stops the build with one
/// static_assert naming what is missing and the guide page; the entry points of the slab layout
/// (layout::shard, distribute<layout::Slabs>, make_distrib_bundle<layout::Slabs>) call it first.
template <class Op, class Comm>
constexpr bool require_slab_path() {
  static_assert(has_slab_path_v<Op, Comm>,
                "layout::Slabs: this operator has no slab path. Declare its row footprint (physics::RowLocalPhysics: "
                "row_footprint, A_rows, A_adjoint_rows) or model layout::SlabOperator (A(x, out) and A_adjoint(y, in) "
                "on SlabTensor). Guide page \"Your operator on slabs\": docs/guide/slab_operators.md");
  return has_slab_path_v<Op, Comm>;
}

namespace detail {

/// An operator without a slab path: require_slab_path's static_assert, and declarations of every
/// member the layers above call, so that no further error follows it.
template <class Op, class Comm>
class NoSlabPath : public SlabAdapterBase<NoSlabPath<Op, Comm>, Op, Comm> {
  using base = SlabAdapterBase<NoSlabPath, Op, Comm>;
  friend base;

 public:
  NoSlabPath(Op op, Comm comm) : base(std::move(op), std::move(comm)) { require_slab_path<Op, Comm>(); }
  NoSlabPath(Op const& op, Comm comm, RowPartition) : NoSlabPath(op, std::move(comm)) {}

 private:
  typename base::tensor_type apply(typename base::tensor_type const& x, RowPartition const& out) const;
  typename base::tensor_type apply_adjoint(typename base::tensor_type const& y, RowPartition const& in) const;
};

template <class Op, class Comm>
struct slab_path {
  using type = NoSlabPath<Op, Comm>;
};
template <class Op, class Comm>
  requires SlabOperator<Op, Comm>
struct slab_path<Op, Comm> {
  using type = SlabOperatorAdapter<Op, Comm>;
};
template <class Op, class Comm>
  requires(!SlabOperator<Op, Comm> && physics::RowLocalPhysics<Op>)
struct slab_path<Op, Comm> {
  using type = RowLocalAdapter<Op, Comm>;
};

}  // namespace detail

/// Op on signals in the slab layout, a LinearPhysics on SlabTensor<T, 4, Comm>: a SlabOperator
/// through SlabOperatorAdapter, a local operator (physics::RowLocalPhysics) through RowLocalAdapter
/// (with their constructors); anything else fails to compile with one static_assert naming what is
/// missing (guide page "Your operator on slabs").
template <class Op, CommBackend Comm>
class Sharded : public detail::slab_path<Op, Comm>::type {
  using base = typename detail::slab_path<Op, Comm>::type;

 public:
  using base::base;
};

/// Inpainting on slabs made from its mask in the slab layout (the signals' layout): each rank holds
/// its rows of the mask only (RowLocalAdapter with Inpainting's per-pixel rows).
template <class T, CommBackend Comm>
class Sharded<physics::Inpainting<T>, Comm> : public RowLocalAdapter<physics::Inpainting<T>, Comm> {
  using base = RowLocalAdapter<physics::Inpainting<T>, Comm>;

 public:
  using base::base;
  /// From the mask (1 or B, 1 or C, H, W) in the slab layout, the signals' layout.
  explicit Sharded(SlabTensor<T, 4, Comm> const& mask, physics::NoiseModel<T> noise = physics::NoNoise{})
      : base(rows_of(mask, std::move(noise)), mask.comm(), mask.partition(), rows_held) {}

  /// The layout of the mask, and so of the signals (throws Error for an operator made without one).
  RowPartition partition() const {
    auto part = this->bound_partition();
    DISTINV_REQUIRE(part, "Sharded<Inpainting>::partition: made without a partition (it holds the whole mask)");
    return *part;
  }

 private:
  static physics::Inpainting<T> rows_of(SlabTensor<T, 4, Comm> const& mask, physics::NoiseModel<T> noise) {
    physics::Inpainting<T> op(mask.local(), mask.lo(), mask.shape());
    op.set_noise(std::move(noise));
    return op;
  }
};

/// The operator `op` on slabs linked by `comm` (with per-pixel data: Sharded(op, comm, partition)).
template <class Op, CommBackend Comm>
Sharded<Op, Comm> shard(Op op, Comm comm) {
  require_slab_path<Op, Comm>();
  return Sharded<Op, Comm>(std::move(op), std::move(comm));
}

}  // namespace distinv::layout
