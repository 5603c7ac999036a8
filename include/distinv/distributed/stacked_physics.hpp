#pragma once
// distributed/stacked_physics.hpp: a stack A = [A_1; ...; A_N] whose operators are spread
// over the ranks of a context. Each rank builds, through the user's factory, only the
// operators it owns. A and forward gather the per-operator results with a GatherPolicy;
// A_adjoint, A_vjp, A_adjoint_A sum over the operators with a ReductionPolicy (reduce::Exact:
// bit-identical on any number of ranks; reduce::Plain) in one all-reduce plus one tiny
// agreement on errors, shapes and scale. Per call: a Reduction (sum, mean), `per_operator`
// (the list of per-operator results instead of their sum), and `local` (this rank's part only).
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/object_id.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/distributed/detail/agreed_sum.hpp"
#include "distinv/distributed/detail/exact_sum.hpp"
#include "distinv/distributed/gather.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/linalg/cg.hpp"
#include "distinv/linalg/power_method.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/pseudo_inverse.hpp"

namespace distinv {

/// Options of a distributed stack.
struct StackOptions {
  Reduction reduction = Reduction::sum;  ///< mean: adjoint-side results divided by N
};

/// Options of DistributedStackedLinearPhysics::A_dagger.
struct DaggerOptions {
  bool local_only = true;  ///< true: mean of the local pseudo-inverses; false: CG on the whole stack
  /// CG iterations at most.
  int max_iter = 100;
  /// CG stops when the relative residual is below.
  double tol = 1e-6;
};

/// Options of DistributedStackedLinearPhysics::compute_sqnorm.
struct SqnormOptions {
  bool local_only = true;  ///< true: sum of the operators' squared norms (an upper bound)
  /// Power-method iterations at most.
  int max_iter = 50;
  /// Stops when the relative change of the eigenvalue is below.
  double tol = 1e-3;
};

namespace detail {
/// This rank's entries of a full list (N entries) or of a list of its own entries only.
template <class List>
auto local_entries(List const& y, Index n, std::vector<Index> const& mine, char const* what) {
  std::vector<typename List::tensor_type const*> out;
  if (Index(y.size()) == n) {
    for (Index i : mine) out.push_back(&y[std::size_t(i)]);
  } else {
    DISTINV_REQUIRE(y.size() == mine.size(), what, ": expected a list of ", n,
                    " measurements (one per operator) or of the ", mine.size(), " this rank owns, got ", y.size());
    for (auto const& t : y) out.push_back(&t);
  }
  return out;
}

/// Seed of operator i's noise at the call-th forward: independent of the number of ranks.
inline std::uint64_t operator_seed(std::uint64_t seed, Index i, std::uint64_t call) {
  std::seed_seq seq{std::uint32_t(seed), std::uint32_t(seed >> 32), std::uint32_t(i), std::uint32_t(call)};
  std::uint32_t out[2];
  seq.generate(out, out + 2);
  return (std::uint64_t(out[0]) << 32) | out[1];
}
}  // namespace detail

/// A stack A = [A_1; ...; A_N] of operators spread over the ranks of a context: each rank builds and holds only
/// the operators it owns (Ctx's sharding). A and forward gather the per-operator results on every rank with the
/// `Gather` policy (or return this rank's with `local`). A factory that throws on one rank throws Error on
/// every rank.
template <class Ctx, physics::Physics Op, GatherPolicy Gather = gather::Concatenated,
          ReductionPolicy Reduce = reduce::Exact>
class DistributedStackedPhysics {
 public:
  /// The type of each operator.
  using operator_type = Op;
  /// The signal type.
  using tensor_type = typename Op::tensor_type;
  /// Element type.
  using scalar_type = typename Op::scalar_type;
  /// A list of measurements, one per operator.
  using list_type = TensorList<tensor_type>;
  /// The gather policy of A and forward.
  using gather_type = Gather;
  /// How sums over operators are formed (reduce::Exact by default).
  using reduction_policy = Reduce;

  /// `factory(index, device)` builds operator `index`; it is called on the owning rank only.
  /// A factory that throws on any rank makes the construction throw on every rank.
  template <class Factory>
    requires std::is_invocable_r_v<Op, Factory&, Index, typename Ctx::device_type const&>
  DistributedStackedPhysics(Ctx& ctx, Index num_operators, Factory&& factory, StackOptions options = {})
      : ctx_(&ctx), n_(num_operators), options_(options) {
    DISTINV_REQUIRE(num_operators > 0, "distributed stack: expected at least one operator, got ", num_operators);
    indices_ = ctx.local_indices(num_operators);
    ops_ = ctx.collectively("operator factory", [&] {
      std::vector<Op> ops;
      ops.reserve(indices_.size());
      for (Index i : indices_) ops.push_back(factory(i, ctx.device()));
      return ops;
    });
  }

  /// The same with a shared object passed to every call: `factory(index, device, shared)`.
  template <class Factory, class Shared>
    requires std::is_invocable_r_v<Op, Factory&, Index, typename Ctx::device_type const&, Shared const&>
  DistributedStackedPhysics(Ctx& ctx, Index num_operators, Factory&& factory, Shared const& shared,
                            StackOptions options = {})
      : DistributedStackedPhysics(ctx, num_operators,
                                  [&](Index i, auto const& dev) { return factory(i, dev, shared); }, options) {}

  /// The context it was made with.
  Ctx& context() const noexcept { return *ctx_; }
  /// Number of operators N (all ranks together).
  Index num_operators() const noexcept { return n_; }
  /// The indices of this rank's operators, in increasing order.
  std::vector<Index> const& local_indices() const noexcept { return indices_; }
  /// This rank's operators, in the order of local_indices().
  std::vector<Op> const& local_operators() const noexcept { return ops_; }
  /// The options it was made with.
  StackOptions const& options() const noexcept { return options_; }
  std::uint64_t id() const noexcept { return id_; }  ///< unique in the process (cache keys)

  /// [A_1 x; ...; A_N x] on every rank, or (`local`) this rank's [A_i x] in local order.
  template <ResultScope W = Global>
  list_type A(tensor_type const& x, W where = W{}) const {
    return collect("A", each_operator([&](Op const& op, std::size_t) { return op.A(x); }), where);
  }

  /// A_i x plus noise, operator i's noise drawn from a generator seeded by (context seed, i,
  /// call count): the same measurements whatever the number of ranks. Const (a const stack draws
  /// too): the call count is not part of the stack's logical state; one object is not meant to
  /// draw from several threads at once (each rank of the Threads backend holds its own).
  template <ResultScope W = Global>
  list_type forward(tensor_type const& x, W where = W{}) const {
    std::uint64_t const call = forward_calls_++;
    return collect("forward", each_operator([&](Op const& op, std::size_t k) {
      std::mt19937_64 gen(detail::operator_seed(ctx_->options().seed, indices_[k], call));
      return op.forward(x, gen);
    }), where);
  }

 protected:
  /// This rank's entries of `y` (the full list of N, or this rank's own); throws Error for another length.
  std::vector<tensor_type const*> local_entries(list_type const& y, char const* what) const {
    return detail::local_entries(y, n_, indices_, what);
  }

  /// A producer of this rank's terms f(op_k, k), in local order, for collect / reduced: it
  /// hands each term to the sink it is called with.
  template <class F>
  auto each_operator(F f) const {
    return [this, f](auto& sink) {
      for (std::size_t k = 0; k < ops_.size(); ++k) sink(f(ops_[k], k));
    };
  }

  /// The terms of `produce` (one per operator): gathered on every rank in operator order
  /// (Global), or this rank's, in local order (Local).
  template <class Produce, ResultScope W>
  list_type collect(char const* what, Produce&& produce, W) const {
    auto compute = [&] {
      std::vector<tensor_type> local;
      local.reserve(ops_.size());
      auto sink = [&](tensor_type t) { local.push_back(std::move(t)); };
      produce(sink);
      return local;
    };
    if constexpr (is_local_v<W>) {
      return list_type(compute());
    } else {
      auto local = ctx_->collectively(what, compute);
      return gather_list<Gather>(*ctx_, n_, indices_, local);
    }
  }

  /// Global: Σ of the terms of `produce` over the operators with the stack's ReductionPolicy,
  /// divided by N for Reduction::mean. Local: this rank's floating-point sum of its terms
  /// (undivided, as deepinv's), zeros of `idle_shape` on a rank with no operator, or, where
  /// that shape is not known, zeros of the shape the ranks agree on (then a collective).
  template <class Produce, ResultScope W>
  tensor_type reduced(char const* what, Produce&& produce, Reduction reduction, W,
                      std::optional<Shape<rank_v<tensor_type>>> idle_shape = std::nullopt) const {
    if constexpr (is_local_v<W>) {
      if (!idle_shape) return detail::agreed_local_sum<tensor_type>(*ctx_, what, produce);
      detail::LocalTerms<reduce::Plain, tensor_type> terms;
      produce(terms);
      return std::move(terms).plain_sum(*idle_shape);
    } else {
      tensor_type r = detail::agreed_sum<Reduce, tensor_type>(*ctx_, what, n_, produce);
      if (reduction == Reduction::mean) r = r * scalar_type(1.0 / double(n_));
      return r;
    }
  }

 private:
  Ctx* ctx_;
  Index n_;
  StackOptions options_;
  std::vector<Index> indices_;
  std::vector<Op> ops_;
  mutable std::uint64_t forward_calls_ = 0;  ///< noise draws so far: not part of the logical state
  std::uint64_t id_ = detail::next_object_id();
};

/// A distributed stack of linear operators: adds the adjoint side, Σ_i A_iᵀ y_i and the normal operator, each
/// summed over the ranks in one all-reduce with the `Reduce` policy (bit-identical on any number of ranks with
/// reduce::Exact), plus the pseudo-inverse and the squared norm. Per call: a Reduction (sum, mean),
/// `per_operator` (the list of terms), `local` (this rank's part).
template <class Ctx, physics::LinearPhysics Op, GatherPolicy Gather = gather::Concatenated,
          ReductionPolicy Reduce = reduce::Exact>
class DistributedStackedLinearPhysics : public DistributedStackedPhysics<Ctx, Op, Gather, Reduce> {
  using Base = DistributedStackedPhysics<Ctx, Op, Gather, Reduce>;

 public:
  /// A list of measurements, one per operator.
  using typename Base::list_type;
  /// Element type.
  using typename Base::scalar_type;
  /// The signal type.
  using typename Base::tensor_type;
  using Base::Base;

  /// Σ_i A_iᵀ y_i with the stack's Reduction (StackOptions) or the one given; y is the full
  /// list or this rank's part. `local`: this rank's sum (a collective all the same: a rank
  /// without operators learns the result's shape from the others).
  template <ResultScope W = Global>
  tensor_type A_adjoint(list_type const& y, W where = W{}) const {
    return A_adjoint(y, this->options().reduction, where);
  }
  /// Σ_i A_iᵀ y_i with the Reduction given (mean: divided by N).
  template <ResultScope W = Global>
  tensor_type A_adjoint(list_type const& y, Reduction reduction, W where = W{}) const {
    return this->reduced("A_adjoint", adjoint_terms(y), reduction, where);
  }
  /// [A_1ᵀ y_1, ..., A_Nᵀ y_N] (deepinv's reduce_op=None): gathered, or (`local`) this rank's.
  template <ResultScope W = Global>
  list_type A_adjoint(list_type const& y, PerOperator, W where = W{}) const {
    return this->collect("A_adjoint", adjoint_terms(y), where);
  }

  /// Σ_i A_iᵀ v_i, the vector-Jacobian product at x (Reduction, per_operator, local as for
  /// A_adjoint; a rank without operators has zeros of x's shape as its local part).
  template <ResultScope W = Global>
  tensor_type A_vjp(tensor_type const& x, list_type const& v, W where = W{}) const {
    return A_vjp(x, v, this->options().reduction, where);
  }
  /// Σ_i A_iᵀ v_i with the Reduction given.
  template <ResultScope W = Global>
  tensor_type A_vjp(tensor_type const& x, list_type const& v, Reduction reduction, W where = W{}) const {
    return this->reduced("A_vjp", vjp_terms(x, v), reduction, where, shape_of(x));
  }
  /// [A_1ᵀ v_1, ..., A_Nᵀ v_N]: gathered, or (`local`) this rank's.
  template <ResultScope W = Global>
  list_type A_vjp(tensor_type const& x, list_type const& v, PerOperator, W where = W{}) const {
    return this->collect("A_vjp", vjp_terms(x, v), where);
  }

  /// Σ_i A_iᵀ A_i x (Reduction, per_operator, local as for A_vjp).
  template <ResultScope W = Global>
  tensor_type A_adjoint_A(tensor_type const& x, W where = W{}) const {
    return A_adjoint_A(x, this->options().reduction, where);
  }
  /// Σ_i A_iᵀ A_i x with the Reduction given.
  template <ResultScope W = Global>
  tensor_type A_adjoint_A(tensor_type const& x, Reduction reduction, W where = W{}) const {
    return this->reduced("A_adjoint_A", normal_terms(x), reduction, where, shape_of(x));
  }
  /// [A_1ᵀ A_1 x, ..., A_Nᵀ A_N x]: gathered, or (`local`) this rank's.
  template <ResultScope W = Global>
  list_type A_adjoint_A(tensor_type const& x, PerOperator, W where = W{}) const {
    return this->collect("A_adjoint_A", normal_terms(x), where);
  }

  /// [A_1 z; ...; A_N z] with z = Aᵀ y computed globally (`local` only affects the last step).
  template <ResultScope W = Global>
  list_type A_A_adjoint(list_type const& y, W where = W{}) const {
    return this->A(A_adjoint(y), where);
  }

  /// Pseudo-inverse. local_only: (1/N) Σ_i A_i^† y_i (each by CG on its own normal
  /// equations; an approximation). Otherwise the least-squares solution of the whole stack by
  /// CG on AᵀA x = Aᵀ y, every iteration using the distributed A_adjoint_A.
  tensor_type A_dagger(list_type const& y, DaggerOptions const& opt = {}) const {
    linalg::CgOptions cg{opt.max_iter, opt.tol};
    if (opt.local_only) {
      auto const daggers = [&](auto& sink) {
        auto mine = this->local_entries(y, "A_dagger");
        for (std::size_t k = 0; k < mine.size(); ++k) sink(physics::A_dagger(this->local_operators()[k], *mine[k], cg));
      };
      return this->reduced("A_dagger", daggers, Reduction::mean, global);
    }
    // With Reduction::mean both sides carry the same 1/N: the solution is unchanged.
    tensor_type b = A_adjoint(y);
    return linalg::conjugate_gradient([&](tensor_type const& x) { return A_adjoint_A(x); }, b, b, cg).x;  // x0 = Aᵀy
  }

  /// ‖A‖²: local_only: Σ_i ‖A_i‖² (power method per operator, then one sum, in operator
  /// order with reduce::Exact; an upper bound); otherwise the power method on the distributed
  /// AᵀA (exact, one all-reduce per iteration).
  double compute_sqnorm(tensor_type const& x0, SqnormOptions const& opt = {}) const {
    linalg::PowerOptions pw{opt.max_iter, opt.tol};
    if (opt.local_only) {
      auto const norms = this->context().collectively("compute_sqnorm", [&] {
        std::vector<double> v;
        for (auto const& op : this->local_operators()) v.push_back(physics::compute_sqnorm(op, x0, pw));
        return v;
      });
      if constexpr (Reduce::exact) {
        return detail::ordered_sum(this->context(), this->num_operators(), this->local_indices(), norms);
      } else {
        double s = 0;
        for (double v : norms) s += v;
        return this->context().all_reduce_value(s);
      }
    }
    return linalg::power_method([&](tensor_type const& x) { return A_adjoint_A(x); }, x0, pw).eigenvalue;
  }

 private:
  auto adjoint_terms(list_type const& y) const {
    return [this, &y](auto& sink) {
      auto mine = this->local_entries(y, "A_adjoint");  // checked inside the agreement
      for (std::size_t k = 0; k < mine.size(); ++k) sink(this->local_operators()[k].A_adjoint(*mine[k]));
    };
  }
  auto vjp_terms(tensor_type const& x, list_type const& v) const {
    return [this, &x, &v](auto& sink) {
      auto mine = this->local_entries(v, "A_vjp");
      for (std::size_t k = 0; k < mine.size(); ++k) sink(this->local_operators()[k].A_vjp(x, *mine[k]));
    };
  }
  auto normal_terms(tensor_type const& x) const {
    return this->each_operator([&x](Op const& op, std::size_t) { return op.A_adjoint_A(x); });
  }
};

namespace detail {
/// A stack of linear operators (physics::StackedLinearPhysics, or a vector of operators).
template <class Stack>
concept LinearStack = requires(Stack const& s) {
  s.size();
  requires physics::LinearPhysics<std::remove_cvref_t<decltype(s[0])>>;
};
}  // namespace detail

/// Turns a non-distributed stack into a distributed one: each rank keeps copies of the
/// operators it owns (the others are never copied).
/// (The layouts, distribute<layout::Replicated> and distribute<layout::Slabs>: factory.hpp.)
template <GatherPolicy Gather = gather::Concatenated, ReductionPolicy Reduce = reduce::Exact, class Ctx,
          detail::LinearStack Stack>
  requires(!layout::LayoutPolicy<Gather>)
auto distribute(Stack const& stack, Ctx& ctx, StackOptions options = {}) {
  using Op = std::remove_cvref_t<decltype(stack[0])>;
  return DistributedStackedLinearPhysics<Ctx, Op, Gather, Reduce>(
      ctx, Index(stack.size()), [&](Index i, auto const&) { return stack[std::size_t(i)]; }, options);
}

}  // namespace distinv
