#pragma once
// layout/slab_operator.hpp: how a non-local operator (Fourier sampling, a projection, a NUFFT)
// reaches the slab layout. It models SlabOperator: besides its replicated members it has
// A(x, out) and A_adjoint(y, in) on SlabTensor, laid out as asked, written with the public blocks
// (layout/rows.hpp: RowExchange, relayout, sum_over_ranks; layout/slab_fft.hpp; dot and norm of
// slab tensors). SlabOperatorAdapter gives such an operator every LinearPhysics member on slabs
// (layout::Sharded<Op, Comm> picks it). Guide page "Your operator on slabs". Core + layout.
#include <concepts>
#include <random>
#include <utility>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_noise.hpp"
#include "distinv/layout/slab_tensor.hpp"

namespace distinv::layout {

/// An operator of the user's on slabs: `output_shape(in)`, and A(x, out) / A_adjoint(y, in) on
/// slab tensors that return the result laid out as `out` / `in` (a collective: every rank calls
/// them). Optional: input_shape(out) (default: the same shape), output_partition(in_shape,
/// in_part) and input_partition(out_shape, out_part) (default: the same partition when the row
/// count is kept, else the balanced one), and noise() (physics::WithNoise) for forward.
template <class Op, class Comm>
concept SlabOperator =
    CommBackend<Comm> && requires(Op const& op, SlabTensor<typename Op::scalar_type, 4, Comm> const& x,
                                  RowPartition const& part, Shape<4> const& s) {
      { op.output_shape(s) } -> std::convertible_to<Shape<4>>;
      { op.A(x, part) } -> std::convertible_to<SlabTensor<typename Op::scalar_type, 4, Comm>>;
      { op.A_adjoint(x, part) } -> std::convertible_to<SlabTensor<typename Op::scalar_type, 4, Comm>>;
    };

/// The layout rule of an operator's output (or adjoint) of `rows` rows from an input laid out as
/// `part`: `part` when the row count is kept, else the balanced split over as many ranks.
inline RowPartition same_or_balanced(Index rows, RowPartition const& part) {
  return part.rows() == rows ? part : RowPartition::balanced(rows, part.ranks());
}

/// What every operator on slabs shares (SlabOperatorAdapter, RowLocalAdapter): the operator and
/// the backend, shapes and layouts of outputs and inputs, the LinearPhysics members on slab tensors
/// from Derived's apply(x, out) / apply_adjoint(y, in), and forward (the replicated operator's
/// noise, drawn slab by slab).
template <class Derived, class Op, class Comm>
class SlabAdapterBase {
 public:
  /// The operator (each rank's copy).
  using operator_type = Op;
  /// Element type.
  using scalar_type = typename Op::scalar_type;
  /// Signals and measurements: SlabTensor<scalar_type, 4, Comm>.
  using tensor_type = SlabTensor<scalar_type, 4, Comm>;

  /// The operator.
  Op const& op() const noexcept { return op_; }
  /// The backend that links the ranks.
  Comm const& comm() const noexcept { return comm_; }
  /// The shape of A(x) for x of shape `in` (the operator's output_shape).
  Shape<4> output_shape(Shape<4> const& in) const { return op_.output_shape(in); }
  /// The shape of Aᵀ(y) for y of shape `out` (the operator's input_shape; without one, the same shape).
  Shape<4> input_shape(Shape<4> const& out) const {
    if constexpr (requires { op_.input_shape(out); }) {
      return op_.input_shape(out);
    } else {
      DISTINV_REQUIRE(op_.output_shape(out) == out, "on slabs: the operator has no input_shape and changes the ",
                      "shape ", distinv::to_string(out), "; give it input_shape(out)");
      return out;
    }
  }

  /// The layout of A(x) for x of shape `in` laid out as `part`: the operator's output_partition, else
  /// same_or_balanced (`part` when A keeps the rows). A(x, out) and A_adjoint(y, in) take any other.
  RowPartition output_partition(Shape<4> const& in, RowPartition const& part) const {
    if constexpr (requires { op_.output_partition(in, part); }) return op_.output_partition(in, part);
    else return same_or_balanced(output_shape(in)[2], part);
  }
  /// The layout of Aᵀ(y) for y of shape `out` laid out as `part` (the same rule backwards).
  RowPartition input_partition(Shape<4> const& out, RowPartition const& part) const {
    if constexpr (requires { op_.input_partition(out, part); }) return op_.input_partition(out, part);
    else return same_or_balanced(input_shape(out)[2], part);
  }

  /// A(x), laid out by output_partition.
  tensor_type A(tensor_type const& x) const { return self().apply(x, output_partition(x.shape(), x.partition())); }
  /// A(x) laid out as `out`.
  tensor_type A(tensor_type const& x, RowPartition const& out) const { return self().apply(x, out); }
  /// Aᵀ(y), laid out by input_partition.
  tensor_type A_adjoint(tensor_type const& y) const {
    return self().apply_adjoint(y, input_partition(y.shape(), y.partition()));
  }
  /// Aᵀ(y) laid out as `in`.
  tensor_type A_adjoint(tensor_type const& y, RowPartition const& in) const { return self().apply_adjoint(y, in); }
  /// Aᵀ(v), laid out as x (A is linear).
  tensor_type A_vjp(tensor_type const& x, tensor_type const& v) const { return self().apply_adjoint(v, x.partition()); }
  /// Aᵀ(A x), laid out as x.
  tensor_type A_adjoint_A(tensor_type const& x) const { return A_vjp(x, A(x)); }
  /// A(Aᵀ y), laid out as y.
  tensor_type A_A_adjoint(tensor_type const& y) const { return self().apply(A_adjoint(y), y.partition()); }

  /// A(x) with the operator's noise (if it has noise(), physics::WithNoise): the values the replicated
  /// operator draws from rng, drawn slab by slab (layout/slab_noise.hpp); every rank's rng ends where
  /// the replicated draw leaves it.
  tensor_type forward(tensor_type const& x, std::mt19937_64& rng) const {
    tensor_type y = A(x);
    if constexpr (requires { op_.noise(); }) layout::apply_noise(op_.noise(), y, rng);
    return y;
  }

 protected:
  /// `op` on slabs linked by `comm`.
  SlabAdapterBase(Op op, Comm comm) : op_(std::move(op)), comm_(std::move(comm)) {}

  /// Throws Error unless `part` lays out `rows` rows over this backend's ranks.
  void require_partition(RowPartition const& part, Index rows, char const* what) const {
    DISTINV_REQUIRE(part.rows() == rows && part.ranks() == comm_.size(), what, ": expected a partition of ", rows,
                    " rows over ", comm_.size(), " ranks, got ", part.to_string());
  }
  /// Throws Error unless the operator's result `r` has shape `s` and layout `part`.
  static void require_result(tensor_type const& r, Shape<4> const& s, RowPartition const& part, char const* what) {
    DISTINV_REQUIRE(r.shape() == s && r.partition() == part, what, ": expected a result of shape ",
                    distinv::to_string(s), " laid out as ", part.to_string(), ", got ", distinv::to_string(r.shape()),
                    " laid out as ", r.partition().to_string());
  }

 private:
  Derived const& self() const noexcept { return static_cast<Derived const&>(*this); }

  Op op_;
  Comm comm_;
};

/// A SlabOperator on slabs as a LinearPhysics on SlabTensor (what layout::Sharded<Op, Comm> is for
/// it): A(x[, out]), A_adjoint(y[, in]), A_vjp, A_adjoint_A, A_A_adjoint, forward, and the shapes
/// and layouts of outputs and inputs; each result is checked against the shape and layout asked.
template <class Op, CommBackend Comm>
  requires SlabOperator<Op, Comm>
class SlabOperatorAdapter : public SlabAdapterBase<SlabOperatorAdapter<Op, Comm>, Op, Comm> {
  using base = SlabAdapterBase<SlabOperatorAdapter, Op, Comm>;
  friend base;
  using slab_t = typename base::tensor_type;

 public:
  /// `op` on slabs linked by `comm`.
  SlabOperatorAdapter(Op op, Comm comm) : base(std::move(op), std::move(comm)) {}

 private:
  slab_t apply(slab_t const& x, RowPartition const& out) const {
    Shape<4> const s = this->output_shape(x.shape());
    this->require_partition(out, s[2], "SlabOperator::A");
    slab_t y = this->op().A(x, out);
    base::require_result(y, s, out, "SlabOperator::A");
    return y;
  }
  slab_t apply_adjoint(slab_t const& y, RowPartition const& in) const {
    Shape<4> const s = this->input_shape(y.shape());
    this->require_partition(in, s[2], "SlabOperator::A_adjoint");
    slab_t x = this->op().A_adjoint(y, in);
    base::require_result(x, s, in, "SlabOperator::A_adjoint");
    return x;
  }
};

}  // namespace distinv::layout
