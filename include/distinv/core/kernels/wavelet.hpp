#pragma once
// core/kernels/wavelet.hpp: the orthogonal periodic 2D wavelet transform of
// optim/denoisers/wavelet.hpp (Haar, db4; Mallat layout per plane) as index functors for host
// and device: DwtLevel / IdwtLevel (one level along rows or columns, out of place, element e =
// one output value), WaveletThreshold (soft / hard on the detail coefficients), and the
// drivers wavelet_transform / wavelet_denoise over any launcher. No CUDA header here.
#include <array>
#include <cstddef>
#include <span>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

enum class Wavelet { haar, db4 };
enum class ThresholdMode { soft, hard };

/// Orthonormal low-pass (scaling) filter h; the high-pass is g[m] = (-1)^m h[K-1-m].
inline std::span<double const> wavelet_filter(Wavelet w) {
  static constexpr std::array<double, 2> haar{0.70710678118654752440, 0.70710678118654752440};
  static constexpr std::array<double, 8> db4{0.2303778133088964,  0.7148465705529154,   0.6308807679298587,
                                             -0.027983769416859854, -0.18703481171909309, 0.030841381835560764,
                                             0.0328830116668852,   -0.010597401785069032};
  if (w == Wavelet::haar) return haar;
  return db4;
}

/// Radius of dependence of an L-level transform-threshold-inverse with a K-tap filter: a
/// level-l basis function spans (K-1)(2^l - 1) + 1 samples, so (K-1)(2^L - 1).
inline Index wavelet_receptive_field(Wavelet w, int levels) {
  return Index(wavelet_filter(w).size() - 1) * ((Index(1) << levels) - 1);
}

/// The filter taps by value (a functor field: no pointer to host memory on the device).
struct WaveletTaps {
  static constexpr int max_taps = 8;
  double h[max_taps];
  int K;  // number of taps, even, <= max_taps
};

inline WaveletTaps wavelet_taps(Wavelet w) {
  auto const f = wavelet_filter(w);
  WaveletTaps t{};
  t.K = int(f.size());
  for (int m = 0; m < t.K; ++m) t.h[m] = f[std::size_t(m)];
  return t;
}

namespace detail {
/// The line through element (i, j) of the rows x cols top-left block of an H x W plane:
/// along a row (columns == false) or a column; `base` is its first value, `c` the position of
/// the element on it, `n` its length.
struct WaveletLine {
  Index base, stride, n, c;
};
DISTINV_HOST_DEVICE inline WaveletLine wavelet_line(Index e, Index H, Index W, Index rows, Index cols,
                                                    bool columns) noexcept {
  Index const j = e % cols, i = (e / cols) % rows, p = e / (cols * rows);
  Index const plane = p * H * W;
  if (columns) return {plane + j, W, rows, i};
  return {plane + i * W, 1, cols, j};
}
}  // namespace detail

/// One analysis level along every row (or column) of the rows x cols top-left block of each
/// H x W plane: out = [a | d] on each line of even length n, a_k = sum_m h[m] x[(2k+m) % n],
/// d_k = sum_m g[m] x[(2k+m) % n] (sums in double, in the host's order). Element e over
/// planes * rows * cols; out outside the block is not touched. in != out.
template <class T>
struct DwtLevel {
  T const* in;
  T* out;
  Index H, W;
  Index rows, cols;
  bool columns;
  WaveletTaps taps;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    auto const l = detail::wavelet_line(e, H, W, rows, cols, columns);
    Index const half = l.n / 2, K = taps.K;
    bool const detail_coef = l.c >= half;
    Index const k = detail_coef ? l.c - half : l.c;
    double acc = 0;
    for (Index m = 0; m < K; ++m) {
      double const xv = double(in[l.base + ((2 * k + m) % l.n) * l.stride]);
      if (detail_coef)
        acc += (m % 2 ? -1.0 : 1.0) * taps.h[K - 1 - m] * xv;
      else
        acc += taps.h[m] * xv;
    }
    out[l.base + l.c * l.stride] = T(acc);
  }
};

/// Inverse (transpose) of DwtLevel on the same block: x_i = sum over (k, m) with
/// (2k + m) % n == i of h[m] a_k + g[m] d_k, added in the host's order (k, then m).
template <class T>
struct IdwtLevel {
  T const* in;
  T* out;
  Index H, W;
  Index rows, cols;
  bool columns;
  WaveletTaps taps;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    auto const l = detail::wavelet_line(e, H, W, rows, cols, columns);
    Index const half = l.n / 2, K = taps.K;
    // m has the parity of i (n is even); each such m meets exactly one k.
    Index ks[WaveletTaps::max_taps / 2], ms[WaveletTaps::max_taps / 2];
    int cnt = 0;
    for (Index m = l.c % 2; m < K; m += 2) {
      Index r = (l.c - m) % l.n;
      if (r < 0) r += l.n;
      Index const k = r / 2;
      int s = cnt++;  // insertion by k, stable (m ascending among equal k)
      while (s > 0 && ks[s - 1] > k) {
        ks[s] = ks[s - 1];
        ms[s] = ms[s - 1];
        --s;
      }
      ks[s] = k;
      ms[s] = m;
    }
    double acc = 0;
    for (int q = 0; q < cnt; ++q) {
      Index const k = ks[q], m = ms[q];
      double const a = double(in[l.base + k * l.stride]), d = double(in[l.base + (half + k) * l.stride]);
      acc += taps.h[m] * a + (m % 2 ? -1.0 : 1.0) * taps.h[K - 1 - m] * d;
    }
    out[l.base + l.c * l.stride] = T(acc);
  }
};

/// Thresholds every detail coefficient of each H x W plane in the Mallat layout (the top-left
/// ha x wa approximation block is kept): soft, c -> sign(c) max(|c| - tau, 0); hard, c -> 0
/// where |c| < tau. Element e over planes * H * W.
template <class T>
struct WaveletThreshold {
  T* c;
  Index H, W;
  Index ha, wa;
  T tau;
  bool soft;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const j = e % W, i = (e / W) % H;
    if (i < ha && j < wa) return;
    T const v = c[e];
    T const a = v < T(0) ? -v : v;
    if (soft)
      c[e] = a <= tau ? T(0) : (v > T(0) ? v - tau : v + tau);
    else if (a < tau)
      c[e] = T(0);
  }
};

/// out[e] = in[e]
template <class T>
struct CopyValues {
  T const* in;
  T* out;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = in[e]; }
};

/// out = the `levels`-level transform (inverse: its inverse) of every H x W plane of in
/// (planes * H * W values each; in may equal out). scratch: planes * H * W values.
/// H and W must be multiples of 2^levels. launch(n, f) runs f(e) for e < n, launches in order.
template <class T, class Launch>
void wavelet_transform(Launch const& launch, T const* in, T* out, T* scratch, Index planes, Index H, Index W,
                       WaveletTaps const& taps, int levels, bool inverse) {
  if (planes * H * W == 0) return;
  if (!inverse) {
    T const* src = in;  // level 0 covers every value, so later levels can work in out
    for (int l = 0; l < levels; ++l) {
      Index const rows = H >> l, cols = W >> l, n = planes * rows * cols;
      launch(n, DwtLevel<T>{src, scratch, H, W, rows, cols, false, taps});
      launch(n, DwtLevel<T>{scratch, out, H, W, rows, cols, true, taps});
      src = out;
    }
  } else {
    T const* src = in;  // the coarsest level only touches its block: copy the rest first
    if (in != out && levels > 1) {
      launch(planes * H * W, CopyValues<T>{in, out});
      src = out;
    }
    for (int l = levels - 1; l >= 0; --l) {
      Index const rows = H >> l, cols = W >> l, n = planes * rows * cols;
      launch(n, IdwtLevel<T>{src, scratch, H, W, rows, cols, true, taps});
      launch(n, IdwtLevel<T>{scratch, out, H, W, rows, cols, false, taps});
      src = out;
    }
  }
}

/// out = wavelet denoising of every H x W plane of x (x may equal out): forward transform,
/// WaveletThreshold at tau (the approximation block, (H >> levels) x (W >> levels), kept),
/// inverse, exactly the steps of optim::WaveletDenoiser. scratch: planes * H * W values.
template <class T, class Launch>
void wavelet_denoise(Launch const& launch, T const* x, T* out, T* scratch, Index planes, Index H, Index W,
                     WaveletTaps const& taps, int levels, T tau, bool soft) {
  Index const n = planes * H * W;
  if (n == 0) return;
  wavelet_transform(launch, x, out, scratch, planes, H, W, taps, levels, false);
  launch(n, WaveletThreshold<T>{out, H, W, H >> levels, W >> levels, tau, soft});
  wavelet_transform(launch, static_cast<T const*>(out), out, scratch, planes, H, W, taps, levels, true);
}

}  // namespace distinv::kernels
