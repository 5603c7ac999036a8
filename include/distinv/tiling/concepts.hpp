#pragma once
// tiling/concepts.hpp: the SignalStrategy concept — a strategy is geometry only. Built for
// ONE signal shape, it says how many patches cover the signal and lays them out as a
// TileLayout (tiling/layout.hpp): window shapes, source maps, reduce boxes, blend weights.
// Extraction, batching and reduction over any layout are written once (tiling/process.hpp)
// for every Signal, host or device. BasicStrategy and OverlapTilingStrategy model it; a
// user's strategy plugs in by modelling it too. core/ only.
#include <concepts>

#include "distinv/core/tensor.hpp"
#include "distinv/tiling/layout.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv::tiling {

/// A strategy of `static constexpr int rank` (4: (B, C, H, W), 5: (B, C, D, H, W)):
///  - `signal_shape()`: the shape it was built for;
///  - `num_patches()`: how many patches cover the signal; patch indices are 0..n-1;
///  - `tile_layout()`: their layout. Processed windows are ADDED into a zero output, so that
///    summing the contributions of a partition of the patches (one part per rank, then an
///    all-reduce) gives the result.
template <class S>
concept SignalStrategy = requires {
  { S::rank } -> std::convertible_to<int>;
} && (S::rank == 4 || S::rank == 5) && requires(S const& s) {
  { s.signal_shape() } -> std::convertible_to<Shape<S::rank>>;
  { s.num_patches() } -> std::convertible_to<Index>;
  { s.tile_layout() } -> std::same_as<TileLayout<S::rank> const&>;
};

/// A strategy that the factory and DistributedProcessing can build from the signal shape and
/// the tiling options alone: `S(shape, options)`.
template <class S>
concept StrategyFromOptions = SignalStrategy<S> && std::constructible_from<S, Shape<S::rank> const&, TilingOptions const&>;

}  // namespace distinv::tiling
