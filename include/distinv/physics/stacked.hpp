#pragma once
// physics/stacked.hpp: stacks of operators A = [A_1; ...; A_N] on one signal x, as deepinv's
// StackedPhysics / StackedLinearPhysics / stack(). A(x) is a TensorList (one measurement per
// operator); Aᵀ sums A_iᵀ y_i in operator order (a fixed order: reproducible). Operators of
// one type stack as they are; mixed types go through AnyLinearPhysics<T>, a type-erased
// LinearPhysics with value semantics (shared, immutable implementation). Core + physics only.
#include <cstddef>
#include <memory>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"

namespace distinv::physics {

/// Any LinearPhysics on Tensor4<T>, behind one virtual call per operator application (meant
/// for the boundary: heterogeneous stacks, configuration-built operators).
template <class T>
class AnyLinearPhysics {
  struct Iface {
    virtual ~Iface() = default;
    virtual Tensor4<T> A(Tensor4<T> const&) const = 0;
    virtual Tensor4<T> forward(Tensor4<T> const&, std::mt19937_64&) const = 0;
    virtual Shape<4> output_shape(Shape<4> const&) const = 0;
    virtual Tensor4<T> A_adjoint(Tensor4<T> const&) const = 0;
    virtual Tensor4<T> A_vjp(Tensor4<T> const&, Tensor4<T> const&) const = 0;
    virtual Tensor4<T> A_adjoint_A(Tensor4<T> const&) const = 0;
    virtual Tensor4<T> A_A_adjoint(Tensor4<T> const&) const = 0;
  };
  template <class Op>
  struct Model final : Iface {
    explicit Model(Op o) : op(std::move(o)) {}
    Tensor4<T> A(Tensor4<T> const& x) const override { return op.A(x); }
    Tensor4<T> forward(Tensor4<T> const& x, std::mt19937_64& rng) const override { return op.forward(x, rng); }
    Shape<4> output_shape(Shape<4> const& s) const override { return op.output_shape(s); }
    Tensor4<T> A_adjoint(Tensor4<T> const& y) const override { return op.A_adjoint(y); }
    Tensor4<T> A_vjp(Tensor4<T> const& x, Tensor4<T> const& v) const override { return op.A_vjp(x, v); }
    Tensor4<T> A_adjoint_A(Tensor4<T> const& x) const override { return op.A_adjoint_A(x); }
    Tensor4<T> A_A_adjoint(Tensor4<T> const& y) const override { return op.A_A_adjoint(y); }
    Op op;
  };

 public:
  /// Element type.
  using scalar_type = T;
  /// The signal type, Tensor4<T>.
  using tensor_type = Tensor4<T>;

  /// Wraps any LinearPhysics on Tensor4<T> (implicit, so that mixed stacks read naturally).
  template <class Op>
    requires(!std::same_as<std::remove_cvref_t<Op>, AnyLinearPhysics> && LinearPhysics<std::remove_cvref_t<Op>> &&
             std::same_as<typename std::remove_cvref_t<Op>::tensor_type, Tensor4<T>>)
  AnyLinearPhysics(Op&& op)  // NOLINT: implicit, so that stacks of mixed operators read naturally
      : impl_(std::make_shared<Model<std::remove_cvref_t<Op>> const>(std::forward<Op>(op))) {}

  /// The wrapped operator's A.
  tensor_type A(tensor_type const& x) const { return impl_->A(x); }
  /// The wrapped operator's forward.
  tensor_type forward(tensor_type const& x, std::mt19937_64& rng) const { return impl_->forward(x, rng); }
  /// The wrapped operator's output_shape.
  Shape<4> output_shape(Shape<4> const& s) const { return impl_->output_shape(s); }
  /// The wrapped operator's A_adjoint.
  tensor_type A_adjoint(tensor_type const& y) const { return impl_->A_adjoint(y); }
  /// The wrapped operator's A_vjp.
  tensor_type A_vjp(tensor_type const& x, tensor_type const& v) const { return impl_->A_vjp(x, v); }
  /// The wrapped operator's A_adjoint_A.
  tensor_type A_adjoint_A(tensor_type const& x) const { return impl_->A_adjoint_A(x); }
  /// The wrapped operator's A_A_adjoint.
  tensor_type A_A_adjoint(tensor_type const& y) const { return impl_->A_A_adjoint(y); }

  /// The wrapped operator if it is an Op, else nullptr.
  template <class Op>
  Op const* target() const noexcept {
    auto const* m = dynamic_cast<Model<Op> const*>(impl_.get());
    return m ? &m->op : nullptr;
  }

 private:
  std::shared_ptr<Iface const> impl_;
};

static_assert(LinearPhysics<AnyLinearPhysics<float>>);

/// N operators of type Op applied to one signal: A(x) = [A_1 x; ...; A_N x].
template <Physics Op>
class StackedPhysics {
 public:
  /// The type of each operator.
  using operator_type = Op;
  /// Element type.
  using scalar_type = typename Op::scalar_type;
  /// The signal type.
  using tensor_type = typename Op::tensor_type;
  /// A list of measurements, one per operator.
  using list_type = TensorList<tensor_type>;

  StackedPhysics() = default;
  /// From the operators, in order.
  explicit StackedPhysics(std::vector<Op> ops) : ops_(std::move(ops)) {}

  /// Number of operators.
  std::size_t size() const noexcept { return ops_.size(); }
  /// Operator i; throws Error for an index out of range.
  Op const& operator[](std::size_t i) const {
    DISTINV_REQUIRE(i < ops_.size(), "stacked physics: operator index expected < ", ops_.size(), ", got ", i);
    return ops_[i];
  }
  /// The operators.
  std::vector<Op> const& operators() const noexcept { return ops_; }
  /// Appends an operator.
  void push_back(Op op) { ops_.push_back(std::move(op)); }

  /// Each operator's output shape for input shape `in`.
  std::vector<Shape<4>> output_shapes(Shape<4> const& in) const {
    std::vector<Shape<4>> out;
    out.reserve(ops_.size());
    for (auto const& op : ops_) out.push_back(op.output_shape(in));
    return out;
  }
  /// [A_1 x; ...; A_N x].
  list_type A(tensor_type const& x) const {
    list_type y;
    for (auto const& op : ops_) y.push_back(op.A(x));
    return y;
  }
  /// [noise_i(A_i x)], the operators drawing from rng one after the other.
  list_type forward(tensor_type const& x, std::mt19937_64& rng) const {
    list_type y;
    for (auto const& op : ops_) y.push_back(op.forward(x, rng));
    return y;
  }

 protected:
  /// Throws Error unless `y` has one entry per operator and the stack is not empty.
  void require_length(list_type const& y, char const* what) const {
    DISTINV_REQUIRE(y.size() == ops_.size(), what, ": expected a list of ", ops_.size(),
                    " measurements (one per operator), got ", y.size());
    DISTINV_REQUIRE(!ops_.empty(), what, ": expected a non-empty stack, got 0 operators");
  }
  /// The operators.
  std::vector<Op> ops_;
};

/// A stack of linear operators: Aᵀ[y_1; ...; y_N] = Σ_i A_iᵀ y_i, AᵀA x = Σ_i A_iᵀA_i x.
template <LinearPhysics Op>
class StackedLinearPhysics : public StackedPhysics<Op> {
  using base = StackedPhysics<Op>;

 public:
  /// A list of measurements, one per operator.
  using typename base::list_type;
  /// The signal type.
  using typename base::tensor_type;
  using base::base;

  /// Σ_i A_iᵀ y_i, in operator order; throws Error for a list of another length or shapes that differ.
  tensor_type A_adjoint(list_type const& y) const {
    this->require_length(y, "stacked A_adjoint");
    tensor_type x = this->ops_[0].A_adjoint(y[0]);
    for (std::size_t i = 1; i < this->ops_.size(); ++i) accumulate(x, this->ops_[i].A_adjoint(y[i]));
    return x;
  }
  /// Σ_i A_iᵀ v_i, in operator order.
  tensor_type A_vjp(tensor_type const& x, list_type const& v) const {
    this->require_length(v, "stacked A_vjp");
    tensor_type g = this->ops_[0].A_vjp(x, v[0]);
    for (std::size_t i = 1; i < this->ops_.size(); ++i) accumulate(g, this->ops_[i].A_vjp(x, v[i]));
    return g;
  }
  /// Σ_i A_iᵀ A_i x, in operator order; throws Error for an empty stack.
  tensor_type A_adjoint_A(tensor_type const& x) const {
    DISTINV_REQUIRE(!this->ops_.empty(), "stacked A_adjoint_A: expected a non-empty stack, got 0 operators");
    tensor_type g = this->ops_[0].A_adjoint_A(x);
    for (std::size_t i = 1; i < this->ops_.size(); ++i) accumulate(g, this->ops_[i].A_adjoint_A(x));
    return g;
  }
  /// A Aᵀ y: entry i is A_i Σ_j A_jᵀ y_j.
  list_type A_A_adjoint(list_type const& y) const { return this->A(A_adjoint(y)); }

 private:
  static void accumulate(tensor_type& acc, tensor_type const& t) {
    require_same_shape(acc, t, "stacked adjoint: every operator must map back to one signal shape");
    acc += t;
  }
};

/// stack(A_1, ..., A_N): StackedLinearPhysics<Op> when every A_i is an Op, otherwise
/// StackedLinearPhysics<AnyLinearPhysics<T>>.
template <LinearPhysics Op0, LinearPhysics... Ops>
auto stack(Op0 const& op0, Ops const&... ops) {
  if constexpr ((std::same_as<Op0, Ops> && ...)) {
    return StackedLinearPhysics<Op0>(std::vector<Op0>{op0, ops...});
  } else {
    using T = typename Op0::scalar_type;
    static_assert((std::same_as<typename Ops::tensor_type, Tensor4<T>> && ...), "stack: operators of one scalar type");
    return StackedLinearPhysics<AnyLinearPhysics<T>>(std::vector<AnyLinearPhysics<T>>{op0, ops...});
  }
}

}  // namespace distinv::physics
