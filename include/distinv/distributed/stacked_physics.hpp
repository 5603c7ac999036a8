#pragma once
// distributed/stacked_physics.hpp: a stack A = [A_1; ...; A_N] whose operators are spread
// over the ranks of a context. Each rank builds, through the user's factory, only the
// operators it owns. A and forward gather the per-operator results with a GatherPolicy;
// A_adjoint, A_vjp, A_adjoint_A sum locally and then all-reduce once (plus one tiny
// agreement on errors and shapes). `gather = false` returns this rank's part only.
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/object_id.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/distributed/detail/agreed_sum.hpp"
#include "distinv/distributed/gather.hpp"
#include "distinv/linalg/cg.hpp"
#include "distinv/linalg/power_method.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/pseudo_inverse.hpp"

namespace distinv {

enum class Reduction { sum, mean };

inline Reduction parse_reduction(std::string_view name) {
  if (name == "sum") return Reduction::sum;
  if (name == "mean") return Reduction::mean;
  fail("unknown reduction '", name, "': expected sum or mean");
}

struct StackOptions {
  Reduction reduction = Reduction::sum;  ///< mean: adjoint-side results divided by N
};

struct DaggerOptions {
  bool local_only = true;  ///< true: mean of the local pseudo-inverses; false: CG on the whole stack
  int max_iter = 100;
  double tol = 1e-6;
};

struct SqnormOptions {
  bool local_only = true;  ///< true: sum of the operators' squared norms (an upper bound)
  int max_iter = 50;
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

template <class Ctx, physics::Physics Op, GatherPolicy Gather = gather::Concatenated>
class DistributedStackedPhysics {
 public:
  using operator_type = Op;
  using tensor_type = typename Op::tensor_type;
  using scalar_type = typename Op::scalar_type;
  using list_type = TensorList<tensor_type>;
  using gather_type = Gather;

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

  Ctx& context() const noexcept { return *ctx_; }
  Index num_operators() const noexcept { return n_; }
  std::vector<Index> const& local_indices() const noexcept { return indices_; }
  std::vector<Op> const& local_operators() const noexcept { return ops_; }
  StackOptions const& options() const noexcept { return options_; }
  std::uint64_t id() const noexcept { return id_; }  ///< unique in the process (cache keys)

  /// [A_1 x; ...; A_N x] on every rank (gather), or this rank's [A_i x] in local order.
  list_type A(tensor_type const& x, bool gather = true) const {
    return collect("A", [&](Op const& op) { return op.A(x); }, gather);
  }

  /// A_i x plus noise, operator i's noise drawn from a generator seeded by (context seed, i,
  /// call count): the same measurements whatever the number of ranks.
  list_type forward(tensor_type const& x, bool gather = true) {
    std::uint64_t const call = forward_calls_++;
    return collect("forward", [&, k = std::size_t(0)](Op const& op) mutable {
      std::mt19937_64 gen(detail::operator_seed(ctx_->options().seed, indices_[k++], call));
      return op.forward(x, gen);
    }, gather);
  }

 protected:
  std::vector<tensor_type const*> local_entries(list_type const& y, char const* what) const {
    return detail::local_entries(y, n_, indices_, what);
  }

  template <class F>
  tensor_type reduced(char const* what, F&& local_sum, bool gather) const {
    return detail::reduce_local<tensor_type>(*ctx_, what, local_sum, gather,
                                             options_.reduction == Reduction::mean ? double(n_) : 1.0);
  }

  /// Σ_k f(op_k, k) over the local operators, or nullopt on a rank that owns none.
  template <class F>
  std::optional<tensor_type> local_sum(F&& f) const {
    if (ops_.empty()) return std::nullopt;
    tensor_type s = f(ops_[0], std::size_t(0));
    for (std::size_t k = 1; k < ops_.size(); ++k) {
      tensor_type const t = f(ops_[k], k);
      require_same_shape(s, t, "distributed stack: results of the operators");
      s += t;
    }
    return s;
  }

 private:
  template <class F>
  list_type collect(char const* what, F&& per_op, bool gather) const {
    auto compute = [&] {
      std::vector<tensor_type> local;
      local.reserve(ops_.size());
      for (auto const& op : ops_) local.push_back(per_op(op));
      return local;
    };
    if (!gather) return list_type(compute());
    auto local = ctx_->collectively(what, compute);
    return gather_list<Gather>(*ctx_, n_, indices_, local);
  }

  Ctx* ctx_;
  Index n_;
  StackOptions options_;
  std::vector<Index> indices_;
  std::vector<Op> ops_;
  std::uint64_t forward_calls_ = 0;
  std::uint64_t id_ = detail::next_object_id();
};

template <class Ctx, physics::LinearPhysics Op, GatherPolicy Gather = gather::Concatenated>
class DistributedStackedLinearPhysics : public DistributedStackedPhysics<Ctx, Op, Gather> {
  using Base = DistributedStackedPhysics<Ctx, Op, Gather>;

 public:
  using typename Base::list_type;
  using typename Base::scalar_type;
  using typename Base::tensor_type;
  using Base::Base;

  /// Σ_i A_iᵀ y_i (divided by N with Reduction::mean); y is the full list or this rank's part.
  tensor_type A_adjoint(list_type const& y, bool gather = true) const {
    return this->reduced("A_adjoint", [&] {
      auto mine = this->local_entries(y, "A_adjoint");  // checked inside the agreement
      return this->local_sum([&](Op const& op, std::size_t k) { return op.A_adjoint(*mine[k]); });
    }, gather);
  }

  /// Σ_i A_iᵀ v_i, the vector-Jacobian product at x.
  tensor_type A_vjp(tensor_type const& x, list_type const& v, bool gather = true) const {
    return this->reduced("A_vjp", [&] {
      auto mine = this->local_entries(v, "A_vjp");
      return this->local_sum([&](Op const& op, std::size_t k) { return op.A_vjp(x, *mine[k]); });
    }, gather);
  }

  /// Σ_i A_iᵀ A_i x.
  tensor_type A_adjoint_A(tensor_type const& x, bool gather = true) const {
    return this->reduced("A_adjoint_A", [&] { return this->local_sum([&](Op const& op, std::size_t) {
      return op.A_adjoint_A(x); }); }, gather);
  }

  /// [A_1 z; ...; A_N z] with z = Aᵀ y computed globally (gather only affects the last step).
  list_type A_A_adjoint(list_type const& y, bool gather = true) const {
    return this->A(A_adjoint(y, true), gather);
  }

  /// Pseudo-inverse. local_only: (1/N) Σ_i A_i^† y_i (each by CG on its own normal
  /// equations; an approximation). Otherwise the least-squares solution of the whole stack by
  /// CG on AᵀA x = Aᵀ y, every iteration using the distributed A_adjoint_A.
  tensor_type A_dagger(list_type const& y, DaggerOptions const& opt = {}) const {
    linalg::CgOptions cg{opt.max_iter, opt.tol};
    if (opt.local_only) {
      tensor_type s = detail::agreed_sum<tensor_type>(this->context(), "A_dagger", [&] {
        auto mine = this->local_entries(y, "A_dagger");
        return this->local_sum([&](Op const& op, std::size_t k) { return physics::A_dagger(op, *mine[k], cg); });
      });
      return s * scalar_type(1.0 / double(this->num_operators()));
    }
    // With Reduction::mean both sides carry the same 1/N: the solution is unchanged.
    tensor_type b = A_adjoint(y);
    return linalg::conjugate_gradient([&](tensor_type const& x) { return A_adjoint_A(x); }, b, b, cg).x;  // x0 = Aᵀy
  }

  /// ‖A‖²: local_only: Σ_i ‖A_i‖² (power method per operator, then one sum; an upper
  /// bound); otherwise the power method on the distributed AᵀA (exact, one all-reduce per
  /// iteration).
  double compute_sqnorm(tensor_type const& x0, SqnormOptions const& opt = {}) const {
    linalg::PowerOptions pw{opt.max_iter, opt.tol};
    if (opt.local_only) {
      double local = this->context().collectively("compute_sqnorm", [&] {
        double s = 0;
        for (auto const& op : this->local_operators()) s += physics::compute_sqnorm(op, x0, pw);
        return s;
      });
      return this->context().all_reduce_value(local);
    }
    return linalg::power_method([&](tensor_type const& x) { return A_adjoint_A(x); }, x0, pw).eigenvalue;
  }
};

/// Turns a non-distributed stack into a distributed one: each rank keeps copies of the
/// operators it owns (the others are never copied).
template <GatherPolicy Gather = gather::Concatenated, class Ctx, class Stack>
  requires requires(Stack const& s) {
    s.size();
    requires physics::LinearPhysics<std::remove_cvref_t<decltype(s[0])>>;
  }
auto distribute(Stack const& stack, Ctx& ctx, StackOptions options = {}) {
  using Op = std::remove_cvref_t<decltype(stack[0])>;
  return DistributedStackedLinearPhysics<Ctx, Op, Gather>(
      ctx, Index(stack.size()), [&](Index i, auto const&) { return stack[std::size_t(i)]; }, options);
}

}  // namespace distinv
