#pragma once
// factory.hpp: the factory API, so that the reference's quick start reads almost line for
// line in C++:
//   auto bundle = make_distrib_bundle(ctx, FactoryConfig{stack, measurements, optim::L2{}},
//                                     signal_shape, optim::PnP{denoiser}, TilingConfig{128, 32});
// A DistributedBundle holds the distributed physics, measurements (each rank only its own),
// data fidelity, signal and (optionally) the tiled prior. `distribute` turns one stack, data
// fidelity or denoiser into its distributed counterpart (distribute<layout::Slabs>: a stack, data
// fidelity or denoiser on slabs; make_distrib_bundle<layout::Slabs>: a whole bundle). Both are typed by the tiling
// strategy (default OverlapTilingStrategy); an application maps a strategy name onto the
// type once, with tiling::with_strategy (tiling/with_strategy.hpp).
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/distributed/data_fidelity.hpp"
#include "distinv/distributed/measurements.hpp"
#include "distinv/distributed/processing.hpp"
#include "distinv/distributed/signal.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_bundle.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/overlap_tiling.hpp"

namespace distinv {

namespace detail {
/// The whole measurements of a stack's operators (the replicated layout).
template <class Stack>
using whole_measurements_t =
    TensorList<typename std::remove_cvref_t<decltype(std::declval<Stack const&>()[0])>::tensor_type>;
/// The measurement list FactoryConfig{stack, list} keeps: a list of slab tensors as it is (each
/// rank's slabs, for layout::Slabs), anything else as the whole measurements.
template <class Stack, class List>
struct measurement_list {
  using type = whole_measurements_t<Stack>;
};
template <class Stack, class X>
  requires requires { requires signal_traits<X>::sharded; }
struct measurement_list<Stack, TensorList<X>> {
  using type = TensorList<X>;
};
}  // namespace detail

/// Physics (a stack, or a vector of operators), its measurements (one per operator) and the
/// data fidelity (L2 unless given). The measurements are whole tensors (all N; each rank keeps its
/// own), or for layout::Slabs a TensorList of each rank's slabs of every measurement.
template <class Stack, class Fidelity = optim::L2, class List = detail::whole_measurements_t<Stack>>
struct FactoryConfig {
  /// The operators: a stack or a vector of operators of one type.
  Stack physics;
  /// The measurements, one per operator.
  List measurements;
  /// The distance of the data fidelity (optim::L2 by default).
  Fidelity data_fidelity{};
};
/// Deduces FactoryConfig{stack, measurements} (data fidelity optim::L2).
template <class Stack, class List>
FactoryConfig(Stack, List) -> FactoryConfig<Stack, optim::L2, typename detail::measurement_list<Stack, List>::type>;
/// Deduces FactoryConfig{stack, measurements, fidelity}.
template <class Stack, class List, class Fidelity>
FactoryConfig(Stack, List, Fidelity)
    -> FactoryConfig<Stack, Fidelity, typename detail::measurement_list<Stack, List>::type>;

/// The halo of a prior that declares no receptive field: deepinv's distribute() overlap.
inline constexpr Index default_receptive_field = 64;

/// Spatial tiling of the prior: the strategy's options and the batch bound. The strategy
/// itself is a type (the template parameter of make_distrib_bundle and distribute), not a
/// field: an application holding a name maps it with tiling::with_strategy.
struct TilingConfig {
  /// Interior size of a tile, in pixels; tiling::auto_patch (0, the default): the cost model's
  /// (tiling/patch_size.hpp: the least work on the busiest rank, halo included, whose window
  /// fits batch_bytes; counted for one rank, as the strategy does not see the context).
  Index patch_size = tiling::auto_patch;
  Index receptive_field_size = -1;  ///< < 0: the prior's own, default_receptive_field if it declares none
  bool overlap = false;                             ///< true: windows every patch_size/2, blended (linear)
  tiling::Padding pad_mode = tiling::Padding::reflect;  ///< not `valid`
  Index max_batch_size = 0;                         ///< patches per processor call; 0 = as batch_bytes allows
  std::size_t batch_bytes = tiling::default_batch_bytes;  ///< bytes of windows per processor call

  /// The strategy options for a prior of the given receptive field (nullopt: declares none).
  tiling::TilingOptions options(std::optional<Index> prior_receptive_field) const {
    DISTINV_REQUIRE(patch_size >= 0, "TilingConfig: expected patch_size > 0 (0: auto), got ", patch_size);
    tiling::TilingOptions o;
    o.patch_size = {patch_size};
    o.batch_bytes = batch_bytes;
    o.receptive_field_size = {receptive_field_size >= 0 ? receptive_field_size
                                                       : prior_receptive_field.value_or(default_receptive_field)};
    o.pad_mode = tiling::detail::tiling_padding(pad_mode, "TilingConfig");
    if (overlap) {
      o.stride = {patch_size == tiling::auto_patch ? tiling::half_patch : std::max<Index>(1, patch_size / 2)};
      o.blend = tiling::Blend::linear;
    }
    return o;
  }
  /// The batch bound: max_batch_size patches and batch_bytes bytes per call.
  tiling::BatchLimit batch_limit() const { return {max_batch_size, batch_bytes}; }
};

/// What make_distrib_bundle builds: the distributed physics, measurements (each rank its own), data fidelity,
/// signal and the tiled prior (null without one), ready for the solvers of optim/solvers.hpp.
template <class Ctx, class Physics, class Fidelity, class Prior,
          tiling::SignalStrategy Strategy = tiling::OverlapTilingStrategy<4>>
struct DistributedBundle {
  /// The signal type.
  using tensor_type = typename Physics::tensor_type;
  /// Element type.
  using scalar_type = scalar_t<tensor_type>;
  /// The tiling strategy of the prior.
  using strategy_type = Strategy;
  /// The distributed prior's type.
  using prior_type = DistributedPrior<Ctx, Prior, strategy_type, typename Physics::reduction_policy>;
  /// True when the bundle has a prior.
  static constexpr bool has_prior = !std::is_same_v<Prior, NoPrior>;

  /// The distributed stack (a DistributedStackedLinearPhysics).
  Physics physics;
  /// The measurements, each rank its own.
  DistributedMeasurements<Ctx, tensor_type> measurements;
  /// The distributed data fidelity.
  DistributedDataFidelity<Ctx, Fidelity, typename Physics::reduction_policy> data_fidelity;
  /// The signal, the same on every rank (zeros at first).
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
/// measurements; the prior (if any) is tiled by a `Strategy` built with `tiling`'s options;
/// sums over operators and overlapping tiles follow `Reduce`.
template <GatherPolicy Gather = gather::Concatenated,
          tiling::StrategyFromOptions Strategy = tiling::OverlapTilingStrategy<4>, ReductionPolicy Reduce = reduce::Exact,
          class Ctx, class Stack, class Fidelity, class Prior = NoPrior>
  requires(Strategy::rank == 4 && !layout::LayoutPolicy<Gather>)
auto make_distrib_bundle(Ctx& ctx, FactoryConfig<Stack, Fidelity> const& config, Shape<4> const& signal_shape,
                         Prior prior = {}, TilingConfig const& tiling = {}) {
  auto ops = detail::operator_list(config.physics);
  using Op = typename decltype(ops)::value_type;
  using Physics = DistributedStackedLinearPhysics<Ctx, Op, Gather, Reduce>;
  using Bundle = DistributedBundle<Ctx, Physics, Fidelity, Prior, Strategy>;
  Index const n = Index(ops.size());
  DISTINV_REQUIRE(Index(config.measurements.size()) == n, "make_distrib_bundle: expected ", n,
                  " measurements (one per operator), got ", config.measurements.size());
  auto opt = std::is_same_v<Prior, NoPrior> ? tiling::TilingOptions{} : tiling.options(optim::declared_receptive_field(prior));
  Bundle b{Physics(ctx, n, [&](Index i, auto const&) { return ops[std::size_t(i)]; }),
           DistributedMeasurements<Ctx, typename Bundle::tensor_type>(ctx, config.measurements),
           DistributedDataFidelity<Ctx, Fidelity, Reduce>(ctx, config.data_fidelity),
           DistributedSignal<Ctx, typename Bundle::tensor_type>(ctx, signal_shape),
           nullptr};
  if constexpr (!std::is_same_v<Prior, NoPrior>)
    b.prior = std::make_unique<typename Bundle::prior_type>(ctx, std::move(prior), opt, tiling.batch_limit());
  return b;
}

namespace detail {
/// make_distrib_bundle<layout::Slabs> with the measurements `y` (config's, moved or copied).
template <tiling::StrategyFromOptions Strategy, ReductionPolicy Reduce, class Ctx, class Stack, class Fidelity,
          class List, class Prior>
auto make_slab_bundle_of(Ctx& ctx, FactoryConfig<Stack, Fidelity, List> const& config, List y,
                         Shape<4> const& signal_shape, Prior prior, TilingConfig const& tiling,
                         std::optional<layout::RowPartition> partition) {
  auto opt = std::is_same_v<Prior, NoPrior> ? tiling::TilingOptions{}
                                            : tiling.options(optim::declared_receptive_field(prior));
  return layout::make_slab_bundle<Strategy, Reduce>(ctx, detail::operator_list(config.physics), std::move(y),
                                                    config.data_fidelity, signal_shape, std::move(prior), opt,
                                                    tiling.batch_limit(), std::move(partition));
}
}  // namespace detail

/// Builds every component in the layout `Layout`: layout::Replicated, the bundle above (gather
/// policy gather::Concatenated); layout::Slabs, a layout::SlabBundle, from each rank's slabs of the
/// measurements (config.measurements, a TensorList of SlabTensor): every rank holds every operator,
/// its slab of every measurement and of the signal, laid out by `partition` (default: the balanced
/// split of the signal's rows), and the prior tiled on slabs (layout::SlabPrior). The solvers of
/// optim/solvers.hpp run on either. The slab bundle keeps a copy of the measurements; pass the
/// config as an rvalue (below) to move them in instead.
template <layout::LayoutPolicy Layout, tiling::StrategyFromOptions Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact, class Ctx, class Stack, class Fidelity, class List,
          class Prior = NoPrior>
  requires(Strategy::rank == 4)
auto make_distrib_bundle(Ctx& ctx, FactoryConfig<Stack, Fidelity, List> const& config, Shape<4> const& signal_shape,
                         Prior prior = {}, TilingConfig const& tiling = {},
                         std::optional<layout::RowPartition> partition = std::nullopt) {
  if constexpr (std::is_same_v<Layout, layout::Replicated>) {
    DISTINV_REQUIRE(!partition, "make_distrib_bundle<layout::Replicated>: a row partition is for layout::Slabs only");
    return make_distrib_bundle<gather::Concatenated, Strategy, Reduce>(ctx, config, signal_shape, std::move(prior),
                                                                        tiling);
  } else {
    layout::require_slab_path<typename decltype(detail::operator_list(config.physics))::value_type,
                              typename Ctx::comm_type>();
    return detail::make_slab_bundle_of<Strategy, Reduce>(ctx, config, config.measurements, signal_shape,
                                                         std::move(prior), tiling, std::move(partition));
  }
}
/// The same from a config the caller gives up: layout::Slabs moves its measurements into the
/// bundle (no copy: memory K·N/P per rank, not twice that while the bundle is built).
template <layout::LayoutPolicy Layout, tiling::StrategyFromOptions Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact, class Ctx, class Stack, class Fidelity, class List,
          class Prior = NoPrior>
  requires(Strategy::rank == 4)
auto make_distrib_bundle(Ctx& ctx, FactoryConfig<Stack, Fidelity, List>&& config, Shape<4> const& signal_shape,
                         Prior prior = {}, TilingConfig const& tiling = {},
                         std::optional<layout::RowPartition> partition = std::nullopt) {
  if constexpr (std::is_same_v<Layout, layout::Replicated>) {
    return make_distrib_bundle<Layout, Strategy, Reduce>(ctx, std::as_const(config), signal_shape, std::move(prior),
                                                         tiling, std::move(partition));
  } else {
    layout::require_slab_path<typename decltype(detail::operator_list(config.physics))::value_type,
                              typename Ctx::comm_type>();
    List y = std::move(config.measurements);
    return detail::make_slab_bundle_of<Strategy, Reduce>(ctx, config, std::move(y), signal_shape, std::move(prior),
                                                         tiling, std::move(partition));
  }
}

/// distribute<layout::Replicated>(stack, ctx): distribute(stack, ctx) (each rank keeps the
/// operators it owns; A and forward gather the whole measurements).
template <layout::LayoutPolicy Layout, ReductionPolicy Reduce = reduce::Exact, class Ctx, detail::LinearStack Stack>
  requires std::is_same_v<Layout, layout::Replicated>
auto distribute(Stack const& stack, Ctx& ctx, StackOptions options = {}) {
  return distribute<gather::Concatenated, Reduce>(stack, ctx, options);
}

/// distribute<layout::Slabs>(stack, ctx, signal_shape[, partition]): the stack on slabs, a
/// layout::SlabStackedPhysics: every rank holds every operator, acting on the slabs of a signal of
/// shape `signal_shape` laid out by `partition` (default: the balanced split of its rows). Its
/// forward(x) gives each rank its slabs of the noisy measurements the replicated
/// distribute(stack, ctx).forward gives whole (operator i's noise from the context's seed, i and
/// the call count). Throws the same Error on every rank for no operator, an empty shape or a bad
/// partition; an operator without a slab path does not compile (layout::require_slab_path).
template <layout::LayoutPolicy Layout, class Ctx, detail::LinearStack Stack>
  requires std::is_same_v<Layout, layout::Slabs>
auto distribute(Stack const& stack, Ctx& ctx, Shape<4> const& signal_shape,
                std::optional<layout::RowPartition> partition = std::nullopt) {
  constexpr char const* what = "distribute<layout::Slabs>";
  auto const ops = detail::operator_list(stack);
  layout::require_slab_path<typename decltype(ops)::value_type, typename Ctx::comm_type>();
  return ctx.collectively(what, [&] { return layout::make_slab_physics(ctx, ops, signal_shape, partition, what); });
}

/// A data fidelity over a distributed stack.
template <ReductionPolicy Reduce = reduce::Exact, class Ctx, class Fidelity>
  requires std::is_base_of_v<optim::DataFidelity<Fidelity>, Fidelity>
auto distribute(Fidelity fidelity, Ctx& ctx, DataFidelityOptions options = {}) {
  return DistributedDataFidelity<Ctx, Fidelity, Reduce>(ctx, std::move(fidelity), options);
}

/// The same in the layout `Layout`: layout::Replicated, the DistributedDataFidelity above;
/// layout::Slabs, a layout::SlabDataFidelity (over the physics of distribute<layout::Slabs>(stack,
/// ...) and each rank's slabs of the measurements, a layout::SlabMeasurements).
template <layout::LayoutPolicy Layout, ReductionPolicy Reduce = reduce::Exact, class Ctx, class Fidelity>
  requires std::is_base_of_v<optim::DataFidelity<Fidelity>, Fidelity>
auto distribute(Fidelity fidelity, Ctx& ctx, DataFidelityOptions options = {}) {
  if constexpr (std::is_same_v<Layout, layout::Replicated>) {
    return distribute<Reduce>(std::move(fidelity), ctx, options);
  } else {
    (void)ctx;
    return layout::SlabDataFidelity<Fidelity>(std::move(fidelity), options);
  }
}

/// A denoiser applied tile by tile over the ranks by a `Strategy` built with `tiling`'s
/// options; the halo defaults to the denoiser's receptive field, or default_receptive_field
/// (64, as deepinv's distribute()) for a denoiser that declares none.
template <tiling::StrategyFromOptions Strategy = tiling::OverlapTilingStrategy<4>, class Ctx, class Denoiser>
  requires(!std::is_base_of_v<optim::DataFidelity<Denoiser>, Denoiser>)
auto distribute(Denoiser denoiser, Ctx& ctx, TilingConfig const& tiling) {
  auto const opt = tiling.options(optim::declared_receptive_field(denoiser));
  return DistributedProcessing<Ctx, Denoiser, Strategy>(ctx, std::move(denoiser), opt, tiling.batch_limit());
}

/// The same in the layout `Layout`: layout::Replicated, the DistributedProcessing above;
/// layout::Slabs, a layout::SlabProcessing (each rank tiles its own rows, the halos from the
/// neighbours; the result is DistributedProcessing's).
template <layout::LayoutPolicy Layout, tiling::StrategyFromOptions Strategy = tiling::OverlapTilingStrategy<4>,
          class Ctx, class Denoiser>
  requires(!std::is_base_of_v<optim::DataFidelity<Denoiser>, Denoiser>)
auto distribute(Denoiser denoiser, Ctx& ctx, TilingConfig const& tiling) {
  if constexpr (std::is_same_v<Layout, layout::Replicated>) {
    return distribute<Strategy>(std::move(denoiser), ctx, tiling);
  } else {
    auto const opt = tiling.options(optim::declared_receptive_field(denoiser));
    return layout::SlabProcessing<Ctx, Denoiser, Strategy>(ctx, std::move(denoiser), opt, tiling.batch_limit());
  }
}

}  // namespace distinv
