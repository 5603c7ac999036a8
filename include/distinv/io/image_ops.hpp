#pragma once
// io/image_ops.hpp: small image utilities around reading, writing and showing results:
// psnr, resize_bilinear (anti-aliased when shrinking), montage (side by side, letterboxed on
// white), to_rgb, clamp01 and normalize_minmax. Images are Tensor4<T> (B, C, H, W), values
// nominally in [0, 1]. Eigen and oneTBB only.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/checked.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::io {

using distinv::psnr;  // core/signal.hpp, for every signal

namespace detail {

/// Resampling weights along one axis: output i takes taps first[i] .. first[i] + count[i] - 1
/// with weights w[i * taps + k].
struct ResampleAxis {
  std::vector<Index> first;
  std::vector<Index> count;
  std::vector<double> w;
  Index taps = 0;
};

/// Triangle (bilinear) filter on pixel centres ((i + 0.5) * n / m - 0.5 in input pixels), its
/// half-width widened to the scale factor when shrinking and `antialias` is set; weights
/// truncated at the borders and renormalised (the same as clamping the coordinate).
inline ResampleAxis resample_axis(Index n, Index m, bool antialias) {
  ResampleAxis a;
  double const scale = double(n) / double(m);
  double const support = antialias ? std::max(1.0, scale) : 1.0;
  a.taps = static_cast<Index>(std::ceil(2 * support)) + 1;
  a.first.resize(static_cast<std::size_t>(m));
  a.count.resize(static_cast<std::size_t>(m));
  a.w.assign(static_cast<std::size_t>(m * a.taps), 0.0);
  for (Index i = 0; i < m; ++i) {
    double const c = (double(i) + 0.5) * scale - 0.5;
    Index lo = static_cast<Index>(std::ceil(c - support));
    Index hi = static_cast<Index>(std::floor(c + support));
    lo = std::max<Index>(lo, 0);
    hi = std::min<Index>(hi, n - 1);
    if (lo > hi) lo = hi = std::clamp<Index>(static_cast<Index>(std::lround(c)), 0, n - 1);
    double* w = a.w.data() + i * a.taps;
    double sum = 0;
    Index k = 0;
    for (Index j = lo; j <= hi && k < a.taps; ++j, ++k) {
      w[k] = std::max(0.0, 1.0 - std::abs(double(j) - c) / support);
      sum += w[k];
    }
    if (sum <= 0) {  // the centre sits beyond the last pixel: take the nearest one
      lo = std::clamp<Index>(static_cast<Index>(std::lround(c)), 0, n - 1);
      w[0] = 1;
      k = 1;
      sum = 1;
    }
    for (Index t = 0; t < k; ++t) w[t] /= sum;
    a.first[static_cast<std::size_t>(i)] = lo;
    a.count[static_cast<std::size_t>(i)] = k;
  }
  return a;
}

}  // namespace detail

/// Resizes every (b, c) plane of `img` to H x W by bilinear interpolation on pixel centres
/// (align_corners = false). When shrinking with `antialias` (default), the triangle filter is
/// widened to the scale factor (as PIL does), so a photograph brought down to a working size
/// does not alias. A constant image stays constant and a linear ramp stays linear away from
/// the borders. Throws Error for an empty input or H, W < 1.
template <class T>
Tensor4<T> resize_bilinear(Tensor4<T> const& img, Index H, Index W, bool antialias = true) {
  auto const s = shape_of(img);
  DISTINV_REQUIRE(H >= 1 && W >= 1, "resize_bilinear: expected an output size >= 1 x 1, got ", H, " x ", W);
  DISTINV_REQUIRE(numel(s) > 0, "resize_bilinear: expected a non-empty image, got shape ", to_string(s));
  Index const planes = s[0] * s[1], h = s[2], w = s[3];
  checked_product<Index>({planes, std::max(h, H), W, Index(sizeof(double))}, "resize_bilinear");
  detail::ResampleAxis const ax = detail::resample_axis(w, W, antialias);
  detail::ResampleAxis const ay = detail::resample_axis(h, H, antialias);
  std::vector<double> mid(static_cast<std::size_t>(planes * h * W));
  Tensor4<T> out(s[0], s[1], H, W);
  T const* in = img.data();
  // Along W: each input row of every plane.
  tbb::parallel_for(tbb::blocked_range<Index>(0, planes * h), [&](tbb::blocked_range<Index> const& r) {
    for (Index row = r.begin(); row < r.end(); ++row) {
      T const* src = in + row * w;
      double* dst = mid.data() + row * W;
      for (Index i = 0; i < W; ++i) {
        double const* wt = ax.w.data() + i * ax.taps;
        T const* p = src + ax.first[static_cast<std::size_t>(i)];
        double acc = 0;
        for (Index k = 0; k < ax.count[static_cast<std::size_t>(i)]; ++k) acc += wt[k] * double(p[k]);
        dst[i] = acc;
      }
    }
  });
  // Along H: each output row of every plane.
  tbb::parallel_for(tbb::blocked_range<Index>(0, planes * H), [&](tbb::blocked_range<Index> const& r) {
    std::vector<double> acc(static_cast<std::size_t>(W));
    for (Index row = r.begin(); row < r.end(); ++row) {
      Index const p = row / H, i = row % H;
      double const* wt = ay.w.data() + i * ay.taps;
      double const* src = mid.data() + (p * h + ay.first[static_cast<std::size_t>(i)]) * W;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (Index k = 0; k < ay.count[static_cast<std::size_t>(i)]; ++k)
        for (Index x = 0; x < W; ++x) acc[static_cast<std::size_t>(x)] += wt[k] * src[k * W + x];
      T* dst = out.data() + row * W;
      for (Index x = 0; x < W; ++x) dst[x] = T(acc[static_cast<std::size_t>(x)]);
    }
  });
  return out;
}

/// A grey image (C = 1) repeated into 3 channels; an RGB image (C = 3) copied. Throws Error
/// for any other channel count.
template <class T>
Tensor4<T> to_rgb(Tensor4<T> const& img) {
  auto const s = shape_of(img);
  DISTINV_REQUIRE(s[1] == 1 || s[1] == 3, "to_rgb: expected 1 or 3 channels, got shape ", to_string(s));
  if (s[1] == 3) return img;
  Tensor4<T> out(s[0], 3, s[2], s[3]);
  Index const plane = s[2] * s[3];
  for (Index b = 0; b < s[0]; ++b)
    for (Index c = 0; c < 3; ++c)
      std::copy_n(img.data() + b * plane, plane, out.data() + (b * 3 + c) * plane);
  return out;
}

/// Every value clamped to [0, 1]; NaN becomes 0 (as write_png does).
template <HostTensor X>
std::remove_cvref_t<X> clamp01(X const& x) {
  using T = scalar_t<X>;
  std::remove_cvref_t<X> out(x.dimensions());
  for (Index i = 0; i < x.size(); ++i) {
    T const v = x.data()[i];
    out.data()[i] = std::isnan(v) ? T(0) : std::clamp(v, T(0), T(1));
  }
  return out;
}

/// (x - min) / (max - min) over the finite values of the whole tensor (one range for all
/// channels, so colours keep their balance), for showing results outside [0, 1] such as
/// A^T y. A constant tensor maps to 0; non-finite values map to 0.
template <HostTensor X>
std::remove_cvref_t<X> normalize_minmax(X const& x) {
  using T = scalar_t<X>;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (Index i = 0; i < x.size(); ++i) {
    double const v = double(x.data()[i]);
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  std::remove_cvref_t<X> out(x.dimensions());
  double const range = hi - lo;
  for (Index i = 0; i < x.size(); ++i) {
    double const v = double(x.data()[i]);
    out.data()[i] = (std::isfinite(v) && range > 0) ? T((v - lo) / range) : T(0);
  }
  return out;
}

/// The images side by side, left to right, on a white (1.0) canvas: `pad` pixels of white
/// around and between them. Images of different heights are letterboxed (centred vertically);
/// if any image is RGB, grey ones are repeated into 3 channels. Every image must have B = 1 and
/// C = 1 or 3. Result: (1, C, max H + 2 pad, sum W + (n + 1) pad). Throws Error for an empty
/// list, pad < 0 or a bad image.
template <class T>
Tensor4<T> montage(std::vector<Tensor4<T>> const& images, int pad = 4) {
  DISTINV_REQUIRE(!images.empty(), "montage: expected at least one image, got none");
  DISTINV_REQUIRE(pad >= 0, "montage: expected pad >= 0, got ", pad);
  Index C = 1, Hmax = 0, Wsum = 0;
  for (std::size_t k = 0; k < images.size(); ++k) {
    auto const s = shape_of(images[k]);
    DISTINV_REQUIRE(s[0] == 1 && (s[1] == 1 || s[1] == 3) && s[2] > 0 && s[3] > 0, "montage: image ", k,
                    ": expected shape (1, 1 or 3, H > 0, W > 0), got ", to_string(s));
    C = std::max(C, s[1]);
    Hmax = std::max(Hmax, s[2]);
    Wsum += s[3];
  }
  Index const n = static_cast<Index>(images.size());
  Tensor4<T> out(1, C, Hmax + 2 * pad, Wsum + (n + 1) * pad);
  out.setConstant(T(1));
  Index x0 = pad;
  for (auto const& img : images) {
    auto const s = shape_of(img);
    Index const y0 = pad + (Hmax - s[2]) / 2;
    for (Index c = 0; c < C; ++c) {
      Index const cs = s[1] == 1 ? 0 : c;
      for (Index y = 0; y < s[2]; ++y)
        for (Index x = 0; x < s[3]; ++x) out(0, c, y0 + y, x0 + x) = img(0, cs, y, x);
    }
    x0 += s[3] + pad;
  }
  return out;
}

}  // namespace distinv::io
