#pragma once
// physics/filters.hpp: deepinv's anti-aliasing filters for Downsampling (deepinv 0.5,
// physics/functional/blur.py): bilinear_filter(f), 2f x 2f, and bicubic_filter(f), 4f x 4f
// (Keys, a = -0.5), separable, sampled at the offsets (t + 0.5) / f, normalised to sum 1. Both
// are even-sized, so they rely on the kernel centre k/2 (kernel_centre). Eigen + core only.
#include <cmath>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::physics {

namespace detail {
/// The outer product w w^T of the 1-D taps w (length n), divided by its sum.
template <class T, class Taps>
Tensor<T, 2> separable_filter(Index n, Taps taps) {
  Tensor<double, 2> k(n, n);
  double s = 0;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) {
      k(i, j) = taps(i) * taps(j);
      s += k(i, j);
    }
  Tensor<T, 2> out(n, n);
  for (Index i = 0; i < k.size(); ++i) out.data()[i] = static_cast<T>(k.data()[i] / s);
  return out;
}
}  // namespace detail

/// deepinv's bilinear_filter(factor): w(t) = 1 - |x_t| at x_t = (t - factor + 0.5) / factor,
/// t = 0 .. 2 factor - 1; (2 factor) x (2 factor).
template <class T>
Tensor<T, 2> bilinear_filter(Index factor) {
  DISTINV_REQUIRE(factor >= 1, "bilinear_filter: expected a factor >= 1, got ", factor);
  double const f = double(factor);
  return detail::separable_filter<T>(2 * factor, [f](Index t) { return 1 - std::abs((double(t) - f + 0.5) / f); });
}

/// deepinv's bicubic_filter(factor): the Keys cubic (a = -0.5) at x_t = (t - 2 factor + 0.5) /
/// factor, t = 0 .. 4 factor - 1; (4 factor) x (4 factor).
template <class T>
Tensor<T, 2> bicubic_filter(Index factor) {
  DISTINV_REQUIRE(factor >= 1, "bicubic_filter: expected a factor >= 1, got ", factor);
  double const f = double(factor);
  return detail::separable_filter<T>(4 * factor, [f](Index t) {
    double const a = -0.5, x = std::abs((double(t) - 2 * f + 0.5) / f);
    if (x <= 1) return (a + 2) * x * x * x - (a + 3) * x * x + 1;
    if (x < 2) return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
    return 0.0;
  });
}

}  // namespace distinv::physics
