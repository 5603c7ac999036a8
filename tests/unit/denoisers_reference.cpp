// The TV, wavelet and Gaussian denoisers, the wavelet transforms and the smoothed-TV
// gradient (written once as functors, run plane by plane in parallel on the host) against the
// plain loops of denoiser_oracles.hpp, bit for bit; the wavelet denoiser on sizes that are
// not multiples of 2^levels (reflect padding and crop: any size, a 226 x 226 tile as
// distinv-pnp cuts by default, constants kept, noise removed); soft_threshold of a signal.
#include <doctest/doctest.h>

#include <random>

#include "distinv/io/image_ops.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/optim/denoisers/gaussian.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/optim/threshold.hpp"
#include "unit/denoiser_oracles.hpp"

using namespace distinv;
using namespace distinv::optim;

namespace {

template <class T>
Tensor4<T> uniform_batch(Shape<4> const& s, unsigned seed, double lo = 0, double hi = 1) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Tensor4<T> x(s);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(u(g));
  return x;
}

template <class T>
Tensor4<T> crop(Tensor4<T> const& x, Index H, Index W) {
  return Tensor4<T>(x.slice(Shape<4>{0, 0, 0, 0}, Shape<4>{x.dimension(0), x.dimension(1), H, W}));
}

}  // namespace

TEST_CASE_TEMPLATE("TVDenoiser and TVPrior equal the reference FGP loops bit for bit", T, float, double) {
  unsigned seed = 70;
  // small planes (serial inside), and planes large enough for the row-parallel launches
  for (Shape<4> s : {Shape<4>{2, 3, 12, 17}, Shape<4>{1, 2, 1, 9}, Shape<4>{1, 1, 7, 1}, Shape<4>{3, 1, 2, 2},
                     Shape<4>{1, 2, 90, 300}}) {
    auto const x = uniform_batch<T>(s, seed++);
    for (int iters : {0, 1, 2, 7, 40})
      for (double sigma : {0.0, 0.05, 0.3}) {
        CAPTURE(to_string(s));
        CAPTURE(iters);
        CAPTURE(sigma);
        TVDenoiser<T> const d{iters, 1.5};
        CHECK(max_abs_diff(d(x, sigma), oracle::tv_denoise(x, 1.5 * sigma, iters)) == 0);
      }
    TVPrior<T> const prior{2.0, 10, 1e-2};
    CHECK(max_abs_diff(prior.grad(x), oracle::smoothed_tv_gradient(x, 2.0, 1e-2)) == 0);
  }
  Tensor4<T> empty(0, 3, 8, 8);
  CHECK(TVDenoiser<T>{}(empty, 0.1).size() == 0);
}

TEST_CASE_TEMPLATE("wavelet transforms and denoiser equal the reference loops bit for bit", T, float, double) {
  unsigned seed = 80;
  for (auto w : {Wavelet::haar, Wavelet::db4})
    for (int levels : {1, 2, 3})
      // 8 x 16 at 3 levels: lines of 2 and 4 values, shorter than db4's 8 taps
      for (Shape<4> s :
           {Shape<4>{2, 3, 16, 24}, Shape<4>{1, 1, 40, 8}, Shape<4>{1, 2, 8, 16}, Shape<4>{1, 1, 128, 256}}) {
        auto const x = uniform_batch<T>(s, seed++, -1, 1);
        auto const h = wavelet_filter(w);
        CAPTURE(int(w));
        CAPTURE(levels);
        CAPTURE(to_string(s));
        CHECK(max_abs_diff(wavelet_forward(x, w, levels), oracle::wavelet_transform(x, h, levels, false)) == 0);
        CHECK(max_abs_diff(wavelet_inverse(x, w, levels), oracle::wavelet_transform(x, h, levels, true)) == 0);
        for (auto mode : {ThresholdMode::soft, ThresholdMode::hard}) {
          WaveletDenoiser<T> const d{w, levels, mode, 0.0};
          T const tau = T(d.threshold(0.2));
          CHECK(max_abs_diff(d(x, 0.2), oracle::wavelet_denoise(x, h, levels, tau, mode == ThresholdMode::soft)) == 0);
        }
      }
}

TEST_CASE_TEMPLATE("WaveletDenoiser of any size: reflect-padded to a multiple of 2^levels, cropped back", T, float,
                   double) {
  double const tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  unsigned seed = 90;
  for (auto w : {Wavelet::haar, Wavelet::db4})
    for (int levels : {1, 3})
      for (Shape<4> s : {Shape<4>{1, 1, 1, 1}, Shape<4>{1, 2, 5, 7}, Shape<4>{2, 1, 13, 20}, Shape<4>{1, 1, 16, 9},
                         Shape<4>{1, 3, 226, 226}}) {
        auto const x = uniform_batch<T>(s, seed++);
        WaveletDenoiser<T> const d{w, levels, ThresholdMode::soft, 0.0};
        Index const m = Index(1) << levels, Hp = (s[2] + m - 1) / m * m, Wp = (s[3] + m - 1) / m * m;
        CAPTURE(int(w));
        CAPTURE(levels);
        CAPTURE(to_string(s));
        auto const y = d(x, 0.1);
        REQUIRE(shape_of(y) == s);
        auto const want = crop(oracle::wavelet_denoise(oracle::reflect_pad(x, Hp, Wp), wavelet_filter(w), levels,
                                                       T(d.threshold(0.1)), true),
                               s[2], s[3]);
        CHECK(max_abs_diff(y, want) == 0);
        // sigma 0 thresholds nothing: the padded transform and its inverse give x back
        CHECK(max_abs_diff(d(x, 0.0), x) <= 10 * tol);
      }
  // db4 has 4 vanishing moments and the mirror keeps a constant constant: nothing to shrink.
  Tensor4<T> k(1, 1, 13, 21);
  k.setConstant(T(0.3));
  CHECK(max_abs_diff(WaveletDenoiser<T>{Wavelet::db4, 3}(k, 0.5), k) <= 10 * tol);
  // The tile distinv-pnp cuts by default (128 + 2 * 49 = 226, not a multiple of 8): noise goes.
  auto const clean = io::test_image<T>(226, 226, 3);
  std::mt19937_64 g(5);
  std::normal_distribution<double> nd(0.0, 0.1);
  Tensor4<T> noisy = clean;
  for (Index i = 0; i < noisy.size(); ++i) noisy.data()[i] += T(nd(g));
  double const before = psnr(noisy, clean), after = psnr(WaveletDenoiser<T>{}(noisy, 0.1), clean);
  MESSAGE("226 x 226 tile: PSNR ", before, " -> ", after, " dB");
  CHECK(after >= before + 3);
}

TEST_CASE_TEMPLATE("GaussianDenoiser equals the reference loops bit for bit", T, float, double) {
  for (Shape<4> s : {Shape<4>{2, 3, 12, 17}, Shape<4>{1, 1, 1, 5}, Shape<4>{1, 2, 90, 300}})
    for (double stddev : {0.5, 1.0, 2.5}) {
      auto const x = uniform_batch<T>(s, 7);
      CAPTURE(to_string(s));
      CAPTURE(stddev);
      CHECK(max_abs_diff(GaussianDenoiser<T>{stddev}(x, 0.1), oracle::gaussian_smooth(x, stddev, 3.0)) == 0);
    }
}

TEST_CASE_TEMPLATE("soft_threshold of a signal: kernels::SoftThreshold on every value", T, float, double) {
  auto x = uniform_batch<T>({2, 3, 17, 40}, 3, -2, 2);  // more than one chunk of the launcher
  auto const x0 = x;
  soft_threshold(x, T(0.5));
  kernels::SoftThreshold<T> const st{T(0.5)};
  Index wrong = 0;
  for (Index i = 0; i < x.size(); ++i) wrong += x.data()[i] != st(x0.data()[i]);
  CHECK(wrong == 0);
  CHECK_THROWS_WITH_AS(soft_threshold(x, T(-1)), "distinv: soft_threshold: expected lambda >= 0, got -1", Error);
}
