// Host tests of the TV and wavelet functors of core/kernels/ (what every denoiser launches),
// run by the serial host launcher over the whole batch at once: the drivers tv_fgp /
// wavelet_transform / wavelet_denoise equal optim::TVDenoiser, wavelet_forward /
// wavelet_inverse and optim::WaveletDenoiser (which run them plane by plane, in parallel) on
// random (B, C, H, W) batches; perfect reconstruction and energy preservation of the kernel
// transform; single functor steps against explicit formulas.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "distinv/core/kernels/for_each.hpp"
#include "distinv/host/for_each.hpp"
#include "distinv/core/kernels/tv.hpp"
#include "distinv/core/kernels/wavelet.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"

using namespace distinv;
namespace k = distinv::kernels;

namespace {

template <class T>
double tol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

template <class T>
Tensor4<T> random_batch(Index B, Index C, Index H, Index W, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Tensor4<T> x(B, C, H, W);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(u(g));
  return x;
}

template <class T>
double max_abs_diff(T const* a, T const* b, Index n) {
  double m = 0;
  for (Index i = 0; i < n; ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

// The launcher the drivers take here (the CUDA one queues the same functors on a stream).
using HostLaunch = host::Serial;

template <class T>
Tensor4<T> kernel_tv(Tensor4<T> const& x, double lambda, int iters) {
  Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3), n = planes * H * W;
  Tensor4<T> u(x.dimensions());
  std::vector<T> work(std::size_t(k::tv_work_size(planes, H, W)), T(7));  // garbage: tv_fgp must reset it
  CHECK(k::tv_work_size(planes, H, W) >= 4 * n);
  k::tv_fgp(HostLaunch{}, x.data(), u.data(), k::tv_work(work.data(), planes, H, W), planes, H, W, lambda, iters);
  return u;
}

template <class T>
Tensor4<T> kernel_transform(Tensor4<T> const& x, optim::Wavelet w, int levels, bool inverse, bool in_place) {
  Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3);
  Tensor4<T> out(x.dimensions());
  out.setConstant(T(5));  // garbage outside what the transform writes would show
  std::vector<T> scratch(std::size_t(x.size()), T(-3));
  if (in_place) {
    out = x;
    k::wavelet_transform(HostLaunch{}, static_cast<T const*>(out.data()), out.data(), scratch.data(), planes, H, W,
                         k::wavelet_taps(w), levels, inverse);
  } else {
    k::wavelet_transform(HostLaunch{}, x.data(), out.data(), scratch.data(), planes, H, W, k::wavelet_taps(w), levels,
                         inverse);
  }
  return out;
}

template <class T>
Tensor4<T> kernel_wavelet_denoise(Tensor4<T> const& x, optim::WaveletDenoiser<T> const& d, double sigma) {
  Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3);
  Tensor4<T> out(x.dimensions());
  std::vector<T> scratch(std::size_t(x.size()));
  k::wavelet_denoise(HostLaunch{}, x.data(), out.data(), scratch.data(), planes, H, W, k::wavelet_taps(d.wavelet),
                     d.levels, T(d.threshold(sigma)), d.mode == optim::ThresholdMode::soft);
  return out;
}

struct Dims {
  Index B, C, H, W;
};

}  // namespace

TEST_CASE_TEMPLATE("kernels: TV FGP functors equal optim::TVDenoiser", T, float, double) {
  unsigned seed = 10;
  for (Dims s : {Dims{2, 3, 12, 17}, Dims{1, 2, 1, 9}, Dims{1, 1, 7, 1}, Dims{3, 1, 2, 2}}) {
    auto const x = random_batch<T>(s.B, s.C, s.H, s.W, seed++);
    for (int iters : {0, 1, 2, 7, 40})
      for (double sigma : {0.0, 0.05, 0.3}) {
        optim::TVDenoiser<T> const d{iters, 1.5};
        auto const want = d(x, sigma);
        auto const got = kernel_tv(x, d.scale * sigma, iters);
        CAPTURE(s.H);
        CAPTURE(s.W);
        CAPTURE(iters);
        CAPTURE(sigma);
        CHECK(max_abs_diff(got.data(), want.data(), x.size()) <= tol<T>());
      }
  }
}

TEST_CASE_TEMPLATE("kernels: the fused serial TV equals tv_fgp bit for bit", T, float, double) {
  unsigned seed = 30;
  for (Dims s : {Dims{2, 3, 12, 17}, Dims{1, 2, 1, 9}, Dims{1, 1, 7, 1}, Dims{1, 3, 40, 33}}) {
    auto const x = random_batch<T>(s.B, s.C, s.H, s.W, seed++);
    Index const planes = s.B * s.C;
    for (int iters : {0, 1, 5, 30}) {
      auto const want = kernel_tv(x, 0.2, iters);
      Tensor4<T> got(x.dimensions());
      std::vector<T> work(std::size_t(k::tv_work_size(planes, s.H, s.W)), T(-2));  // garbage, reset by the driver
      k::tv_fgp_serial(x.data(), got.data(), k::tv_work(work.data(), planes, s.H, s.W), planes, s.H, s.W, 0.2, iters);
      CAPTURE(s.H);
      CAPTURE(s.W);
      CAPTURE(iters);
      CHECK(std::equal(got.data(), got.data() + got.size(), want.data()));
    }
  }
}

TEST_CASE_TEMPLATE("kernels: unit_ball_factor is min(1, 1/sqrt(s)) to two ulps", T, float, double) {
  double const ulp = std::is_same_v<T, float> ? 0x1p-23 : 0x1p-52;
  std::vector<double> ss{0.0, 1e-30, 0.25, 0.999999, 1.0, 1.0000001, 1.5, 2.0, 4.0, 1e6, 3e30};
  std::mt19937_64 g(5);
  std::uniform_real_distribution<double> e(-8, 8);
  for (int i = 0; i < 2000; ++i) ss.push_back(std::exp(e(g)));
  for (double sd : ss) {
    T const s = T(sd);
    double const want = 1.0 / std::max(1.0, std::sqrt(double(s)));
    CAPTURE(sd);
    CHECK(std::abs(double(k::unit_ball_factor(s)) - want) <= 2 * ulp * want);
    CHECK(k::unit_ball_factor(s) <= T(1));
  }
}

TEST_CASE_TEMPLATE("kernels: one TV primal and dual step match their formulas", T, float, double) {
  Index const H = 5, W = 6, n = 2 * H * W;
  auto const x = random_batch<T>(1, 2, H, W, 3);
  auto p = random_batch<T>(1, 8, H, W, 4);  // px, py, previous px, previous py: n = 2 H W each
  // TvPrimal takes p in the range of grad, as FGP keeps it: px = 0 on the last column, py = 0
  // on the last row, and W zeros before each field (what it reads before the first sample).
  std::vector<T> pad(static_cast<std::size_t>(2 * (W + n)), T(0));
  T* px = pad.data() + W;
  T* py = pad.data() + 2 * W + n;
  for (Index e = 0; e < n; ++e) {
    px[e] = e % W == W - 1 ? T(0) : p.data()[e];
    py[e] = (e / W) % H == H - 1 ? T(0) : p.data()[n + e];
  }
  T const lam = T(0.7);
  std::vector<T> u(static_cast<std::size_t>(n));
  k::for_each_index(n, k::TvPrimal<T>{x.data(), px, py, u.data(), W, lam});
  // div p = -grad^T p, built from its definition <grad v, p> = -<v, div p> on unit vectors
  for (Index e = 0; e < n; ++e) {
    Index const j = e % W, i = (e / W) % H;
    double gtp = 0;  // (grad^T p)_e = sum over the differences that involve e
    if (j < W - 1) gtp -= px[e];
    if (j > 0) gtp += px[e - 1];
    if (i < H - 1) gtp -= py[e];
    if (i > 0) gtp += py[e - W];
    CHECK(double(u[std::size_t(e)]) == doctest::Approx(double(x.data()[e]) - double(lam) * gtp).epsilon(tol<T>()));
  }
  // dual step: q = P(r + step grad u), r' = q + beta (q - p_old), p' = q, with |q| <= 1
  std::vector<T> rx(px, px + n), ry(py, py + n), ox(p.data() + 2 * n, p.data() + 3 * n),
      oy(p.data() + 3 * n, p.data() + 4 * n);
  auto const rx0 = rx, ry0 = ry, ox0 = ox, oy0 = oy;
  T const step = T(2.5), beta = T(0.4);
  host::Serial{}.grid(2 * H, W, k::TvDual<T>{u.data(), rx.data(), ry.data(), ox.data(), oy.data(), H, W, step, beta});
  for (Index e = 0; e < n; ++e) {
    auto const z = std::size_t(e);
    Index const j = e % W, i = (e / W) % H;
    double const gx = j < W - 1 ? double(u[z + 1]) - u[z] : 0.0, gy = i < H - 1 ? double(u[z + std::size_t(W)]) - u[z] : 0.0;
    double qx = rx0[z] + double(step) * gx, qy = ry0[z] + double(step) * gy;
    double const nq = std::hypot(qx, qy);
    if (nq > 1) qx /= nq, qy /= nq;
    CHECK(std::hypot(double(ox[z]), double(oy[z])) <= 1 + tol<T>());
    CHECK(double(ox[z]) == doctest::Approx(qx).epsilon(10 * tol<T>()));
    CHECK(double(oy[z]) == doctest::Approx(qy).epsilon(10 * tol<T>()));
    CHECK(double(rx[z]) == doctest::Approx(qx + double(beta) * (qx - ox0[z])).epsilon(10 * tol<T>()));
    CHECK(double(ry[z]) == doctest::Approx(qy + double(beta) * (qy - oy0[z])).epsilon(10 * tol<T>()));
  }
}

TEST_CASE_TEMPLATE("kernels: wavelet level functors equal optim::wavelet_forward / wavelet_inverse", T, float,
                   double) {
  unsigned seed = 20;
  for (auto w : {optim::Wavelet::haar, optim::Wavelet::db4})
    for (int levels : {1, 2, 3})
      for (Dims s : {Dims{2, 3, 16, 24}, Dims{1, 2, 8, 32}, Dims{1, 1, 40, 8}}) {
        auto const x = random_batch<T>(s.B, s.C, s.H, s.W, seed++);
        CAPTURE(int(w));
        CAPTURE(levels);
        CAPTURE(s.H);
        CAPTURE(s.W);
        auto const fw = optim::wavelet_forward(x, w, levels);
        auto const inv = optim::wavelet_inverse(x, w, levels);  // the inverse of arbitrary coefficients
        for (bool in_place : {false, true}) {
          auto const kf = kernel_transform(x, w, levels, false, in_place);
          auto const ki = kernel_transform(x, w, levels, true, in_place);
          CHECK(max_abs_diff(kf.data(), fw.data(), x.size()) <= tol<T>());
          CHECK(max_abs_diff(ki.data(), inv.data(), x.size()) <= tol<T>());
        }
        // orthogonality of the kernel transform: perfect reconstruction, energy kept
        auto const c = kernel_transform(x, w, levels, false, false);
        auto const back = kernel_transform(c, w, levels, true, false);
        CHECK(max_abs_diff(back.data(), x.data(), x.size()) <= 10 * tol<T>());
        CHECK(norm(c) == doctest::Approx(norm(x)).epsilon(10 * tol<T>()));
      }
}

TEST_CASE_TEMPLATE("kernels: Haar level functor matches the explicit pair sums", T, float, double) {
  Index const H = 4, W = 6, n = H * W;
  auto const x = random_batch<T>(1, 1, H, W, 5);
  std::vector<T> out(static_cast<std::size_t>(n), T(9));
  host::Serial{}.grid(H, W, k::DwtLevel<T>{x.data(), out.data(), H, W, H, W, false, k::wavelet_taps(k::Wavelet::haar)});
  double const r = std::sqrt(0.5);
  for (Index i = 0; i < H; ++i)
    for (Index q = 0; q < W / 2; ++q) {
      double const a = x(0, 0, i, 2 * q), b = x(0, 0, i, 2 * q + 1);
      CHECK(double(out[std::size_t(i * W + q)]) == doctest::Approx(r * (a + b)).epsilon(tol<T>()));
      CHECK(double(out[std::size_t(i * W + W / 2 + q)]) == doctest::Approx(r * (a - b)).epsilon(tol<T>()));
    }
}

TEST_CASE_TEMPLATE("kernels: wavelet threshold and denoise equal optim::WaveletDenoiser", T, float, double) {
  unsigned seed = 40;
  for (auto w : {optim::Wavelet::haar, optim::Wavelet::db4})
    for (auto mode : {optim::ThresholdMode::soft, optim::ThresholdMode::hard})
      for (int levels : {1, 3})
        for (Dims s : {Dims{2, 2, 16, 24}, Dims{1, 3, 8, 16}}) {
          auto const x = random_batch<T>(s.B, s.C, s.H, s.W, seed++);
          optim::WaveletDenoiser<T> const d{w, levels, mode, 0.0};
          for (double sigma : {0.0, 0.1, 0.4}) {
            CAPTURE(int(w));
            CAPTURE(int(mode));
            CAPTURE(levels);
            CAPTURE(sigma);
            auto const want = d(x, sigma);
            auto const got = kernel_wavelet_denoise(x, d, sigma);
            CHECK(max_abs_diff(got.data(), want.data(), x.size()) <= 10 * tol<T>());
          }
        }
  // the threshold functor alone: approximation block kept, details shrunk or cut
  Index const H = 4, W = 4;
  std::vector<T> c{T(0.5), T(-0.5), T(0.2), T(-0.05), T(3), T(-3), T(0.31), T(-0.29),
                   T(1),   T(-1),   T(0.3), T(-0.3),  T(0), T(2),  T(-2),   T(0.1)};
  auto soft = c, hard = c;
  host::Serial{}.grid(H, W, k::WaveletThreshold<T>{soft.data(), H, W, 2, 2, T(0.3), true});
  host::Serial{}.grid(H, W, k::WaveletThreshold<T>{hard.data(), H, W, 2, 2, T(0.3), false});
  for (Index e = 0; e < H * W; ++e) {
    auto const z = std::size_t(e);
    bool const approx = e % W < 2 && e / W < 2;
    double const v = c[z], a = std::abs(v), tau = double(T(0.3));
    double const s = approx ? v : (a <= tau ? 0.0 : v - std::copysign(tau, v));
    double const h = approx ? v : (a < tau ? 0.0 : v);
    CHECK(double(soft[z]) == doctest::Approx(s).epsilon(tol<T>()));
    CHECK(double(hard[z]) == doctest::Approx(h).epsilon(tol<T>()));
  }
}

TEST_CASE("kernels: wavelet taps are the host filters by value") {
  for (auto w : {optim::Wavelet::haar, optim::Wavelet::db4}) {
    auto const f = optim::wavelet_filter(w);
    auto const t = k::wavelet_taps(w);
    REQUIRE(t.K == int(f.size()));
    double s = 0;
    for (int m = 0; m < t.K; ++m) {
      CHECK(t.h[m] == f[std::size_t(m)]);
      s += t.h[m] * t.h[m];
    }
    CHECK(s == doctest::Approx(1.0).epsilon(1e-12));  // orthonormal low-pass
  }
}
