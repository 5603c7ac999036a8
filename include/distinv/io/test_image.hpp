#pragma once
// io/test_image.hpp: a generated colour test picture for deblurring and denoising runs, so that
// nothing has to be downloaded. It mixes what such methods find hard and easy: smooth colour
// gradients, flat disks with sharp (anti-aliased) rims, a shaded sphere, a triangle with oblique
// edges, a sinusoidal chirp and square-wave stripes of periods 16 to 4 pixels, a Siemens star,
// 1-pixel lines and bitmap text. Deterministic (no random numbers). Eigen and oneTBB only.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <string_view>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/checked.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::io {

namespace detail {

using Rgb = std::array<double, 3>;

inline void blend(Rgb& dst, Rgb const& src, double alpha) {
  alpha = std::clamp(alpha, 0.0, 1.0);
  for (int c = 0; c < 3; ++c) dst[c] = (1 - alpha) * dst[c] + alpha * src[c];
}

/// Coverage in [0, 1] of a pixel by a disk: a one-pixel ramp across the rim.
inline double disk_coverage(double px, double py, double cx, double cy, double r) {
  return std::clamp(r - std::hypot(px - cx, py - cy) + 0.5, 0.0, 1.0);
}

/// Opacity of a one-pixel-wide line segment at a pixel (tent of the distance).
inline double line_coverage(double px, double py, double ax, double ay, double bx, double by) {
  double const dx = bx - ax, dy = by - ay;
  double const t = std::clamp(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::clamp(1.0 - std::hypot(px - ax - t * dx, py - ay - t * dy), 0.0, 1.0);
}

/// 5x7 bitmap glyphs of the letters of "DISTINV" (row-major, top row first, '1' = ink).
inline bool glyph_bit(char ch, int row, int col) {
  static constexpr std::string_view D = "11110100011000110001100011000111110";
  static constexpr std::string_view I = "11111001000010000100001000010011111";
  static constexpr std::string_view S = "01111100001000001110000010000111110";
  static constexpr std::string_view T = "11111001000010000100001000010000100";
  static constexpr std::string_view N = "10001110011010110011100011000110001";
  static constexpr std::string_view V = "10001100011000110001010100101000100";
  std::string_view g;
  switch (ch) {
    case 'D': g = D; break;
    case 'I': g = I; break;
    case 'S': g = S; break;
    case 'T': g = T; break;
    case 'N': g = N; break;
    case 'V': g = V; break;
    default: return false;
  }
  return g[static_cast<std::size_t>(row * 5 + col)] == '1';
}

/// Whether pixel (x, y) is ink of `text` drawn with its top-left corner at (x0, y0) and glyph
/// pixels of `g` x `g` image pixels (glyph cell 6 x 7, one column of spacing).
inline bool text_ink(Index x, Index y, Index x0, Index y0, Index g, std::string_view text) {
  if (x < x0 || y < y0) return false;
  Index const lx = x - x0, ly = y - y0;
  Index const k = lx / (6 * g);
  if (k >= static_cast<Index>(text.size()) || ly >= 7 * g) return false;
  Index const col = (lx % (6 * g)) / g, row = ly / g;
  return col < 5 && glyph_bit(text[static_cast<std::size_t>(k)], static_cast<int>(row), static_cast<int>(col));
}

/// The colour of pixel (x, y) of the H x W test picture.
inline Rgb test_pixel(Index y, Index x, Index H, Index W) {
  double const px = double(x) + 0.5, py = double(y) + 0.5;
  double const u = px / double(W), v = py / double(H);
  double const m = double(std::min(H, W));
  constexpr double pi = 3.14159265358979323846;

  // Smooth background: a diagonal colour gradient with a slow wave.
  Rgb c{0.18 + 0.40 * u + 0.08 * v, 0.22 + 0.30 * v + 0.05 * std::sin(2 * pi * u), 0.60 - 0.30 * u + 0.15 * v};

  // Upper half: green rectangle, magenta triangle, red disk with a yellow disk, shaded sphere.
  if (u > 0.38 && u < 0.62 && v > 0.05 && v < 0.20) c = {0.25, 0.70, 0.32};
  {
    double const ax = 0.42 * W, bx = 0.58 * W, ty = 0.26 * H, apx = 0.50 * W, apy = 0.46 * H;
    double const t = (py - ty) / (apy - ty);  // 0 on the top edge, 1 at the apex
    if (t >= 0 && t <= 1) {
      double const half = (1 - t) * 0.5 * (bx - ax);
      if (std::abs(px - apx) <= half) c = {0.80, 0.25, 0.70};
    }
  }
  blend(c, {0.88, 0.30, 0.18}, disk_coverage(px, py, 0.22 * W, 0.26 * H, 0.18 * m));
  blend(c, {0.98, 0.86, 0.25}, disk_coverage(px, py, 0.25 * W, 0.22 * H, 0.07 * m));
  {
    double const cx = 0.77 * W, cy = 0.26 * H, r = 0.17 * m;
    double const cover = disk_coverage(px, py, cx, cy, r);
    if (cover > 0) {
      double const nx = (px - cx) / r, ny = (py - cy) / r;
      double const nz = std::sqrt(std::max(0.0, 1 - nx * nx - ny * ny));
      double const lx = -0.45, ly = -0.55, lz = 0.70;  // light direction (unit length)
      double const diffuse = std::max(0.0, nx * lx + ny * ly + nz * lz);
      double const hz = (nz + 1) * 0.5, hx = nx * 0.5 + lx * 0.5, hy = ny * 0.5 + ly * 0.5;
      double const spec = std::pow(std::max(0.0, (hx * lx + hy * ly + hz * lz) / std::hypot(hx, hy, hz)), 30);
      Rgb s{};
      Rgb const base{0.20, 0.42, 0.92};
      for (int k = 0; k < 3; ++k) s[k] = base[k] * (0.15 + 0.85 * diffuse) + 0.35 * spec;
      blend(c, s, cover);
    }
  }
  // One-pixel lines across the upper half, and a thin white ring around the sphere.
  blend(c, {0.05, 0.05, 0.05}, line_coverage(px, py, 0.02 * W, 0.47 * H, 0.47 * W, 0.02 * H));
  blend(c, {0.98, 0.98, 0.98}, line_coverage(px, py, 0.30 * W, 0.46 * H, 0.98 * W, 0.44 * H));
  blend(c, {0.98, 0.98, 0.98},
        std::clamp(1.0 - std::abs(std::hypot(px - 0.77 * W, py - 0.26 * H) - 0.20 * m), 0.0, 1.0));

  // Text band across the middle: "DISTINV" large on the left, small on the right.
  Index const g = std::max<Index>(1, static_cast<Index>(0.045 * H / 7));
  Index const band0 = static_cast<Index>(0.49 * H), band1 = band0 + 9 * g;
  if (y >= band0 && y < band1) {
    c = {0.95, 0.94, 0.90};
    Index const gs = std::max<Index>(1, g / 2);
    bool const ink = text_ink(x, y, static_cast<Index>(0.04 * W), band0 + g, g, "DISTINV") ||
                     text_ink(x, y, static_cast<Index>(0.62 * W), band0 + g + (7 * g - 7 * gs) / 2, gs, "DISTINV");
    if (ink) c = {0.05, 0.05, 0.12};
  }

  // Lower left: a sinusoidal chirp (period 16 px down to 5 px) above square-wave stripes of
  // periods 16, 10, 6 and 4 px: fine, but above what a moderate blur plus noise erases, so that
  // the picture measures recovery of detail rather than of information that is gone.
  Index const top = band1 + std::max<Index>(2, H / 50);
  Index const x0 = static_cast<Index>(0.03 * W), x1 = static_cast<Index>(0.50 * W);
  Index const ymid = top + (static_cast<Index>(0.97 * H) - top) / 2, y1 = static_cast<Index>(0.97 * H);
  if (x >= x0 && x < x1 && y >= top && y < y1) {
    double const wp = double(x1 - x0), lx = double(x - x0) + 0.5;
    if (y < ymid) {
      double const f0 = 1.0 / 16, f1 = 1.0 / 5;
      double const s = 0.5 + 0.45 * std::sin(2 * pi * (f0 * lx + (f1 - f0) * lx * lx / (2 * wp)));
      c = {0.10 + 0.80 * s, 0.10 + 0.75 * s, 0.15 + 0.60 * s};
    } else {
      static constexpr Index periods[4] = {16, 10, 6, 4};
      Index const band = std::min<Index>(3, static_cast<Index>(4 * (lx / wp)));
      Index const p = periods[band];
      bool const dark = ((y - ymid) % p) < p / 2;
      c = dark ? Rgb{0.10, 0.12, 0.30} : Rgb{0.95, 0.92, 0.80};
    }
  }

  // Lower right: a Siemens star of 12 spoke pairs, its hub (where spokes get thinner than
  // about two pixels) a grey disk.
  {
    double const cx = 0.76 * W, cy = 0.5 * (double(top) + 0.97 * H), r = std::min(0.20 * m, 0.45 * (0.97 * H - top));
    double const d = std::hypot(px - cx, py - cy);
    if (d <= r) {
      double const theta = std::atan2(py - cy, px - cx);
      c = std::sin(12 * theta) >= 0 ? Rgb{0.12, 0.08, 0.10} : Rgb{0.97, 0.90, 0.78};
      if (d < 12 * 2.0 / pi) c = {0.55, 0.50, 0.46};  // spoke pairs of circumference / 12 < 4 px
    }
  }
  for (auto& k : c) k = std::clamp(k, 0.0, 1.0);
  return c;
}

/// Throws Error unless an H x W test picture of C channels of T can be made: H, W >= 16, C = 1
/// or 3 and its byte count fits in an Index.
template <class T>
void require_test_image_size(Index H, Index W, Index C) {
  DISTINV_REQUIRE(H >= 16 && W >= 16, "test_image: expected H, W >= 16, got ", H, " x ", W);
  DISTINV_REQUIRE(C == 1 || C == 3, "test_image: expected C = 1 or 3 channels, got ", C);
  // Eigen would wrap the element count round and write past a small buffer.
  checked_product<Index>({C, H, W, Index(sizeof(T))}, "test_image");
}

/// Rows [lo, lo + rows of `out`) of the H x W test picture into `out`, a (1, C, rows, W) tensor.
template <class T>
void fill_test_rows(Tensor4<T>& out, Index lo, Index H, Index W) {
  Index const C = out.dimension(1), rows = out.dimension(2);
  tbb::parallel_for(tbb::blocked_range<Index>(0, rows), [&](tbb::blocked_range<Index> const& r) {
    for (Index i = r.begin(); i < r.end(); ++i)
      for (Index x = 0; x < W; ++x) {
        Rgb const p = test_pixel(lo + i, x, H, W);
        if (C == 3) {
          for (Index k = 0; k < 3; ++k) out(0, k, i, x) = T(p[static_cast<std::size_t>(k)]);
        } else {
          out(0, 0, i, x) = T(std::clamp(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2], 0.0, 1.0));
        }
      }
  });
}

}  // namespace detail

/// The H x W test picture as a (1, C, H, W) tensor in [0, 1]; C = 3 (RGB) or 1 (its luma,
/// 0.299 R + 0.587 G + 0.114 B). Same values on every call and every machine (up to libm
/// rounding). Throws Error unless H, W >= 16, C is 1 or 3 and the byte count fits in an Index.
/// Each pixel depends on its position only, so any band of rows can be made alone
/// (layout::test_image_slab makes a rank's rows).
template <class T = float>
  requires std::floating_point<T>
Tensor4<T> test_image(Index H, Index W, Index C = 3) {
  detail::require_test_image_size<T>(H, W, C);
  Tensor4<T> img(1, C, H, W);
  detail::fill_test_rows(img, 0, H, W);
  return img;
}

}  // namespace distinv::io
