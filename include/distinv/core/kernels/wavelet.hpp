#pragma once
// core/kernels/wavelet.hpp: the orthogonal periodic 2D wavelet transform (Haar, db4; Mallat
// layout per plane) as functors for every launcher (host/for_each.hpp, the CUDA one):
// DwtLevel / IdwtLevel (one level along rows or columns, out of place, one output value per
// (row, column)), WaveletThreshold (soft / hard on the detail coefficients), ReflectResize
// (planes grown to a multiple of 2^levels and cropped back), and the drivers wavelet_transform /
// wavelet_denoise. The only definition of the transform in distinv (optim/denoisers/
// wavelet.hpp runs it on signals). No CUDA header here.
#include <array>
#include <cstddef>
#include <span>

#include "distinv/core/error.hpp"
#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/kernels/pointwise.hpp"

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

/// The filter taps by value (a functor field: no pointer to host memory on the device):
/// the low-pass h and the high-pass g[m] = (-1)^m h[K-1-m].
struct WaveletTaps {
  /// Taps a filter may have.
  static constexpr int max_taps = 8;
  /// The low-pass filter.
  double h[max_taps];
  /// The high-pass filter.
  double g[max_taps];
  int K;  ///< number of taps, even, <= max_taps
};

inline WaveletTaps wavelet_taps(Wavelet w) {
  auto const f = wavelet_filter(w);
  WaveletTaps t{};
  t.K = int(f.size());
  for (int m = 0; m < t.K; ++m) t.h[m] = f[std::size_t(m)];
  for (int m = 0; m < t.K; ++m) t.g[m] = (m % 2 ? -1.0 : 1.0) * t.h[t.K - 1 - m];
  return t;
}

/// Throws Error unless 1 <= levels < 30 (host side).
inline void check_wavelet_levels(int levels, char const* who) {
  DISTINV_REQUIRE(levels >= 1 && levels < 30, who, ": expected levels >= 1, got ", levels);
}

/// Throws Error unless 1 <= levels < 30 and H, W are multiples of 2^levels (host side).
inline void check_wavelet_shape(Index H, Index W, int levels, char const* who) {
  check_wavelet_levels(levels, who);
  Index const m = Index(1) << levels;
  DISTINV_REQUIRE(H % m == 0 && W % m == 0, who, ": H and W must be multiples of 2^levels = ", m, ", got ", H, " x ",
                  W);
}

/// n rounded up to a multiple of 2^levels.
inline Index wavelet_size(Index n, int levels) {
  Index const m = Index(1) << levels;
  return (n + m - 1) / m * m;
}

namespace detail {
/// The line through output (row r, column c) of a level on the rows x cols top-left block of
/// each H x W plane (r over planes * rows): along a row (columns == false) or a column;
/// `base` is its first value, `stride` its step, `n` its length and `c` the position of the
/// output on it.
struct WaveletLine {
  Index base, stride, n, c;
};
DISTINV_HOST_DEVICE inline WaveletLine wavelet_line(Index r, Index c, Index H, Index W, Index rows, Index cols,
                                                    bool columns) noexcept {
  Index const p = r / rows, i = r % rows;
  Index const plane = p * H * W;
  if (columns) return {plane + c, W, rows, i};
  return {plane + i * W, 1, cols, c};
}
/// j mod n for 0 <= j (one division only when j >= n).
DISTINV_HOST_DEVICE inline Index wrap(Index j, Index n) noexcept { return j < n ? j : j % n; }
}  // namespace detail

/// One level along every row (or column) of the rows x cols top-left block of each H x W
/// plane, one output value per (row r of planes * rows, column c); out outside the block is
/// not touched; in != out. Analysis (DwtLevel): out = [a | d] on each line of even length n,
/// a_k = sum_m h[m] x[(2k+m) % n], d_k = sum_m g[m] x[(2k+m) % n] (m ascending). Synthesis
/// (IdwtLevel, the inverse, i.e. the transpose): x_i = sum over (k, m) with (2k + m) % n == i
/// of h[m] a_k + g[m] d_k, added by k ascending, then m ascending. Sums in double.
template <class T, bool Inverse>
struct WaveletLevel {
  /// Source.
  T const* in;
  /// Destination (not in).
  T* out;
  /// Rows and columns of a plane.
  ///@{
  Index H, W;
  ///@}
  /// Rows and columns of the block this level transforms.
  ///@{
  Index rows, cols;
  ///@}
  /// True: along columns; false: along rows.
  bool columns;
  /// The filters.
  WaveletTaps taps;
  /// Output (row r of planes * rows, column c).
  DISTINV_HOST_DEVICE void operator()(Index r, Index c) const noexcept {
    auto const l = detail::wavelet_line(r, c, H, W, rows, cols, columns);
    out[l.base + l.c * l.stride] = T(Inverse ? synthesis(l) : analysis(l));
  }

 private:
  DISTINV_HOST_DEVICE double analysis(detail::WaveletLine const& l) const noexcept {
    Index const half = l.n / 2;
    bool const detail_coef = l.c >= half;
    Index const k = detail_coef ? l.c - half : l.c;
    double const* f = detail_coef ? taps.g : taps.h;
    double acc = 0;
    for (int m = 0; m < taps.K; ++m) acc += f[m] * double(in[l.base + detail::wrap(2 * k + m, l.n) * l.stride]);
    return acc;
  }
  DISTINV_HOST_DEVICE double synthesis(detail::WaveletLine const& l) const noexcept {
    Index const half = l.n / 2;
    // m has the parity of i (n is even); each such m meets exactly one k.
    Index ks[WaveletTaps::max_taps / 2], ms[WaveletTaps::max_taps / 2];
    int cnt = 0;
    for (Index m = l.c % 2; m < taps.K; m += 2) {
      Index q = l.c - m;
      if (q < 0) q = l.n - 1 - detail::wrap(-q - 1, l.n);  // q mod n, for q < 0
      Index const k = q / 2;
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
      acc += taps.h[m] * a + taps.g[m] * d;
    }
    return acc;
  }
};
template <class T>
using DwtLevel = WaveletLevel<T, false>;
template <class T>
using IdwtLevel = WaveletLevel<T, true>;

/// Thresholds every detail coefficient of each H x W plane in the Mallat layout (the top-left
/// ha x wa approximation block is kept): soft (SoftThreshold), c -> sign(c) max(|c| - tau, 0);
/// hard (HardThreshold), c -> 0 where |c| < tau. Launched over (planes * H, W).
template <class T>
struct WaveletThreshold {
  /// The coefficients, thresholded in place.
  T* c;
  /// Rows and columns of a plane.
  ///@{
  Index H, W;
  ///@}
  /// Rows and columns of the approximation block kept.
  ///@{
  Index ha, wa;
  ///@}
  /// The threshold τ.
  T tau;
  /// True: soft; false: hard.
  bool soft;
  /// Coefficient (row r of planes * H, column j).
  DISTINV_HOST_DEVICE void operator()(Index r, Index j) const noexcept {
    if (r % H < ha && j < wa) return;
    T& v = c[r * W + j];
    v = soft ? SoftThreshold<T>{tau}(v) : HardThreshold<T>{tau}(v);
  }
};

/// out[p, i, j] = in[p, reflect(i, Hi), reflect(j, Wi)] for the Ho x Wo planes of out, from
/// the Hi x Wi planes of in (reflect: numpy's mirror at the last row and column, the pattern
/// repeated when the growth exceeds the plane). Ho, Wo >= Hi, Wi grows each plane (the
/// wavelet denoiser's padding); Ho, Wo <= Hi, Wi crops its top-left block. Launched over
/// (planes * Ho, Wo).
template <class T>
struct ReflectResize {
  /// Source.
  T const* in;
  /// Destination.
  T* out;
  /// Rows and columns of the source and of the destination planes.
  ///@{
  Index Hi, Wi, Ho, Wo;
  ///@}
  /// out at (row r of planes * Ho, column c).
  DISTINV_HOST_DEVICE void operator()(Index r, Index c) const noexcept {
    Index const p = r / Ho, i = pad_index(Padding::reflect, r % Ho, Hi), j = pad_index(Padding::reflect, c, Wi);
    out[r * Wo + c] = in[(p * Hi + i) * Wi + j];
  }
};

/// out = the `levels`-level transform (inverse: its inverse) of every H x W plane of in
/// (planes * H * W values each; in may equal out). scratch: planes * H * W values.
/// H and W must be multiples of 2^levels. launch.grid(rows, cols, f) runs f(r, c), launch(n, f)
/// f(e); the launches are issued in order.
template <class T, class Launch>
void wavelet_transform(Launch const& launch, T const* in, T* out, T* scratch, Index planes, Index H, Index W,
                       WaveletTaps const& taps, int levels, bool inverse) {
  if (planes * H * W == 0) return;
  if (!inverse) {
    T const* src = in;  // level 0 covers every value, so later levels can work in out
    for (int l = 0; l < levels; ++l) {
      Index const rows = H >> l, cols = W >> l;
      launch.grid(planes * rows, cols, DwtLevel<T>{src, scratch, H, W, rows, cols, false, taps});
      launch.grid(planes * rows, cols, DwtLevel<T>{scratch, out, H, W, rows, cols, true, taps});
      src = out;
    }
  } else {
    T const* src = in;  // the coarsest level only touches its block: copy the rest first
    if (in != out && levels > 1) {
      launch(planes * H * W, Copy<T>{in, out});
      src = out;
    }
    for (int l = levels - 1; l >= 0; --l) {
      Index const rows = H >> l, cols = W >> l;
      launch.grid(planes * rows, cols, IdwtLevel<T>{src, scratch, H, W, rows, cols, true, taps});
      launch.grid(planes * rows, cols, IdwtLevel<T>{scratch, out, H, W, rows, cols, false, taps});
      src = out;
    }
  }
}

/// out = wavelet denoising of every H x W plane of x (x may equal out): forward transform,
/// WaveletThreshold at tau (the approximation block, (H >> levels) x (W >> levels), kept),
/// inverse. scratch: planes * H * W values; H, W multiples of 2^levels.
template <class T, class Launch>
void wavelet_denoise(Launch const& launch, T const* x, T* out, T* scratch, Index planes, Index H, Index W,
                     WaveletTaps const& taps, int levels, T tau, bool soft) {
  Index const n = planes * H * W;
  if (n == 0) return;
  wavelet_transform(launch, x, out, scratch, planes, H, W, taps, levels, false);
  launch.grid(planes * H, W, WaveletThreshold<T>{out, H, W, H >> levels, W >> levels, tau, soft});
  wavelet_transform(launch, static_cast<T const*>(out), out, scratch, planes, H, W, taps, levels, true);
}

}  // namespace distinv::kernels
