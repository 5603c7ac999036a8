#pragma once
// tiling/overlap_tiling.hpp: OverlapTilingStrategy (runtime names "overlap_tiling" and
// "smart_tiling"): uniform windows of patch + 2*halo over any subset of dims, placed at
// multiples of the stride in the once-padded signal, the last one moved back to end at the
// border; interiors pasted without overlap (Blend::none) or blended with normalised weights.
// Models SignalStrategy. core/ and oneTBB only.
#include <cmath>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/warn_once.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/batching.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv::tiling {

/// Where one patch lives. For untiled dims: window = interior = the whole extent.
template <int Rank>
struct PatchLayout {
  Shape<Rank> window_start{};    ///< window start in padded coordinates (= start of the patch core in signal coordinates)
  Shape<Rank> window_size{};     ///< patch + 2 * halo on tiled dims
  Shape<Rank> interior_start{};  ///< start, in the signal, of the samples this patch owns (Blend::none)
  Shape<Rank> interior_size{};
  Shape<Rank> crop_start{};      ///< where the owned samples start inside the window
};

/// The box of a processed window that `reduce` adds into the signal: the owned interior
/// (Blend::none) or the whole core, weighted (blended).
template <int Rank>
struct ReduceBox {
  Shape<Rank> src_start{};  ///< box start inside the window
  Shape<Rank> dst_start{};  ///< box start in the signal
  Shape<Rank> size{};
};

namespace detail {

/// Signal index read by padded coordinate q of a dim of size n with halo r; -1 = zero.
inline Index pad_source(Index q, Index r, Index n, PadMode mode) {
  Index i = q - r;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::reflect: return i < 0 ? -i : 2 * (n - 1) - i;
    case PadMode::replicate: return i < 0 ? 0 : n - 1;
    case PadMode::circular: return ((i % n) + n) % n;
    case PadMode::zeros: return -1;
  }
  return -1;
}

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
/// w[j][k] = prof(k) / sum_i prof(x - st_i) at x = st_j + k.
template <class T>
std::vector<std::vector<T>> blend_weights(std::vector<Index> const& starts, Index n, Index p, Blend blend) {
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
  std::vector<std::vector<T>> w;
  for (Index st : starts) {
    std::vector<T> wj(static_cast<std::size_t>(p));
    for (Index k = 0; k < p; ++k) wj[std::size_t(k)] = T(prof[std::size_t(k)] / sum[std::size_t(st + k)]);
    w.push_back(std::move(wj));
  }
  return w;
}

}  // namespace detail

template <class T, int Rank>
class OverlapTilingStrategy {
 public:
  using scalar_type = T;
  static constexpr int rank = Rank;
  using tensor_type = Tensor<T, Rank>;

  OverlapTilingStrategy(Shape<Rank> const& shape, TilingOptions const& opt) : shape_(shape), opt_(opt) {
    static_assert(Rank == 4 || Rank == 5, "OverlapTilingStrategy: rank must be 4 (B,C,H,W) or 5 (B,C,D,H,W)");
    constexpr char const* who = "OverlapTilingStrategy";
    for (int d = 0; d < Rank; ++d)
      DISTINV_REQUIRE(shape[d] > 0, who, ": signal shape must be positive, got ", to_string(shape));
    dims_ = detail::resolve_tiled_dims<Rank>(opt.tiled_dims, who);
    std::size_t const m = dims_.size();
    DISTINV_REQUIRE(m > 0, who, ": no dim to tile");
    patch_ = detail::per_dim(opt.patch_size, m, who, "patch_size");
    halo_ = detail::per_dim(opt.receptive_field_size, m, who, "receptive_field_size");
    stride_ = opt.stride.empty() ? patch_ : detail::per_dim(opt.stride, m, who, "stride");
    std::string shrunk;
    for (std::size_t i = 0; i < m; ++i) {
      Index const n = shape[dims_[i]];
      DISTINV_REQUIRE(patch_[i] > 0, who, ": patch_size must be > 0, got ", patch_[i], " for dim ", dims_[i]);
      DISTINV_REQUIRE(halo_[i] >= 0 && halo_[i] < n, who, ": receptive_field_size must be in [0, ", n,
                      ") for dim ", dims_[i], " of size ", n, ", got ", halo_[i]);
      DISTINV_REQUIRE(stride_[i] > 0 && stride_[i] <= patch_[i], who, ": stride must be in [1, patch_size = ",
                      patch_[i], "] for dim ", dims_[i], ", got ", stride_[i]);
      if (patch_[i] > n) {
        shrunk += distinv::detail::cat(shrunk.empty() ? "" : ", ", "dim ", dims_[i], ": ", patch_[i], " -> ", n);
        patch_[i] = n;
        stride_[i] = std::min(stride_[i], n);
      }
    }
    if (!shrunk.empty())
      warn_once(distinv::detail::cat("OverlapTilingStrategy: patch_size larger than the signal ", to_string(shape),
                                     ", shrunk (", shrunk, ")"));
    for (std::size_t i = 0; i < m; ++i) {
      starts_.push_back(detail::window_starts(shape[dims_[i]], patch_[i], halo_[i], stride_[i]));
      if (opt.blend != Blend::none)
        weights_.push_back(detail::blend_weights<T>(starts_[i], shape[dims_[i]], patch_[i], opt.blend));
    }
    build_layout();
  }

  static constexpr std::string_view name() { return "overlap_tiling"; }
  Shape<Rank> signal_shape() const { return shape_; }
  Index num_patches() const { return Index(layout_.size()); }
  std::vector<PatchLayout<Rank>> const& layout() const { return layout_; }
  PatchLayout<Rank> const& layout(Index i) const { return layout_[std::size_t(check_index(i))]; }
  std::vector<int> const& tiled_dims() const { return dims_; }
  std::vector<Index> const& patch_size() const { return patch_; }            ///< after shrinking
  std::vector<Index> const& receptive_field_size() const { return halo_; }
  std::vector<Index> const& stride() const { return stride_; }
  /// Number of windows along each tiled dim.
  std::vector<Index> grid_shape() const {
    std::vector<Index> g;
    for (auto const& s : starts_) g.push_back(Index(s.size()));
    return g;
  }
  /// Shape of every window (all patches have it).
  Shape<Rank> window_shape() const { return layout_.front().window_size; }
  TilingOptions const& options() const { return opt_; }

  /// Grid position of patch i along each tiled dim (row-major, first tiled dim slowest).
  std::vector<Index> grid_position(Index i) const { return grid_pos(check_index(i)); }
  /// Signal index read by each of the `window_shape()[d]` samples of patch i's window along
  /// tensor dim d (-1 = zero padding): window[.., q_d, ..] = x[.., map_d[q_d], ..].
  std::vector<Index> source_map(Index i, int d) const {
    auto const& L = layout_[std::size_t(check_index(i))];
    DISTINV_REQUIRE(d >= 0 && d < Rank, "OverlapTilingStrategy::source_map: dim must be in [0, ", Rank, "), got ", d);
    Index r = 0;
    for (std::size_t k = 0; k < dims_.size(); ++k)
      if (dims_[k] == d) r = halo_[k];
    std::vector<Index> map(std::size_t(L.window_size[d]));
    for (Index q = 0; q < L.window_size[d]; ++q)
      map[std::size_t(q)] = detail::pad_source(L.window_start[d] + q, r, shape_[d], opt_.pad_mode);
    return map;
  }
  /// The box of patch i that `reduce` adds into the signal.
  ReduceBox<Rank> reduce_box(Index i) const {
    auto const& L = layout_[std::size_t(check_index(i))];
    if (opt_.blend == Blend::none) return {L.crop_start, L.interior_start, L.interior_size};
    ReduceBox<Rank> b{Shape<Rank>{}, Shape<Rank>{}, L.window_size};
    for (std::size_t k = 0; k < dims_.size(); ++k) {
      int const d = dims_[k];
      b.size[d] = patch_[k];
      b.src_start[d] = halo_[k];
      b.dst_start[d] = L.window_start[d];
    }
    return b;
  }
  /// The blend weights of patch i along tensor dim d (`reduce_box(i).size[d]` values), or an
  /// empty span where none apply (Blend::none, or d untiled: weight 1).
  std::span<T const> blend_weights(Index i, int d) const {
    check_index(i);
    DISTINV_REQUIRE(d >= 0 && d < Rank, "OverlapTilingStrategy::blend_weights: dim must be in [0, ", Rank, "), got ",
                    d);
    if (opt_.blend == Blend::none) return {};
    for (std::size_t k = 0; k < dims_.size(); ++k)
      if (dims_[k] == d) return weights_[k][std::size_t(grid_pos(i)[k])];
    return {};
  }

  std::vector<tensor_type> local_patches(tensor_type const& x, std::span<Index const> indices) const {
    DISTINV_REQUIRE(shape_of(x) == shape_, "OverlapTilingStrategy::local_patches: expected a signal of shape ",
                    to_string(shape_), ", got ", to_string(shape_of(x)));
    for (Index i : indices) check_index(i);
    std::vector<tensor_type> out(indices.size());
    auto one = [&](std::size_t k) { out[k] = extract(x, indices[k]); };
    if (indices.size() > 1)
      tbb::parallel_for(std::size_t(0), indices.size(), one);
    else if (indices.size() == 1)
      one(0);
    return out;
  }
  std::vector<tensor_type> local_patches(tensor_type const& x, std::vector<Index> const& indices) const {
    return local_patches(x, std::span<Index const>(indices));
  }

  std::vector<tensor_type> batch(std::vector<tensor_type> const& patches, Index max_batch_size) const {
    return batch_patches(patches, max_batch_size);
  }
  std::vector<tensor_type> unbatch(std::vector<tensor_type> const& batches, std::span<Index const> counts) const {
    return unbatch_patches(batches, counts);
  }

  void reduce(tensor_type& out, std::span<PatchPair<T, Rank> const> pairs) const {
    DISTINV_REQUIRE(shape_of(out) == shape_, "OverlapTilingStrategy::reduce: expected an output of shape ",
                    to_string(shape_), ", got ", to_string(shape_of(out)));
    for (auto const& [i, patch] : pairs) {
      auto const& L = layout_[std::size_t(check_index(i))];
      DISTINV_REQUIRE(shape_of(patch) == L.window_size, "OverlapTilingStrategy::reduce: processed patch ", i,
                      " must have the window shape ", to_string(L.window_size), ", got ", to_string(shape_of(patch)));
    }
    for (auto const& [i, patch] : pairs) {
      if (opt_.blend == Blend::none) {
        auto const b = reduce_box(i);
        detail::copy_box<true>(patch, b.src_start, out, b.dst_start, b.size);
      } else
        add_blended(patch, i, out);
    }
  }
  void reduce(tensor_type& out, std::vector<PatchPair<T, Rank>> const& pairs) const {
    reduce(out, std::span<PatchPair<T, Rank> const>(pairs));
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

  void build_layout() {
    Index total = 1;
    for (auto const& s : starts_) total *= Index(s.size());
    layout_.resize(std::size_t(total));
    for (Index i = 0; i < total; ++i) {
      auto g = grid_pos(i);
      PatchLayout<Rank> L;
      for (int d = 0; d < Rank; ++d) {
        L.window_size[d] = L.interior_size[d] = shape_[d];
      }
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
      }
      layout_[std::size_t(i)] = L;
    }
  }

  /// The padded window of patch i, read through per-dim source maps (no padded copy).
  tensor_type extract(tensor_type const& x, Index i) const {
    auto const& L = layout_[std::size_t(i)];
    std::array<std::vector<Index>, Rank> map;
    for (int d = 0; d < Rank; ++d) map[d] = source_map(i, d);
    auto const& last = map[Rank - 1];
    bool contiguous = last.front() >= 0;
    for (std::size_t k = 1; k < last.size() && contiguous; ++k) contiguous = last[k] == last[0] + Index(k);
    tensor_type w(L.window_size);
    auto const xs = detail::strides_of<Rank>(shape_);
    auto const ws = detail::strides_of<Rank>(L.window_size);
    T const* xp = x.data();
    T* wp = w.data();
    Index const len = L.window_size[Rank - 1];
    // Rows are independent; patches are already extracted in parallel, so loop serially here.
    Shape<Rank> idx{};
    Index rows = 1;
    for (int d = 0; d < Rank - 1; ++d) rows *= L.window_size[d];
    for (Index row = 0; row < rows; ++row) {
      Index q = row, src = 0, dst = 0;
      bool zero = false;
      for (int d = Rank - 2; d >= 0; --d) {
        idx[d] = q % L.window_size[d];
        q /= L.window_size[d];
        Index const m = map[d][std::size_t(idx[d])];
        zero = zero || m < 0;
        src += m * xs[d];
        dst += idx[d] * ws[d];
      }
      T* o = wp + dst;
      if (zero) {
        std::fill_n(o, len, T(0));
      } else if (contiguous) {
        std::copy_n(xp + src + last[0], len, o);
      } else {
        for (Index k = 0; k < len; ++k) o[k] = last[std::size_t(k)] < 0 ? T(0) : xp[src + last[std::size_t(k)]];
      }
    }
    return w;
  }

  /// out[core] += (prod_d w_d) * patch[halo .. halo + p) over every tiled dim.
  void add_blended(tensor_type const& patch, Index i, tensor_type& out) const {
    auto const g = grid_pos(i);
    auto const& L = layout_[std::size_t(i)];
    auto const box = reduce_box(i);
    Shape<Rank> const size = box.size, src0 = box.src_start, dst0 = box.dst_start;
    std::array<T const*, Rank> wdim{};  // weight vector per dim (nullptr = untiled)
    for (std::size_t k = 0; k < dims_.size(); ++k) wdim[dims_[k]] = weights_[k][std::size_t(g[k])].data();
    auto const ps = detail::strides_of<Rank>(L.window_size);
    auto const os = detail::strides_of<Rank>(shape_);
    T const* pp = patch.data();
    T* op = out.data();
    Index const len = size[Rank - 1];
    T const* wl = wdim[Rank - 1];
    detail::for_each_row<Rank>(size, [&](Shape<Rank> const& idx) {
      Index so = src0[Rank - 1], doff = dst0[Rank - 1];
      T f = T(1);
      for (int d = 0; d < Rank - 1; ++d) {
        so += (src0[d] + idx[d]) * ps[d];
        doff += (dst0[d] + idx[d]) * os[d];
        if (wdim[d]) f *= wdim[d][idx[d]];
      }
      if (wl)
        for (Index k = 0; k < len; ++k) op[doff + k] += f * wl[k] * pp[so + k];
      else
        for (Index k = 0; k < len; ++k) op[doff + k] += f * pp[so + k];
    });
  }

  Shape<Rank> shape_;
  TilingOptions opt_;
  std::vector<int> dims_;
  std::vector<Index> patch_, halo_, stride_;
  std::vector<std::vector<Index>> starts_;
  std::vector<std::vector<std::vector<T>>> weights_;
  std::vector<PatchLayout<Rank>> layout_;
};

static_assert(SignalStrategy<OverlapTilingStrategy<float, 4>>);
static_assert(SignalStrategy<OverlapTilingStrategy<double, 5>>);

}  // namespace distinv::tiling
