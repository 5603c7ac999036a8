#pragma once
// tiling/tile_tables.hpp: a strategy's layout flattened into the tables that the window
// functors of core/kernels/tiling.hpp read — per-dim source index maps, blend weights and
// reduce boxes of every patch — for OverlapTilingStrategy and BasicStrategy. A device
// strategy (cuda/tiling.cuh) uploads `maps` and `weights` once and launches the functors
// that extract_op / add_op describe; the host tests run the very same functors.
#include <array>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/tiling.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/basic.hpp"
#include "distinv/tiling/overlap_tiling.hpp"

namespace distinv::tiling {

template <class T, int Rank>
struct TileTables {
  Shape<Rank> signal_shape{};
  std::vector<Shape<Rank>> window_shape;                ///< per patch
  std::vector<ReduceBox<Rank>> box;                     ///< per patch: what reduce adds
  std::vector<std::array<Index, Rank>> map_offset;      ///< per patch and dim: start in `maps`
  std::vector<std::array<Index, Rank>> weight_offset;   ///< per patch and dim: start in `weights`, -1 = none
  std::vector<Index> maps;                              ///< all distinct source maps, back to back
  std::vector<T> weights;                               ///< all distinct weight vectors, back to back

  Index num_patches() const { return Index(window_shape.size()); }

  /// The extraction of patch i: `src` a signal, `window` its window (window_shape[i]),
  /// `maps_base` where `maps` lives (host or device copy).
  kernels::TileExtract<T, Rank> extract_op(Index i, T const* src, T* window, Index const* maps_base) const {
    kernels::TileExtract<T, Rank> f{};
    f.src = src;
    f.window = window;
    kernels::row_major_strides<Rank>(signal_shape, f.src_stride);
    for (int d = 0; d < Rank; ++d) {
      f.map[d] = maps_base + map_offset[std::size_t(i)][std::size_t(d)];
      f.size[d] = window_shape[std::size_t(i)][std::size_t(d)];
    }
    return f;
  }
  /// The reduce of processed patch i (window_shape[i]) into `out` (signal shape);
  /// `weights_base` where `weights` lives (host or device copy).
  kernels::TileAdd<T, Rank> add_op(Index i, T const* patch, T* out, T const* weights_base) const {
    kernels::TileAdd<T, Rank> f{};
    f.patch = patch;
    f.out = out;
    auto const& b = box[std::size_t(i)];
    kernels::row_major_strides<Rank>(window_shape[std::size_t(i)], f.patch_stride);
    kernels::row_major_strides<Rank>(signal_shape, f.out_stride);
    for (int d = 0; d < Rank; ++d) {
      Index const w = weight_offset[std::size_t(i)][std::size_t(d)];
      f.weight[d] = w < 0 ? nullptr : weights_base + w;
      f.size[d] = b.size[d];
      f.src_start[d] = b.src_start[d];
      f.dst_start[d] = b.dst_start[d];
    }
    return f;
  }
  /// Elements of the window / of the reduce box of patch i.
  Index window_size(Index i) const { return numel(window_shape[std::size_t(i)]); }
  Index box_size(Index i) const { return numel(box[std::size_t(i)].size); }
};

namespace detail {

/// Appends the patch (window shape, box, per-dim maps and weights), sharing equal maps and
/// weight vectors (keys: their content / their address in the strategy).
template <class T, int Rank>
class TileTableBuilder {
 public:
  explicit TileTableBuilder(Shape<Rank> const& shape) { t_.signal_shape = shape; }
  void add(Shape<Rank> const& window, ReduceBox<Rank> const& box, std::array<std::vector<Index>, Rank> const& maps,
           std::array<std::span<T const>, Rank> const& weights) {
    std::array<Index, Rank> mo{}, wo{};
    for (int d = 0; d < Rank; ++d) {
      auto [it, fresh] = map_at_.try_emplace({d, maps[d]}, Index(t_.maps.size()));
      if (fresh) t_.maps.insert(t_.maps.end(), maps[d].begin(), maps[d].end());
      mo[d] = it->second;
      wo[d] = -1;
      if (!weights[d].empty()) {
        auto [wt, wfresh] = weight_at_.try_emplace(weights[d].data(), Index(t_.weights.size()));
        if (wfresh) t_.weights.insert(t_.weights.end(), weights[d].begin(), weights[d].end());
        wo[d] = wt->second;
      }
    }
    t_.window_shape.push_back(window);
    t_.box.push_back(box);
    t_.map_offset.push_back(mo);
    t_.weight_offset.push_back(wo);
  }
  TileTables<T, Rank> take() { return std::move(t_); }

 private:
  TileTables<T, Rank> t_;
  std::map<std::pair<int, std::vector<Index>>, Index> map_at_;
  std::map<T const*, Index> weight_at_;
};

}  // namespace detail

/// The tables of an OverlapTilingStrategy (windows padded by its pad mode, blended or not).
template <class T, int Rank>
TileTables<T, Rank> make_tile_tables(OverlapTilingStrategy<T, Rank> const& s) {
  detail::TileTableBuilder<T, Rank> b(s.signal_shape());
  for (Index i = 0; i < s.num_patches(); ++i) {
    std::array<std::vector<Index>, Rank> maps;
    std::array<std::span<T const>, Rank> weights;
    for (int d = 0; d < Rank; ++d) {
      maps[d] = s.source_map(i, d);
      weights[d] = s.blend_weights(i, d);
    }
    b.add(s.window_shape(), s.reduce_box(i), maps, weights);
  }
  return b.take();
}

/// The tables of a BasicStrategy: window = box, read and pasted back unweighted.
template <class T, int Rank>
TileTables<T, Rank> make_tile_tables(BasicStrategy<T, Rank> const& s) {
  detail::TileTableBuilder<T, Rank> b(s.signal_shape());
  for (auto const& box : s.boxes()) {
    std::array<std::vector<Index>, Rank> maps;
    for (int d = 0; d < Rank; ++d)
      for (Index q = 0; q < box.size[d]; ++q) maps[d].push_back(box.start[d] + q);
    b.add(box.size, ReduceBox<Rank>{Shape<Rank>{}, box.start, box.size}, maps, {});
  }
  return b.take();
}

}  // namespace distinv::tiling
