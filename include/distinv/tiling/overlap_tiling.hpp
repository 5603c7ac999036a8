#pragma once
// tiling/overlap_tiling.hpp: OverlapTilingStrategy<Rank> (runtime names "overlap_tiling" and
// "smart_tiling"): uniform windows of patch + 2*halo over any subset of dims, placed at
// multiples of the stride in the once-padded signal, the last one moved back to end at the
// border; interiors pasted without overlap (Blend::none) or blended with normalised weights.
// A dim that one tile spans whole gets no halo; a halo the image cannot hold is clamped to
// the size - 1. patch_size {auto_patch}: the cost model's (tiling/patch_size.hpp). Computes a
// TileLayout; models SignalStrategy. core/ only.
#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/warn_once.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/layout.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/patch_size.hpp"

namespace distinv::tiling {

/// Where one patch lives. For untiled dims: window = interior = the whole extent.
template <int Rank>
struct PatchLayout {
  Shape<Rank> window_start{};    ///< window start in padded coordinates (= start of the patch core in signal coordinates)
  Shape<Rank> window_size{};     ///< patch + 2 * halo on tiled dims
  Shape<Rank> interior_start{};  ///< start, in the signal, of the samples this patch owns (Blend::none)
  /// Size of the samples this patch owns.
  Shape<Rank> interior_size{};
  Shape<Rank> crop_start{};      ///< where the owned samples start inside the window
};

namespace detail {

/// Window starts in padded coordinates (the Python reference's rule): 0, s, 2s, ... while the
/// window does not reach the end, the last one moved back to end exactly at the border.
inline std::vector<Index> window_starts(Index n, Index p, Index r, Index s) {
  Index const tile = p + 2 * r, n_pad = n + 2 * r;
  std::vector<Index> st{0};
  while (st.back() + tile < n_pad) st.push_back(st.back() + s);
  st.back() = n_pad - tile;
  return st;
}

/// Normalised blend weights of the cores [st_j, st_j + p) of the windows of one dim:
/// w[j][k] = prof(k) / sum_i prof(x - st_i) at x = st_j + k (in double; converted to the
/// signal's scalar where they are used).
inline std::vector<std::vector<double>> blend_weights(std::vector<Index> const& starts, Index n, Index p, Blend blend) {
  std::vector<double> prof(static_cast<std::size_t>(p));
  // Tent: k + 1/2 rising to the centre (two tents offset by p/2 sum to a constant, so the
  // blend is a uniform ramp); Gaussian: std p/5 (small enough that the weight left at the
  // core edge is ~4% of the peak, wide enough that the transition is gradual).
  double const c = 0.5 * double(p - 1), sg = std::max(0.5, double(p) / 5.0);
  for (Index k = 0; k < p; ++k)
    prof[std::size_t(k)] = blend == Blend::linear ? double(std::min(k, p - 1 - k)) + 0.5
                                                  : std::exp(-0.5 * (double(k) - c) * (double(k) - c) / (sg * sg));
  std::vector<double> sum(static_cast<std::size_t>(n), 0.0);
  for (Index st : starts)
    for (Index k = 0; k < p; ++k) sum[std::size_t(st + k)] += prof[std::size_t(k)];
  std::vector<std::vector<double>> w;
  for (Index st : starts) {
    std::vector<double> wj(static_cast<std::size_t>(p));
    for (Index k = 0; k < p; ++k) wj[std::size_t(k)] = prof[std::size_t(k)] / sum[std::size_t(st + k)];
    w.push_back(std::move(wj));
  }
  return w;
}

}  // namespace detail

/// deepinv's tiling strategy (runtime names "overlap_tiling" and "smart_tiling"): uniform windows of patch +
/// 2·halo at multiples of the stride, the last one moved back to end at the border; interiors pasted
/// (Blend::none) or blended with normalised weights. Models SignalStrategy; throws Error for options it cannot
/// use.
template <int Rank = 4>
class OverlapTilingStrategy {
 public:
  /// Tensor rank (4: (B, C, H, W), 5: (B, C, D, H, W)).
  static constexpr int rank = Rank;

  /// The windows for a signal of `shape` with options `opt`; throws Error for bad options.
  OverlapTilingStrategy(Shape<Rank> const& shape, TilingOptions const& opt) : shape_(shape), opt_(opt) {
    static_assert(Rank == 4 || Rank == 5, "OverlapTilingStrategy: rank must be 4 (B,C,H,W) or 5 (B,C,D,H,W)");
    constexpr char const* who = "OverlapTilingStrategy";
    for (int d = 0; d < Rank; ++d)
      DISTINV_REQUIRE(shape[d] > 0, who, ": signal shape must be positive, got ", to_string(shape));
    detail::tiling_padding(opt.pad_mode, who);
    dims_ = detail::resolve_tiled_dims<Rank>(opt.tiled_dims, who);
    std::size_t const m = dims_.size();
    DISTINV_REQUIRE(m > 0, who, ": no dim to tile");
    patch_ = detail::per_dim(opt.patch_size, m, who, "patch_size");
    halo_ = detail::per_dim(opt.receptive_field_size, m, who, "receptive_field_size");
    if (opt.patch_size == std::vector<Index>{auto_patch})
      std::fill(patch_.begin(), patch_.end(),
                auto_patch_size(shape, dims_, *std::max_element(halo_.begin(), halo_.end()), opt));
    stride_ = opt.stride.empty() ? patch_ : detail::per_dim(opt.stride, m, who, "stride");
    if (opt.stride == std::vector<Index>{half_patch})
      for (std::size_t i = 0; i < m; ++i) stride_[i] = std::max<Index>(1, patch_[i] / 2);
    std::string changed;
    auto note = [&](auto const&... parts) { changed += distinv::detail::cat(changed.empty() ? "" : ", ", parts...); };
    for (std::size_t i = 0; i < m; ++i) {
      Index const n = shape[dims_[i]];
      DISTINV_REQUIRE(patch_[i] > 0, who, ": patch_size must be > 0, got ", patch_[i], " for dim ", dims_[i]);
      DISTINV_REQUIRE(halo_[i] >= 0, who, ": receptive_field_size must be >= 0, got ", halo_[i], " for dim ", dims_[i]);
      DISTINV_REQUIRE(stride_[i] > 0 && stride_[i] <= patch_[i], who, ": stride must be in [1, patch_size = ",
                      patch_[i], "] for dim ", dims_[i], ", got ", stride_[i]);
      if (patch_[i] > n) {
        note("patch_size of dim ", dims_[i], " ", patch_[i], " -> ", n);
        patch_[i] = n;
        stride_[i] = std::min(stride_[i], n);
      }
      if (patch_[i] == n) {
        halo_[i] = 0;  // one tile spans the dim: nothing outside it to see
      } else if (halo_[i] >= n) {
        note("receptive_field_size of dim ", dims_[i], " ", halo_[i], " -> ", n - 1);
        halo_[i] = n - 1;  // the most a padded window can read of a dim of n samples
      }
    }
    if (!changed.empty())
      warn_once(distinv::detail::cat("OverlapTilingStrategy: tiles larger than the signal ", to_string(shape),
                                     ", reduced (", changed, ")"));
    std::vector<std::vector<std::vector<double>>> weights;
    for (std::size_t i = 0; i < m; ++i) {
      starts_.push_back(detail::window_starts(shape[dims_[i]], patch_[i], halo_[i], stride_[i]));
      if (opt.blend != Blend::none)
        weights.push_back(detail::blend_weights(starts_[i], shape[dims_[i]], patch_[i], opt.blend));
    }
    build_layout(weights);
  }

  /// "overlap_tiling".
  static constexpr std::string_view name() { return "overlap_tiling"; }
  /// The shape it was built for.
  Shape<Rank> signal_shape() const { return shape_; }
  /// Number of windows.
  Index num_patches() const { return Index(layout_.size()); }
  /// Its layout.
  TileLayout<Rank> const& tile_layout() const noexcept { return tiles_; }
  /// Every patch's geometry, in patch order.
  std::vector<PatchLayout<Rank>> const& layout() const { return layout_; }
  /// Patch i's geometry; throws Error for an index out of range.
  PatchLayout<Rank> const& layout(Index i) const { return layout_[std::size_t(check_index(i))]; }
  /// The dims it tiles.
  std::vector<int> const& tiled_dims() const { return dims_; }
  std::vector<Index> const& patch_size() const { return patch_; }            ///< after shrinking
  std::vector<Index> const& receptive_field_size() const { return halo_; }   ///< after dropping / clamping
  /// The window step per tiled dim.
  std::vector<Index> const& stride() const { return stride_; }
  /// Number of windows along each tiled dim.
  std::vector<Index> grid_shape() const {
    std::vector<Index> g;
    for (auto const& s : starts_) g.push_back(Index(s.size()));
    return g;
  }
  /// Shape of every window (all patches have it).
  Shape<Rank> window_shape() const { return layout_.front().window_size; }
  /// The options it was built with.
  TilingOptions const& options() const { return opt_; }

  /// Grid position of patch i along each tiled dim (row-major, first tiled dim slowest).
  std::vector<Index> grid_position(Index i) const { return grid_pos(check_index(i)); }
  /// Signal index read by each of the `window_shape()[d]` samples of patch i's window along
  /// tensor dim d (-1 = zero padding): window[.., q_d, ..] = x[.., map_d[q_d], ..].
  std::vector<Index> source_map(Index i, int d) const {
    check_index(i);
    DISTINV_REQUIRE(d >= 0 && d < Rank, "OverlapTilingStrategy::source_map: dim must be in [0, ", Rank, "), got ", d);
    auto const m = tiles_.source_map(i, d);
    return {m.begin(), m.end()};
  }
  /// The box of patch i that is added back into the signal.
  ReduceBox<Rank> reduce_box(Index i) const { return tiles_.box(check_index(i)); }
  /// The blend weights of patch i along tensor dim d (`reduce_box(i).size[d]` values), or an
  /// empty span where none apply (Blend::none, or d untiled: weight 1).
  std::span<double const> blend_weights(Index i, int d) const {
    check_index(i);
    DISTINV_REQUIRE(d >= 0 && d < Rank, "OverlapTilingStrategy::blend_weights: dim must be in [0, ", Rank, "), got ",
                    d);
    return tiles_.weights(i, d);
  }

 private:
  Index check_index(Index i) const {
    DISTINV_REQUIRE(i >= 0 && i < num_patches(), "OverlapTilingStrategy: patch index must be in [0, ",
                    num_patches(), "), got ", i);
    return i;
  }

  /// Grid position of patch i along each tiled dim (row-major, first tiled dim slowest).
  std::vector<Index> grid_pos(Index i) const {
    std::vector<Index> g(dims_.size());
    for (std::size_t k = dims_.size(); k-- > 0;) {
      Index const n = Index(starts_[k].size());
      g[k] = i % n;
      i /= n;
    }
    return g;
  }

  void build_layout(std::vector<std::vector<std::vector<double>>> const& weights) {
    Index total = 1;
    for (auto const& s : starts_) total *= Index(s.size());
    layout_.resize(std::size_t(total));
    tiles_ = TileLayout<Rank>(shape_);
    for (Index i = 0; i < total; ++i) {
      auto g = grid_pos(i);
      PatchLayout<Rank> L;
      std::array<Index, Rank> halo{};
      for (int d = 0; d < Rank; ++d) L.window_size[d] = L.interior_size[d] = shape_[d];
      for (std::size_t k = 0; k < dims_.size(); ++k) {
        int const d = dims_[k];
        auto const& st = starts_[k];
        Index const j = g[k], p = patch_[k], r = halo_[k];
        Index const trim = j == 0 ? 0 : std::max<Index>(0, st[std::size_t(j - 1)] + p - st[std::size_t(j)]);
        L.window_start[d] = st[std::size_t(j)];
        L.window_size[d] = p + 2 * r;
        L.interior_start[d] = st[std::size_t(j)] + trim;
        L.interior_size[d] = p - trim;
        L.crop_start[d] = r + trim;
        halo[std::size_t(d)] = r;
      }
      layout_[std::size_t(i)] = L;

      // The layout: maps through the pad mode, the owned interior or the weighted core.
      std::array<std::vector<Index>, Rank> maps;
      for (int d = 0; d < Rank; ++d) {
        maps[d].resize(std::size_t(L.window_size[d]));
        for (Index q = 0; q < L.window_size[d]; ++q)
          maps[d][std::size_t(q)] = kernels::pad_index(opt_.pad_mode, L.window_start[d] + q - halo[std::size_t(d)], shape_[d]);
      }
      ReduceBox<Rank> box{L.crop_start, L.interior_start, L.interior_size};
      std::array<std::span<double const>, Rank> w{};
      if (opt_.blend != Blend::none) {
        box = {Shape<Rank>{}, Shape<Rank>{}, L.window_size};
        for (std::size_t k = 0; k < dims_.size(); ++k) {
          int const d = dims_[k];
          box.size[d] = patch_[k];
          box.src_start[d] = halo_[k];
          box.dst_start[d] = L.window_start[d];
          w[std::size_t(d)] = weights[k][std::size_t(g[k])];
        }
      }
      tiles_.add(L.window_size, box, maps, w);
    }
  }

  Shape<Rank> shape_;
  TilingOptions opt_;
  std::vector<int> dims_;
  std::vector<Index> patch_, halo_, stride_;
  std::vector<std::vector<Index>> starts_;
  std::vector<PatchLayout<Rank>> layout_;
  TileLayout<Rank> tiles_;
};

static_assert(SignalStrategy<OverlapTilingStrategy<4>>);
static_assert(SignalStrategy<OverlapTilingStrategy<5>>);
static_assert(StrategyFromOptions<OverlapTilingStrategy<4>>);

}  // namespace distinv::tiling
