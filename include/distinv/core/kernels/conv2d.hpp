#pragma once
// core/kernels/conv2d.hpp: 2-D convolution of (B, C, H, W) planes by a filter (Bf, Cf, kh, kw)
// with Bf in {1, B}, Cf in {1, C} (broadcast), written once for host and device: conv2d pads
// the input once (Pad2d) then correlates it by the flipped filter with no boundary logic
// (Correlate2d); conv2d_adjoint, the exact transpose, correlates the zero-padded output by the
// filter and folds the padding back (Fold2d). Grid functors (row, strip) compute `Strip`
// consecutive outputs of one row (the host launches long strips, vectorised along the row;
// the device strips of 1). Plus the circular filter and the spectral functors of the FFT path.
// Convention of deepinv's conv2d: the filter is flipped, the input is padded by
// kernel_pads(kh) = ((kh-1)/2 before, kh/2 after) rows and likewise columns, so the output keeps
// the size (valid: no padding, output (H - kh + 1, W - kw + 1)). Equivalently
// y[i] = sum_a k[a] x[i - a + c] with c = kernel_centre(kh) = kh/2, odd or even kh
// (core/kernels/padding.hpp).
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

/// Number of strips of `Strip` outputs that cover a row of n outputs.
template <int Strip>
DISTINV_HOST_DEVICE constexpr Index strips_of(Index n) noexcept {
  return (n + Strip - 1) / Strip;
}

/// A stack of H x W planes inside padded planes of Hp x Wp: `top` rows before the first row and
/// `left` columns before the first column (the rest after the last), each axis by its own rule.
struct PadGeometry {
  Index planes = 0;  ///< B * C
  /// Rows and columns of a plane, and of a padded plane.
  ///@{
  Index H = 0, W = 0, Hp = 0, Wp = 0;
  ///@}
  /// Padded rows before the first row, padded columns before the first column.
  ///@{
  Index top = 0, left = 0;
  ///@}
  /// The boundary rules of the rows and of the columns.
  ///@{
  Padding row_mode = Padding::zeros, col_mode = Padding::zeros;
  ///@}
  /// True when nothing is padded (the padded planes are the planes).
  DISTINV_HOST_DEVICE bool trivial() const noexcept { return Hp == H && Wp == W; }
  /// Elements of the padded planes.
  DISTINV_HOST_DEVICE Index size() const noexcept { return planes * Hp * Wp; }
};

/// The padded input that the convolution correlates: (Ho + kh - 1) x (Wo + kw - 1) per plane.
DISTINV_HOST_DEVICE inline PadGeometry input_padding(Conv2dGeometry const& g) noexcept {
  return {g.planes, g.H, g.W, g.Ho + g.kh - 1, g.Wo + g.kw - 1, g.top, g.left, g.row_mode, g.mode};
}
/// The zero-padded output that the adjoint's full correlation reads: kh - 1 rows and kw - 1
/// columns of zeros on every side.
DISTINV_HOST_DEVICE inline PadGeometry output_zero_padding(Conv2dGeometry const& g) noexcept {
  return {g.planes,   g.Ho,     g.Wo, g.Ho + 2 * (g.kh - 1), g.Wo + 2 * (g.kw - 1), g.kh - 1, g.kw - 1,
          Padding::zeros, Padding::zeros};
}

/// out = the padded planes of in. Grid functor: (row, strip) = (p * Hp + r, s) writes padded row
/// r of plane p, columns s*Strip .. (planes * Hp rows, strips_of<Strip>(Wp) strips). The
/// source row is found once; a strip inside the plane's columns is a copy, one near the column
/// borders reads each column through the padding.
template <class T, int Strip>
struct Pad2d {
  /// The sizes.
  PadGeometry g;
  T const* in;  ///< planes * H * W
  T* out;       ///< planes * Hp * Wp
  /// Writes strip `strip` of padded row `row` (over planes * Hp rows).
  DISTINV_HOST_DEVICE void operator()(Index row, Index strip) const noexcept {
    Index const r = row % g.Hp, p = row / g.Hp, q0 = strip * Strip;
    Index const n = g.Wp - q0 < Strip ? g.Wp - q0 : Strip;
    T* o = out + row * g.Wp + q0;
    Index const sr = pad_index(g.row_mode, r - g.top, g.H);
    if (sr < 0) {
      for (Index s = 0; s < n; ++s) o[s] = T(0);
      return;
    }
    T const* src = in + (p * g.H + sr) * g.W;
    Index const c0 = q0 - g.left;                 // the plane's column of o[0]
    Index const lo = clamp_to(-c0, 0, n);          // o[lo .. hi) are the plane's columns
    Index const hi = clamp_to(g.W - c0, lo, n);
    for (Index s = 0; s < lo; ++s) o[s] = padded(src, c0 + s);
    for (Index s = lo; s < hi; ++s) o[s] = src[c0 + s];
    for (Index s = hi; s < n; ++s) o[s] = padded(src, c0 + s);
  }

 private:
  DISTINV_HOST_DEVICE static Index clamp_to(Index v, Index lo, Index hi) noexcept { return v < lo ? lo : v > hi ? hi : v; }
  /// Column c (outside the plane) of the source row src.
  DISTINV_HOST_DEVICE T padded(T const* src, Index c) const noexcept {
    Index const s = pad_index(g.col_mode, c, g.W);
    return s < 0 ? T(0) : src[s];
  }
};

/// Padded position number t (t = 0 .. Hp - H) whose source may be u: t = 0 is the interior
/// position u + top, t >= 1 walks the padding zones [0, top) then [top + n, Hp).
DISTINV_HOST_DEVICE inline Index padded_candidate(Index t, Index u, Index top, Index n) noexcept {
  if (t == 0) return u + top;
  Index const z = t - 1;
  return z < top ? z : n + z;  // z >= top: position top + n + (z - top)
}

/// True when index u of an axis of length n padded by `before` and `after` may be the source of
/// a padded position: every rule (circular, reflect, replicate) reads its padding from within
/// max(before, after) of the borders, so only those indices have more than one position.
DISTINV_HOST_DEVICE constexpr bool near_border(Index u, Index n, Index before, Index after) noexcept {
  Index const w = before > after ? before : after;
  return u <= w || u >= n - 1 - w;
}

/// x = the exact adjoint of Pad2d: every padded position of in adds to the position it was read
/// from. Grid functor: (row, strip) = (p * H + u, s) computes x[p, u, s*Strip ..) (planes * H
/// rows, strips_of<Strip>(W) strips). Away from the borders (near_border) a position has one
/// padded position, a copy; a row near them adds every padded row whose source it is
/// (padded_candidate), and a strip near them the padding columns whose source is in the strip,
/// in the order of the padded positions (first the interior one, then the padding zones).
template <class T, int Strip>
struct Fold2d {
  /// The sizes.
  PadGeometry g;
  T const* in;  ///< planes * Hp * Wp
  T* out;       ///< planes * H * W
  /// Computes strip `strip` of row `row` (over planes * H rows).
  DISTINV_HOST_DEVICE void operator()(Index row, Index strip) const noexcept {
    Index const u = row % g.H, p = row / g.H, v0 = strip * Strip;
    Index const n = g.W - v0 < Strip ? g.W - v0 : Strip;
    T* o = out + row * g.W + v0;
    T const* plane = in + p * g.Hp * g.Wp;
    Index const extra_rows = near_border(u, g.H, g.top, g.Hp - g.H - g.top) ? g.Hp - g.H : 0;
    for (Index tr = 0; tr <= extra_rows; ++tr) {
      Index const r = padded_candidate(tr, u, g.top, g.H);
      if (tr > 0 && pad_index(g.row_mode, r - g.top, g.H) != u) continue;
      add_row(plane + r * g.Wp, o, v0, n, tr == 0);
    }
  }

 private:
  /// o[j] (= or +=) the padded row xr's positions whose source is column v0 + j, j < n.
  DISTINV_HOST_DEVICE void add_row(T const* xr, T* o, Index v0, Index n, bool first) const noexcept {
    T const* s = xr + v0 + g.left;
    if (first) {
      for (Index j = 0; j < n; ++j) o[j] = s[j];
    } else {
      for (Index j = 0; j < n; ++j) o[j] += s[j];
    }
    Index const right = g.Wp - g.W - g.left;
    if (!near_border(v0, g.W, g.left, right) && !near_border(v0 + n - 1, g.W, g.left, right))
      return;  // both ends away from the borders: no column of the strip is a padded column's source
    // the padding columns, left zone then right zone, each added to its source if in the strip
    for (Index q = 0; q < g.left; ++q) add_if_in_strip(xr[q], q, o, v0, n);
    for (Index q = g.left + g.W; q < g.Wp; ++q) add_if_in_strip(xr[q], q, o, v0, n);
  }
  /// o[c - v0] += value when padded column q's source c is in [v0, v0 + n).
  DISTINV_HOST_DEVICE void add_if_in_strip(T value, Index q, T* o, Index v0, Index n) const noexcept {
    Index const c = pad_index(g.col_mode, q - g.left, g.W);
    if (c >= v0 && c < v0 + n) o[c - v0] += value;
  }
};

/// y = the valid correlation of x by the filter, y[p, i, j] = sum_{a,b} f[a, b] x[p, i + a, j + b]
/// with f = k[filter(p)], flipped (f[a, b] = k[kh-1-a, kw-1-b], a convolution) when `flip`.
/// Grid functor: (row, strip) = (p * Ho + i, s) computes y[p, i, s*Strip ..) (planes * Ho rows,
/// strips_of<Strip>(Wo) strips), Ho = Hi - kh + 1, Wo = Wi - kw + 1. No boundary: the input is
/// padded beforehand (Pad2d). The strip's outputs accumulate in a local array, four taps per
/// pass over it (the host's long strips vectorise along the strip and stay in L1; the device's
/// strips of 1 keep their one output in a register).
template <class T, int Strip>
struct Correlate2d {
  Index planes = 0;          ///< B * C
  Index Hi = 0;              ///< input plane height (padded)
  Index Wi = 0;              ///< input plane width (padded)
  Index kh = 0;              ///< filter plane height
  Index kw = 0;              ///< filter plane width
  FilterBroadcast filter{};  ///< which filter plane serves which plane
  bool flip = false;         ///< correlate by the flipped filter (a convolution)
  T const* x = nullptr;      ///< planes * Hi * Wi
  T const* k = nullptr;      ///< (Bf * Cf) * kh * kw
  T* y = nullptr;            ///< planes * Ho * Wo
  /// Computes the outputs of strip `strip` of output row `row` (over planes * Ho rows).
  DISTINV_HOST_DEVICE void operator()(Index row, Index strip) const noexcept {
    Index const Ho = Hi - kh + 1, Wo = Wi - kw + 1;
    Index const i = row % Ho, p = row / Ho, j0 = strip * Strip;
    Index const n = Wo - j0 < Strip ? Wo - j0 : Strip;
    T const* kp = k + filter(p) * kh * kw;
    T const* xp = x + (p * Hi + i) * Wi + j0;
    Index const step = flip ? -1 : 1;  // filter row a's tap b is kr[b * step]
    T acc[Strip];
    for (Index j = 0; j < n; ++j) acc[j] = T(0);
    for (Index a = 0; a < kh; ++a) {
      T const* xr = xp + a * Wi;
      T const* kr = flip ? kp + (kh - 1 - a) * kw + kw - 1 : kp + a * kw;
      Index b = 0;
      for (; b + 4 <= kw; b += 4) {
        T const k0 = kr[b * step], k1 = kr[(b + 1) * step], k2 = kr[(b + 2) * step], k3 = kr[(b + 3) * step];
        T const* s = xr + b;
        for (Index j = 0; j < n; ++j) acc[j] += k0 * s[j] + k1 * s[j + 1] + k2 * s[j + 2] + k3 * s[j + 3];
      }
      for (; b < kw; ++b) {
        T const kv = kr[b * step];
        T const* s = xr + b;
        for (Index j = 0; j < n; ++j) acc[j] += kv * s[j];
      }
    }
    T* out = y + row * Wo + j0;
    for (Index j = 0; j < n; ++j) out[j] = acc[j];
  }
};

/// Scratch elements conv2d needs: the padded input (none when g pads nothing).
DISTINV_HOST_DEVICE inline Index conv2d_scratch(Conv2dGeometry const& g) noexcept {
  PadGeometry const pg = input_padding(g);
  return pg.trivial() ? 0 : pg.size();
}
/// Scratch elements conv2d_adjoint needs: the zero-padded output, then the padded input.
DISTINV_HOST_DEVICE inline Index conv2d_adjoint_scratch(Conv2dGeometry const& g) noexcept {
  return output_zero_padding(g).size() + conv2d_scratch(g);
}

/// y = conv(x, k) (planes * Ho * Wo outputs of planes * H * W inputs): Pad2d into `scratch`
/// (conv2d_scratch(g) elements), then Correlate2d by the flipped filter. launch.grid(rows,
/// cols, f, work) runs f(r, c) (work: the cost of one call, for the host's grain); the launches
/// are issued in order (the device launcher queues them on one stream).
template <int Strip, class T, class Launch>
void conv2d(Launch const& launch, Conv2dGeometry const& g, T const* x, T const* k, T* y, T* scratch) {
  PadGeometry const pg = input_padding(g);
  T const* xp = x;
  if (!pg.trivial()) {
    launch.grid(pg.planes * pg.Hp, strips_of<Strip>(pg.Wp), Pad2d<T, Strip>{pg, x, scratch}, Index(Strip));
    xp = scratch;
  }
  launch.grid(g.planes * g.Ho, strips_of<Strip>(g.Wo),
              Correlate2d<T, Strip>{g.planes, pg.Hp, pg.Wp, g.kh, g.kw, g.filter, true, xp, k, y},
              Index(Strip) * g.kh * g.kw);
}

/// x = conv^T(y), the exact adjoint of conv2d (planes * H * W of planes * Ho * Wo): y
/// zero-padded by kh - 1, kw - 1 on every side (Pad2d), its full correlation by the filter
/// (Correlate2d) on the padded input's grid, whose padding Fold2d folds back. `scratch`:
/// conv2d_adjoint_scratch(g) elements. Launches as conv2d.
template <int Strip, class T, class Launch>
void conv2d_adjoint(Launch const& launch, Conv2dGeometry const& g, T const* y, T const* k, T* x, T* scratch) {
  PadGeometry const zg = output_zero_padding(g), pg = input_padding(g);
  T* const yz = scratch;
  T* const xp = pg.trivial() ? x : scratch + zg.size();
  launch.grid(zg.planes * zg.Hp, strips_of<Strip>(zg.Wp), Pad2d<T, Strip>{zg, y, yz}, Index(Strip));
  launch.grid(g.planes * pg.Hp, strips_of<Strip>(pg.Wp),
              Correlate2d<T, Strip>{g.planes, zg.Hp, zg.Wp, g.kh, g.kw, g.filter, false, yz, k, xp},
              Index(Strip) * g.kh * g.kw);
  if (!pg.trivial())
    launch.grid(g.planes * g.H, strips_of<Strip>(g.W), Fold2d<T, Strip>{pg, xp, x}, Index(Strip));
}

/// The circular-convolution kernel of a filter on an H x W grid (input of an R2C FFT):
/// out[q, m, n] = sum of k[q, a, b] over (a - ch) mod H == m and (b - cw) mod W == n, with the
/// centre ch = kernel_centre(kh) = kh/2, cw likewise, so that circular conv(x, k) = out (*) x.
/// Element e of out ((Bf * Cf) * H * W elements); value(q, m, n) is the element itself (for a
/// caller that holds only some rows of the grid, layout/slab_circular_normal.hpp).
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
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = value(e / (W * H), (e / W) % H, e % W); }
  /// Element (q, m, n) of the circular kernel.
  DISTINV_HOST_DEVICE T value(Index q, Index m, Index n) const noexcept {
    Index const ch = kernel_centre(kh), cw = kernel_centre(kw);
    T const* kq = k + q * kh * kw;
    T acc = T(0);
    for (Index a = 0; a < kh; ++a) {
      if (pad_index(Padding::circular, a - ch, H) != m) continue;
      for (Index b = 0; b < kw; ++b)
        if (pad_index(Padding::circular, b - cw, W) == n) acc += kq[a * kw + b];
    }
    return acc;
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
