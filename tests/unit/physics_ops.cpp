// Downsampling, Inpainting, Denoising, stacks and noise models: exact adjoints (dot tests),
// reference values, shape errors, reproducible and statistically right noise.
#include <doctest/doctest.h>

#include "distinv/physics/denoising.hpp"
#include "distinv/physics/downsampling.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/inpainting.hpp"
#include "distinv/physics/stacked.hpp"
#include "physics_helpers.hpp"

using namespace distinv;
using namespace distinv::physics;
using distinv::testing::dot_tol;
using distinv::testing::random_tensor;
using distinv::testing::rel_diff;

namespace {
template <class Op>
void check_dot(Op const& op, Shape<4> const& in, std::uint64_t seed) {
  using T = typename Op::scalar_type;
  auto x = random_tensor<T, 4>(in, seed);
  auto y = random_tensor<T, 4>(op.output_shape(in), seed + 1);
  CHECK(rel_diff(dot(op.A(x), y), dot(x, op.A_adjoint(y))) < dot_tol<T>());
  CHECK(shape_of(op.A_adjoint(y)) == in);
  CHECK(rel_diff(dot(op.A_adjoint_A(x), x), dot(op.A(x), op.A(x))) < dot_tol<T>());
  CHECK(rel_diff(dot(op.A_A_adjoint(y), y), dot(op.A_adjoint(y), op.A_adjoint(y))) < dot_tol<T>());
  CHECK(max_abs_diff(op.A_vjp(x, y), op.A_adjoint(y)) == 0);
}
}  // namespace

TEST_CASE_TEMPLATE("Downsampling: values and dot test with and without a filter", T, float, double) {
  // Decimation keeps x[::f, ::f] from (0, 0); ceil(H/f) rows.
  Tensor4<T> x(1, 1, 5, 7);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(i);
  Downsampling<T> d2(2);
  auto y = d2.A(x);
  CHECK(shape_of(y) == Shape<4>{1, 1, 3, 4});
  CHECK(y(0, 0, 1, 2) == x(0, 0, 2, 4));
  CHECK(y(0, 0, 2, 3) == x(0, 0, 4, 6));
  // With a filter: A = S(Blur x).
  auto k = gaussian_blur<T>({1.0, 0.5}, 20);
  for (Padding p : {Padding::circular, Padding::valid, Padding::reflect, Padding::replicate, Padding::zeros}) {
    Downsampling<T> d(2, k, p);
    Blur<T> b(k, p);
    Shape<4> const in{2, 3, 16, 12};
    auto xi = random_tensor<T, 4>(in, 5);
    auto bx = b.A(xi);
    auto dx = d.A(xi);
    CHECK(dx(1, 2, 1, 1) == doctest::Approx(double(bx(1, 2, 2, 2))).epsilon(1e-6));
    CHECK(dx(0, 1, 2, 0) == doctest::Approx(double(bx(0, 1, 4, 0))).epsilon(1e-6));
    CAPTURE(padding_name(p));
    check_dot(d, in, 11);
    // Sizes not divisible by the factor need the image size to define the adjoint.
    check_dot(Downsampling<T>(3, k, p, std::array<Index, 2>{17, 13}), Shape<4>{2, 3, 17, 13}, 21);
  }
  check_dot(Downsampling<T>(3), Shape<4>{2, 3, 9, 12}, 31);
  check_dot(Downsampling<T>(2, Tensor<T, 2>(4, 4).setConstant(T(1) / 16), Padding::valid), Shape<4>{2, 3, 11, 9}, 41);
  CHECK_THROWS_AS(Downsampling<T>(0), Error);
  CHECK_THROWS_AS(Downsampling<T>(2, std::nullopt, Padding::circular, std::array<Index, 2>{8, 8}).A(Tensor4<T>(1, 1, 8, 9)),
                  Error);
  CHECK_THROWS_AS(d2.A_adjoint(Tensor4<T>(1, 1, 0, 3)), Error);
}

TEST_CASE_TEMPLATE("Inpainting: broadcast mask, dot test, shape errors", T, float, double) {
  Shape<4> const in{2, 3, 6, 5};
  Tensor4<T> mask1(1, 1, 6, 5), mask3(1, 3, 6, 5);
  std::mt19937_64 rng(3);
  for (auto& v : flat(mask1)) v = T(rng() % 2);
  for (auto& v : flat(mask3)) v = T(rng() % 2);
  Inpainting<T> a(mask1), b(mask3);
  auto x = random_tensor<T, 4>(in, 9);
  auto y = a.A(x);
  CHECK(y(1, 2, 3, 4) == x(1, 2, 3, 4) * mask1(0, 0, 3, 4));
  CHECK(b.A(x)(1, 1, 2, 0) == x(1, 1, 2, 0) * mask3(0, 1, 2, 0));
  check_dot(a, in, 12);
  check_dot(b, in, 13);
  check_dot(Inpainting<T>(random_tensor<T, 4>(Shape<4>{2, 1, 6, 5}, 4)), in, 14);  // per-item mask, soft values
  CHECK_THROWS_WITH_AS(b.A(Tensor4<T>(1, 2, 6, 5)),
                       "distinv: Inpainting: expected an image (B, C, 6, 5) with B any and C = 3 for a mask of shape "
                       "(1, 3, 6, 5), got (1, 2, 6, 5)",
                       Error);
  CHECK_THROWS_AS(a.A(Tensor4<T>(1, 1, 5, 6)), Error);
}

TEST_CASE_TEMPLATE("Denoising is the identity; forward adds the noise", T, float, double) {
  Denoising<T> d(GaussianNoise<T>(T(0.5)));
  auto x = random_tensor<T, 4>(Shape<4>{2, 3, 4, 5}, 1);
  CHECK(max_abs_diff(d.A(x), x) == 0);
  check_dot(d, Shape<4>{2, 3, 4, 5}, 2);
  std::mt19937_64 r1(42), r2(42);
  auto y1 = d.forward(x, r1), y2 = d.forward(x, r2);
  CHECK(max_abs_diff(y1, y2) == 0);
  CHECK(max_abs_diff(y1, x) > 0);
}

TEST_CASE_TEMPLATE("noise models: reproducible from a seed, right mean and variance", T, float, double) {
  Shape<4> const s{1, 2, 100, 100};  // 20000 draws
  Tensor4<T> x(s);
  x.setConstant(T(3));
  std::mt19937_64 rng(1234);
  auto stats = [&](Tensor4<T> const& y) {
    double m = 0, v = 0;
    for (auto e : flat(y)) m += e;
    m /= double(y.size());
    for (auto e : flat(y)) v += (e - m) * (e - m);
    return std::pair{m, v / double(y.size() - 1)};
  };
  {
    Tensor4<T> y = x;
    apply_noise<T>(GaussianNoise<T>(T(0.2)), y, rng);
    auto [m, v] = stats(y);
    CHECK(std::abs(m - 3) < 0.01);  // 5 standard errors (0.2 / sqrt(20000) = 0.0014)
    CHECK(std::abs(v / 0.04 - 1) < 0.05);
  }
  {
    // y = gain * Poisson(x / gain): mean x, variance gain * x.
    Tensor4<T> y = x;
    apply_noise<T>(PoissonNoise<T>(T(0.5)), y, rng);
    auto [m, v] = stats(y);
    CHECK(std::abs(m - 3) < 0.03);
    CHECK(std::abs(v / 1.5 - 1) < 0.05);
    int off_grid = 0;  // every value is a multiple of the gain
    for (auto e : flat(y)) off_grid += std::abs(e / 0.5 - std::round(e / 0.5)) > 1e-6;
    CHECK(off_grid == 0);
  }
  Blur<T> b(gaussian_blur<T>(1.0));
  b.set_noise(PoissonNoise<T>(T(0.1)));
  std::mt19937_64 a1(9), a2(9), a3(10);
  auto xs = random_tensor<T, 4>(Shape<4>{1, 1, 8, 8}, 3);
  for (auto& v : flat(xs)) v = std::abs(v);
  CHECK(max_abs_diff(b.forward(xs, a1), b.forward(xs, a2)) == 0);
  CHECK(max_abs_diff(b.forward(xs, a1), b.forward(xs, a3)) > 0);
  CHECK(std::holds_alternative<PoissonNoise<T>>(b.noise()));
  CHECK_THROWS_WITH_AS(GaussianNoise<T>(T(-1)), "distinv: GaussianNoise: expected sigma >= 0, got -1", Error);
  CHECK_THROWS_AS(PoissonNoise<T>(T(0)), Error);
  Tensor4<T> neg(1, 1, 1, 1);
  neg.setConstant(T(-1));
  CHECK_THROWS_AS(apply_noise<T>(PoissonNoise<T>(T(1)), neg, rng), Error);
  apply_noise<T>(PoissonNoise<T>(T(1), true, true), neg, rng);
  CHECK(neg(0, 0, 0, 0) == T(0));
}

TEST_CASE_TEMPLATE("stacks: same-type and mixed stacks, adjoint sums, length errors", T, float, double) {
  Shape<4> const in{2, 3, 12, 10};
  Blur<T> b1(gaussian_blur<T>(1.0)), b2(gaussian_blur<T>({0.5, 2.0}, 30), Padding::reflect);
  auto same = stack(b1, b2);
  static_assert(std::same_as<decltype(same), StackedLinearPhysics<Blur<T>>>);
  Tensor4<T> mask(1, 1, 12, 10);
  mask.setConstant(T(1));
  mask(0, 0, 3, 3) = 0;
  auto mixed = stack(b1, Downsampling<T>(2, gaussian_blur<T>(1.0)), Inpainting<T>(mask), Denoising<T>());
  static_assert(std::same_as<decltype(mixed), StackedLinearPhysics<AnyLinearPhysics<T>>>);
  CHECK(mixed.size() == 4);
  CHECK(mixed[1].template target<Downsampling<T>>() != nullptr);
  CHECK(mixed[1].template target<Blur<T>>() == nullptr);
  auto x = random_tensor<T, 4>(in, 1);
  for (auto const* s : {&mixed}) {
    auto ax = s->A(x);
    CHECK(ax.size() == 4);
    CHECK(shape_of(ax[1]) == Shape<4>{2, 3, 6, 5});
    TensorList<Tensor4<T>> y;
    std::uint64_t seed = 50;
    for (auto const& sh : s->output_shapes(in)) y.push_back(random_tensor<T, 4>(sh, ++seed));
    CHECK(rel_diff(ax.dot(y), dot(x, s->A_adjoint(y))) < dot_tol<T>());
    CHECK(rel_diff(dot(s->A_adjoint_A(x), x), ax.dot(ax)) < dot_tol<T>());
    auto aay = s->A_A_adjoint(y);
    CHECK(rel_diff(aay.dot(y), norm(s->A_adjoint(y)) * norm(s->A_adjoint(y))) < dot_tol<T>());
    CHECK(max_abs_diff(s->A_vjp(x, y), s->A_adjoint(y)) == 0);
    TensorList<Tensor4<T>> shorter{y[0]};
    CHECK_THROWS_WITH_AS(s->A_adjoint(shorter),
                         "distinv: stacked A_adjoint: expected a list of 4 measurements (one per operator), got 1", Error);
  }
  // Same-type stack: Aᵀy = b1ᵀ y1 + b2ᵀ y2 exactly as summed by hand.
  auto y1 = random_tensor<T, 4>(in, 7), y2 = random_tensor<T, 4>(in, 8);
  Tensor4<T> want = b1.A_adjoint(y1) + b2.A_adjoint(y2);
  CHECK(max_abs_diff(same.A_adjoint(TensorList<Tensor4<T>>{y1, y2}), want) == 0);
  CHECK_THROWS_AS(same[2], Error);
  // forward: each operator's noise, drawn in order from one generator.
  b1.set_noise(GaussianNoise<T>(T(0.1)));
  auto noisy = stack(b1, b2);
  std::mt19937_64 r1(5), r2(5);
  auto f1 = noisy.forward(x, r1), f2 = noisy.forward(x, r2);
  CHECK(max_abs_diff(f1[0], f2[0]) == 0);
  CHECK(max_abs_diff(f1[0], b1.A(x)) > 0);
  CHECK(max_abs_diff(f1[1], b2.A(x)) == 0);
}
