#pragma once
// tiling/process.hpp: tiled processing over any strategy's layout and any Signal (host
// tensors, device tensors), written once through the space traits. A batch is a run of
// consecutive patches of one window shape, at most a BatchLimit's worth: their windows are
// extracted straight into one batch tensor (concatenated along dim 0), the processor maps it,
// and the processed windows are ADDED into `out` (TileExtract / TileAdd of
// core/kernels/tiling.hpp). process_patches does a subset of the patches (the distributed
// layer calls it with a rank's own, then all-reduces `out`); process_tiled does all of them.
#include <numeric>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/tiling.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/layout.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/tile_tables.hpp"

namespace distinv::tiling {

/// A processor maps a batch to a signal of the same type and shape: `f(batch)`.
template <class F, class X>
concept PatchProcessor = Signal<X> && requires(F& f, X const& b) {
  { f(b) } -> std::convertible_to<X>;
};

namespace detail {

template <int Rank>
Index rows_of(Shape<Rank> const& s) {
  Index r = 1;
  for (int d = 0; d < Rank - 1; ++d) r *= s[d];
  return r;
}

template <int Rank>
void check_indices(TileLayout<Rank> const& layout, std::span<Index const> indices, char const* who) {
  for (Index i : indices)
    DISTINV_REQUIRE(i >= 0 && i < layout.num_patches(), who, ": patch index must be in [0, ", layout.num_patches(),
                    "), got ", i);
}

template <class X, class Space, int Rank>
void check_signal(TileTables<Space, Rank> const& tables, X const& x, char const* who, char const* what) {
  static_assert(std::is_same_v<space_of_t<X>, Space>, "tiling: the tables must live in the signal's space");
  static_assert(rank_v<X> == Rank, "tiling: the signal's rank must be the layout's");
  DISTINV_REQUIRE(shape_of(x) == tables.layout().signal_shape(), who, ": expected ", what, " of shape ",
                  to_string(tables.layout().signal_shape()), ", got ", to_string(shape_of(x)));
}

/// The windows of `patches` (all of one window shape), back to back in one batch;
/// `ids`: the same indices where the tables live.
template <Signal X, class Space, int Rank>
X extract_windows(TileTables<Space, Rank> const& tables, X const& x, std::span<Index const> patches, Index const* ids) {
  using T = scalar_t<X>;
  auto const& w = tables.layout().window_shape(patches[0]);
  Shape<Rank> bs = w;
  bs[0] = w[0] * Index(patches.size());
  X batch(bs);
  kernels::TileExtract<T, Rank> f{};
  f.src = x.data();
  f.windows = batch.data();
  f.maps = tables.maps();
  f.map_offset = tables.map_offsets();
  f.patches = ids;
  for (int d = 0; d < Rank; ++d) f.size[d] = w[d];
  kernels::row_major_strides<Rank>(tables.layout().signal_shape(), f.src_stride);
  f.rows = rows_of<Rank>(w);
  space_traits<Space>::launcher(tables.space()).grid(f.rows * Index(patches.size()), w[Rank - 1], f);
  return batch;
}

/// Adds the processed windows of `patches` (back to back in `batch`) into `out`, one launch
/// per patch, in order (blended boxes overlap).
template <Signal X, class Space, int Rank>
void add_windows(TileTables<Space, Rank> const& tables, X const& batch, std::span<Index const> patches, X& out) {
  using T = scalar_t<X>;
  auto const& layout = tables.layout();
  auto const launch = space_traits<Space>::launcher(tables.space());
  T const* src = batch.data();
  for (Index p : patches) {
    auto const& w = layout.window_shape(p);
    auto const& b = layout.box(p);
    kernels::TileAdd<T, Rank> f{};
    f.patch = src;
    f.out = out.data();
    kernels::row_major_strides<Rank>(w, f.patch_stride);
    kernels::row_major_strides<Rank>(layout.signal_shape(), f.out_stride);
    for (int d = 0; d < Rank; ++d) {
      Index const wo = layout.weight_offsets()[std::size_t(p * Rank + d)];
      f.weight[d] = wo < 0 ? nullptr : tables.weights() + wo;
      f.size[d] = b.size[d];
      f.src_start[d] = b.src_start[d];
      f.dst_start[d] = b.dst_start[d];
    }
    launch.grid(rows_of<Rank>(b.size), b.size[Rank - 1], f);
    src += numel(w);
  }
}

}  // namespace detail

/// Adds into `out` (signal shape) the contribution of the patches `indices` of `x`, the
/// patches extracted, processed by `processor(batch)` and added back a batch at a time (at
/// most `limit`'s worth). Throws Error if the processor changes a batch's shape.
template <Signal X, class Space, int Rank, class F>
  requires PatchProcessor<F, X>
void process_patches(TileTables<Space, Rank> const& tables, X const& x, std::span<Index const> indices, F&& processor,
                     BatchLimit limit, X& out) {
  constexpr char const* who = "process_patches";
  auto const& layout = tables.layout();
  detail::check_signal(tables, x, who, "a signal");
  detail::check_signal(tables, out, who, "an output");
  detail::check_indices(layout, indices, who);
  limit.check(who);
  detail::InSpace<Space, Index> const ids(indices, tables.space());
  std::size_t i = 0;
  while (i < indices.size()) {
    auto const& w = layout.window_shape(indices[i]);
    Index const per_batch = limit.patches_per_batch(std::size_t(numel(w)) * sizeof(scalar_t<X>));
    std::size_t j = i + 1;
    while (j < indices.size() && Index(j - i) < per_batch && layout.window_shape(indices[j]) == w) ++j;
    auto const patches = indices.subspan(i, j - i);
    X processed;
    {
      X const batch = detail::extract_windows(tables, x, patches, ids.data() + i);
      processed = processor(batch);
      DISTINV_REQUIRE(shape_of(processed) == shape_of(batch), who, ": the processor returned shape ",
                      to_string(shape_of(processed)), " for a batch of shape ", to_string(shape_of(batch)),
                      " (it must keep the shape)");
    }  // the batch is released before its contribution is added
    detail::add_windows(tables, processed, patches, out);
    i = j;
  }
}

/// As above, the strategy's tables put in the signal's space for this call.
template <SignalStrategy S, Signal X, class F>
  requires PatchProcessor<F, X>
void process_patches(S const& strategy, X const& x, std::span<Index const> indices, F&& processor, BatchLimit limit,
                     X& out) {
  TileTables<space_of_t<X>, S::rank> const tables(strategy.tile_layout());
  process_patches(tables, x, indices, std::forward<F>(processor), limit, out);
}

/// One process, every patch: returns the processed signal. `processor(batch, sigma)`.
template <SignalStrategy S, Signal X, class F>
std::remove_cvref_t<X> process_tiled(S const& strategy, X const& x, F&& processor, double sigma, BatchLimit limit = {}) {
  using Sig = std::remove_cvref_t<X>;
  std::vector<Index> idx(static_cast<std::size_t>(strategy.tile_layout().num_patches()));
  std::iota(idx.begin(), idx.end(), Index(0));
  auto out = zeros_of<Sig>(strategy.signal_shape());
  auto unary = [&](Sig const& b) -> Sig { return processor(b, sigma); };
  process_patches(strategy, x, std::span<Index const>(idx), unary, limit, out);
  return out;
}

/// The windows of the patches `indices` of `x` (all of one window shape), concatenated
/// along dim 0 in that order: what a processor is handed.
template <SignalStrategy S, Signal X>
std::remove_cvref_t<X> extract_batch(S const& strategy, X const& x, std::span<Index const> indices) {
  constexpr char const* who = "extract_batch";
  TileTables<space_of_t<X>, S::rank> const tables(strategy.tile_layout());
  detail::check_signal(tables, x, who, "a signal");
  detail::check_indices(tables.layout(), indices, who);
  DISTINV_REQUIRE(!indices.empty(), who, ": expected at least one patch");
  for (Index i : indices)
    DISTINV_REQUIRE(tables.layout().window_shape(i) == tables.layout().window_shape(indices[0]), who,
                    ": the patches of a batch must share one window shape; patch ", i, " has ",
                    to_string(tables.layout().window_shape(i)), ", patch ", indices[0], " ",
                    to_string(tables.layout().window_shape(indices[0])));
  detail::InSpace<space_of_t<X>, Index> const ids(indices, tables.space());
  return detail::extract_windows(tables, x, indices, ids.data());
}

/// Adds the processed windows of `indices` (concatenated along dim 0, as extract_batch gives
/// them) into `out`.
template <SignalStrategy S, Signal X>
void add_batch(S const& strategy, X const& batch, std::span<Index const> indices, X& out) {
  constexpr char const* who = "add_batch";
  TileTables<space_of_t<X>, S::rank> const tables(strategy.tile_layout());
  detail::check_signal(tables, out, who, "an output");
  detail::check_indices(tables.layout(), indices, who);
  Index rows = 0;
  bool same = true;
  for (Index i : indices) {
    auto const& w = tables.layout().window_shape(i);
    rows += w[0];
    for (int d = 1; d < S::rank; ++d) same = same && w[d] == shape_of(batch)[d];
  }
  DISTINV_REQUIRE(same && rows == shape_of(batch)[0], who, ": expected the windows of the ", indices.size(),
                  " patches back to back, got a batch of shape ", to_string(shape_of(batch)));
  detail::add_windows(tables, batch, indices, out);
}

}  // namespace distinv::tiling
