#pragma once
// physics/gaussian_blur.hpp: deepinv's gaussian_blur kernel (deepinv.physics.blur): an
// axis-aligned Gaussian of standard deviations (sigma_rows, sigma_cols) on a (2c+1)^2 grid,
// c = int(max(sigma)/0.3 + 1), rotated by `angle` degrees exactly as torchvision's
// rotate(..., BILINEAR) does it (about the grid centre, zeros outside), normalised to sum 1.
// Eigen + core only.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::physics {

/// Anisotropic kernel (h, w) = (2c+1, 2c+1). sigma_yx = {sigma along rows (deepinv's
/// sigma[0]), sigma along columns (sigma[1])}, both > 0. A positive angle turns the kernel
/// counter-clockwise as displayed (torchvision's convention).
template <class T>
Tensor<T, 2> gaussian_blur(std::array<double, 2> sigma_yx, double angle_degrees = 0) {
  double const sy = sigma_yx[0], sx = sigma_yx[1];
  DISTINV_REQUIRE(sy > 0 && sx > 0 && std::isfinite(sy) && std::isfinite(sx),
                  "gaussian_blur: expected positive sigmas, got (", sy, ", ", sx, ")");
  DISTINV_REQUIRE(std::isfinite(angle_degrees), "gaussian_blur: expected a finite angle, got ", angle_degrees);
  Index const c = static_cast<Index>(std::max(sy, sx) / 0.3 + 1);
  Index const k = 2 * c + 1;
  Tensor<double, 2> g(k, k);
  for (Index i = 0; i < k; ++i)
    for (Index j = 0; j < k; ++j) {
      double const u = double(i - c) / sy, v = double(j - c) / sx;
      g(i, j) = std::exp(-(u * u + v * v) / 2);
    }
  Tensor<double, 2> r = g;
  if (angle_degrees != 0) {
    // Output pixel (i, j) samples the source at the centre-relative point rotated by angle:
    // col = cos(a) x - sin(a) y + c, row = sin(a) x + cos(a) y + c with x = j - c, y = i - c
    // (torchvision's inverse affine matrix for rotate(-angle) on pixel centres), bilinearly.
    double const a = angle_degrees * std::numbers::pi / 180.0;
    double const ca = std::cos(a), sa = std::sin(a);
    auto at = [&](Index row, Index col) { return (row < 0 || row >= k || col < 0 || col >= k) ? 0.0 : g(row, col); };
    for (Index i = 0; i < k; ++i)
      for (Index j = 0; j < k; ++j) {
        double const x = double(j - c), y = double(i - c);
        double const col = ca * x - sa * y + double(c), row = sa * x + ca * y + double(c);
        double const r0 = std::floor(row), c0 = std::floor(col);
        double const fr = row - r0, fc = col - c0;
        Index const ri = static_cast<Index>(r0), ci = static_cast<Index>(c0);
        r(i, j) = (1 - fr) * ((1 - fc) * at(ri, ci) + fc * at(ri, ci + 1)) +
                  fr * ((1 - fc) * at(ri + 1, ci) + fc * at(ri + 1, ci + 1));
      }
  }
  double s = 0;
  for (Index i = 0; i < r.size(); ++i) s += r.data()[i];
  Tensor<T, 2> out(k, k);
  for (Index i = 0; i < r.size(); ++i) out.data()[i] = static_cast<T>(r.data()[i] / s);
  return out;
}

/// Isotropic kernel (deepinv's gaussian_blur(sigma=s)); the angle changes nothing but the
/// interpolation error, as in deepinv.
template <class T>
Tensor<T, 2> gaussian_blur(double sigma, double angle_degrees = 0) {
  return gaussian_blur<T>(std::array<double, 2>{sigma, sigma}, angle_degrees);
}

}  // namespace distinv::physics
