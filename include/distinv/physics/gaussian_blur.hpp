#pragma once
// physics/gaussian_blur.hpp: deepinv's gaussian_blur kernel (deepinv >= 0.4.1, PR #1152;
// deepinv 0.5 physics/functional/blur.py): on a (2c+1)^2 grid, c = int(max(sigma)/0.3 + 1),
// the anisotropic Gaussian of standard deviations (sigma_rows, sigma_cols) rotated by `angle`
// degrees, evaluated analytically at the pixel centres (no resampling), normalised to sum 1.
// Eigen + core only.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::physics {

/// Anisotropic kernel (h, w) = (2c+1, 2c+1). sigma_yx = {sigma along rows (deepinv's
/// sigma[0]), sigma along columns (sigma[1])}, both > 0. With x = j - c, y = i - c (column and
/// row offsets) and a = angle in radians, as deepinv:
///   (u, v) = (cos a x - sin a y, sin a x + cos a y),
///   k(i, j) proportional to exp(-u^2 / (2 sigma_cols^2)) exp(-v^2 / (2 sigma_rows^2)),
/// so a positive angle turns the kernel counter-clockwise as displayed (rows downwards).
template <class T>
Tensor<T, 2> gaussian_blur(std::array<double, 2> sigma_yx, double angle_degrees = 0) {
  double const sy = sigma_yx[0], sx = sigma_yx[1];
  DISTINV_REQUIRE(sy > 0 && sx > 0 && std::isfinite(sy) && std::isfinite(sx),
                  "gaussian_blur: expected positive sigmas, got (", sy, ", ", sx, ")");
  DISTINV_REQUIRE(std::isfinite(angle_degrees), "gaussian_blur: expected a finite angle, got ", angle_degrees);
  Index const c = static_cast<Index>(std::max(sy, sx) / 0.3 + 1);
  Index const k = 2 * c + 1;
  double const a = angle_degrees * std::numbers::pi / 180.0;
  double const ca = std::cos(a), sa = std::sin(a);
  Tensor<double, 2> g(k, k);
  double sum = 0;
  for (Index i = 0; i < k; ++i)
    for (Index j = 0; j < k; ++j) {
      double const x = double(j - c), y = double(i - c);
      double const u = ca * x - sa * y, v = sa * x + ca * y;
      g(i, j) = std::exp(-0.5 * u * u / (sx * sx)) * std::exp(-0.5 * v * v / (sy * sy));
      sum += g(i, j);
    }
  Tensor<T, 2> out(k, k);
  for (Index i = 0; i < g.size(); ++i) out.data()[i] = static_cast<T>(g.data()[i] / sum);
  return out;
}

/// Isotropic kernel (deepinv's gaussian_blur(sigma=s)); the angle changes nothing (up to
/// rounding), as in deepinv.
template <class T>
Tensor<T, 2> gaussian_blur(double sigma, double angle_degrees = 0) {
  return gaussian_blur<T>(std::array<double, 2>{sigma, sigma}, angle_degrees);
}

}  // namespace distinv::physics
