// Denoisers and priors: PSNR gains on a noisy piecewise-smooth image, the TV prox's
// optimality (duality gap), its exact receptive field, wavelet orthogonality, tiled ==
// untiled away from the border, user denoisers, errors.
#include <doctest/doctest.h>

#include <random>

#include "distinv/optim/denoisers/gaussian.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/process.hpp"

using namespace distinv;
using namespace distinv::optim;

namespace {

// Piecewise-smooth test image in [0, 1]: a smooth background, a disk and a bright rectangle.
template <class T>
Tensor4<T> test_image(Index n, Index channels = 1) {
  Tensor4<T> x(1, channels, n, n);
  for (Index c = 0; c < channels; ++c)
    for (Index i = 0; i < n; ++i)
      for (Index j = 0; j < n; ++j) {
        double const u = double(i) / n, v = double(j) / n;
        double val = 0.25 + 0.2 * u + 0.1 * std::sin(3.0 * v + c);
        if ((u - 0.4) * (u - 0.4) + (v - 0.55) * (v - 0.55) < 0.06) val = 0.8 - 0.2 * v;
        if (u > 0.65 && u < 0.85 && v > 0.15 && v < 0.45) val = 0.95;
        x(0, c, i, j) = T(val);
      }
  return x;
}

template <class T>
Tensor4<T> add_noise(Tensor4<T> const& x, double sigma, unsigned seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> nd(0.0, sigma);
  Tensor4<T> y = x;
  for (auto& v : flat(y)) v = T(v + nd(g));
  return y;
}

template <class T>
double psnr(Tensor4<T> const& a, Tensor4<T> const& b) {
  double mse = 0;
  for (Index i = 0; i < a.size(); ++i) mse += std::pow(double(a.data()[i]) - double(b.data()[i]), 2);
  return 10 * std::log10(1.0 / (mse / double(a.size())));
}

// max |a - b| over samples at least `m` away from every border of H, W.
template <class T>
double interior_diff(Tensor4<T> const& a, Tensor4<T> const& b, Index m) {
  double d = 0;
  for (Index bb = 0; bb < a.dimension(0); ++bb)
    for (Index c = 0; c < a.dimension(1); ++c)
      for (Index i = m; i < a.dimension(2) - m; ++i)
        for (Index j = m; j < a.dimension(3) - m; ++j)
          d = std::max(d, std::abs(double(a(bb, c, i, j)) - double(b(bb, c, i, j))));
  return d;
}

// 1/2 ||u - x||^2 + lambda TV(u) on a one-plane tensor.
double rof_objective(Tensor4<double> const& u, Tensor4<double> const& x, double lambda) {
  Tensor4<double> d = u - x;
  return 0.5 * dot(d, d) + lambda * tv_value(u);
}

}  // namespace

TEST_CASE_TEMPLATE("TV and wavelet denoising of a noisy image gain at least 5 dB", T, float, double) {
  auto clean = test_image<T>(128);
  auto noisy = add_noise(clean, 0.1, 42);
  double const p0 = psnr(noisy, clean);
  CHECK(p0 == doctest::Approx(20).epsilon(0.02));
  double const p_tv = psnr(TVDenoiser<T>{}(noisy, 0.1), clean);
  double const p_db = psnr(WaveletDenoiser<T>{Wavelet::db4, 3, ThresholdMode::soft}(noisy, 0.1), clean);
  double const p_haar = psnr(WaveletDenoiser<T>{Wavelet::haar, 4, ThresholdMode::hard}(noisy, 0.1), clean);
  MESSAGE("PSNR noisy ", p0, " TV ", p_tv, " db4 soft ", p_db, " haar hard ", p_haar);
  CHECK(p_tv >= p0 + 5);
  CHECK(p_db >= p0 + 5);
  CHECK(p_haar >= p0 + 5);
}

TEST_CASE("TV prox is optimal: dual feasible, zero duality gap, no better nearby point") {
  double const lambda = 0.1;
  auto x = add_noise(test_image<double>(32), 0.1, 7);
  Index const H = 32, W = 32, n = H * W;
  Tensor4<double> u(1, 1, H, W);
  std::vector<double> px(n), py(n);
  tv_prox_plane<double>(flat(std::as_const(x)), H, W, lambda, 3000, flat(u), px, py);
  // Dual feasibility |p_ij| <= 1.
  double pmax = 0;
  for (Index i = 0; i < n; ++i) pmax = std::max(pmax, std::hypot(px[i], py[i]));
  CHECK(pmax <= 1 + 1e-12);
  // u = x + lambda div p (by construction), so the dual value is D(p) = 1/2||x||^2 - 1/2||u||^2
  // and weak duality P(u) >= D(p) is an equality only at the optimum.
  double const primal = rof_objective(u, x, lambda);
  double const dual = 0.5 * dot(x, x) - 0.5 * dot(u, u);
  MESSAGE("primal ", primal, " dual ", dual);
  CHECK(primal - dual >= -1e-12);
  CHECK(primal - dual <= 1e-6 * primal);
  // No random nearby point is better.
  std::mt19937_64 g(3);
  std::normal_distribution<double> nd;
  for (int k = 0; k < 20; ++k) {
    Tensor4<double> v = u;
    for (auto& e : flat(v)) e += 1e-3 * nd(g);
    CHECK(rof_objective(v, x, lambda) > primal);
  }
  // The default 50 iterations already come within 1% of the optimum.
  auto u50 = TVDenoiser<double>{50}(x, lambda);
  CHECK(rof_objective(u50, x, lambda) <= primal * 1.01);
}

TEST_CASE("TV receptive field is exactly max_iter along each axis") {
  int const iters = 6;
  auto x = add_noise(test_image<double>(48), 0.1, 9);
  TVDenoiser<double> tv{iters};
  REQUIRE(receptive_field_of(tv) == iters);
  auto y = tv(x, 0.1);
  Tensor4<double> x2 = x;
  Index const c = 24;
  x2(0, 0, c, c) += 0.5;
  auto y2 = tv(x2, 0.1);
  double ring = 0;
  for (Index i = 0; i < 48; ++i)
    for (Index j = 0; j < 48; ++j) {
      Index const dist = std::max(std::abs(i - c), std::abs(j - c));
      double const d = std::abs(y2(0, 0, i, j) - y(0, 0, i, j));
      if (dist > iters) REQUIRE(d == 0);  // bitwise: nothing outside the box depends on x(c, c)
      if (dist == iters) ring = std::max(ring, d);
    }
  CHECK(ring > 0);  // and the bound is attained
}

TEST_CASE_TEMPLATE("wavelet transform is orthogonal: perfect reconstruction, energy kept", T, float, double) {
  double const tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  std::mt19937_64 g(11);
  std::uniform_real_distribution<double> u(-1, 1);
  Tensor4<T> x(2, 2, 32, 64);
  for (auto& v : flat(x)) v = T(u(g));
  double const e = dot(x, x);
  for (auto w : {Wavelet::haar, Wavelet::db4})
    for (int levels = 1; levels <= 3; ++levels) {
      CAPTURE(levels);
      auto c = wavelet_forward(x, w, levels);
      CHECK(std::abs(dot(c, c) - e) <= tol * e);
      CHECK(max_abs_diff(wavelet_inverse(c, w, levels), x) <= tol);
    }
  // Haar by hand on [[1, 2], [3, 4]]: LL = 10/2, HL = -2/2, LH = -4/2, HH = 0.
  Tensor4<T> s(1, 1, 2, 2);
  s.setValues({{{{1, 2}, {3, 4}}}});
  auto c = wavelet_forward(s, Wavelet::haar, 1);
  CHECK(double(c(0, 0, 0, 0)) == doctest::Approx(5));
  CHECK(double(c(0, 0, 0, 1)) == doctest::Approx(-1));
  CHECK(double(c(0, 0, 1, 0)) == doctest::Approx(-2));
  CHECK(std::abs(double(c(0, 0, 1, 1))) <= tol);
  // db4 has 4 vanishing moments: a constant has no detail at all.
  Tensor4<T> k(1, 1, 16, 16);
  k.setConstant(T(0.3));
  auto ck = wavelet_forward(k, Wavelet::db4, 2);
  CHECK(std::abs(double(ck(0, 0, 0, 0)) - 0.3 * 4) <= tol);  // approximation gains 2 per level
  CHECK(interior_diff(ck, zeros<T>(Shape<4>{1, 1, 16, 16}), 0) == doctest::Approx(1.2).epsilon(1e-5));
  double detail = 0;
  for (Index i = 0; i < 16; ++i)
    for (Index j = 0; j < 16; ++j)
      if (i >= 4 || j >= 4) detail = std::max(detail, std::abs(double(ck(0, 0, i, j))));
  CHECK(detail <= tol);
}

TEST_CASE_TEMPLATE("tiled TV and wavelet denoising equal untiled away from the border", T, float, double) {
  using namespace distinv::tiling;
  auto x = add_noise(test_image<T>(128, 2), 0.1, 5);
  {
    TVDenoiser<T> tv{10};
    auto ref = tv(x, 0.1);
    for (auto blend : {Blend::none, Blend::linear}) {
      TilingOptions o{{32}, {tv.receptive_field()}};  // halo = receptive field
      if (blend != Blend::none) o.stride = {24};
      o.blend = blend;
      OverlapTilingStrategy<4> s(shape_of(x), o);
      auto y = process_tiled(s, x, tv, 0.1, 4);
      CAPTURE(to_string(blend));
      CHECK(interior_diff(y, ref, tv.receptive_field()) < 1e-4);
      MESSAGE("tiled TV interior diff ", interior_diff(y, ref, tv.receptive_field()));
    }
  }
  // Wavelets are shift-variant: the windows must start, in signal coordinates, on the dyadic
  // grid of the whole image, i.e. at multiples of 2^levels. Window k starts at k*stride - halo
  // (the last one at 128 - patch - halo), so patch, stride and halo are multiples of 2^levels,
  // and window sizes too (the transform needs it). Halo >= (K-1)(2^L - 1) = receptive field.
  for (auto [w, levels, halo] : {std::tuple{Wavelet::db4, 2, Index(24)}, std::tuple{Wavelet::haar, 3, Index(8)}}) {
    WaveletDenoiser<T> wd{w, levels, ThresholdMode::soft};
    REQUIRE(halo >= wd.receptive_field());
    auto ref = wd(x, 0.1);
    OverlapTilingStrategy<4> s(shape_of(x), TilingOptions{{32}, {halo}});
    auto y = process_tiled(s, x, wd, 0.1);
    CAPTURE(levels);
    CHECK(interior_diff(y, ref, wd.receptive_field()) < 1e-4);
  }
}

namespace {
// A hand-written "CNN-like" denoiser: 3x3 convolution (zero padding) then ReLU.
template <class T>
struct TinyCnn {
  std::array<T, 9> w{T(0.05), T(0.1), T(0.05), T(0.1), T(0.4), T(0.1), T(0.05), T(0.1), T(0.05)};
  Index receptive_field() const { return 1; }
  Tensor4<T> operator()(Tensor4<T> const& x, double) const {
    return optim::detail::map_planes(x, [&](T const* in, T* out, Index H, Index W) {
      for (Index i = 0; i < H; ++i)
        for (Index j = 0; j < W; ++j) {
          T a = 0;
          for (Index di = -1; di <= 1; ++di)
            for (Index dj = -1; dj <= 1; ++dj)
              if (i + di >= 0 && i + di < H && j + dj >= 0 && j + dj < W)
                a += w[std::size_t((di + 1) * 3 + dj + 1)] * in[(i + di) * W + j + dj];
          out[i * W + j] = std::max(a, T(0));
        }
    });
  }
};
}  // namespace

TEST_CASE_TEMPLATE("user denoisers: a lambda and a CNN-like struct, tiled and as PnP priors", T, float, double) {
  using namespace distinv::tiling;
  auto scale = [](Tensor4<T> const& x, double sigma) -> Tensor4<T> { return x * T(1 - sigma); };
  static_assert(Denoiser<decltype(scale), T>);
  static_assert(Denoiser<TinyCnn<T>, T>);
  CHECK(receptive_field_of(scale) == 0);
  CHECK(receptive_field_of(TinyCnn<T>{}) == 1);
  CHECK(receptive_field_of(GaussianDenoiser<T>{1.5}) == 5);
  CHECK(receptive_field_of(WaveletDenoiser<T>{Wavelet::db4, 3}) == 49);
  auto x = add_noise(test_image<T>(64, 3), 0.1, 8);
  OverlapTilingStrategy<4> s(shape_of(x), TilingOptions{{20}, {1}});
  CHECK(max_abs_diff(process_tiled(s, x, scale, 0.5), scale(x, 0.5)) <= 1e-6);
  TinyCnn<T> cnn;
  CHECK(interior_diff(process_tiled(s, x, cnn, 0.0), cnn(x, 0.0), 1) <= 1e-6);
  GaussianDenoiser<T> gd{1.0};
  OverlapTilingStrategy<4> sg(shape_of(x), TilingOptions{{16}, {gd.receptive_field()}});
  CHECK(interior_diff(process_tiled(sg, x, gd, 0.0), gd(x, 0.0), gd.receptive_field()) <= 1e-6);
  // Gaussian smoothing keeps constants and lowers the noise.
  auto clean = test_image<T>(64, 3);
  CHECK(psnr(gd(x, 0.1), clean) > psnr(x, clean) + 3);

  PnP<TinyCnn<T>> pnp{cnn};
  static_assert(Prior<PnP<TinyCnn<T>>, T>);
  CHECK(pnp.receptive_field() == 1);
  CHECK(max_abs_diff(pnp.prox(x, 0.1), cnn(x, 0.1)) == 0);
  PnP bad{[](Tensor4<T> const& b, double) -> Tensor4<T> { return Tensor4<T>(b.dimension(0), 1, 2, 2); }};
  CHECK_THROWS_AS(bad.prox(x, 0.1), Error);
}

TEST_CASE("TVPrior: value by hand, gradient against finite differences, prox = TV denoiser") {
  TVPrior<double> prior{2.0, 30, 1e-2};
  Tensor4<double> s(1, 1, 2, 2);
  s.setValues({{{{0, 1}, {0, 0}}}});
  // |grad| at (0,0): (1, 0) -> 1; at (0,1): (0, -1) -> 1; elsewhere 0: TV = 2.
  CHECK(prior.fn(s) == doctest::Approx(4));
  auto x = add_noise(test_image<double>(16), 0.1, 4);
  auto g = prior.grad(x);
  auto smoothed = [&](Tensor4<double> const& v) {
    double a = 0;
    for (Index i = 0; i < 16; ++i)
      for (Index j = 0; j < 16; ++j) {
        double const gx = j < 15 ? v(0, 0, i, j + 1) - v(0, 0, i, j) : 0;
        double const gy = i < 15 ? v(0, 0, i + 1, j) - v(0, 0, i, j) : 0;
        a += std::sqrt(gx * gx + gy * gy + 1e-4);
      }
    return 2.0 * a;
  };
  for (auto [i, j] : {std::pair<Index, Index>{0, 0}, {5, 7}, {15, 15}, {8, 0}}) {
    Tensor4<double> xp = x, xm = x;
    xp(0, 0, i, j) += 1e-6;
    xm(0, 0, i, j) -= 1e-6;
    CHECK(g(0, 0, i, j) == doctest::Approx((smoothed(xp) - smoothed(xm)) / 2e-6).epsilon(1e-5));
  }
  CHECK(max_abs_diff(prior.prox(x, 0.05), TVDenoiser<double>{30, 1.0}(x, 0.1)) == 0);
  static_assert(Prior<TVPrior<double>, double>);
}

TEST_CASE("bad denoiser input throws Error") {
  Tensor4<float> x(1, 1, 20, 24);
  x.setZero();
  // The denoiser pads a 20 x 24 plane to 24 x 24 (see the reference tests); the transform
  // itself still takes multiples of 2^levels only.
  CHECK_THROWS_WITH_AS(wavelet_forward(x, Wavelet::haar, 3),
                       "distinv: wavelet_forward: H and W must be multiples of 2^levels = 8, got 20 x 24", Error);
  WaveletDenoiser<float> w0{Wavelet::haar, 0};
  CHECK_THROWS_WITH_AS(w0(x, 0.1), "distinv: WaveletDenoiser: expected levels >= 1, got 0", Error);
  CHECK_THROWS_AS((WaveletDenoiser<float>{Wavelet::haar, 3}(x, -0.1)), Error);
  CHECK_THROWS_AS(wavelet_forward(x, Wavelet::db4, 0), Error);
  TVDenoiser<float> tv{}, tv_bad{-2};
  CHECK_THROWS_AS(tv(x, -1.0), Error);
  CHECK_THROWS_AS(tv_bad(x, 0.1), Error);
  CHECK_THROWS_WITH_AS(parse_wavelet("db8"), "distinv: unknown wavelet \"db8\": expected one of haar, db4", Error);
  TVPrior<float> prior{};
  CHECK_THROWS_AS(prior.prox(x, -0.1), Error);
}
