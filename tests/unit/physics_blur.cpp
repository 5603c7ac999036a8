// Blur, gaussian_blur and Padding: the convolution convention pinned on hand-computed and
// deepinv-documented examples, exact adjoints for every padding, FFT path == direct path.
#include <doctest/doctest.h>

#include <numeric>

#include "distinv/config.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "physics_helpers.hpp"

using namespace distinv;
using namespace distinv::physics;
using distinv::testing::dot_tol;
using distinv::testing::random_tensor;
using distinv::testing::rel_diff;

namespace {
template <class T>
Tensor<T, 2> kernel_of(std::initializer_list<std::initializer_list<double>> rows) {
  Tensor<T, 2> k(Index(rows.size()), Index(rows.begin()->size()));
  Index i = 0;
  for (auto const& r : rows) {
    Index j = 0;
    for (double v : r) k(i, j++) = T(v);
    ++i;
  }
  return k;
}
constexpr Padding all_paddings[] = {Padding::circular, Padding::valid, Padding::reflect, Padding::replicate,
                                    Padding::zeros};
}  // namespace

TEST_CASE_TEMPLATE("Blur pins the convolution convention on hand-computed examples", T, float, double) {
  // x(i, j) = 4 i + j + 1 on 4 x 4. Expected values from the formula
  // y[i,j] = sum_{m,n} f[m,n] x[i + h//2 - m, j + w//2 - n] (zero outside), evaluated in plain
  // Python: deepinv 0.5's conv2d (flipped kernel, pad (h-1)//2 before and h//2 after) centres
  // an even kernel at h//2 too, so the 2x2 kernel's tap (1, 1) sits on the output pixel.
  Tensor4<T> x(1, 1, 4, 4);
  for (Index i = 0; i < 4; ++i)
    for (Index j = 0; j < 4; ++j) x(0, 0, i, j) = T(4 * i + j + 1);
  double const want3[4][4] = {{17, 20, 23, 17}, {39, 43, 51, 31}, {67, 75, 83, 47}, {43, 52, 57, 23}};
  double const want2[4][4] = {{26, 36, 46, 32}, {66, 76, 86, 56}, {106, 116, 126, 80}, {94, 101, 108, 64}};
  Blur<T> b3(kernel_of<T>({{1, 2, 0}, {0, 1, -1}, {3, 0, 2}}), Padding::zeros);
  Blur<T> b2(kernel_of<T>({{1, 2}, {3, 4}}), Padding::zeros);
  auto y3 = b3.A(x);
  auto y2 = b2.A(x);
  for (Index i = 0; i < 4; ++i)
    for (Index j = 0; j < 4; ++j) {
      CHECK(double(y3(0, 0, i, j)) == doctest::Approx(want3[i][j]));
      CHECK(double(y2(0, 0, i, j)) == doctest::Approx(want2[i][j]));
    }
}

TEST_CASE_TEMPLATE("Blur matches deepinv's documented 2x2 averaging example (valid padding)", T, float, double) {
  // deepinv Blur docstring: 16x16 image with x[8, 8] = 1, filter ones(2, 2)/4, padding valid
  // -> y[7:10, 7:10] = [[.25, .25, 0], [.25, .25, 0], [0, 0, 0]].
  Tensor4<T> x = zeros<T>(Shape<4>{1, 1, 16, 16});
  x(0, 0, 8, 8) = T(1);
  Tensor<T, 2> k(2, 2);
  k.setConstant(T(0.25));
  Blur<T> b(k, Padding::valid);
  auto y = b.A(x);
  CHECK(shape_of(y) == Shape<4>{1, 1, 15, 15});
  for (Index i = 0; i < 15; ++i)
    for (Index j = 0; j < 15; ++j) {
      bool const hit = (i == 7 || i == 8) && (j == 7 || j == 8);
      CHECK(y(0, 0, i, j) == T(hit ? 0.25 : 0.0));
    }
}

TEST_CASE_TEMPLATE("Blur passes the dot test for every padding, odd and even kernels", T, float, double) {
  Shape<4> const shape{2, 3, 11, 14};
  std::uint64_t seed = 100;
  for (auto ks : {std::array<Index, 2>{3, 3}, {4, 4}, {2, 5}, {5, 4}, {1, 1}, {7, 6}})
    for (Padding p : all_paddings)
      for (BlurMethod m : {BlurMethod::direct, BlurMethod::automatic}) {
        Blur<T> b(random_tensor<T, 2>(ks, ++seed), p, m);
        auto x = random_tensor<T, 4>(shape, ++seed);
        auto y = random_tensor<T, 4>(b.output_shape(shape), ++seed);
        CAPTURE(ks[0]);
        CAPTURE(ks[1]);
        CAPTURE(padding_name(p));
        CHECK(rel_diff(dot(b.A(x), y), dot(x, b.A_adjoint(y))) < dot_tol<T>());
        CHECK(shape_of(b.A_adjoint(y)) == shape);
        CHECK(rel_diff(dot(b.A_adjoint_A(x), x), dot(b.A(x), b.A(x))) < dot_tol<T>());
        CHECK(rel_diff(dot(b.A_A_adjoint(y), y), dot(b.A_adjoint(y), b.A_adjoint(y))) < dot_tol<T>());
        CHECK(max_abs_diff(b.A_vjp(x, y), b.A_adjoint(y)) == 0);
      }
}

TEST_CASE_TEMPLATE("Blur with reflect and replicate padding matches the padding formulas", T, float, double) {
  // 1 x 5 rows with a 1 x 3 kernel (0, 0, 1): y[j] = x[j + 1 - 2] = x[j - 1] read through the
  // padding: reflect x[-1] = x[1], replicate x[-1] = x[0], circular x[-1] = x[4], zeros 0.
  Tensor4<T> x(1, 1, 1, 5);
  for (Index j = 0; j < 5; ++j) x(0, 0, 0, j) = T(j + 1);
  auto k = kernel_of<T>({{0, 0, 1}});
  CHECK(Blur<T>(k, Padding::reflect).A(x)(0, 0, 0, 0) == T(2));
  CHECK(Blur<T>(k, Padding::replicate).A(x)(0, 0, 0, 0) == T(1));
  CHECK(Blur<T>(k, Padding::circular, BlurMethod::direct).A(x)(0, 0, 0, 0) == T(5));
  CHECK(Blur<T>(k, Padding::zeros).A(x)(0, 0, 0, 0) == T(0));
  CHECK(Blur<T>(k, Padding::zeros).A(x)(0, 0, 0, 3) == T(3));
}

#if DISTINV_HAS_FFTW
TEST_CASE_TEMPLATE("circular Blur: FFT path equals direct path, odd, even and oversized kernels", T, float, double) {
  std::uint64_t seed = 7;
  for (auto ks : {std::array<Index, 2>{3, 3}, {4, 6}, {5, 2}, {13, 11}, {20, 9}})
    for (Shape<4> shape : {Shape<4>{2, 3, 12, 17}, Shape<4>{1, 2, 9, 8}}) {
      auto k = random_tensor<T, 2>(ks, ++seed);
      Blur<T> direct(k, Padding::circular, BlurMethod::direct), fft(k, Padding::circular, BlurMethod::fft);
      CHECK(!direct.uses_fft(shape[2], shape[3]));
      CHECK(fft.uses_fft(shape[2], shape[3]));
      auto x = random_tensor<T, 4>(shape, ++seed);
      double const scale = max_abs(direct.A(x)) + 1;
      double const tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
      CHECK(max_abs_diff(direct.A(x), fft.A(x)) < tol * scale);
      CHECK(max_abs_diff(direct.A_adjoint(x), fft.A_adjoint(x)) < tol * scale);
      CHECK(max_abs_diff(direct.A_adjoint_A(x), fft.A_adjoint_A(x)) < tol * scale * scale);
      CHECK(rel_diff(dot(fft.A(x), x), dot(x, fft.A_adjoint(x))) < dot_tol<T>());
    }
}

TEST_CASE("Blur copies share one plan and spectrum cache; concurrent use is safe") {
  Blur<float> b(gaussian_blur<float>(3.0), Padding::circular, BlurMethod::fft);
  Blur<float> c = b;
  CHECK(b.spectrum(16, 24) == c.spectrum(16, 24));
  CHECK(b.spectrum(16, 24)->size() == 16 * 13);
  auto x = random_tensor<float, 4>(Shape<4>{1, 8, 16, 24}, 3);
  auto ref = b.A(x);
  std::vector<Tensor4<float>> outs(6);
  tbb::parallel_for(0, 6, [&](int i) { outs[std::size_t(i)] = (i % 2 ? b : c).A(x); });
  for (auto const& o : outs) CHECK(max_abs_diff(o, ref) == 0);
}
#endif

TEST_CASE("Blur and Padding reject bad input with a message") {
  CHECK(parse_padding("reflect") == Padding::reflect);
  CHECK(parse_padding("constant") == Padding::zeros);
  CHECK_THROWS_WITH_AS(parse_padding("mirror"),
                       "distinv: unknown padding 'mirror': expected one of circular, valid, reflect, replicate, zeros "
                       "(or constant)",
                       Error);
  CHECK_THROWS_AS(Blur<float>(Tensor<float, 2>(0, 3)), Error);
  Blur<float> valid(Tensor<float, 2>(5, 4).setConstant(1.f), Padding::valid);
  CHECK_THROWS_WITH_AS(valid.A(Tensor4<float>(1, 1, 4, 8)),
                       "distinv: Blur (valid padding): expected an image of at least 5 x 4 (the kernel), got 4 x 8",
                       Error);
  CHECK_THROWS_AS(valid.output_shape(Shape<4>{1, 1, 8, 3}), Error);
  CHECK(valid.output_shape(Shape<4>{2, 3, 8, 9}) == Shape<4>{2, 3, 4, 6});
  Blur<float> refl(Tensor<float, 2>(9, 9).setConstant(1.f), Padding::reflect);
  CHECK_THROWS_AS(refl.A(Tensor4<float>(1, 1, 4, 20)), Error);
  CHECK_THROWS_AS(Blur<float>(Tensor<float, 2>(3, 3).setConstant(1.f), Padding::zeros, BlurMethod::fft), Error);
}
