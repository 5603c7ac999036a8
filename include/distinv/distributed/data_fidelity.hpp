#pragma once
// distributed/data_fidelity.hpp: DistributedDataFidelity, f(x) = Σ_i d(A_i x, y_i) over a
// distributed stack: each rank works on the operators and measurements it owns (the stack's
// `gather = false` results), then one all-reduce. The distance is the same for every
// operator, or one per operator from a factory. Gradient paths:
//   general        Σ A_iᵀ ∇d(A_i x, y_i)
//   L2             Σ A_iᵀA_i x − Σ A_iᵀ y_i, the second sum cached per measurement set
//   L2, circular   fused in Fourier space: ∇ = F⁻¹(S·F x − B), S = Σ|K_i|², B = Σ conj(K_i)·Y_i,
//   blurs (FFTW,   summed over the ranks once per measurement set; then every gradient is one
//   cuFFT)
//                  FFT pair with no communication, whatever the number of operators.
// Cached paths need DistributedMeasurements (versioned); a plain TensorList takes the general path.
#include <algorithm>
#include <any>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/distributed/measurements.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/physics/fused_normal.hpp"

namespace distinv {

struct DataFidelityOptions {
  Reduction reduction = Reduction::sum;  ///< mean: fn and grad divided by the number of operators
  bool fused = true;                     ///< allow the Fourier-fused L2 gradient of circular blurs
};

namespace detail {
template <class M>
concept VersionedMeasurements = requires(M const& m) {
  m.version();
  m.id();
  m.local();
};
/// Operators whose normal equations fuse into one operator for the whole stack
/// (physics/fused_normal.hpp: circular blurs with an FFT engine).
template <class Op>
concept FusableOperator = physics::fused_normal<Op>::available;
/// The space an operator type's fused normal equations live in: the context's device when
/// it is that space (a device index, a stream), a default one otherwise.
template <class Space, class Ctx>
Space space_of_context(Ctx const& ctx) {
  if constexpr (std::is_same_v<typename Ctx::device_type, Space>) return ctx.device();
  else return Space{};
}
}  // namespace detail

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
  DataFidelityOptions const& options() const noexcept { return options_; }

  /// Σ_i d(A_i x, y_i) on every rank (gather), or this rank's part.
  template <class Physics, class Measurements>
  double fn(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics,
            bool gather = true) const {
    auto local = [&] {
      auto const mine = entries(y, physics, "data fidelity fn");
      auto const ax = physics.A(x, false);
      double s = 0;
      for (std::size_t k = 0; k < mine.size(); ++k) s += fidelity(k).d(ax[k], *mine[k]);
      return s;
    };
    if (!gather) return local();
    return ctx_->all_reduce_value(ctx_->collectively("data fidelity fn", local)) / divisor(physics);
  }

  /// ∇_x Σ_i d(A_i x, y_i) on every rank (gather), or this rank's part.
  template <class Physics, class Measurements>
  typename Physics::tensor_type grad(typename Physics::tensor_type const& x, Measurements const& y,
                                     Physics const& physics, bool gather = true) {
    using tensor_type = typename Physics::tensor_type;
    using Op = typename Physics::operator_type;
    // A fidelity of the normal-equation form (∇ = AᵀA x − Aᵀy) over versioned measurements
    // caches Aᵀy, and fuses the whole stack where its operators allow.
    constexpr bool l2_cached = optim::has_normal_form<Fidelity> && detail::VersionedMeasurements<Measurements>;
    if constexpr (l2_cached && detail::FusableOperator<Op>) {
      if (gather && options_.fused)
        if (auto const normal = fused_normal(x, y, physics)) {  // null: not every operator is circular
          tensor_type g = normal->grad(x);  // one FFT pair
          if (double const d = divisor(physics); d != 1) g = g * scalar_t<tensor_type>(1.0 / d);
          return g;
        }
    }
    return detail::reduce_local<tensor_type>(*ctx_, "data fidelity grad", [&]() -> std::optional<tensor_type> {
      auto const mine = entries(y, physics, "data fidelity grad");
      if (mine.empty()) return std::nullopt;
      if constexpr (l2_cached) {
        auto const& aty = *std::any_cast<std::shared_ptr<tensor_type const>>(cached(adjoint_cache_, y, physics, x, [&] {
          return std::make_shared<tensor_type const>(physics.A_adjoint(as_list(mine), false));
        }));
        tensor_type s = physics.A_adjoint_A(x, false);
        require_same_shape(s, aty, "data fidelity grad: AᵀA x vs Aᵀy");
        return tensor_type(s - aty);
      } else {
        auto ax = physics.A(x, false);
        for (std::size_t k = 0; k < mine.size(); ++k) ax[k] = fidelity(k).grad_d(ax[k], *mine[k]);
        return physics.A_vjp(x, ax, false);
      }
    }, gather, divisor(physics));
  }

 private:
  /// 1 for Reduction::sum, the number of operators for Reduction::mean.
  template <class Physics>
  double divisor(Physics const& physics) const {
    return options_.reduction == Reduction::mean ? double(physics.num_operators()) : 1.0;
  }

  Fidelity const& fidelity(std::size_t k) const { return num_operators_ ? fidelities_[k] : fidelities_[0]; }

  /// This rank's measurements in local order (pointers: nothing is copied).
  template <class Measurements, class Physics>
  auto entries(Measurements const& y, Physics const& physics, char const* what) const {
    DISTINV_REQUIRE(!num_operators_ || *num_operators_ == physics.num_operators(), what,
                    ": the fidelities were built for ", num_operators_.value_or(0), " operators, the physics has ",
                    physics.num_operators());
    if constexpr (detail::VersionedMeasurements<Measurements>) {
      DISTINV_REQUIRE(y.size() == physics.num_operators() && y.local_indices() == physics.local_indices(), what,
                      ": expected measurements sharded like the physics (", physics.num_operators(), " items), got ",
                      y.size(), " items");
      std::vector<typename Physics::tensor_type const*> out;
      for (auto const& t : y.local()) out.push_back(&t);
      return out;
    } else {
      return detail::local_entries(y, physics.num_operators(), physics.local_indices(), what);
    }
  }

  template <class Pointers>
  static auto as_list(Pointers const& mine) {
    TensorList<std::remove_cvref_t<decltype(*mine[0])>> out;
    for (auto const* t : mine) out.push_back(*t);
    return out;
  }


  /// The fused normal equations of the stack (for circular blurs S = Σ|K_i|² and
  /// B = Σ conj(K_i)·F y_i) summed over the ranks, built once per measurement set (two
  /// collectives: the agreement that every operator can join and on the weight's planes, then
  /// the sums); null when some operator cannot join. Later calls with the same set communicate
  /// nothing.
  template <class Physics, class Measurements>
  auto fused_normal(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics) {
    using Op = typename Physics::operator_type;
    using Fused = physics::fused_normal<Op>;
    using Normal = typename Fused::type;
    return std::any_cast<std::shared_ptr<Normal const>>(cached(fused_cache_, y, physics, x, [&] {
      std::array<std::int64_t, 3> agree{0, 1, 1};  // [some operator cannot join, Bf, Cf], max-reduced
      for (auto const& op : physics.local_operators()) {
        if (!Fused::usable(op)) agree[0] = 1;
        auto const w = Fused::weight_planes(op);
        agree[1] = std::max<std::int64_t>(agree[1], w[0]);
        agree[2] = std::max<std::int64_t>(agree[2], w[1]);
      }
      ctx_->all_reduce(std::span<std::int64_t>(agree), ReduceOp::max);
      if (agree[0] != 0) return std::shared_ptr<Normal const>();
      auto n = ctx_->collectively("fused L2 gradient setup", [&] {
        auto normal = std::make_shared<Normal>(Fused::make(shape_of(x), {Index(agree[1]), Index(agree[2])},
                                                           detail::space_of_context<typename Op::space_type>(*ctx_)));
        auto const mine = entries(y, physics, "fused L2 gradient setup");
        for (std::size_t k = 0; k < mine.size(); ++k) normal->add(physics.local_operators()[k], *mine[k]);
        return normal;
      });
      Fused::all_reduce(ctx_->comm(), *n);
      return std::shared_ptr<Normal const>(std::move(n));
    }));
  }

  /// A quantity derived from (measurements, physics, signal shape), kept in `slot` and
  /// recomputed only when one of them changes.
  struct Key {
    std::uint64_t measurements = 0, version = 0, physics = 0;
    std::vector<Index> shape;
    bool operator==(Key const&) const = default;
  };
  struct Cache {
    Key key;
    std::any value;
  };
  template <class Measurements, class Physics, class X, class Make>
  std::any const& cached(Cache& slot, Measurements const& y, Physics const& physics, X const& x, Make&& make) {
    auto const s = shape_of(x);
    Key key{y.id(), y.version(), physics.id(), std::vector<Index>(s.begin(), s.end())};
    if (!slot.value.has_value() || !(slot.key == key)) {
      slot.value.reset();
      slot.value = make();
      slot.key = std::move(key);
    }
    return slot.value;
  }

  Ctx* ctx_;
  DataFidelityOptions options_;
  std::optional<Index> num_operators_;  ///< set when built from a per-operator factory
  std::vector<Fidelity> fidelities_;
  Cache adjoint_cache_;  ///< Σ_local A_iᵀ y_i
  Cache fused_cache_;    ///< the summed Fourier multipliers, or null
};

template <class Ctx, class Fidelity>
DistributedDataFidelity(Ctx&, Fidelity, DataFidelityOptions = {}) -> DistributedDataFidelity<Ctx, Fidelity>;

}  // namespace distinv
