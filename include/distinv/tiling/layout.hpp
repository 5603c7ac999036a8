#pragma once
// tiling/layout.hpp: TileLayout<Rank>, what a strategy computes — for each patch of a signal
// of one shape: its window shape, per dim the signal index each window sample reads (-1 =
// zero), the box of the processed window that is added back into the signal, and per dim the
// blend weights of that box (or none). Maps and weights are stored once per distinct content
// and dim, back to back, so that they travel to a device in two copies. Extraction, batching
// and reduction over any layout are written once, in tiling/process.hpp. core/ only.
#include <array>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::tiling {

/// The box of a processed window that is added into the signal: the owned interior
/// (crop-and-paste) or the whole core, weighted (blended).
template <int Rank>
struct ReduceBox {
  Shape<Rank> src_start{};  ///< box start inside the window
  Shape<Rank> dst_start{};  ///< box start in the signal
  /// Box size.
  Shape<Rank> size{};
};

/// What a strategy computes for one signal shape: per patch, its window shape, per dim the signal index each
/// window sample reads (-1: a zero), the box of the processed window added back into the signal, and per dim
/// the box's blend weights (or none: weight 1). Built patch by patch with add(); maps and weights are stored
/// once per distinct content.
template <int Rank>
class TileLayout {
 public:
  TileLayout() = default;
  /// An empty layout for signals of `signal_shape`; throws Error for a non-positive extent.
  explicit TileLayout(Shape<Rank> const& signal_shape) : shape_(signal_shape) {
    for (int d = 0; d < Rank; ++d)
      DISTINV_REQUIRE(signal_shape[d] > 0, "TileLayout: signal shape must be positive, got ", to_string(signal_shape));
  }

  /// Appends patch num_patches(): its window shape, the box of it added back, per dim the
  /// signal index read by each window sample (`window[d]` values in [-1, signal size)), and per
  /// dim the weights of the box (`box.size[d]` values, or empty for weight 1). Throws Error
  /// if the parts do not fit together.
  void add(Shape<Rank> const& window, ReduceBox<Rank> const& box, std::array<std::vector<Index>, Rank> const& maps,
           std::array<std::span<double const>, Rank> const& weights = {}) {
    constexpr char const* who = "TileLayout::add";
    Index const p = num_patches();
    for (int d = 0; d < Rank; ++d) {
      DISTINV_REQUIRE(window[d] > 0, who, ": patch ", p, ": window shape must be positive, got ", to_string(window));
      DISTINV_REQUIRE(Index(maps[d].size()) == window[d], who, ": patch ", p, ": the source map of dim ", d,
                      " must have ", window[d], " entries (the window size), got ", maps[d].size());
      DISTINV_REQUIRE(box.size[d] >= 0 && box.src_start[d] >= 0 && box.src_start[d] + box.size[d] <= window[d] &&
                          box.dst_start[d] >= 0 && box.dst_start[d] + box.size[d] <= shape_[d],
                      who, ": patch ", p, ": the reduce box (window start ", to_string(box.src_start), ", signal start ",
                      to_string(box.dst_start), ", size ", to_string(box.size), ") must lie in the window ",
                      to_string(window), " and the signal ", to_string(shape_));
      DISTINV_REQUIRE(weights[d].empty() || Index(weights[d].size()) == box.size[d], who, ": patch ", p,
                      ": the weights of dim ", d, " must have ", box.size[d], " entries (the box size) or none, got ",
                      weights[d].size());
    }
    for (int d = 0; d < Rank; ++d) {
      auto [it, fresh] = map_at_.try_emplace({d, maps[d]}, Index(maps_.size()));
      if (fresh) {
        for (Index m : maps[d])
          DISTINV_REQUIRE(m >= -1 && m < shape_[d], who, ": patch ", p, ": source index ", m, " of dim ", d,
                          " must be in [-1, ", shape_[d], ")");
        maps_.insert(maps_.end(), maps[d].begin(), maps[d].end());
      }
      map_offset_.push_back(it->second);
      Index w = -1;
      if (!weights[d].empty()) {
        auto [wt, wfresh] =
            weight_at_.try_emplace({d, std::vector<double>(weights[d].begin(), weights[d].end())}, Index(weights_.size()));
        if (wfresh) weights_.insert(weights_.end(), weights[d].begin(), weights[d].end());
        w = wt->second;
      }
      weight_offset_.push_back(w);
    }
    window_.push_back(window);
    box_.push_back(box);
  }

  /// The shape of the signal it covers.
  Shape<Rank> const& signal_shape() const noexcept { return shape_; }
  /// Number of patches added.
  Index num_patches() const noexcept { return Index(window_.size()); }
  /// Window shape of patch i; throws Error for an index out of range.
  Shape<Rank> const& window_shape(Index i) const { return window_[std::size_t(check(i))]; }
  /// The box of patch i added back; throws Error for an index out of range.
  ReduceBox<Rank> const& box(Index i) const { return box_[std::size_t(check(i))]; }
  /// The signal index read by each sample of patch i's window along dim d (-1 = zero).
  std::span<Index const> source_map(Index i, int d) const {
    Index const o = map_offset_[std::size_t(check(i) * Rank + check_dim(d))];
    return {maps_.data() + o, std::size_t(window_[std::size_t(i)][d])};
  }
  /// The weights of patch i's box along dim d, or empty (weight 1).
  std::span<double const> weights(Index i, int d) const {
    Index const o = weight_offset_[std::size_t(check(i) * Rank + check_dim(d))];
    if (o < 0) return {};
    return {weights_.data() + o, std::size_t(box_[std::size_t(i)].size[d])};
  }

  /// The flat tables: every distinct map, back to back; the start of patch i's map of dim d
  /// at [i * Rank + d]; every distinct weight vector; the start of patch i's weights of dim d
  /// at [i * Rank + d] (-1 = none).
  std::vector<Index> const& maps() const noexcept { return maps_; }
  /// Start of patch i's map of dim d in maps(), at [i * Rank + d].
  std::vector<Index> const& map_offsets() const noexcept { return map_offset_; }
  /// Every distinct weight vector, back to back.
  std::vector<double> const& weights() const noexcept { return weights_; }
  /// Start of patch i's weights of dim d in weights(), at [i * Rank + d] (-1: none).
  std::vector<Index> const& weight_offsets() const noexcept { return weight_offset_; }

 private:
  Index check(Index i) const {
    DISTINV_REQUIRE(i >= 0 && i < num_patches(), "TileLayout: patch index must be in [0, ", num_patches(), "), got ", i);
    return i;
  }
  static int check_dim(int d) {
    DISTINV_REQUIRE(d >= 0 && d < Rank, "TileLayout: dim must be in [0, ", Rank, "), got ", d);
    return d;
  }

  Shape<Rank> shape_{};
  std::vector<Shape<Rank>> window_;
  std::vector<ReduceBox<Rank>> box_;
  std::vector<Index> maps_, map_offset_, weight_offset_;
  std::vector<double> weights_;
  std::map<std::pair<int, std::vector<Index>>, Index> map_at_;
  std::map<std::pair<int, std::vector<double>>, Index> weight_at_;
};

}  // namespace distinv::tiling
