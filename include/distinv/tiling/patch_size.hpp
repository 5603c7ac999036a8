#pragma once
// tiling/patch_size.hpp: the cost model behind the default patch size. A window is the patch
// plus a halo h on each side of every tiled dim ((p + 2h)^2 samples for p^2 owned in 2-D; a
// dim that one tile spans whole gets no halo), so small tiles recompute their halo many times
// and large ones may not fit one batch or leave ranks idle. tiling_cost gives, for one patch
// size, the tiles, the windows' samples over the signal's and the critical path (the samples
// of the busiest rank); auto_patch_size picks the patch with the cheapest critical path whose
// window fits the batch budget. STL and core/ only.
#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv::tiling {

/// What tiling a signal with one patch size costs.
struct TilingCost {
  /// The patch (interior) size, as clamped to each dim.
  Index patch = 0;
  /// Windows in all.
  Index tiles = 0;
  /// Windows of the busiest rank (ceil(tiles / ranks)).
  Index tiles_per_rank = 0;
  /// Samples of one window over the tiled dims (the halo included).
  double window_samples = 0;
  /// Bytes of one window (window_samples * bytes per sample of the tiled dims).
  double window_bytes = 0;
  /// Samples of all windows over the signal's: the halo's recomputation (1 = none).
  double overhead = 0;
  /// Samples the busiest rank processes: tiles_per_rank * window_samples.
  double critical_samples = 0;
};

/// The cost of tiling dims of `extents` samples with square patches of `patch` and halo `halo`
/// (as OverlapTilingStrategy places them: windows of p + 2h every `stride` samples (0: p),
/// ceil((n - p) / stride) + 1 per dim, no halo where one tile spans the dim), `sample_bytes`
/// bytes per sample of the tiled dims (the untiled dims' samples times the scalar's size), the
/// windows shared by `ranks` ranks.
inline TilingCost tiling_cost(std::span<Index const> extents, Index patch, Index halo, std::size_t sample_bytes,
                              int ranks, Index stride = 0) {
  DISTINV_REQUIRE(patch > 0 && halo >= 0 && ranks > 0 && !extents.empty(),
                  "tiling_cost: expected patch > 0, halo >= 0, ranks > 0 and tiled dims, got patch ", patch, ", halo ",
                  halo, ", ranks ", ranks, ", ", extents.size(), " dims");
  TilingCost c;
  c.patch = patch;
  c.tiles = 1;
  c.window_samples = 1;
  double signal = 1;
  for (Index n : extents) {
    DISTINV_REQUIRE(n > 0, "tiling_cost: expected positive extents, got ", n);
    Index const p = std::min(patch, n);
    Index const h = p == n ? 0 : std::min(halo, n - 1), st = stride > 0 ? std::min(stride, p) : p;
    c.tiles *= (n - p + st - 1) / st + 1;
    c.window_samples *= double(p + 2 * h);
    signal *= double(n);
  }
  c.tiles_per_rank = (c.tiles + ranks - 1) / ranks;
  c.window_bytes = c.window_samples * double(sample_bytes);
  c.overhead = double(c.tiles) * c.window_samples / signal;
  c.critical_samples = double(c.tiles_per_rank) * c.window_samples;
  return c;
}

/// The patch size of the cheapest tiling: the least critical_samples (the busiest rank's
/// work, halo included) among the patches whose window fits `batch_bytes` (among all when
/// none fits: the smallest window), ties to the larger patch (fewer, larger windows). Every
/// patch up to the largest extent is tried (a few thousand evaluations of tiling_cost).
inline Index auto_patch_size(std::span<Index const> extents, Index halo, std::size_t sample_bytes,
                             std::size_t batch_bytes, int ranks) {
  DISTINV_REQUIRE(!extents.empty(), "auto_patch_size: expected tiled dims, got none");
  Index const largest = *std::max_element(extents.begin(), extents.end());
  Index best = 0;
  double best_cost = 0;
  bool best_fits = false;
  for (Index p = largest; p >= 1; --p) {
    auto const c = tiling_cost(extents, p, halo, sample_bytes, ranks);
    bool const fits = c.window_bytes <= double(batch_bytes);
    double const cost = fits ? c.critical_samples : c.window_bytes;
    if (best == 0 || (fits && !best_fits) || (fits == best_fits && cost < best_cost)) {
      best = p;
      best_cost = cost;
      best_fits = fits;
    }
  }
  return best;
}

/// The patch size auto_patch_size picks for a signal of `shape` tiled along `dims` with halo
/// `halo`, the windows counted in float samples, under the budget and rank count of `opt`
/// (TilingOptions' batch_bytes and ranks): what a strategy uses for patch_size auto_patch.
template <std::size_t Rank>
Index auto_patch_size(std::array<Index, Rank> const& shape, std::vector<int> const& dims, Index halo,
                      TilingOptions const& opt) {
  std::vector<Index> extents;
  std::size_t untiled = 1;
  for (int d = 0; d < int(Rank); ++d)
    if (std::find(dims.begin(), dims.end(), d) != dims.end())
      extents.push_back(shape[d]);
    else
      untiled *= std::size_t(shape[d]);
  return auto_patch_size(extents, halo, untiled * sizeof(float), opt.batch_bytes, opt.ranks);
}

}  // namespace distinv::tiling
