#pragma once
// core/kernels/conv2d.hpp: 2-D convolution of (B, C, H, W) planes by a filter (Bf, Cf, kh, kw)
// with Bf in {1, B}, Cf in {1, C} (broadcast), written once for host and device: grid functors
// (row, strip) that compute `Strip` consecutive outputs of one row (the host launches strips
// of 32, which the compiler vectorises; the device launches strips of 1), plus the circular
// filter and the spectral functors of the FFT path.
// Convention of deepinv's conv2d: the filter is flipped, the input is padded by
// kernel_pads(kh) = ((kh-1)/2 before, kh/2 after) rows and likewise columns, so the output keeps
// the size (valid: no padding, output (H - kh + 1, W - kw + 1)). Equivalently
// y[i] = sum_a k[a] x[i - a + c] with c = kernel_centre(kh) = kh/2, odd or even kh
// (core/kernels/padding.hpp). Conv2dAdjoint is the exact transpose, padding folded back.
// Rows and columns may have their own padding (the slab layout gathers a block whose halo rows
// are already padded and convolves it row-valid, columns padded as usual). No CUDA header here.
#include <cstddef>

#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/kernels/pointwise.hpp"

namespace distinv::kernels {

/// Which filter plane serves plane p = b * channels + c of the signal.
struct FilterBroadcast {
  Index channels = 1;         ///< C of the signal
  Index filter_batch = 1;     ///< Bf: 1 or B
  Index filter_channels = 1;  ///< Cf: 1 or C
  /// The filter plane of signal plane p.
  DISTINV_HOST_DEVICE Index operator()(Index p) const noexcept {
    Index const b = p / channels, c = p % channels;
    return (filter_batch == 1 ? 0 : b) * filter_channels + (filter_channels == 1 ? 0 : c);
  }
};

/// Sizes of one convolution; make_conv2d_geometry fills the derived fields.
struct Conv2dGeometry {
  Index planes = 0;  ///< B * C
  /// Rows and columns of an input plane.
  ///@{
  Index H = 0, W = 0;    // input plane
  ///@}
  /// Rows and columns of a filter plane.
  ///@{
  Index kh = 0, kw = 0;  // filter plane
  ///@}
  /// Rows and columns of an output plane.
  ///@{
  Index Ho = 0, Wo = 0;  // output plane
  ///@}
  /// Padding before the first row and the first column.
  ///@{
  Index top = 0, left = 0;  // padding before the first row / column
  ///@}
  /// The columns' boundary rule (and the rows', unless row_mode says otherwise).
  Padding mode = Padding::circular;
  /// Which filter plane serves which signal plane.
  FilterBroadcast filter{};
  /// The rows' boundary rule (make_conv2d_geometry sets it to mode unless told otherwise).
  Padding row_mode = Padding::circular;
};

/// Rows padded by `row_mode`, columns by `col_mode` (valid: that axis shrinks by the kernel - 1).
inline Conv2dGeometry make_conv2d_geometry(Index B, Index C, Index H, Index W, Index Bf, Index Cf, Index kh,
                                           Index kw, Padding row_mode, Padding col_mode) {
  Conv2dGeometry g;
  g.planes = B * C;
  g.H = H;
  g.W = W;
  g.kh = kh;
  g.kw = kw;
  g.mode = col_mode;
  g.row_mode = row_mode;
  g.filter = {C, Bf, Cf};
  g.Ho = row_mode == Padding::valid ? H - kh + 1 : H;
  g.top = row_mode == Padding::valid ? 0 : kernel_pads(kh).before;
  g.Wo = col_mode == Padding::valid ? W - kw + 1 : W;
  g.left = col_mode == Padding::valid ? 0 : kernel_pads(kw).before;
  return g;
}
/// The same padding on both axes.
inline Conv2dGeometry make_conv2d_geometry(Index B, Index C, Index H, Index W, Index Bf, Index Cf, Index kh,
                                           Index kw, Padding mode) {
  return make_conv2d_geometry(B, C, H, W, Bf, Cf, kh, kw, mode, mode);
}

namespace detail {
/// out[0 .. n) = acc[0 .. n), n <= Strip: a fixed-length copy for full strips, so that the
/// accumulators stay in registers.
template <int Strip, class T>
DISTINV_HOST_DEVICE inline void store(T const (&acc)[Strip], T* out, Index n) noexcept {
  if (n == Strip) {
    for (int s = 0; s < Strip; ++s) out[s] = acc[s];
  } else {
    for (int s = 0; s < Strip; ++s)
      if (s < n) out[s] = acc[s];
  }
}
}  // namespace detail

/// Number of strips of `Strip` outputs that cover a row of n outputs.
template <int Strip>
DISTINV_HOST_DEVICE constexpr Index strips_of(Index n) noexcept {
  return (n + Strip - 1) / Strip;
}

/// Longest filter row (taps) for which a host strip gathers its padded input window into a
/// local buffer; longer rows take the per-output path.
inline constexpr Index conv_window_taps = 64;

/// y = conv(x, k). Grid functor: (row, strip) = (p * Ho + i, s) computes y[p, i, s*Strip ..)
/// (planes * Ho rows, strips_of<Strip>(Wo) strips). The input row a tap row reads is found
/// once through the padding; a strip (Strip > 1) then correlates a contiguous window of it —
/// the row itself away from the column borders, a padded copy of the window near them — with
/// the outputs in registers. Strip == 1 (one output, the device) reads through the padding.
template <class T, int Strip>
struct Conv2d {
  /// The sizes.
  Conv2dGeometry g;
  T const* x;  ///< planes * H * W
  T const* k;  ///< (Bf * Cf) * kh * kw
  T* y;        ///< planes * Ho * Wo
  /// Computes the outputs of strip `strip` of output row `row` (over planes * Ho rows).
  DISTINV_HOST_DEVICE void operator()(Index row, Index strip) const noexcept {
    Index const i = row % g.Ho, p = row / g.Ho, j0 = strip * Strip;
    Index const n = g.Wo - j0 < Strip ? g.Wo - j0 : Strip;
    T const* kp = k + g.filter(p) * g.kh * g.kw;
    bool const inside = j0 - g.left >= 0 && j0 + Strip - 1 - g.left + g.kw - 1 < g.W;
    T acc[Strip];
    for (int s = 0; s < Strip; ++s) acc[s] = T(0);
    for (Index a = 0; a < g.kh; ++a) {  // flipped filter row a reads padded row i + a
      Index const r = pad_index(g.row_mode, i + a - g.top, g.H);
      if (r < 0) continue;
      T const* xr = x + (p * g.H + r) * g.W;
      T const* kr = kp + (g.kh - 1 - a) * g.kw;
      if constexpr (Strip > 1) {
        if (inside || g.kw - 1 <= conv_window_taps) {
          T win[Strip + conv_window_taps];
          T const* xs = xr + j0 - g.left;
          if (!inside) {
            for (Index t = 0; t < Strip + g.kw - 1; ++t) {
              Index const c = pad_index(g.mode, j0 + t - g.left, g.W);
              win[t] = c < 0 ? T(0) : xr[c];
            }
            xs = win;
          }
          DISTINV_UNROLL(4)
          for (Index b = 0; b < g.kw; ++b) {
            T const kv = kr[g.kw - 1 - b];
            for (int s = 0; s < Strip; ++s) acc[s] += kv * xs[s + b];
          }
          continue;
        }
      }
      for (int s = 0; s < n; ++s)
        for (Index b = 0; b < g.kw; ++b) {
          Index const c = pad_index(g.mode, j0 + s + b - g.left, g.W);
          if (c >= 0) acc[s] += kr[g.kw - 1 - b] * xr[c];
        }
    }
    detail::store(acc, y + row * g.Wo + j0, n);
  }
};

/// Padded position number t (t = 0 .. Hp - H) whose source may be u: t = 0 is the interior
/// position u + top, t >= 1 walks the padding zones [0, top) then [top + n, Hp).
DISTINV_HOST_DEVICE inline Index padded_candidate(Index t, Index u, Index top, Index n) noexcept {
  if (t == 0) return u + top;
  Index const z = t - 1;
  return z < top ? z : n + z;  // z >= top: position top + n + (z - top)
}

/// x = conv^T(y). Grid functor: (row, strip) = (p * H + u, s) computes x[p, u, s*Strip ..)
/// (planes * H rows, strips_of<Strip>(W) strips). x[u, v] sums, over the padded positions
/// (r, q) whose source is (u, v), the transposed correlation sum_{a,b} kf[a, b] y[r - a, q - b]
/// (kf the flipped filter). Every v has the position q = v + left, whose terms a strip
/// (Strip > 1) gathers as a correlation of a window of y's row (zero outside it); the
/// padding positions whose source is v (only near the column borders) are found once per v
/// and added one by one. Strip == 1 (the device) walks every position per output.
template <class T, int Strip>
struct Conv2dAdjoint {
  /// The sizes (of the forward convolution).
  Conv2dGeometry g;
  T const* y;  ///< planes * Ho * Wo
  T const* k;  ///< (Bf * Cf) * kh * kw
  T* x;        ///< planes * H * W
  /// Computes the inputs of strip `strip` of input row `row` (over planes * H rows).
  DISTINV_HOST_DEVICE void operator()(Index row, Index strip) const noexcept {
    Index const u = row % g.H, p = row / g.H, v0 = strip * Strip;
    Index const n = g.W - v0 < Strip ? g.W - v0 : Strip;
    Index const Hp = g.Ho + g.kh - 1;  // padded input rows
    bool const strips = Strip > 1 && g.kw - 1 <= conv_window_taps;
    T acc[Strip];
    for (int s = 0; s < Strip; ++s) acc[s] = T(0);
    for (Index tr = 0; tr <= Hp - g.H; ++tr) {
      Index const r = padded_candidate(tr, u, g.top, g.H);
      if (pad_index(g.row_mode, r - g.top, g.H) != u) continue;
      if (strips) {
        add_window_terms(acc, p, r, v0);
        if (v0 >= g.kw && v0 + Strip <= g.W - g.kw) continue;  // no padding position reads these columns
        for (int s = 0; s < n; ++s)
          if (v0 + s < g.kw || v0 + s >= g.W - g.kw) add_column_terms(acc[s], p, r, v0 + s, 1);
      } else {
        for (int s = 0; s < n; ++s) add_column_terms(acc[s], p, r, v0 + s, 0);
      }
    }
    detail::store(acc, x + row * g.W + v0, n);
  }

 private:
  DISTINV_HOST_DEVICE T const* filter_of(Index p) const noexcept { return k + g.filter(p) * g.kh * g.kw; }

  /// acc[s] += the terms of the positions (r, v0 + s + left) of the strip: a correlation of
  /// y's rows r - a with a window of Strip + kw - 1 columns (zero outside y).
  DISTINV_HOST_DEVICE void add_window_terms(T (&acc)[Strip], Index p, Index r, Index v0) const noexcept {
    Index const w0 = v0 + g.left - (g.kw - 1);  // y column of the window's start
    bool const inside = w0 >= 0 && v0 + Strip - 1 + g.left < g.Wo;
    for (Index a = 0; a < g.kh; ++a) {
      Index const i = r - a;
      if (i < 0 || i >= g.Ho) continue;
      T const* yr = y + (p * g.Ho + i) * g.Wo;
      T const* kr = filter_of(p) + (g.kh - 1 - a) * g.kw;
      T win[Strip + conv_window_taps];
      T const* ws = yr + w0;
      if (!inside) {
        for (Index t = 0; t < Strip + g.kw - 1; ++t) {
          Index const j = w0 + t;
          win[t] = j >= 0 && j < g.Wo ? yr[j] : T(0);
        }
        ws = win;
      }
      DISTINV_UNROLL(4)
      for (Index b = 0; b < g.kw; ++b) {  // y[v + left - b] = ws[s + kw - 1 - b]
        T const kv = kr[g.kw - 1 - b];
        T const* wb = ws + (g.kw - 1 - b);
        for (int s = 0; s < Strip; ++s) acc[s] += kv * wb[s];
      }
    }
  }

  /// acc += the terms of the padded positions (r, q) whose source is column v, from column
  /// candidate `first` on (0: every position, 1: all but q = v + left).
  DISTINV_HOST_DEVICE void add_column_terms(T& acc, Index p, Index r, Index v, Index first) const noexcept {
    Index const Wp = g.Wo + g.kw - 1;
    for (Index tc = first; tc <= Wp - g.W; ++tc) {
      Index const q = padded_candidate(tc, v, g.left, g.W);
      if (pad_index(g.mode, q - g.left, g.W) != v) continue;
      for (Index a = 0; a < g.kh; ++a) {
        Index const i = r - a;
        if (i < 0 || i >= g.Ho) continue;
        T const* yr = y + (p * g.Ho + i) * g.Wo;
        T const* kr = filter_of(p) + (g.kh - 1 - a) * g.kw;
        for (Index b = 0; b < g.kw; ++b) {
          Index const j = q - b;
          if (j >= 0 && j < g.Wo) acc += kr[g.kw - 1 - b] * yr[j];
        }
      }
    }
  }
};

/// The circular-convolution kernel of a filter on an H x W grid (input of an R2C FFT):
/// out[q, m, n] = sum of k[q, a, b] over (a - ch) mod H == m and (b - cw) mod W == n, with the
/// centre ch = kernel_centre(kh) = kh/2, cw likewise, so that circular conv(x, k) = out (*) x.
/// Element e of out ((Bf * Cf) * H * W elements).
template <class T>
struct CircularFilter {
  /// Grid rows and columns, filter rows and columns.
  ///@{
  Index H, W, kh, kw;
  ///@}
  /// The filter, (Bf * Cf) * kh * kw values.
  T const* k;
  /// The circular kernel, (Bf * Cf) * H * W values.
  T* out;
  /// Element e of out.
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

// ---- spectral functors of the FFT engines (fft/engine.hpp): f(e, coefficient) --------------

/// Keeps the spectrum: K[e] = v (for analyse).
template <class T>
struct StoreSpectrum {
  /// Where the spectrum goes.
  Complex<T>* K;
  /// K[e] = v.
  DISTINV_HOST_DEVICE void operator()(Index e, Complex<T> const& v) const noexcept { K[e] = v; }
};

/// Spectral product on half spectra, filter spectra broadcast over planes (for filter):
/// v = scale * K v (forward), scale * conj(K) v (adjoint), scale * |K|^2 v (normal).
template <class T>
struct SpectralMultiply {
  /// Which product: K v, conj(K) v or |K|² v.
  enum Op { forward, adjoint, normal };
  Index plane_size;  ///< H * (W/2 + 1)
  /// Which filter plane serves which signal plane.
  FilterBroadcast filter;
  /// The filter's half spectra.
  Complex<T> const* K;
  /// Factor applied to the product (e.g. 1 / (H W) for the unnormalised inverse FFT).
  T scale;
  /// The product.
  Op op;
  /// x = scale · (K, conj(K) or |K|²) x at spectrum element e.
  DISTINV_HOST_DEVICE void operator()(Index e, Complex<T>& x) const noexcept {
    Index const p = e / plane_size;
    Complex<T> const kv = K[filter(p) * plane_size + e % plane_size];
    Complex<T> v;
    if (op == forward) v = cmul(kv, x);
    else if (op == adjoint) v = cmul_conj(kv, x);
    else {
      T const m = squared_magnitude(kv);
      v = {m * x.re, m * x.im};
    }
    x = {scale * v.re, scale * v.im};
  }
};

/// The data term of one more operator (for analyse of its measurement Y): B[e] += conj(K) Y[e],
/// filter spectra broadcast over planes.
template <class T>
struct AccumulateNormal {
  /// Elements of one half-spectrum plane, H * (W/2 + 1).
  Index plane_size;
  /// Which filter plane serves which signal plane.
  FilterBroadcast filter;
  /// The operator's filter spectra.
  Complex<T> const* K;
  /// The data term Σ conj(K_i) Y_i, accumulated.
  Complex<T>* B;
  /// B[e] += conj(K) y.
  DISTINV_HOST_DEVICE void operator()(Index e, Complex<T> const& y) const noexcept {
    Complex<T> const t = cmul_conj(K[filter(e / plane_size) * plane_size + e % plane_size], y);
    B[e].re += t.re;
    B[e].im += t.im;
  }
};

/// The weight of one more operator: S[e] += |K|^2 (element e of S, whose planes `filter` maps
/// onto the operator's filter planes). Element functor.
template <class T>
struct AccumulateWeight {
  /// Elements of one half-spectrum plane, H * (W/2 + 1).
  Index plane_size;
  /// Maps S's planes onto the operator's filter planes.
  FilterBroadcast filter;
  /// The operator's filter spectra.
  Complex<T> const* K;
  /// The weight Σ |K_i|², accumulated.
  T* S;
  /// S[e] += |K|².
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    S[e] += squared_magnitude(K[filter(e / plane_size) * plane_size + e % plane_size]);
  }
};

/// Spectral normal residual (for filter): v = scale (S[e] v - B[e]), S real (sum |K_i|^2, its
/// planes broadcast over the signal's by `weights`), B complex (sum conj(K_i) Y_i) or null
/// (then v = scale S[e] v).
template <class T>
struct NormalResidual {
  /// Elements of one half-spectrum plane, H * (W/2 + 1).
  Index plane_size;
  /// Maps the signal's planes onto S's planes.
  FilterBroadcast weights;
  /// The weight Σ |K_i|².
  T const* S;
  /// The data term Σ conj(K_i) Y_i, or null.
  Complex<T> const* B;
  /// Factor applied to the result.
  T scale;
  /// x = scale (S[e] x − B[e]) (or scale S[e] x without B).
  DISTINV_HOST_DEVICE void operator()(Index e, Complex<T>& x) const noexcept {
    T const s = S[weights(e / plane_size) * plane_size + e % plane_size];
    Complex<T> v{s * x.re, s * x.im};
    if (B) {
      v.re -= B[e].re;
      v.im -= B[e].im;
    }
    x = {scale * v.re, scale * v.im};
  }
};

/// scale * B[e] (for synthesise: sum_i A_i^T y_i from the data term).
template <class T>
struct ScaledSpectrum {
  /// The data term Σ conj(K_i) Y_i.
  Complex<T> const* B;
  /// Factor applied.
  T scale;
  /// scale · B[e].
  DISTINV_HOST_DEVICE Complex<T> operator()(Index e) const noexcept { return {scale * B[e].re, scale * B[e].im}; }
};

}  // namespace distinv::kernels
