#pragma once
// layout/sharded_stack.hpp: ShardedStack<Op>, a stack [A_1; ...; A_K] of sharded operators
// (layout/sharded_physics.hpp) on one signal in the slab layout. Each rank holds its slab of x
// and of every measurement y_i (memory K·N/P); Aᵀ, AᵀA and a data fidelity's gradient sum the
// operators' terms on each rank in operator order (the rows are the rank's own: no all-reduce;
// each operator exchanges its halo rows). Operators of one type (e.g. Sharded<Blur<float>, Comm>
// with their own filters and paddings). Core + layout only.
#include <cstddef>
#include <random>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/layout/partition.hpp"

namespace distinv::layout {

/// K sharded operators of type Op (layout::Sharded<...>) on one signal in the slab layout.
template <class Op>
class ShardedStack {
 public:
  using operator_type = Op;                      ///< one sharded operator
  using tensor_type = typename Op::tensor_type;  ///< the slab tensor of signals and measurements
  using list_type = std::vector<tensor_type>;    ///< one measurement per operator

  /// The stack of `ops` (at least one; throws Error otherwise).
  explicit ShardedStack(std::vector<Op> ops) : ops_(std::move(ops)) {
    DISTINV_REQUIRE(!ops_.empty(), "ShardedStack: expected at least one operator, got 0");
  }
  /// The number of operators K.
  std::size_t size() const noexcept { return ops_.size(); }
  /// The operators, in operator order.
  std::vector<Op> const& operators() const noexcept { return ops_; }

  /// [A_1 x; ...; A_K x], each laid out by its operator's rule.
  list_type A(tensor_type const& x) const {
    list_type y;
    y.reserve(ops_.size());
    for (auto const& op : ops_) y.push_back(op.A(x));
    return y;
  }
  /// [noise_i(A_i x)], the operators drawing from rng one after the other (as the replicated stack).
  list_type forward(tensor_type const& x, std::mt19937_64& rng) const {
    list_type y;
    y.reserve(ops_.size());
    for (auto const& op : ops_) y.push_back(op.forward(x, rng));
    return y;
  }
  /// Σ_i A_iᵀ y_i, laid out as `in` (the signal's partition).
  tensor_type A_adjoint(list_type const& y, RowPartition const& in) const {
    require_length(y, "ShardedStack::A_adjoint");
    tensor_type x = ops_[0].A_adjoint(y[0], in);
    for (std::size_t i = 1; i < ops_.size(); ++i) x += ops_[i].A_adjoint(y[i], in);
    return x;
  }
  /// Σ_i A_iᵀ A_i x, laid out as x.
  tensor_type A_adjoint_A(tensor_type const& x) const {
    tensor_type g = ops_[0].A_adjoint_A(x);
    for (std::size_t i = 1; i < ops_.size(); ++i) g += ops_[i].A_adjoint_A(x);
    return g;
  }
  /// Σ_i ∇ₓ d(A_i x, y_i) of a data fidelity (optim/data_fidelity.hpp), laid out as x; for
  /// optim::L2, Σ_i A_iᵀ(A_i x − y_i).
  template <class Fidelity>
  tensor_type grad(Fidelity const& fidelity, tensor_type const& x, list_type const& y) const {
    require_length(y, "ShardedStack::grad");
    tensor_type g = fidelity.grad(x, y[0], ops_[0]);
    for (std::size_t i = 1; i < ops_.size(); ++i) g += fidelity.grad(x, y[i], ops_[i]);
    return g;
  }
  /// Σ_i d(A_i x, y_i) (each term reduced over the ranks).
  template <class Fidelity>
  double fn(Fidelity const& fidelity, tensor_type const& x, list_type const& y) const {
    require_length(y, "ShardedStack::fn");
    double f = 0;
    for (std::size_t i = 0; i < ops_.size(); ++i) f += fidelity.fn(x, y[i], ops_[i]);
    return f;
  }

 private:
  void require_length(list_type const& y, char const* what) const {
    DISTINV_REQUIRE(y.size() == ops_.size(), what, ": expected ", ops_.size(), " measurements (one per operator), got ",
                    y.size());
  }
  std::vector<Op> ops_;
};

}  // namespace distinv::layout
