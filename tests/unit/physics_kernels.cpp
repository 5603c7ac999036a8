// gaussian_blur: its isotropic values and the properties of deepinv 0.5's analytic rotated
// Gaussian (deepinv >= 0.4.1 evaluates the rotated Gaussian at the pixel centres; before, it
// rotated the axis-aligned kernel by bilinear resampling, which distinv transcribed until deepinv
// 0.5 became the reference). The values of deepinv 0.5 itself, rotated cases included, are
// checked against its own arrays in deepinv_reference.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "distinv/physics/gaussian_blur.hpp"

using namespace distinv;
using namespace distinv::physics;

namespace {
double const g_iso[25] = {6.9624781887990738e-08, 2.8088641754266942e-05, 0.00020754854966504427, 2.8088641754266942e-05, 6.9624781887990738e-08, 2.8088641754266942e-05, 0.011331766853773576, 0.08373106098253584, 0.011331766853773576, 2.8088641754266945e-05, 0.00020754854966504427, 0.08373106098253584, 0.61869350682294055, 0.08373106098253584, 0.0002075485496650443, 2.8088641754266942e-05, 0.011331766853773576, 0.08373106098253584, 0.011331766853773576, 2.8088641754266945e-05, 6.9624781887990738e-08, 2.8088641754266945e-05, 0.0002075485496650443, 2.8088641754266945e-05, 6.9624781887990752e-08};

template <class T>
void check_kernel(Tensor<T, 2> const& k, double const* want, Index size) {
  REQUIRE(k.dimension(0) == size);
  REQUIRE(k.dimension(1) == size);
  double const tol = sizeof(T) == 4 ? 1e-7 : 1e-14;  // absolute; the peak is < 1
  for (Index i = 0; i < size * size; ++i) {
    CAPTURE(i);
    CHECK(std::abs(double(k.data()[i]) - want[i]) < tol);
  }
}
template <class T>
double sum_of(Tensor<T, 2> const& k) {
  double s = 0;
  for (Index i = 0; i < k.size(); ++i) s += k.data()[i];
  return s;
}
}  // namespace

TEST_CASE_TEMPLATE("gaussian_blur: isotropic values; the rotated kernel is the analytic rotated Gaussian", T,
                   float, double) {
  // g_iso: exp(-(i^2 + j^2) / (2 * 0.25)) on the 5 x 5 grid, normalised (plain Python, %.17g).
  check_kernel(gaussian_blur<T>(0.5), g_iso, 5);
  check_kernel(gaussian_blur<T>(0.5, 37), g_iso, 5);  // turning an isotropic kernel changes nothing
  double const tol = sizeof(T) == 4 ? 1e-7 : 1e-15;
  auto const k = gaussian_blur<T>({0.7, 2.2}, 30), m = gaussian_blur<T>({0.7, 2.2}, -30),
             h = gaussian_blur<T>({0.7, 2.2}, 210);
  Index const n = k.dimension(0), c = n / 2;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(std::abs(double(k(i, j)) - double(k(n - 1 - i, n - 1 - j))) < tol);  // point symmetric
      CHECK(std::abs(double(k(i, j)) - double(h(i, j))) < tol);                  // period 180 degrees
      CHECK(std::abs(double(k(i, j)) - double(m(i, n - 1 - j))) < tol);          // -angle: mirrored columns
    }
  // The long axis (sigma_cols = 2.2) turned counter-clockwise as displayed: it runs up and right,
  // through (row c - 2, col c + 4) rather than (row c + 2, col c + 4); and no bilinear
  // smoothing: the peak keeps the analytic value 1 / sum.
  CHECK(double(k(c - 2, c + 4)) > 10 * double(k(c + 2, c + 4)));
  double sum = 0;
  double const a = 30 * std::numbers::pi / 180;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) {
      double const x = double(j - c), y = double(i - c), u = std::cos(a) * x - std::sin(a) * y,
                   v = std::sin(a) * x + std::cos(a) * y;
      sum += std::exp(-u * u / (2 * 2.2 * 2.2) - v * v / (2 * 0.7 * 0.7));
    }
  CHECK(std::abs(double(k(c, c)) - 1 / sum) < tol);
}

TEST_CASE_TEMPLATE("gaussian_blur: size 2*int(max(sigma)/0.3+1)+1, unit sum, symmetries", T, float, double) {
  // Sizes from the formula evaluated in Python: 1.0 -> 9, 2.0 -> 15, 3.0 -> 23 (3/0.3 rounds
  // above 10), (1.5, 3.0) -> 23, 0.3 -> 5, 0.6 -> 7.
  CHECK(gaussian_blur<T>(1.0).dimension(0) == 9);
  CHECK(gaussian_blur<T>(2.0).dimension(1) == 15);
  CHECK(gaussian_blur<T>(3.0).dimension(0) == 23);
  CHECK(gaussian_blur<T>({1.5, 3.0}, 30).dimension(0) == 23);
  CHECK(gaussian_blur<T>(0.3).dimension(0) == 5);
  CHECK(gaussian_blur<T>(0.6).dimension(0) == 7);
  double const tol = sizeof(T) == 4 ? 1e-6 : 1e-14;
  for (auto k : {gaussian_blur<T>(2.0), gaussian_blur<T>({1.5, 3.0}, 30), gaussian_blur<T>({0.7, 2.2}, -13)})
    CHECK(std::abs(sum_of(k) - 1) < tol);
  // sigma[0] runs along rows: (3, 1) is the transpose of (1, 3); a 90 degree turn of
  // (1, 3) is (3, 1) (up to the rounding of cos 90 degrees).
  auto a = gaussian_blur<T>({3.0, 1.0}), b = gaussian_blur<T>({1.0, 3.0}), c = gaussian_blur<T>({1.0, 3.0}, 90);
  for (Index i = 0; i < a.dimension(0); ++i)
    for (Index j = 0; j < a.dimension(1); ++j) {
      CHECK(std::abs(double(a(i, j)) - double(b(j, i))) < tol);
      CHECK(std::abs(double(a(i, j)) - double(c(i, j))) < tol);
    }
  CHECK(double(a(1, 11)) > double(a(11, 1)));  // spread down the rows (vertical), narrow across columns
  CHECK_THROWS_WITH_AS(gaussian_blur<T>({-1.0, 1.0}), "distinv: gaussian_blur: expected positive sigmas, got (-1, 1)",
                       Error);
  CHECK_THROWS_AS(gaussian_blur<T>(0.0), Error);
}
