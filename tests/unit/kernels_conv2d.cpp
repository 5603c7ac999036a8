// Host tests of the convolution functors of core/kernels/ (no GPU; the tiling functors are
// tested in kernels_tiling.cpp). References are
// written here independently: explicit numpy-style padding then a correlation with the
// flipped filter (deepinv's conv2d), the explicit matrix transpose, and a naive DFT for the
// spectral path (R2C half spectra, as cuFFT lays them out).
#include <doctest/doctest.h>

#include <algorithm>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/kernels/for_each.hpp"
#include "distinv/host/for_each.hpp"

namespace k = distinv::kernels;
using k::Index;
using k::Padding;

namespace {
template <class T>
double tol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}
template <class T>
std::vector<T> random_vector(Index n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = T(u(g));
  return v;
}
template <class T>
double max_diff(std::vector<T> const& a, std::vector<T> const& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}
template <class T>
double vdot(std::vector<T> const& a, std::vector<T> const& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

// numpy-style source index, written independently of pad_index (mirror step by step).
Index ref_source(Padding m, Index i, Index n) {
  if (i >= 0 && i < n) return i;
  switch (m) {
    case Padding::circular: return ((i % n) + n) % n;
    case Padding::replicate: return std::clamp<Index>(i, 0, n - 1);
    case Padding::reflect:
      if (n == 1) return 0;
      while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      return i;
    default: return -1;
  }
}

// deepinv 0.5 conv2d (physics/functional/convolution.py): pad (kh//2 - (kh-1)%2, kh//2) x
// (kw//2 - (kw-1)%2, kw//2), correlate with the flipped filter: the centre is kh//2, even or odd.
template <class T>
std::vector<T> ref_conv(std::vector<T> const& x, Index B, Index C, Index H, Index W, std::vector<T> const& f,
                        Index Bf, Index Cf, Index kh, Index kw, Padding m) {
  Index const pt = m == Padding::valid ? 0 : kh / 2 - (kh - 1) % 2, pb = m == Padding::valid ? 0 : kh / 2;
  Index const pl = m == Padding::valid ? 0 : kw / 2 - (kw - 1) % 2, pr = m == Padding::valid ? 0 : kw / 2;
  Index const Hp = H + pt + pb, Wp = W + pl + pr, Ho = Hp - kh + 1, Wo = Wp - kw + 1;
  std::vector<T> y(static_cast<std::size_t>(B * C * Ho * Wo));
  for (Index b = 0; b < B; ++b)
    for (Index c = 0; c < C; ++c) {
      std::vector<T> xp(static_cast<std::size_t>(Hp * Wp));
      for (Index r = 0; r < Hp; ++r)
        for (Index s = 0; s < Wp; ++s) {
          Index const sr = ref_source(m, r - pt, H), sc = ref_source(m, s - pl, W);
          xp[std::size_t(r * Wp + s)] = (sr < 0 || sc < 0) ? T(0) : x[std::size_t(((b * C + c) * H + sr) * W + sc)];
        }
      Index const fb = Bf == 1 ? 0 : b, fc = Cf == 1 ? 0 : c;
      T const* kf = f.data() + (fb * Cf + fc) * kh * kw;
      for (Index i = 0; i < Ho; ++i)
        for (Index j = 0; j < Wo; ++j) {
          double acc = 0;
          for (Index a = 0; a < kh; ++a)
            for (Index d = 0; d < kw; ++d)
              acc += double(kf[(kh - 1 - a) * kw + (kw - 1 - d)]) * double(xp[std::size_t((i + a) * Wp + j + d)]);
          y[std::size_t(((b * C + c) * Ho + i) * Wo + j)] = T(acc);
        }
    }
  return y;
}

// The drivers run as the device runs them (strips of 1 output) and as the host does (strips
// of several outputs: 3 and 8, most rows cut into several strips, the last one partial); all
// must give the same values.
template <class T, int Strip>
std::vector<T> run_conv_strip(k::Conv2dGeometry const& g, std::vector<T> const& x, std::vector<T> const& f) {
  std::vector<T> y(std::size_t(g.planes * g.Ho * g.Wo)), scratch(std::size_t(k::conv2d_scratch(g)));
  k::conv2d<Strip>(distinv::host::Serial{}, g, x.data(), f.data(), y.data(), scratch.data());
  return y;
}
template <class T>
std::vector<T> run_conv(k::Conv2dGeometry const& g, std::vector<T> const& x, std::vector<T> const& f) {
  auto const y = run_conv_strip<T, 1>(g, x, f);
  REQUIRE(max_diff(run_conv_strip<T, 8>(g, x, f), y) <= 10 * tol<T>());
  REQUIRE(max_diff(run_conv_strip<T, 3>(g, x, f), y) <= 10 * tol<T>());
  return y;
}
template <class T, int Strip>
std::vector<T> run_adjoint_strip(k::Conv2dGeometry const& g, std::vector<T> const& y, std::vector<T> const& f) {
  std::vector<T> x(std::size_t(g.planes * g.H * g.W)), scratch(std::size_t(k::conv2d_adjoint_scratch(g)));
  k::conv2d_adjoint<Strip>(distinv::host::Serial{}, g, y.data(), f.data(), x.data(), scratch.data());
  return x;
}
template <class T>
std::vector<T> run_adjoint(k::Conv2dGeometry const& g, std::vector<T> const& y, std::vector<T> const& f) {
  auto const x = run_adjoint_strip<T, 1>(g, y, f);
  REQUIRE(max_diff(run_adjoint_strip<T, 8>(g, y, f), x) <= 10 * tol<T>());
  REQUIRE(max_diff(run_adjoint_strip<T, 3>(g, y, f), x) <= 10 * tol<T>());
  return x;
}

// Naive 2-D DFT of real planes to half spectra (H x (W/2+1)) and back (unnormalised, like cuFFT).
template <class T>
std::vector<k::Complex<T>> dft_r2c(std::vector<T> const& x, Index P, Index H, Index W) {
  Index const Ws = W / 2 + 1;
  std::vector<k::Complex<T>> X(std::size_t(P * H * Ws));
  for (Index p = 0; p < P; ++p)
    for (Index u = 0; u < H; ++u)
      for (Index v = 0; v < Ws; ++v) {
        std::complex<double> acc = 0;
        for (Index m = 0; m < H; ++m)
          for (Index n = 0; n < W; ++n)
            acc += double(x[std::size_t((p * H + m) * W + n)]) *
                   std::polar(1.0, -2 * std::numbers::pi * (double(u * m) / double(H) + double(v * n) / double(W)));
        X[std::size_t((p * H + u) * Ws + v)] = {T(acc.real()), T(acc.imag())};
      }
  return X;
}
template <class T>
std::vector<T> dft_c2r(std::vector<k::Complex<T>> const& X, Index P, Index H, Index W) {
  Index const Ws = W / 2 + 1;
  std::vector<T> x(std::size_t(P * H * W));
  for (Index p = 0; p < P; ++p)
    for (Index m = 0; m < H; ++m)
      for (Index n = 0; n < W; ++n) {
        std::complex<double> acc = 0;
        for (Index u = 0; u < H; ++u)
          for (Index v = 0; v < W; ++v) {
            std::complex<double> z;
            if (v < Ws) {
              auto const& e = X[std::size_t((p * H + u) * Ws + v)];
              z = {double(e.re), double(e.im)};
            } else {  // Hermitian symmetry of a real signal's spectrum
              auto const& e = X[std::size_t((p * H + (H - u) % H) * Ws + (W - v))];
              z = {double(e.re), -double(e.im)};
            }
            acc += z * std::polar(1.0, 2 * std::numbers::pi * (double(u * m) / double(H) + double(v * n) / double(W)));
          }
        x[std::size_t((p * H + m) * W + n)] = T(acc.real());
      }
  return x;
}

struct Case {
  Index B, C, H, W, Bf, Cf, kh, kw;
};
}  // namespace

TEST_CASE("kernels: conv2d by hand (zeros padding, odd and even filters)") {
  // x = [1 2 3 4], filter [1 2 3]: y[i] = sum_a k[a] x[i - a + 1]
  std::vector<double> x{1, 2, 3, 4}, f3{1, 2, 3}, f2{1, 2};
  auto g3 = k::make_conv2d_geometry(1, 1, 1, 4, 1, 1, 1, 3, Padding::zeros);
  CHECK(run_conv(g3, x, f3) == std::vector<double>{4, 10, 16, 17});
  // even filter [1 2]: deepinv 0.5 pads (0 before, 1 after), centre 1, so y[i] = x[i+1] + 2 x[i]
  auto g2 = k::make_conv2d_geometry(1, 1, 1, 4, 1, 1, 1, 2, Padding::zeros);
  CHECK(run_conv(g2, x, f2) == std::vector<double>{4, 7, 10, 8});
  auto gv = k::make_conv2d_geometry(1, 1, 1, 4, 1, 1, 1, 3, Padding::valid);
  CHECK(gv.Wo == 2);
  CHECK(run_conv(gv, x, f3) == std::vector<double>{10, 16});
  // circular: y[0] = k0 x1 + k1 x0 + k2 x3
  auto gc = k::make_conv2d_geometry(1, 1, 1, 4, 1, 1, 1, 3, Padding::circular);
  CHECK(run_conv(gc, x, f3) == std::vector<double>{2 + 2 + 12, 10, 16, 3 * 3 + 2 * 4 + 1});
}

TEST_CASE_TEMPLATE("kernels: conv2d matches the padded reference for every padding", T, float, double) {
  std::vector<Case> const cases{{2, 3, 7, 9, 1, 1, 3, 5}, {2, 2, 6, 5, 2, 1, 4, 2}, {1, 2, 5, 6, 1, 2, 3, 3},
                                {1, 1, 3, 4, 1, 1, 5, 6}};  // last: filter larger than the image
  for (Padding m : {Padding::valid, Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros}) {
    for (auto const& c : cases) {
      if (m == Padding::valid && (c.kh > c.H || c.kw > c.W)) continue;
      CAPTURE(k::padding_name(m));
      CAPTURE(c.kh);
      auto const x = random_vector<T>(c.B * c.C * c.H * c.W, 11);
      auto const f = random_vector<T>(c.Bf * c.Cf * c.kh * c.kw, 12);
      auto const g = k::make_conv2d_geometry(c.B, c.C, c.H, c.W, c.Bf, c.Cf, c.kh, c.kw, m);
      auto const ref = ref_conv(x, c.B, c.C, c.H, c.W, f, c.Bf, c.Cf, c.kh, c.kw, m);
      CHECK(max_diff(run_conv(g, x, f), ref) <= 10 * tol<T>());
    }
  }
}

TEST_CASE("kernels: conv2d adjoint is the exact matrix transpose for every padding") {
  // columns of A by unit vectors, rows of A^T likewise: A^T[u, i] == A[i, u] exactly.
  std::vector<Case> const cases{{1, 1, 5, 6, 1, 1, 3, 4}, {1, 1, 4, 3, 1, 1, 5, 6}, {1, 1, 6, 6, 1, 1, 2, 3}};
  for (Padding m : {Padding::valid, Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros})
    for (auto const& c : cases) {
      if (m == Padding::valid && (c.kh > c.H || c.kw > c.W)) continue;
      CAPTURE(k::padding_name(m));
      CAPTURE(c.kh);
      auto const f = random_vector<double>(c.kh * c.kw, 5);
      auto const g = k::make_conv2d_geometry(1, 1, c.H, c.W, 1, 1, c.kh, c.kw, m);
      Index const n = g.H * g.W, no = g.Ho * g.Wo;
      std::vector<double> A(std::size_t(no * n)), At(std::size_t(n * no));
      for (Index u = 0; u < n; ++u) {
        std::vector<double> e(std::size_t(n), 0.0);
        e[std::size_t(u)] = 1;
        auto col = run_conv(g, e, f);
        for (Index i = 0; i < no; ++i) A[std::size_t(i * n + u)] = col[std::size_t(i)];
      }
      for (Index i = 0; i < no; ++i) {
        std::vector<double> e(std::size_t(no), 0.0);
        e[std::size_t(i)] = 1;
        auto col = run_adjoint(g, e, f);
        for (Index u = 0; u < n; ++u) At[std::size_t(u * no + i)] = col[std::size_t(u)];
      }
      double worst = 0;
      for (Index i = 0; i < no; ++i)
        for (Index u = 0; u < n; ++u)
          worst = std::max(worst, std::abs(A[std::size_t(i * n + u)] - At[std::size_t(u * no + i)]));
      CHECK(worst <= 1e-14);
    }
}

TEST_CASE_TEMPLATE("kernels: conv2d dot test <A x, y> = <x, A^T y> with broadcast filters", T, float, double) {
  std::vector<Case> const cases{{2, 3, 8, 7, 2, 3, 3, 5}, {2, 2, 6, 9, 1, 2, 4, 4}};
  for (Padding m : {Padding::valid, Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros})
    for (auto const& c : cases) {
      CAPTURE(k::padding_name(m));
      auto const g = k::make_conv2d_geometry(c.B, c.C, c.H, c.W, c.Bf, c.Cf, c.kh, c.kw, m);
      auto const x = random_vector<T>(g.planes * g.H * g.W, 21);
      auto const y = random_vector<T>(g.planes * g.Ho * g.Wo, 22);
      auto const f = random_vector<T>(c.Bf * c.Cf * c.kh * c.kw, 23);
      double const lhs = vdot(run_conv(g, x, f), y), rhs = vdot(x, run_adjoint(g, y, f));
      CHECK(lhs == doctest::Approx(rhs).epsilon(10 * tol<T>()));
    }
}

TEST_CASE_TEMPLATE("kernels: conv2d on planes larger than their borders (interior strips, folded borders)", T,
                   float, double) {
  // Rows and columns far from the borders take the copies of Pad2d / Fold2d, those near them
  // read or gather through the padding, within one row cut into strips.
  std::vector<Case> const cases{{1, 2, 23, 41, 1, 1, 5, 4}, {2, 1, 30, 19, 2, 1, 6, 7}};
  for (Padding m : {Padding::valid, Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros})
    for (auto const& c : cases) {
      CAPTURE(k::padding_name(m));
      CAPTURE(c.kh);
      auto const g = k::make_conv2d_geometry(c.B, c.C, c.H, c.W, c.Bf, c.Cf, c.kh, c.kw, m);
      auto const x = random_vector<T>(g.planes * g.H * g.W, 41);
      auto const y = random_vector<T>(g.planes * g.Ho * g.Wo, 42);
      auto const f = random_vector<T>(c.Bf * c.Cf * c.kh * c.kw, 43);
      CHECK(max_diff(run_conv(g, x, f), ref_conv(x, c.B, c.C, c.H, c.W, f, c.Bf, c.Cf, c.kh, c.kw, m)) <= 10 * tol<T>());
      double const lhs = vdot(run_conv(g, x, f), y), rhs = vdot(x, run_adjoint(g, y, f));
      CHECK(lhs == doctest::Approx(rhs).epsilon(10 * tol<T>()));
    }
}

TEST_CASE_TEMPLATE("kernels: spectral pipeline (circular filter, products, normal residual) equals direct conv",
                   T, float, double) {
  Index const B = 2, C = 1, H = 6, W = 5, kh = 3, kw = 4, P = B * C, Ws = W / 2 + 1, ps = H * Ws;
  T const scale = T(1) / T(H * W);
  auto const g = k::make_conv2d_geometry(B, C, H, W, B, 1, kh, kw, Padding::circular);
  auto const x = random_vector<T>(P * H * W, 31);
  auto const f = random_vector<T>(B * kh * kw, 32);
  // the circular kernel on the grid, and the direct circular convolution by it
  std::vector<T> kt(std::size_t(B * H * W));
  k::for_each_index(Index(kt.size()), k::CircularFilter<T>{H, W, kh, kw, f.data(), kt.data()});
  std::vector<T> circ(x.size());
  for (Index p = 0; p < P; ++p)
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        double acc = 0;
        for (Index m = 0; m < H; ++m)
          for (Index n = 0; n < W; ++n)
            acc += double(kt[std::size_t((p * H + m) * W + n)]) *
                   double(x[std::size_t((p * H + (i - m + H) % H) * W + (j - n + W) % W)]);
        circ[std::size_t((p * H + i) * W + j)] = T(acc);
      }
  auto const direct = run_conv(g, x, f);
  CHECK(max_diff(circ, direct) <= 10 * tol<T>());

  auto const K = dft_r2c(kt, B, H, W);
  auto spectral = [&](typename k::SpectralMultiply<T>::Op op, std::vector<T> const& in) {
    auto X = dft_r2c(in, P, H, W);
    k::SpectralMultiply<T> const mul{ps, g.filter, K.data(), scale, op};
    for (Index e = 0; e < P * ps; ++e) mul(e, X[std::size_t(e)]);
    return dft_c2r(X, P, H, W);
  };
  using SM = k::SpectralMultiply<T>;
  auto const y = random_vector<T>(P * H * W, 33);
  CHECK(max_diff(spectral(SM::forward, x), direct) <= 100 * tol<T>());
  CHECK(max_diff(spectral(SM::adjoint, y), run_adjoint(g, y, f)) <= 100 * tol<T>());
  CHECK(max_diff(spectral(SM::normal, x), run_adjoint(g, direct, f)) <= 100 * tol<T>());

  // Fused normal equations of two operators (the second filter is the first one scaled):
  // F^-1 (S F x - B) == sum_i A_i^T (A_i x - y_i)
  auto f2 = f;
  for (auto& v : f2) v *= T(0.5);
  std::vector<T> kt2(kt.size());
  k::for_each_index(Index(kt2.size()), k::CircularFilter<T>{H, W, kh, kw, f2.data(), kt2.data()});
  auto const K2 = dft_r2c(kt2, B, H, W);
  auto const y2 = random_vector<T>(P * H * W, 34);
  std::vector<T> S(std::size_t(P * ps), T(0));
  std::vector<k::Complex<T>> Bsp(std::size_t(P * ps), k::Complex<T>{T(0), T(0)});
  auto const Y1 = dft_r2c(y, P, H, W), Y2 = dft_r2c(y2, P, H, W);
  // S and B have one plane per signal plane here: S's planes map onto the filters like the signal's.
  for (auto const* Kp : {&K, &K2}) k::for_each_index(P * ps, k::AccumulateWeight<T>{ps, g.filter, Kp->data(), S.data()});
  k::AccumulateNormal<T> const add1{ps, g.filter, K.data(), Bsp.data()}, add2{ps, g.filter, K2.data(), Bsp.data()};
  for (Index e = 0; e < P * ps; ++e) {
    add1(e, Y1[std::size_t(e)]);
    add2(e, Y2[std::size_t(e)]);
  }
  auto X = dft_r2c(x, P, H, W);
  k::NormalResidual<T> const residual{ps, k::FilterBroadcast{C, B, C}, S.data(), Bsp.data(), scale};
  for (Index e = 0; e < P * ps; ++e) residual(e, X[std::size_t(e)]);
  auto const fused = dft_c2r(X, P, H, W);
  std::vector<T> plain(x.size(), T(0));
  auto const r1 = run_conv(g, x, f), r2 = run_conv(g, x, f2);
  std::vector<T> d1(r1.size()), d2(r2.size());
  for (std::size_t i = 0; i < r1.size(); ++i) {
    d1[i] = r1[i] - y[i];
    d2[i] = r2[i] - y2[i];
  }
  auto const a1 = run_adjoint(g, d1, f), a2 = run_adjoint(g, d2, f2);
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = a1[i] + a2[i];
  CHECK(max_diff(fused, plain) <= 100 * tol<T>());
}

