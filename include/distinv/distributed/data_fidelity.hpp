#pragma once
// distributed/data_fidelity.hpp: DistributedDataFidelity, f(x) = Σ_i d(A_i x, y_i) over a
// distributed stack: each rank works on the operators and measurements it owns, then one
// all-reduce with the ReductionPolicy (reduce::Exact by default: the same bits on any number
// of ranks). The distance is the same for every operator, or one per operator from a factory.
// Gradient paths (gradient_path() says which one a call takes):
//   general  Σ A_iᵀ ∇d(A_i x, y_i)
//   cached   L2 (a distance of the normal-equation form): Σ A_iᵀA_i x − Σ A_iᵀ y_i, the second
//            sum computed once per measurement set
//   fused    L2 over circular blurs with an FFT engine: ∇ = F⁻¹(S·F x − B), S = Σ|K_i|²,
//            B = Σ conj(K_i)·Y_i summed over the ranks once per measurement set; then every
//            gradient is one FFT pair with no communication, whatever the number of operators.
// Cached paths need DistributedMeasurements (versioned); a plain TensorList takes the general path.
#include <algorithm>
#include <any>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/distributed/detail/agreed_sum.hpp"
#include "distinv/distributed/detail/exact_sum.hpp"
#include "distinv/distributed/measurements.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/physics/fused_normal.hpp"

namespace distinv {

/// Options of a DistributedDataFidelity.
struct DataFidelityOptions {
  Reduction reduction = Reduction::sum;  ///< mean: fn and grad divided by the number of operators
  bool fused = true;                     ///< allow the Fourier-fused L2 gradient of circular blurs
};

/// Which computation DistributedDataFidelity::grad runs (see the header comment).
enum class GradientPath { fused, cached, general };

/// "fused", "cached" or "general".
inline std::string_view to_string(GradientPath p) {
  switch (p) {
    case GradientPath::fused: return "fused";
    case GradientPath::cached: return "cached";
    default: return "general";
  }
}

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
/// A host copy of n elements of a space (a span of the fused normal equations).
template <class Space, class S>
auto host_copy(S const& span, Space const& space) {
  Tensor<std::remove_cvref_t<decltype(*span.data())>, 1> t(Index(span.size()));
  space_traits<Space>::download(span.data(), t.data(), Index(span.size()), space);
  return t;
}
}  // namespace detail

/// A data fidelity Σ_i d(A_i x, y_i) over a distributed stack: each rank evaluates the terms of its own
/// operators, one all-reduce sums them (exactly with reduce::Exact). grad takes the fused, cached or general
/// path (gradient_path()). Bad input (a measurement list of another length) throws Error on every rank before
/// the sum.
template <class Ctx, class Fidelity, ReductionPolicy Reduce = reduce::Exact>
class DistributedDataFidelity {
  template <class M>
  static constexpr bool normal_form_cached = optim::has_normal_form<Fidelity> && detail::VersionedMeasurements<M>;

 public:
  /// The distance d (optim::L2, L1, PoissonLikelihood, or the user's own DataFidelity).
  using fidelity_type = Fidelity;
  /// How the sums over operators are formed (reduce::Exact by default).
  using reduction_policy = Reduce;

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

  /// The context it was made with.
  Ctx& context() const noexcept { return *ctx_; }
  /// The options it was made with.
  DataFidelityOptions const& options() const noexcept { return options_; }

  /// Σ_i d(A_i x, y_i) on every rank (summed in operator order with reduce::Exact), or
  /// (`local`) this rank's part.
  template <class Physics, class Measurements, ResultScope W = Global>
  double fn(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics,
            W where = W{}) const {
    auto values = [&] {
      auto const mine = entries(y, physics, "data fidelity fn");
      auto const ax = physics.A(x, local);
      std::vector<double> v;
      for (std::size_t k = 0; k < mine.size(); ++k) v.push_back(fidelity(k).d(ax[k], *mine[k]));
      return v;
    };
    auto plain = [](std::vector<double> const& v) {
      double s = 0;
      for (double d : v) s += d;
      return s;
    };
    if constexpr (is_local_v<W>) {
      (void)where;
      return plain(values());
    } else {
      auto const v = ctx_->collectively("data fidelity fn", values);
      double const s = Reduce::exact ? detail::ordered_sum(*ctx_, physics.num_operators(), physics.local_indices(), v)
                                     : ctx_->all_reduce_value(plain(v));
      return s / divisor(physics);
    }
  }

  /// ∇_x Σ_i d(A_i x, y_i) on every rank, or (`local`) this rank's part (zeros on a rank
  /// without operators; never the fused path).
  template <class Physics, class Measurements, ResultScope W = Global>
  typename Physics::tensor_type grad(typename Physics::tensor_type const& x, Measurements const& y,
                                     Physics const& physics, W where = W{}) {
    using tensor_type = typename Physics::tensor_type;
    constexpr char const* what = "data fidelity grad";
    (void)where;
    if constexpr (!is_local_v<W> && normal_form_cached<Measurements> &&
                  detail::FusableOperator<typename Physics::operator_type>) {
      if (options_.fused)
        if (auto const normal = fused_normal(x, y, physics)) return scaled(normal->grad(x), physics);  // one FFT pair
    }
    auto const& ops = physics.local_operators();
    if constexpr (normal_form_cached<Measurements>) {
      // ∇ = AᵀA x − Aᵀy, Aᵀy computed once per measurement set.
      auto normal_terms = [&](auto& sink) {
        auto const mine = entries(y, physics, what);  // checked inside the agreement
        for (std::size_t k = 0; k < mine.size(); ++k) sink(ops[k].A_adjoint_A(x));
      };
      if constexpr (is_local_v<W>) {
        detail::LocalTerms<reduce::Plain, tensor_type> s;
        normal_terms(s);
        return tensor_type(std::move(s).plain_sum(shape_of(x)) - local_adjoint(x, y, physics));
      } else {
        tensor_type const s = detail::agreed_sum<Reduce, tensor_type>(*ctx_, what, physics.num_operators(), normal_terms);
        tensor_type const& aty = global_adjoint(x, y, physics);
        require_same_shape(s, aty, "data fidelity grad: AᵀA x vs Aᵀy");
        return scaled(tensor_type(s - aty), physics);
      }
    } else {
      auto general_terms = [&](auto& sink) {
        auto const mine = entries(y, physics, what);
        for (std::size_t k = 0; k < mine.size(); ++k)
          sink(ops[k].A_vjp(x, fidelity(k).grad_d(ops[k].A(x), *mine[k])));
      };
      if constexpr (is_local_v<W>) {
        detail::LocalTerms<reduce::Plain, tensor_type> s;
        general_terms(s);
        return std::move(s).plain_sum(shape_of(x));
      } else {
        return scaled(detail::agreed_sum<Reduce, tensor_type>(*ctx_, what, physics.num_operators(), general_terms),
                      physics);
      }
    }
  }

  /// The path grad(x, y, physics) takes: fused, cached or general. A collective (one small
  /// all-reduce) where the fused path is possible: every operator on every rank must join it.
  template <class Physics, class Measurements>
  GradientPath gradient_path(typename Physics::tensor_type const& x, Measurements const& y,
                             Physics const& physics) const {
    (void)x, (void)y;
    if constexpr (normal_form_cached<Measurements>) {
      if constexpr (detail::FusableOperator<typename Physics::operator_type>)
        if (options_.fused && fusable_planes(physics)) return GradientPath::fused;
      return GradientPath::cached;
    } else {
      return GradientPath::general;
    }
  }

 private:
  /// 1 for Reduction::sum, the number of operators for Reduction::mean.
  template <class Physics>
  double divisor(Physics const& physics) const {
    return options_.reduction == Reduction::mean ? double(physics.num_operators()) : 1.0;
  }
  template <class X, class Physics>
  X scaled(X g, Physics const& physics) const {
    if (double const d = divisor(physics); d != 1) g = g * scalar_t<X>(1.0 / d);
    return g;
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

  /// Σ_i A_iᵀ y_i over all operators (the ReductionPolicy's sum), once per measurement set.
  template <class Physics, class Measurements>
  auto const& global_adjoint(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics) {
    using tensor_type = typename Physics::tensor_type;
    return *std::any_cast<std::shared_ptr<tensor_type const>>(cached(adjoint_cache_, y, physics, x, [&] {
      auto terms = [&](auto& sink) {
        auto const mine = entries(y, physics, "data fidelity grad");
        for (std::size_t k = 0; k < mine.size(); ++k) sink(physics.local_operators()[k].A_adjoint(*mine[k]));
      };
      return std::make_shared<tensor_type const>(
          detail::agreed_sum<Reduce, tensor_type>(*ctx_, "data fidelity grad", physics.num_operators(), terms));
    }));
  }
  /// This rank's Σ A_iᵀ y_i (zeros of x's shape without operators), for local gradients.
  template <class Physics, class Measurements>
  auto const& local_adjoint(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics) {
    using tensor_type = typename Physics::tensor_type;
    return *std::any_cast<std::shared_ptr<tensor_type const>>(cached(local_adjoint_cache_, y, physics, x, [&] {
      auto const mine = entries(y, physics, "data fidelity grad");
      detail::LocalTerms<reduce::Plain, tensor_type> s;
      for (std::size_t k = 0; k < mine.size(); ++k) s(physics.local_operators()[k].A_adjoint(*mine[k]));
      return std::make_shared<tensor_type const>(std::move(s).plain_sum(shape_of(x)));
    }));
  }

  /// The weight planes (Bf, Cf) of the stack's fused normal equations, or nullopt when some
  /// operator on some rank cannot join them (one all-reduce).
  template <class Physics>
  std::optional<std::array<Index, 2>> fusable_planes(Physics const& physics) const {
    using Fused = physics::fused_normal<typename Physics::operator_type>;
    std::array<std::int64_t, 3> agree{0, 1, 1};  // [some operator cannot join, Bf, Cf], max-reduced
    for (auto const& op : physics.local_operators()) {
      if (!Fused::usable(op)) agree[0] = 1;
      auto const w = Fused::weight_planes(op);
      agree[1] = std::max<std::int64_t>(agree[1], w[0]);
      agree[2] = std::max<std::int64_t>(agree[2], w[1]);
    }
    ctx_->all_reduce(std::span<std::int64_t>(agree), ReduceOp::max);
    if (agree[0] != 0) return std::nullopt;
    return std::array<Index, 2>{Index(agree[1]), Index(agree[2])};
  }

  /// The fused normal equations of the stack (for circular blurs S = Σ|K_i|² and
  /// B = Σ conj(K_i)·F y_i) summed over the ranks with the ReductionPolicy, built once per
  /// measurement set (collectives: the agreement that every operator can join and on the
  /// weight's planes, then the sums); null when some operator cannot join. Later calls with
  /// the same set communicate nothing.
  template <class Physics, class Measurements>
  auto fused_normal(typename Physics::tensor_type const& x, Measurements const& y, Physics const& physics) {
    using Op = typename Physics::operator_type;
    using Fused = physics::fused_normal<Op>;
    using Normal = typename Fused::type;
    using Space = typename Op::space_type;
    using T = typename Op::scalar_type;
    return std::any_cast<std::shared_ptr<Normal const>>(cached(fused_cache_, y, physics, x, [&] {
      auto const planes = fusable_planes(physics);
      if (!planes) return std::shared_ptr<Normal const>();
      Space const space = detail::space_of_context<Space>(*ctx_);
      constexpr char const* what = "fused L2 gradient setup";
      auto n = ctx_->collectively(what, [&] { return std::make_shared<Normal>(Fused::make(shape_of(x), *planes, space)); });
      auto const& ops = physics.local_operators();
      if constexpr (Reduce::exact) {
        // Each operator's own S_i, B_i (in a scratch), then the exact sums over all operators.
        std::vector<Tensor<T, 1>> data_terms;
        auto weights = [&](auto& sink) {
          auto const mine = entries(y, physics, what);
          std::optional<Normal> scratch;
          for (std::size_t k = 0; k < mine.size(); ++k) {
            if (!scratch) scratch.emplace(Fused::make(shape_of(x), *planes, space));
            scratch->reset();
            scratch->add(ops[k], *mine[k]);
            sink(detail::host_copy(scratch->spectrum_sum(), space));
            data_terms.push_back(detail::host_copy(scratch->data_term(), space));
          }
        };
        Index const count = physics.num_operators();
        auto const S = detail::agreed_sum<Reduce, Tensor<T, 1>>(*ctx_, what, count, weights);
        auto const B = detail::agreed_sum<Reduce, Tensor<T, 1>>(*ctx_, what, count, [&](auto& sink) {
          for (auto& t : data_terms) sink(std::move(t));
        });
        space_traits<Space>::upload(S.data(), n->spectrum_sum().data(), S.size(), space);
        space_traits<Space>::upload(B.data(), n->data_term().data(), B.size(), space);
      } else {
        ctx_->collectively(what, [&] {
          auto const mine = entries(y, physics, what);
          for (std::size_t k = 0; k < mine.size(); ++k) n->add(ops[k], *mine[k]);
        });
        Fused::all_reduce(ctx_->comm(), *n);
      }
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
  Cache adjoint_cache_;        ///< Σ A_iᵀ y_i over all operators
  Cache local_adjoint_cache_;  ///< this rank's Σ A_iᵀ y_i (local gradients)
  Cache fused_cache_;          ///< the summed Fourier multipliers, or null
};

/// Deduces the Fidelity of DistributedDataFidelity(ctx, fidelity).
template <class Ctx, class Fidelity>
DistributedDataFidelity(Ctx&, Fidelity, DataFidelityOptions = {}) -> DistributedDataFidelity<Ctx, Fidelity>;

}  // namespace distinv
