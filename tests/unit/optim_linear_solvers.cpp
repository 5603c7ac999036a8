// CircularNormal (fused normal operator and L2 gradient of circular blurs) against the plain
// sums; conjugate gradient, the power method, A_dagger and compute_sqnorm on problems with
// independently known answers.
#include <doctest/doctest.h>

#include <complex>

#include "distinv/config.hpp"
#include "distinv/linalg/cg.hpp"
#include "distinv/linalg/power_method.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/denoising.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/inpainting.hpp"
#include "distinv/physics/pseudo_inverse.hpp"
#include "distinv/physics/stacked.hpp"
#include "physics_helpers.hpp"

using namespace distinv;
using namespace distinv::physics;
using distinv::testing::random_tensor;

#if DISTINV_HAS_FFTW
TEST_CASE_TEMPLATE("CircularNormal: fused normal and gradient equal the plain sums", T, float, double) {
  Shape<4> const s{2, 3, 20, 18};
  std::vector<Blur<T>> ops;
  ops.emplace_back(gaussian_blur<T>(1.0), Padding::circular, BlurMethod::direct);
  ops.emplace_back(gaussian_blur<T>({0.8, 2.5}, 35), Padding::circular);
  ops.emplace_back(random_tensor<T, 2>(Shape<2>{4, 3}, 5), Padding::circular, BlurMethod::fft);
  auto x = random_tensor<T, 4>(s, 1);
  CircularNormal<T> fused(s), normal_only(s);
  std::vector<Tensor4<T>> ys;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    ys.push_back(random_tensor<T, 4>(s, 10 + i));
    fused.add(ops[i], ys.back());
    normal_only.add_operator(ops[i]);
  }
  CHECK(fused.operator_count() == 3);
  Tensor4<T> plain_normal = zeros<T>(s), plain_grad = zeros<T>(s);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    plain_normal += ops[i].A_adjoint(ops[i].A(x));
    plain_grad += ops[i].A_adjoint(ops[i].A(x) - ys[i]);
  }
  double const tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  CHECK(max_abs_diff(fused.normal(x), plain_normal) <= tol * max_abs(plain_normal));
  CHECK(max_abs_diff(normal_only.normal(x), plain_normal) <= tol * max_abs(plain_normal));
  CHECK(max_abs_diff(fused.grad(x), plain_grad) <= tol * max_abs(plain_grad));
  CHECK(fused.spectrum_sum().size() == 20 * 10);
  CHECK(fused.data_term().size() == 2 * 6 * 20 * 10);

  // The spans are the storage: doubling S and Bhat in place (what an all-reduce over two
  // ranks holding the same operators does) doubles the gradient.
  for (auto& v : fused.spectrum_sum()) v *= 2;
  for (auto& v : fused.data_term()) v *= 2;
  Tensor4<T> twice = plain_grad * T(2);
  CHECK(max_abs_diff(fused.grad(x), twice) <= tol * max_abs(twice));
  fused.reset();
  CHECK(max_abs(fused.grad(x)) == 0);

  CHECK_THROWS_AS(fused.add(Blur<T>(gaussian_blur<T>(1.0), Padding::reflect), ys[0]), Error);
  CHECK_THROWS_AS(fused.add(ops[0], Tensor4<T>(2, 3, 20, 17)), Error);
  CHECK_THROWS_AS(fused.grad(Tensor4<T>(1, 3, 20, 18)), Error);
}

TEST_CASE("power method: ||A||^2 of a circular blur equals max |K|^2 over frequencies") {
  auto k = gaussian_blur<double>({0.7, 1.6}, 25);
  k(0, 0) += 0.3;  // make it non-symmetric so that the peak is not trivially 1
  Blur<double> b(k, Padding::circular, BlurMethod::direct);
  auto const spec = b.spectrum(16, 12);
  double want = 0;
  for (auto const& c : *spec) want = std::max(want, std::norm(std::complex<double>(c.re, c.im)));
  // Independent of the FFT: the DC gain is the kernel sum, a lower bound.
  double ksum = 0;
  for (Index i = 0; i < k.size(); ++i) ksum += k.data()[i];
  CHECK(want >= ksum * ksum - 1e-12);
  auto x0 = random_tensor<double, 4>(Shape<4>{1, 1, 16, 12}, 77);
  double const got = compute_sqnorm(b, x0, {.max_iter = 500, .tol = 1e-12});
  CHECK(got == doctest::Approx(want).epsilon(1e-6));
}
#endif

TEST_CASE_TEMPLATE("conjugate gradient solves a well-posed blur + identity system", T, float, double) {
  // (AᵀA + I) x = b with A a reflect-padded blur: symmetric positive definite, condition <= 2.
  Blur<T> a(gaussian_blur<T>(1.5), Padding::reflect);
  Shape<4> const s{1, 2, 14, 11};
  auto x_true = random_tensor<T, 4>(s, 3);
  auto apply = [&](Tensor4<T> const& x) { return Tensor4<T>(a.A_adjoint_A(x) + x); };
  Tensor4<T> b = apply(x_true);
  double const tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  auto res = linalg::conjugate_gradient(apply, b, zeros<T>(s), {.max_iter = 200, .tol = tol});
  CHECK(res.converged);
  CHECK(res.iterations > 1);
  CHECK(max_abs_diff(res.x, x_true) < 20 * tol * max_abs(x_true));
  auto none = linalg::conjugate_gradient(apply, b, zeros<T>(s), {.max_iter = 0, .tol = tol});
  CHECK(!none.converged);
  CHECK(max_abs(none.x) == 0);
  CHECK_THROWS_AS(linalg::conjugate_gradient(apply, b, Tensor4<T>(1, 2, 14, 10), {}), Error);
}

TEST_CASE_TEMPLATE("A_dagger inverts an inpainting on its support; power method on a diagonal operator", T, float,
                   double) {
  Shape<4> const s{2, 1, 6, 7};
  Tensor4<T> mask(1, 1, 6, 7);
  for (Index i = 0; i < mask.size(); ++i) mask.data()[i] = T(i % 3 == 0 ? 0 : (i % 3 == 1 ? 1 : 2));
  Inpainting<T> op(mask);
  auto x = random_tensor<T, 4>(s, 4);
  auto xd = A_dagger(op, op.A(x));
  for (Index b = 0; b < 2; ++b)
    for (Index i = 0; i < 6; ++i)
      for (Index j = 0; j < 7; ++j) {
        double const want = mask(0, 0, i, j) == 0 ? 0.0 : double(x(b, 0, i, j));
        CHECK(std::abs(double(xd(b, 0, i, j)) - want) < (sizeof(T) == 4 ? 1e-4 : 1e-9));
      }
  // ‖A‖² of the mask operator is max mask² = 4; of a stack [mask; identity], 4 + 1 = 5.
  auto x0 = random_tensor<T, 4>(s, 8);
  CHECK(compute_sqnorm(op, x0) == doctest::Approx(4).epsilon(1e-5));
  CHECK(compute_sqnorm(stack(op, Denoising<T>()), x0) == doctest::Approx(5).epsilon(1e-5));
  CHECK_THROWS_AS(linalg::power_method([](Tensor4<T> const& v) { return v; }, zeros<T>(s)), Error);
}
