#pragma once
// physics/convolution.hpp: the direct (spatial) building blocks of Blur on stacks of planes
// (a Tensor4 seen as B*C planes of H x W): padding by a boundary rule, its exact adjoint (fold),
// and a valid cross-correlation. Blur = correlate(pad(x), flipped kernel) and
// Blur^T = fold(correlate(zero_pad(y), kernel)), as deepinv's conv2d / conv_transpose2d.
// oneTBB parallel over planes and rows. Eigen + oneTBB + core only.
#include <algorithm>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/tensor.hpp"
#include "distinv/physics/padding.hpp"

namespace distinv::physics::detail {

/// Widths added on each side of a plane.
struct Pads {
  Index top = 0, bottom = 0, left = 0, right = 0;
};

/// out (planes, h + top + bottom, w + left + right) = `in` (planes, h, w) extended by rule p.
template <class T>
void pad_planes(T const* in, Index planes, Index h, Index w, Pads pd, Padding p, T* out) {
  Index const hp = h + pd.top + pd.bottom, wp = w + pd.left + pd.right;
  std::vector<Index> cmap(static_cast<std::size_t>(wp));
  for (Index c = 0; c < wp; ++c) cmap[std::size_t(c)] = padded_source(c - pd.left, w, p);
  tbb::parallel_for(tbb::blocked_range<Index>(0, planes * hp, 16), [&](tbb::blocked_range<Index> const& r) {
    for (Index pr = r.begin(); pr < r.end(); ++pr) {
      Index const plane = pr / hp, row = pr % hp;
      T* o = out + pr * wp;
      Index const sr = padded_source(row - pd.top, h, p);
      if (sr < 0) {
        std::fill(o, o + wp, T(0));
        continue;
      }
      T const* s = in + (plane * h + sr) * w;
      for (Index c = 0; c < pd.left; ++c) o[c] = cmap[std::size_t(c)] < 0 ? T(0) : s[cmap[std::size_t(c)]];
      std::copy(s, s + w, o + pd.left);
      for (Index c = pd.left + w; c < wp; ++c) o[c] = cmap[std::size_t(c)] < 0 ? T(0) : s[cmap[std::size_t(c)]];
    }
  });
}

/// The exact adjoint of pad_planes: out (planes, h, w) = sum of every padded entry of `in`
/// (planes, h + top + bottom, w + left + right) at the pixel it was read from.
template <class T>
void fold_planes(T const* in, Index planes, Index h, Index w, Pads pd, Padding p, T* out) {
  Index const hp = h + pd.top + pd.bottom, wp = w + pd.left + pd.right;
  std::vector<Index> cmap(static_cast<std::size_t>(wp)), rmap(static_cast<std::size_t>(hp));
  for (Index c = 0; c < wp; ++c) cmap[std::size_t(c)] = padded_source(c - pd.left, w, p);
  for (Index r = 0; r < hp; ++r) rmap[std::size_t(r)] = padded_source(r - pd.top, h, p);
  bool const plain = pd.top == 0 && pd.bottom == 0 && pd.left == 0 && pd.right == 0;
  tbb::parallel_for(Index(0), planes, [&](Index plane) {
    T const* src = in + plane * hp * wp;
    T* dst = out + plane * h * w;
    if (plain) {
      std::copy(src, src + h * w, dst);
      return;
    }
    // Interior rows first (a copy), then the padded rows and columns scatter-add.
    for (Index r = 0; r < h; ++r) std::copy(src + (r + pd.top) * wp + pd.left, src + (r + pd.top) * wp + pd.left + w, dst + r * w);
    for (Index r = 0; r < hp; ++r) {
      Index const sr = rmap[std::size_t(r)];
      if (sr < 0) continue;
      T const* s = src + r * wp;
      T* d = dst + sr * w;
      bool const interior_row = r >= pd.top && r < pd.top + h;
      if (!interior_row)
        for (Index c = pd.left; c < pd.left + w; ++c) d[c - pd.left] += s[c];
      for (Index c = 0; c < pd.left; ++c)
        if (cmap[std::size_t(c)] >= 0) d[cmap[std::size_t(c)]] += s[c];
      for (Index c = pd.left + w; c < wp; ++c)
        if (cmap[std::size_t(c)] >= 0) d[cmap[std::size_t(c)]] += s[c];
    }
  });
}

/// out (planes, hi - kh + 1, wi - kw + 1) with out[i, j] = sum_{m, n} k[m, n] in[i + m, j + n].
template <class T>
void correlate_valid(T const* in, Index planes, Index hi, Index wi, T const* k, Index kh, Index kw, T* out) {
  Index const ho = hi - kh + 1, wo = wi - kw + 1;
  tbb::parallel_for(tbb::blocked_range<Index>(0, planes * ho, 8), [&](tbb::blocked_range<Index> const& r) {
    for (Index pr = r.begin(); pr < r.end(); ++pr) {
      Index const plane = pr / ho, i = pr % ho;
      T* __restrict o = out + pr * wo;
      std::fill(o, o + wo, T(0));
      for (Index m = 0; m < kh; ++m) {
        T const* row = in + (plane * hi + i + m) * wi;
        T const* km = k + m * kw;
        Index n = 0;
        // Four taps per pass over the output row: a quarter of the loads and stores of `o`.
        for (; n + 4 <= kw; n += 4) {
          T const k0 = km[n], k1 = km[n + 1], k2 = km[n + 2], k3 = km[n + 3];
          T const* __restrict s = row + n;
          for (Index j = 0; j < wo; ++j) o[j] += k0 * s[j] + k1 * s[j + 1] + k2 * s[j + 2] + k3 * s[j + 3];
        }
        for (; n < kw; ++n) {
          T const kv = km[n];
          T const* __restrict s = row + n;
          for (Index j = 0; j < wo; ++j) o[j] += kv * s[j];
        }
      }
    }
  });
}

}  // namespace distinv::physics::detail
