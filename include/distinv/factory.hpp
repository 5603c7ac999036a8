#pragma once
// factory.hpp: the factory API, so that the reference's quick start reads almost line for
// line in C++:
//   auto bundle = make_distrib_bundle(ctx, FactoryConfig{stack, measurements, optim::L2{}},
//                                     signal_shape, optim::PnP{denoiser}, TilingConfig{128, 32});
// A DistributedBundle holds the distributed physics, measurements (each rank only its own),
// data fidelity, signal and (optionally) the tiled prior. `distribute` turns one stack, data
// fidelity or denoiser into its distributed counterpart.
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "distinv/distributed/data_fidelity.hpp"
#include "distinv/distributed/measurements.hpp"
#include "distinv/distributed/processing.hpp"
#include "distinv/distributed/signal.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/tiling/create_strategy.hpp"

namespace distinv {

/// Physics (a stack, or a vector of operators), its measurements (one per operator) and the
/// data fidelity (L2 unless given).
template <class Stack, class Fidelity = optim::L2>
struct FactoryConfig {
  Stack physics;
  TensorList<typename std::remove_cvref_t<decltype(std::declval<Stack const&>()[0])>::tensor_type> measurements;
  Fidelity data_fidelity{};
};
template <class Stack, class List>
FactoryConfig(Stack, List) -> FactoryConfig<Stack, optim::L2>;
template <class Stack, class List, class Fidelity>
FactoryConfig(Stack, List, Fidelity) -> FactoryConfig<Stack, Fidelity>;

/// The halo of a prior that declares no receptive field: deepinv's distribute() overlap.
inline constexpr Index default_receptive_field = 64;

/// Spatial tiling of the prior.
struct TilingConfig {
  Index patch_size = 256;
  Index receptive_field_size = -1;          ///< < 0: the prior's own, default_receptive_field if it declares none
  bool overlap = false;                     ///< true: windows every patch_size/2, blended (linear)
  std::string strategy = "overlap_tiling";  ///< or "smart_tiling", "basic"
  std::string pad_mode = "reflect";
  Index max_batch_size = 0;                 ///< patches per processor call; 0 = all of a rank's

  /// The strategy options for a prior of the given receptive field (nullopt: declares none).
  tiling::TilingOptions options(std::optional<Index> prior_receptive_field) const {
    DISTINV_REQUIRE(patch_size > 0, "TilingConfig: expected patch_size > 0, got ", patch_size);
    tiling::TilingOptions o;
    o.patch_size = {patch_size};
    o.receptive_field_size = {receptive_field_size >= 0 ? receptive_field_size
                                                       : prior_receptive_field.value_or(default_receptive_field)};
    o.pad_mode = tiling::parse_pad_mode(pad_mode);
    if (overlap) {
      o.stride = {std::max<Index>(1, patch_size / 2)};
      o.blend = tiling::Blend::linear;
    }
    return o;
  }
};

/// The prior of a bundle made without one.
struct NoPrior {};

template <class Ctx, class Physics, class Fidelity, class Prior>
struct DistributedBundle {
  using tensor_type = typename Physics::tensor_type;
  using scalar_type = scalar_t<tensor_type>;
  using strategy_type = typename tiling::strategy_maker<tensor_type>::type;
  using prior_type = DistributedPrior<Ctx, Prior, strategy_type, typename Physics::reduction_policy>;
  static constexpr bool has_prior = !std::is_same_v<Prior, NoPrior>;

  Physics physics;
  DistributedMeasurements<Ctx, tensor_type> measurements;
  DistributedDataFidelity<Ctx, Fidelity, typename Physics::reduction_policy> data_fidelity;
  DistributedSignal<Ctx, tensor_type> signal;
  std::unique_ptr<prior_type> prior;  ///< null for a bundle without prior
};

namespace detail {
template <class Stack>
auto operator_list(Stack const& s) {
  using Op = std::remove_cvref_t<decltype(s[0])>;
  std::vector<Op> ops;
  for (std::size_t i = 0; i < s.size(); ++i) ops.push_back(s[i]);
  return ops;
}
}  // namespace detail

/// Builds every distributed component at once. Each rank keeps only its own operators and
/// measurements; the prior (if any) is tiled with `tiling`.
template <GatherPolicy Gather = gather::Concatenated, ReductionPolicy Reduce = reduce::Exact, class Ctx, class Stack,
          class Fidelity, class Prior = NoPrior>
auto make_distrib_bundle(Ctx& ctx, FactoryConfig<Stack, Fidelity> const& config, Shape<4> const& signal_shape,
                         Prior prior = {}, TilingConfig const& tiling = {}) {
  auto ops = detail::operator_list(config.physics);
  using Op = typename decltype(ops)::value_type;
  using Physics = DistributedStackedLinearPhysics<Ctx, Op, Gather, Reduce>;
  using Bundle = DistributedBundle<Ctx, Physics, Fidelity, Prior>;
  Index const n = Index(ops.size());
  DISTINV_REQUIRE(Index(config.measurements.size()) == n, "make_distrib_bundle: expected ", n,
                  " measurements (one per operator), got ", config.measurements.size());
  auto opt = std::is_same_v<Prior, NoPrior> ? tiling::TilingOptions{} : tiling.options(optim::declared_receptive_field(prior));
  Bundle b{Physics(ctx, n, [&](Index i, auto const&) { return ops[std::size_t(i)]; }),
           DistributedMeasurements<Ctx, typename Bundle::tensor_type>(ctx, config.measurements),
           DistributedDataFidelity<Ctx, Fidelity, Reduce>(ctx, config.data_fidelity),
           DistributedSignal<Ctx, typename Bundle::tensor_type>(ctx, signal_shape),
           nullptr};
  if constexpr (!std::is_same_v<Prior, NoPrior>) {
    std::string const name = tiling.strategy;
    b.prior = std::make_unique<typename Bundle::prior_type>(
        ctx, std::move(prior),
        [name, opt](Shape<4> const& s) {
          return tiling::strategy_maker<typename Bundle::tensor_type>::make(name, s, opt);
        },
        tiling.max_batch_size);
  }
  return b;
}

/// A data fidelity over a distributed stack.
template <ReductionPolicy Reduce = reduce::Exact, class Ctx, class Fidelity>
  requires std::is_base_of_v<optim::DataFidelity<Fidelity>, Fidelity>
auto distribute(Fidelity fidelity, Ctx& ctx, DataFidelityOptions options = {}) {
  return DistributedDataFidelity<Ctx, Fidelity, Reduce>(ctx, std::move(fidelity), options);
}

namespace detail {
/// Scalar type of a denoiser such as TVDenoiser<double>; float for anything else.
template <class D>
struct denoiser_scalar {
  using type = float;
};
template <template <class> class D, std::floating_point T>
struct denoiser_scalar<D<T>> {
  using type = T;
};
}  // namespace detail

/// A denoiser applied tile by tile over the ranks, the strategy named in `tiling`; the halo
/// defaults to the denoiser's receptive field, or default_receptive_field (64, as deepinv's
/// distribute()) for a denoiser that declares none.
template <class Ctx, class Denoiser>
  requires(!std::is_base_of_v<optim::DataFidelity<Denoiser>, Denoiser>)
auto distribute(Denoiser denoiser, Ctx& ctx, TilingConfig const& tiling) {
  using T = typename detail::denoiser_scalar<Denoiser>::type;
  using S = tiling::AnySignalStrategy<T, 4>;
  auto const opt = tiling.options(optim::declared_receptive_field(denoiser));
  std::string const name = tiling.strategy;
  return DistributedProcessing<Ctx, Denoiser, S>(
      ctx, std::move(denoiser), [name, opt](Shape<4> const& s) { return tiling::create_strategy<T, 4>(name, s, opt); },
      tiling.max_batch_size);
}

}  // namespace distinv
