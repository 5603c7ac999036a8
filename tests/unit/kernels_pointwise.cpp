// Host tests of the pointwise and padding functors of core/kernels/ (no GPU): each functor is
// called directly and compared with std::complex arithmetic, numpy's np.pad results and
// hand-computed values.
#include <doctest/doctest.h>

#include <complex>
#include <random>
#include <vector>

#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/kernels/for_each.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"

using namespace distinv;
namespace k = distinv::kernels;

namespace {
template <class T>
T tol() {
  return std::is_same_v<T, float> ? T(1e-5) : T(1e-12);
}
template <class T>
std::vector<T> random_vector(std::size_t n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = T(u(g));
  return v;
}
}  // namespace

TEST_CASE_TEMPLATE("kernels: axpy, scale, soft threshold and dot terms", T, float, double) {
  auto x = random_vector<T>(37, 1), y = random_vector<T>(37, 2);
  auto y0 = y;
  k::for_each_index(37, k::Axpy<T>{T(0.5), x.data(), y.data()});
  for (std::size_t i = 0; i < 37; ++i) CHECK(y[i] == doctest::Approx(double(y0[i] + T(0.5) * x[i])).epsilon(tol<T>()));
  std::vector<T> s(37);
  k::for_each_index(37, k::Map{k::Scale<T>{T(-3)}, x.data(), s.data()});
  for (std::size_t i = 0; i < 37; ++i) CHECK(s[i] == T(-3) * x[i]);

  k::SoftThreshold<T> st{T(1)};
  CHECK(st(T(3)) == T(2));
  CHECK(st(T(-3)) == T(-2));
  CHECK(st(T(0.5)) == T(0));
  CHECK(st(T(-1)) == T(0));
  CHECK(st(T(1)) == T(0));
  k::SoftThreshold<T> zero{T(0)};
  CHECK(zero(T(-0.25)) == T(-0.25));

  Tensor<T, 1> a(37), b(37);
  std::copy(x.begin(), x.end(), a.data());
  std::copy(y.begin(), y.end(), b.data());
  CHECK(k::sum_index(37, k::DotTerm<T>{x.data(), y.data()}) == doctest::Approx(dot(a, b)).epsilon(1e-12));
  CHECK(std::sqrt(k::sum_index(37, k::SquareTerm<T>{x.data()})) == doctest::Approx(norm(a)).epsilon(1e-12));
}

TEST_CASE_TEMPLATE("kernels: complex products and the spectral normal residual match std::complex", T, float,
                   double) {
  static_assert(sizeof(k::Complex<T>) == sizeof(std::complex<T>));
  auto r = random_vector<T>(40, 3);
  for (std::size_t i = 0; i + 3 < r.size(); i += 4) {
    std::complex<T> const za(r[i], r[i + 1]), zb(r[i + 2], r[i + 3]);
    k::Complex<T> const a{r[i], r[i + 1]}, b{r[i + 2], r[i + 3]};
    auto const p = k::cmul(a, b), q = k::cmul_conj(a, b);
    CHECK(std::abs(std::complex<T>(p.re, p.im) - za * zb) <= tol<T>());
    CHECK(std::abs(std::complex<T>(q.re, q.im) - std::conj(za) * zb) <= tol<T>());
    CHECK(k::SquaredMagnitude<T>{}(a) == doctest::Approx(double(std::norm(za))).epsilon(tol<T>()));
  }
  // X = scale (S X - B), with and without B
  std::vector<T> S{T(2), T(0.5), T(3)};
  std::vector<k::Complex<T>> B{{T(1), T(-1)}, {T(0), T(2)}, {T(-1), T(0.5)}};
  std::vector<k::Complex<T>> X{{T(1), T(1)}, {T(-2), T(4)}, {T(0.5), T(0)}}, X2 = X;
  // (one plane of 3 coefficients, S with the same plane)
  k::NormalResidual<T> const with_b{3, k::FilterBroadcast{}, S.data(), B.data(), T(0.5)};
  k::NormalResidual<T> const without_b{3, k::FilterBroadcast{}, S.data(), nullptr, T(2)};
  for (Index e = 0; e < 3; ++e) {
    with_b(e, X[std::size_t(e)]);
    without_b(e, X2[std::size_t(e)]);
  }
  // hand-computed: 0.5 * (S X - B)
  CHECK(X[0].re == T(0.5));  // 0.5 * (2 - 1)
  CHECK(X[0].im == T(1.5));  // 0.5 * (2 + 1)
  CHECK(X[1].re == T(-0.5));
  CHECK(X[1].im == T(0));
  CHECK(X[2].re == T(1.25));
  CHECK(X[2].im == T(-0.25));
  CHECK(X2[1].re == T(-2));
  CHECK(X2[1].im == T(4));
}

TEST_CASE("kernels: pad_index matches numpy.pad (wrap, reflect, edge, constant)") {
  using k::Padding;
  auto row = [](Padding m, k::Index lo, k::Index hi, k::Index n) {
    std::vector<k::Index> v;
    for (k::Index i = lo; i < hi; ++i) v.push_back(k::pad_index(m, i, n));
    return v;
  };
  using V = std::vector<k::Index>;
  // np.pad(np.arange(4), 3, mode) as indices
  CHECK(row(Padding::circular, -3, 7, 4) == V{1, 2, 3, 0, 1, 2, 3, 0, 1, 2});
  CHECK(row(Padding::reflect, -3, 7, 4) == V{3, 2, 1, 0, 1, 2, 3, 2, 1, 0});
  CHECK(row(Padding::replicate, -3, 7, 4) == V{0, 0, 0, 0, 1, 2, 3, 3, 3, 3});
  CHECK(row(Padding::zeros, -3, 7, 4) == V{-1, -1, -1, 0, 1, 2, 3, -1, -1, -1});
  // pads wider than the axis: numpy reflects again and again
  CHECK(row(Padding::reflect, -5, 8, 3) == V{1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1});
  CHECK(row(Padding::circular, -5, 8, 3) == V{1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1});
  CHECK(row(Padding::reflect, -2, 3, 1) == V{0, 0, 0, 0, 0});
  CHECK(k::parse_padding("reflect") == Padding::reflect);
  CHECK(k::padding_name(Padding::replicate) == "replicate");
  CHECK_THROWS_WITH_AS(k::parse_padding("mirror"),
                       "distinv: unknown padding 'mirror': expected one of circular, valid, reflect, replicate, zeros (or constant)",
                       Error);
}
