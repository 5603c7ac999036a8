#pragma once
// optim/denoisers/wavelet.hpp: orthogonal 2D wavelet transform (separable, periodic boundary,
// Mallat layout per (b, c) plane) with Haar or Daubechies db4 (PyWavelets naming: 4 vanishing
// moments, 8 taps), its inverse, and WaveletDenoiser (soft / hard thresholding of the detail
// coefficients at threshold_scale * sigma). Models Denoiser. core/ and oneTBB only.
#include <array>
#include <cmath>
#include <span>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/wavelet.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/optim/denoisers/concepts.hpp"

namespace distinv::optim {

// The wavelets, their filters and the receptive field live with the host / device kernels.
using kernels::ThresholdMode;
using kernels::Wavelet;
using kernels::wavelet_filter;
using kernels::wavelet_receptive_field;

inline Wavelet parse_wavelet(std::string_view s) {
  if (s == "haar") return Wavelet::haar;
  if (s == "db4") return Wavelet::db4;
  fail("unknown wavelet \"", std::string(s), "\": expected one of haar, db4");
}

namespace detail {

/// One analysis level along a strided line of even length n: a | d in place (tmp: n values).
template <class T>
void dwt_line(T* v, Index n, Index stride, std::span<double const> h, std::vector<double>& tmp) {
  Index const K = Index(h.size()), half = n / 2;
  tmp.assign(std::size_t(n), 0.0);
  for (Index k = 0; k < half; ++k) {
    double a = 0, d = 0;
    for (Index m = 0; m < K; ++m) {
      double const xv = double(v[((2 * k + m) % n) * stride]);
      a += h[std::size_t(m)] * xv;
      d += (m % 2 ? -1.0 : 1.0) * h[std::size_t(K - 1 - m)] * xv;
    }
    tmp[std::size_t(k)] = a;
    tmp[std::size_t(half + k)] = d;
  }
  for (Index i = 0; i < n; ++i) v[i * stride] = T(tmp[std::size_t(i)]);
}

/// Inverse of dwt_line (the transpose, the transform being orthogonal).
template <class T>
void idwt_line(T* v, Index n, Index stride, std::span<double const> h, std::vector<double>& tmp) {
  Index const K = Index(h.size()), half = n / 2;
  tmp.assign(std::size_t(n), 0.0);
  for (Index k = 0; k < half; ++k) {
    double const a = double(v[k * stride]), d = double(v[(half + k) * stride]);
    for (Index m = 0; m < K; ++m)
      tmp[std::size_t((2 * k + m) % n)] += h[std::size_t(m)] * a + (m % 2 ? -1.0 : 1.0) * h[std::size_t(K - 1 - m)] * d;
  }
  for (Index i = 0; i < n; ++i) v[i * stride] = T(tmp[std::size_t(i)]);
}

template <class T>
void dwt_plane(T* p, Index H, Index W, std::span<double const> h, int levels, bool inverse) {
  std::vector<double> tmp;
  auto level = [&](int l) {
    Index const h_l = H >> l, w_l = W >> l;
    if (!inverse) {
      for (Index i = 0; i < h_l; ++i) dwt_line(p + i * W, w_l, 1, h, tmp);
      for (Index j = 0; j < w_l; ++j) dwt_line(p + j, h_l, W, h, tmp);
    } else {
      for (Index j = 0; j < w_l; ++j) idwt_line(p + j, h_l, W, h, tmp);
      for (Index i = 0; i < h_l; ++i) idwt_line(p + i * W, w_l, 1, h, tmp);
    }
  };
  if (!inverse)
    for (int l = 0; l < levels; ++l) level(l);
  else
    for (int l = levels - 1; l >= 0; --l) level(l);
}

inline void check_wavelet_shape(Index H, Index W, int levels, char const* who) {
  DISTINV_REQUIRE(levels >= 1 && levels < 30, who, ": expected levels >= 1, got ", levels);
  Index const m = Index(1) << levels;
  DISTINV_REQUIRE(H % m == 0 && W % m == 0, who, ": H and W must be multiples of 2^levels = ", m, ", got ", H, " x ",
                  W);
}

}  // namespace detail

/// Orthogonal L-level 2D transform of every (b, c) plane (periodic boundary). Output in the
/// Mallat layout: the top-left (H/2^L) x (W/2^L) block is the approximation.
template <class T>
Tensor4<T> wavelet_forward(Tensor4<T> const& x, Wavelet w, int levels) {
  detail::check_wavelet_shape(x.dimension(2), x.dimension(3), levels, "wavelet_forward");
  auto const h = wavelet_filter(w);
  return detail::map_planes(x, [&](T const* in, T* out, Index H, Index W) {
    std::copy_n(in, H * W, out);
    detail::dwt_plane(out, H, W, h, levels, false);
  });
}

/// Inverse of wavelet_forward.
template <class T>
Tensor4<T> wavelet_inverse(Tensor4<T> const& c, Wavelet w, int levels) {
  detail::check_wavelet_shape(c.dimension(2), c.dimension(3), levels, "wavelet_inverse");
  auto const h = wavelet_filter(w);
  return detail::map_planes(c, [&](T const* in, T* out, Index H, Index W) {
    std::copy_n(in, H * W, out);
    detail::dwt_plane(out, H, W, h, levels, true);
  });
}

/// Wavelet denoiser: forward transform, threshold every detail coefficient at
/// tau = threshold_scale * sigma (soft: shrink by tau; hard: zero below tau), inverse.
/// threshold_scale <= 0 picks the default: 3 for hard (the classical 3-sigma rule), 1.5 for
/// soft. The coarse approximation block is kept. H, W must be multiples of 2^levels.
template <class T>
struct WaveletDenoiser {
  Wavelet wavelet = Wavelet::db4;
  int levels = 3;
  ThresholdMode mode = ThresholdMode::soft;
  double threshold_scale = 0;

  double threshold(double sigma) const {
    double const s = threshold_scale > 0 ? threshold_scale : (mode == ThresholdMode::hard ? 3.0 : 1.5);
    return s * sigma;
  }

  Tensor4<T> operator()(Tensor4<T> const& x, double sigma) const {
    DISTINV_REQUIRE(sigma >= 0, "WaveletDenoiser: expected sigma >= 0, got ", sigma);
    detail::check_wavelet_shape(x.dimension(2), x.dimension(3), levels, "WaveletDenoiser");
    auto const h = wavelet_filter(wavelet);
    T const tau = T(threshold(sigma));
    bool const soft = mode == ThresholdMode::soft;
    int const L = levels;
    return detail::map_planes(x, [&](T const* in, T* out, Index H, Index W) {
      std::copy_n(in, H * W, out);
      detail::dwt_plane(out, H, W, h, L, false);
      Index const ha = H >> L, wa = W >> L;
      for (Index i = 0; i < H; ++i)
        for (Index j = 0; j < W; ++j) {
          if (i < ha && j < wa) continue;
          T& c = out[i * W + j];
          T const a = std::abs(c);
          if (soft)
            c = a <= tau ? T(0) : (c > 0 ? c - tau : c + tau);
          else if (a < tau)
            c = T(0);
        }
      detail::dwt_plane(out, H, W, h, L, true);
    });
  }
  Index receptive_field() const { return wavelet_receptive_field(wavelet, levels); }
};

static_assert(Denoiser<WaveletDenoiser<float>, float>);

}  // namespace distinv::optim
