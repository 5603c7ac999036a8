#pragma once
// distributed/data_fidelity.hpp: DistributedDataFidelity, f(x) = Σ_i d(A_i x, y_i) over a
// distributed stack: each rank works on the operators and measurements it owns, then one
// all-reduce. The fidelity is one distance for every operator, or one per operator from a
// factory. For L2 over linear physics the gradient is Σ A_iᵀA_i x − Σ A_iᵀ y_i with the
// second sum cached per measurement set (DistributedMeasurements carry a version).
#include <any>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/distributed/measurements.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/optim/data_fidelity.hpp"

namespace distinv {

struct DataFidelityOptions {
  Reduction reduction = Reduction::sum;  ///< mean: fn and grad divided by the number of operators
};

template <class Ctx, class Fidelity>
class DistributedDataFidelity {
 public:
  using fidelity_type = Fidelity;

  /// The same distance for every operator.
  explicit DistributedDataFidelity(Ctx& ctx, Fidelity fidelity = {}, DataFidelityOptions options = {})
      : ctx_(&ctx), options_(options), fidelities_{std::move(fidelity)} {}

  /// One distance per operator: `factory(index, device)` builds the distance of operator
  /// `index`, on its owner only.
  template <class Factory>
    requires std::is_invocable_r_v<Fidelity, Factory&, Index, typename Ctx::device_type const&>
  DistributedDataFidelity(Ctx& ctx, Index num_operators, Factory&& factory, DataFidelityOptions options = {})
      : ctx_(&ctx), options_(options), num_operators_(num_operators) {
    DISTINV_REQUIRE(num_operators > 0, "DistributedDataFidelity: expected at least one operator, got ", num_operators);
    fidelities_ = ctx.collectively("data fidelity factory", [&] {
      std::vector<Fidelity> out;
      for (Index i : ctx.local_indices(num_operators)) out.push_back(factory(i, ctx.device()));
      return out;
    });
  }

  Ctx& context() const noexcept { return *ctx_; }

  /// Σ_i d(A_i x, y_i) on every rank (gather), or this rank's part.
  template <class Physics, class Measurements>
  double fn(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics,
            bool gather = true) const {
    auto local = [&] {
      auto const mine = entries(y, physics, "data fidelity fn");
      double s = 0;
      for (std::size_t k = 0; k < mine.size(); ++k)
        s += fidelity(k).d(physics.local_operators()[k].A(x), *mine[k]);
      return s;
    };
    if (!gather) return local();
    return scaled(ctx_->all_reduce_value(ctx_->collectively("data fidelity fn", local)), physics);
  }

  /// ∇_x Σ_i d(A_i x, y_i) = Σ_i A_iᵀ ∇d(A_i x, y_i) on every rank (gather), or this rank's part.
  template <class Physics, class Measurements>
  typename Physics::tensor_type grad(typename Physics::tensor_type const& x, Measurements const& y,
                                     Physics const& physics, bool gather = true) {
    using tensor_type = typename Physics::tensor_type;
    auto const& ops = physics.local_operators();
    if constexpr (std::is_same_v<Fidelity, optim::L2> && is_distributed_measurements<Measurements>) {
      return finish<tensor_type>("data fidelity grad", gather, physics, [&]() -> std::optional<tensor_type> {
        auto const& aty = cached_adjoint(y, physics, entries(y, physics, "data fidelity grad"));  // Σ_local A_iᵀ y_i
        if (ops.empty()) return std::nullopt;
        tensor_type s = ops[0].A_adjoint_A(x);
        for (std::size_t k = 1; k < ops.size(); ++k) s += ops[k].A_adjoint_A(x);
        return tensor_type(s - std::any_cast<tensor_type const&>(aty));
      });
    } else {
      return finish<tensor_type>("data fidelity grad", gather, physics, [&]() -> std::optional<tensor_type> {
        auto const mine = entries(y, physics, "data fidelity grad");
        if (ops.empty()) return std::nullopt;
        auto term = [&](std::size_t k) { return ops[k].A_vjp(x, fidelity(k).grad_d(ops[k].A(x), *mine[k])); };
        tensor_type s = term(0);
        for (std::size_t k = 1; k < ops.size(); ++k) s += term(k);
        return s;
      });
    }
  }

 private:
  template <class M>
  static constexpr bool is_distributed_measurements =
      requires(M const& m) { m.version(); m.local(); m.local_indices(); };

  Fidelity const& fidelity(std::size_t k) const { return num_operators_ ? fidelities_[k] : fidelities_[0]; }

  template <class Measurements, class Physics>
  auto entries(Measurements const& y, Physics const& physics, char const* what) const {
    DISTINV_REQUIRE(!num_operators_ || *num_operators_ == physics.num_operators(), what, ": the fidelities were built for ",
                    num_operators_.value_or(0), " operators, the physics has ", physics.num_operators());
    using tensor_type = typename Physics::tensor_type;
    if constexpr (is_distributed_measurements<Measurements>) {
      DISTINV_REQUIRE(y.size() == physics.num_operators() && y.local_indices() == physics.local_indices(), what,
                      ": expected measurements sharded like the physics (", physics.num_operators(),
                      " items), got ", y.size(), " items");
      std::vector<tensor_type const*> out;
      for (auto const& t : y.local()) out.push_back(&t);
      return out;
    } else {
      return detail::local_entries(y, physics.num_operators(), physics.local_indices(), what);
    }
  }

  template <class Physics>
  double scaled(double v, Physics const& physics) const {
    return options_.reduction == Reduction::mean ? v / double(physics.num_operators()) : v;
  }

  template <class TensorT, class Physics, class F>
  TensorT finish(char const* what, bool gather, Physics const& physics, F&& local) const {
    if (!gather) return local().value_or(TensorT());
    TensorT r = detail::agreed_sum<TensorT>(*ctx_, what, local);
    if (options_.reduction == Reduction::mean) r = r * typename TensorT::Scalar(1.0 / double(physics.num_operators()));
    return r;
  }

  /// Σ_local A_iᵀ y_i for this measurement set, recomputed only when the set or its version changes.
  template <class Measurements, class Physics, class Entries>
  std::any const& cached_adjoint(Measurements const& y, Physics const& physics, Entries const& mine) {
    using tensor_type = typename Physics::tensor_type;
    Key const key{y.id(), y.version(), physics.id()};
    if (!(aty_key_ == key)) {
      auto const& ops = physics.local_operators();
      tensor_type s;
      if (!ops.empty()) {
        s = ops[0].A_adjoint(*mine[0]);
        for (std::size_t k = 1; k < ops.size(); ++k) s += ops[k].A_adjoint(*mine[k]);
      }
      aty_ = std::move(s);
      aty_key_ = key;
    }
    return aty_;
  }

  struct Key {
    std::uint64_t measurements = 0, version = 0, physics = 0;
    bool operator==(Key const&) const = default;
  };

  Ctx* ctx_;
  DataFidelityOptions options_;
  std::optional<Index> num_operators_;  ///< set when built from a per-operator factory
  std::vector<Fidelity> fidelities_;
  Key aty_key_;
  std::any aty_;
};

template <class Ctx, class Fidelity>
DistributedDataFidelity(Ctx&, Fidelity, DataFidelityOptions = {}) -> DistributedDataFidelity<Ctx, Fidelity>;

}  // namespace distinv
