#pragma once
// core/kernels/conv2d.hpp: 2-D convolution of (B, C, H, W) planes by a filter (Bf, Cf, kh, kw)
// with Bf in {1, B}, Cf in {1, C} (broadcast), as index functors for host and device.
// Convention of deepinv's conv2d: the filter is flipped, the input is padded by
// kernel_pads(kh) = ((kh-1)/2 before, kh/2 after) rows and likewise columns, so the output keeps
// the size (valid: no padding, output (H - kh + 1, W - kw + 1)). Equivalently
// y[i] = sum_a k[a] x[i - a + c] with c = kernel_centre(kh) = kh/2, odd or even kh
// (core/kernels/padding.hpp). Conv2dAdjoint is the exact transpose, padding folded.
#include <cstddef>

#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/kernels/pointwise.hpp"

namespace distinv::kernels {

/// Which filter plane serves plane p = b * channels + c of the signal.
struct FilterBroadcast {
  Index channels = 1;         // C of the signal
  Index filter_batch = 1;     // Bf: 1 or B
  Index filter_channels = 1;  // Cf: 1 or C
  DISTINV_HOST_DEVICE Index operator()(Index p) const noexcept {
    Index const b = p / channels, c = p % channels;
    return (filter_batch == 1 ? 0 : b) * filter_channels + (filter_channels == 1 ? 0 : c);
  }
};

/// Sizes of one convolution; make_conv2d_geometry fills the derived fields.
struct Conv2dGeometry {
  Index planes = 0;  // B * C
  Index H = 0, W = 0;    // input plane
  Index kh = 0, kw = 0;  // filter plane
  Index Ho = 0, Wo = 0;  // output plane
  Index top = 0, left = 0;  // padding before the first row / column
  Padding mode = Padding::circular;
  FilterBroadcast filter{};
};

inline Conv2dGeometry make_conv2d_geometry(Index B, Index C, Index H, Index W, Index Bf, Index Cf, Index kh,
                                           Index kw, Padding mode) {
  Conv2dGeometry g;
  g.planes = B * C;
  g.H = H;
  g.W = W;
  g.kh = kh;
  g.kw = kw;
  g.mode = mode;
  g.filter = {C, Bf, Cf};
  if (mode == Padding::valid) {
    g.Ho = H - kh + 1;
    g.Wo = W - kw + 1;
  } else {
    g.Ho = H;
    g.Wo = W;
    g.top = kernel_pads(kh).before;
    g.left = kernel_pads(kw).before;
  }
  return g;
}

/// y = conv(x, k): element e of y (planes * Ho * Wo elements).
template <class T>
struct Conv2d {
  Conv2dGeometry g;
  T const* x;  // planes * H * W
  T const* k;  // (Bf * Cf) * kh * kw
  T* y;        // planes * Ho * Wo
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const j = e % g.Wo, i = (e / g.Wo) % g.Ho, p = e / (g.Wo * g.Ho);
    T const* xp = x + p * g.H * g.W;
    T const* kp = k + g.filter(p) * g.kh * g.kw;
    T acc = T(0);
    for (Index a = 0; a < g.kh; ++a) {  // flipped filter row a reads padded row i + a
      Index const r = pad_index(g.mode, i + a - g.top, g.H);
      if (r < 0) continue;
      T const* krow = kp + (g.kh - 1 - a) * g.kw;
      for (Index b = 0; b < g.kw; ++b) {
        Index const s = pad_index(g.mode, j + b - g.left, g.W);
        if (s < 0) continue;
        acc += krow[g.kw - 1 - b] * xp[r * g.W + s];
      }
    }
    y[e] = acc;
  }
};

/// Padded position number t (t = 0 .. Hp - H) whose source may be u: t = 0 is the interior
/// position u + top, t >= 1 walks the padding zones [0, top) then [top + n, Hp).
DISTINV_HOST_DEVICE inline Index padded_candidate(Index t, Index u, Index top, Index n) noexcept {
  if (t == 0) return u + top;
  Index const z = t - 1;
  return z < top ? z : n + z;  // z >= top: position top + n + (z - top)
}

/// x = conv^T(y): element e of x (planes * H * W elements). x[u] sums, over the padded
/// positions r whose source is u, the transposed valid correlation sum_a kf[a] y[r - a].
template <class T>
struct Conv2dAdjoint {
  Conv2dGeometry g;
  T const* y;  // planes * Ho * Wo
  T const* k;  // (Bf * Cf) * kh * kw
  T* x;        // planes * H * W
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const v = e % g.W, u = (e / g.W) % g.H, p = e / (g.W * g.H);
    T const* yp = y + p * g.Ho * g.Wo;
    T const* kp = k + g.filter(p) * g.kh * g.kw;
    Index const Hp = g.Ho + g.kh - 1, Wp = g.Wo + g.kw - 1;  // padded input plane
    T acc = T(0);
    for (Index tr = 0; tr <= Hp - g.H; ++tr) {
      Index const r = padded_candidate(tr, u, g.top, g.H);
      if (pad_index(g.mode, r - g.top, g.H) != u) continue;
      for (Index tc = 0; tc <= Wp - g.W; ++tc) {
        Index const s = padded_candidate(tc, v, g.left, g.W);
        if (pad_index(g.mode, s - g.left, g.W) != v) continue;
        // zpad[r, s] = sum_{a, b} kf[a, b] y[r - a, s - b], kf[a, b] = k[kh-1-a, kw-1-b]
        for (Index a = 0; a < g.kh; ++a) {
          Index const i = r - a;
          if (i < 0 || i >= g.Ho) continue;
          T const* krow = kp + (g.kh - 1 - a) * g.kw;
          for (Index b = 0; b < g.kw; ++b) {
            Index const j = s - b;
            if (j < 0 || j >= g.Wo) continue;
            acc += krow[g.kw - 1 - b] * yp[i * g.Wo + j];
          }
        }
      }
    }
    x[e] = acc;
  }
};

/// The circular-convolution kernel of a filter on an H x W grid (input of an R2C FFT):
/// out[q, m, n] = sum of k[q, a, b] over (a - ch) mod H == m and (b - cw) mod W == n, with the
/// centre ch = kernel_centre(kh) = kh/2, cw likewise, so that circular conv(x, k) = out (*) x.
/// Element e of out ((Bf * Cf) * H * W elements).
template <class T>
struct CircularFilter {
  Index H, W, kh, kw;
  T const* k;
  T* out;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const n = e % W, m = (e / W) % H, q = e / (W * H);
    Index const ch = kernel_centre(kh), cw = kernel_centre(kw);
    T const* kq = k + q * kh * kw;
    T acc = T(0);
    for (Index a = 0; a < kh; ++a) {
      if (pad_index(Padding::circular, a - ch, H) != m) continue;
      for (Index b = 0; b < kw; ++b)
        if (pad_index(Padding::circular, b - cw, W) == n) acc += kq[a * kw + b];
    }
    out[e] = acc;
  }
};

/// Spectral product on half spectra (planes * Hs * Ws elements, Ws = W/2 + 1), filter spectra
/// broadcast over planes: X = scale * K X (op forward), conj(K) X (adjoint), |K|^2 X (normal).
template <class T>
struct SpectralMultiply {
  enum Op { forward, adjoint, normal };
  Index plane_size;  // Hs * Ws
  FilterBroadcast filter;
  Complex<T> const* K;
  Complex<T>* X;
  T scale;
  Op op;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const p = e / plane_size;
    Complex<T> const kv = K[filter(p) * plane_size + e % plane_size];
    Complex<T> v;
    if (op == forward) v = cmul(kv, X[e]);
    else if (op == adjoint) v = cmul_conj(kv, X[e]);
    else {
      T const m = squared_magnitude(kv);
      v = {m * X[e].re, m * X[e].im};
    }
    X[e] = {scale * v.re, scale * v.im};
  }
};

/// Normal-equation spectra of one operator, accumulated: S[e] += |K|^2 and, if Y is given,
/// B[e] += conj(K) Y[e] (planes * plane_size elements, filter spectra broadcast).
template <class T>
struct AccumulateNormal {
  Index plane_size;
  FilterBroadcast filter;
  Complex<T> const* K;
  Complex<T> const* Y;  // may be null
  T* S;
  Complex<T>* B;  // may be null when Y is
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const p = e / plane_size;
    Complex<T> const kv = K[filter(p) * plane_size + e % plane_size];
    S[e] += squared_magnitude(kv);
    if (Y) {
      Complex<T> const t = cmul_conj(kv, Y[e]);
      B[e].re += t.re;
      B[e].im += t.im;
    }
  }
};

}  // namespace distinv::kernels
