// The generated test picture (io/test_image.hpp) and the image utilities (io/image_ops.hpp):
// determinism, range, edges and colours of the picture; psnr against a hand-computed value;
// resize of constants and ramps; montage layout; to_rgb, clamp01, normalize_minmax.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "distinv/io/image_ops.hpp"
#include "distinv/io/test_image.hpp"

using namespace distinv;

TEST_CASE_TEMPLATE("test_image: deterministic, in [0, 1], with edges, texture and colours", T, float, double) {
  Index const H = 96, W = 128;
  Tensor4<T> const a = io::test_image<T>(H, W);
  Tensor4<T> const b = io::test_image<T>(H, W);
  REQUIRE(shape_of(a) == Shape<4>{1, 3, H, W});
  CHECK(max_abs_diff(a, b) == 0);
  Tensor4<double> const ref = io::test_image<double>(H, W);
  for (Index i = 0; i < a.size(); ++i) CHECK_MESSAGE(std::abs(double(a.data()[i]) - ref.data()[i]) < 1e-6, i);
  T lo = 1, hi = 0;
  for (T v : flat(a)) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= T(0));
  CHECK(hi <= T(1));
  CHECK(hi - lo > T(0.8));

  // Edges: mean horizontal + vertical gradient magnitude, and the share of sharp steps.
  double energy = 0;
  Index sharp = 0, count = 0;
  for (Index c = 0; c < 3; ++c)
    for (Index y = 0; y + 1 < H; ++y)
      for (Index x = 0; x + 1 < W; ++x) {
        double const dx = double(a(0, c, y, x + 1) - a(0, c, y, x)), dy = double(a(0, c, y + 1, x) - a(0, c, y, x));
        energy += dx * dx + dy * dy;
        sharp += (std::abs(dx) > 0.3 || std::abs(dy) > 0.3);
        ++count;
      }
  CHECK(energy / double(count) > 0.01);
  CHECK(double(sharp) / double(count) > 0.02);  // many sharp edges (stripes, star, disks)
  CHECK(double(sharp) / double(count) < 0.5);   // but mostly smooth or flat regions

  // Colours: many distinct colours after coarse quantisation, and chromatic ones (R != G != B).
  std::set<std::tuple<int, int, int>> colours;
  Index chromatic = 0;
  for (Index y = 0; y < H; ++y)
    for (Index x = 0; x < W; ++x) {
      double const r = a(0, 0, y, x), g = a(0, 1, y, x), bl = a(0, 2, y, x);
      colours.emplace(int(r * 7.99), int(g * 7.99), int(bl * 7.99));
      chromatic += (std::max({r, g, bl}) - std::min({r, g, bl}) > 0.3);
    }
  CHECK(colours.size() >= 30);
  CHECK(double(chromatic) / double(H * W) > 0.2);

  // The grey version is the luma of the colour one.
  Tensor4<T> const grey = io::test_image<T>(H, W, 1);
  REQUIRE(shape_of(grey) == Shape<4>{1, 1, H, W});
  for (Index y = 0; y < H; y += 7)
    for (Index x = 0; x < W; x += 5)
      CHECK(double(grey(0, 0, y, x)) ==
            doctest::Approx(0.299 * a(0, 0, y, x) + 0.587 * a(0, 1, y, x) + 0.114 * a(0, 2, y, x)).epsilon(1e-5));

  CHECK_THROWS_WITH_AS(io::test_image<T>(H, W, 2), "distinv: test_image: expected C = 1 or 3 channels, got 2", Error);
  CHECK_THROWS_AS(io::test_image<T>(8, W), Error);
}

TEST_CASE_TEMPLATE("psnr: hand-computed value, scale invariance, errors", T, float, double) {
  Tensor4<T> x(1, 1, 2, 2), ref(1, 1, 2, 2);
  x.setZero();
  ref.setValues({{{{T(0.1), T(0.2)}, {T(0.3), T(0.4)}}}});
  // mse = (0.01 + 0.04 + 0.09 + 0.16) / 4 = 0.075; 10 log10(1 / 0.075) = 11.2493873660829995...
  double const tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  CHECK(io::psnr(x, ref) == doctest::Approx(11.249387366083).epsilon(tol));
  Tensor4<T> const x255 = x * T(255), ref255 = ref * T(255);
  CHECK(io::psnr(x255, ref255, 255.0) == doctest::Approx(11.249387366083).epsilon(tol));
  CHECK(io::psnr(ref, ref) == std::numeric_limits<double>::infinity());
  Tensor4<T> other(1, 1, 2, 3);
  other.setZero();
  CHECK_THROWS_WITH_AS(io::psnr(other, ref), "distinv: psnr: expected shape (1, 1, 2, 2), got (1, 1, 2, 3)", Error);
  CHECK_THROWS_AS(io::psnr(x, ref, 0.0), Error);
}

TEST_CASE_TEMPLATE("resize_bilinear: constants stay constant, ramps stay linear", T, float, double) {
  double const tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  Tensor4<T> k(2, 3, 37, 23);
  k.setConstant(T(0.625));
  for (auto [h, w] : {std::pair<Index, Index>{9, 5}, {80, 61}, {37, 23}, {1, 1}, {100, 7}})
    for (bool aa : {true, false}) {
      Tensor4<T> const r = io::resize_bilinear(k, h, w, aa);
      REQUIRE(shape_of(r) == Shape<4>{2, 3, h, w});
      for (T v : flat(r)) CHECK(std::abs(double(v) - 0.625) < tol);
    }

  // A ramp along W (constant along H) and one along H; a = 0.1, slope 0.01 per pixel.
  Index const n = 64;
  Tensor4<T> rx(1, 1, 8, n), ry(1, 1, n, 8);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < 8; ++j) rx(0, 0, j, i) = ry(0, 0, i, j) = T(0.1 + 0.01 * double(i));
  // Shrinking 64 -> 16 (anti-aliased, half-width 4): output i sits at input (i + 0.5) * 4 - 0.5;
  // away from the borders the triangle is symmetric so the value is the ramp there.
  Tensor4<T> const sx = io::resize_bilinear(rx, 8, 16);
  Tensor4<T> const sy = io::resize_bilinear(ry, 16, 8);
  for (Index i = 1; i <= 14; ++i) {
    double const want = 0.1 + 0.01 * ((double(i) + 0.5) * 4 - 0.5);
    CHECK(std::abs(double(sx(0, 0, 3, i)) - want) < tol);
    CHECK(std::abs(double(sy(0, 0, i, 5)) - want) < tol);
  }
  // Enlarging 64 -> 150: exact linear interpolation wherever the sample point is inside.
  Tensor4<T> const ux = io::resize_bilinear(rx, 8, 150);
  Index inside = 0;
  for (Index i = 0; i < 150; ++i) {
    double const c = (double(i) + 0.5) * 64.0 / 150.0 - 0.5;
    if (c < 0 || c > n - 1) continue;
    ++inside;
    CHECK(std::abs(double(ux(0, 0, 0, i)) - (0.1 + 0.01 * c)) < tol);
  }
  CHECK(inside >= 145);
  // Same size: the identity.
  CHECK(max_abs_diff(io::resize_bilinear(rx, 8, n), rx) < tol);
  // A checkerboard shrunk by 2 with anti-aliasing becomes flat grey (no aliasing).
  Tensor4<T> cb(1, 1, 32, 32);
  for (Index y = 0; y < 32; ++y)
    for (Index x = 0; x < 32; ++x) cb(0, 0, y, x) = T((x + y) % 2);
  Tensor4<T> const half = io::resize_bilinear(cb, 16, 16);
  for (Index y = 1; y < 15; ++y)
    for (Index x = 1; x < 15; ++x) CHECK(std::abs(double(half(0, 0, y, x)) - 0.5) < tol);

  CHECK_THROWS_AS(io::resize_bilinear(rx, 0, 5), Error);
}

TEST_CASE_TEMPLATE("montage, to_rgb, clamp01, normalize_minmax", T, float, double) {
  Tensor4<T> rgb(1, 3, 10, 12), grey(1, 1, 6, 5);
  for (Index i = 0; i < rgb.size(); ++i) rgb.data()[i] = T(0.001) * T(i % 997);
  for (Index i = 0; i < grey.size(); ++i) grey.data()[i] = T(0.02) * T(i);
  Tensor4<T> const m = io::montage<T>({rgb, grey, rgb}, 4);
  REQUIRE(shape_of(m) == Shape<4>{1, 3, 10 + 8, 4 + 12 + 4 + 5 + 4 + 12 + 4});
  CHECK(m(0, 1, 0, 0) == T(1));  // white border
  CHECK(m(0, 2, 17, 44) == T(1));
  CHECK(m(0, 0, 4 + 3, 4 + 5) == rgb(0, 0, 3, 5));
  CHECK(m(0, 2, 4 + 9, 4 + 12 + 4 + 5 + 4 + 11) == rgb(0, 2, 9, 11));
  // The grey image is letterboxed: rows 4 + (10 - 6) / 2 = 6 .. 11, columns 20 .. 24, all channels.
  for (Index c = 0; c < 3; ++c) {
    CHECK(m(0, c, 6, 20) == grey(0, 0, 0, 0));
    CHECK(m(0, c, 11, 24) == grey(0, 0, 5, 4));
    CHECK(m(0, c, 5, 20) == T(1));
    CHECK(m(0, c, 12, 24) == T(1));
  }
  Tensor4<T> const mg = io::montage<T>({grey}, 0);
  CHECK(max_abs_diff(mg, grey) == 0);
  CHECK_THROWS_AS(io::montage<T>({}), Error);
  Tensor4<T> batch(2, 1, 4, 4);
  CHECK_THROWS_AS(io::montage<T>({grey, batch}), Error);

  Tensor4<T> const g3 = io::to_rgb(grey);
  REQUIRE(shape_of(g3) == Shape<4>{1, 3, 6, 5});
  for (Index c = 0; c < 3; ++c) CHECK(g3(0, c, 4, 3) == grey(0, 0, 4, 3));
  CHECK(max_abs_diff(io::to_rgb(rgb), rgb) == 0);
  Tensor4<T> two(1, 2, 2, 2);
  CHECK_THROWS_AS(io::to_rgb(two), Error);

  Tensor4<T> v(1, 1, 1, 5);
  v.setValues({{{{T(-0.5), T(0.25), T(1.5), T(std::nan("")), T(1)}}}});
  Tensor4<T> const cl = io::clamp01(v);
  CHECK(cl(0, 0, 0, 0) == T(0));
  CHECK(cl(0, 0, 0, 1) == T(0.25));
  CHECK(cl(0, 0, 0, 2) == T(1));
  CHECK(cl(0, 0, 0, 3) == T(0));
  CHECK(cl(0, 0, 0, 4) == T(1));

  Tensor4<T> w(1, 1, 1, 4);
  w.setValues({{{{T(2), T(4), T(6), T(INFINITY)}}}});
  Tensor4<T> const nm = io::normalize_minmax(w);
  CHECK(nm(0, 0, 0, 0) == T(0));
  CHECK(nm(0, 0, 0, 1) == doctest::Approx(0.5));
  CHECK(nm(0, 0, 0, 2) == T(1));
  CHECK(nm(0, 0, 0, 3) == T(0));
  Tensor4<T> flatc(1, 1, 2, 2);
  flatc.setConstant(T(3));
  CHECK(max_abs(io::normalize_minmax(flatc)) == 0);
}

TEST_CASE("test_image: sizes whose byte count overflows are an Error, not a wrapped allocation") {
  // 2^32 x 2^32 x 3 elements wrap round a 64-bit count; 2^62 x 16 x 3 too.
  CHECK_THROWS_WITH_AS(io::test_image<float>(Index(1) << 32, Index(1) << 32), doctest::Contains("overflows"), Error);
  CHECK_THROWS_WITH_AS(io::test_image<float>(Index(1) << 62, 16), doctest::Contains("overflows"), Error);
  CHECK_THROWS_AS(io::test_image<double>(std::numeric_limits<Index>::max(), 16, 1), Error);
}
