// Tiling strategies: layouts against independently computed values, exact identity round
// trips for every pad mode and blend, seamless blending, a user strategy end to end, errors.
#include <doctest/doctest.h>

#include <random>
#include <tuple>

#include "distinv/tiling/create_strategy.hpp"
#include "distinv/tiling/process.hpp"

using namespace distinv;
using namespace distinv::tiling;

namespace {

template <class T, int R>
Tensor<T, R> random_tensor(Shape<R> const& s, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Tensor<T, R> x(s);
  for (auto& v : flat(x)) v = T(u(g));
  return x;
}

// (window start, interior start, interior size, crop start) of the windows along one dim.
using DimRow = std::tuple<Index, Index, Index, Index>;

// Checks every patch of `s` against per-dim tables; patch order is row-major over `dims`.
template <class S>
void check_layout(S const& s, std::vector<int> const& dims, std::vector<std::vector<DimRow>> const& tab) {
  Index total = 1;
  for (auto const& t : tab) total *= Index(t.size());
  REQUIRE(s.num_patches() == total);
  for (Index i = 0; i < total; ++i) {
    auto const& L = s.layout(i);
    Index q = i;
    for (std::size_t k = dims.size(); k-- > 0;) {
      auto [ws, is, isz, cs] = tab[k][std::size_t(q % Index(tab[k].size()))];
      q /= Index(tab[k].size());
      int d = dims[k];
      CAPTURE(i);
      CAPTURE(d);
      CHECK(L.window_start[d] == ws);
      CHECK(L.interior_start[d] == is);
      CHECK(L.interior_size[d] == isz);
      CHECK(L.crop_start[d] == cs);
    }
  }
}

// Every sample of the signal is owned by exactly one patch interior.
template <class S>
void check_partition(S const& s) {
  auto sh = s.signal_shape();
  constexpr int R = S::rank;
  Tensor<int, R> own(sh);
  own.setZero();
  for (auto const& L : s.layout()) {
    Shape<R> i{};
    Index n = numel(L.interior_size);
    for (Index f = 0; f < n; ++f) {
      Index q = f;
      for (int d = R - 1; d >= 0; --d) {
        i[d] = L.interior_start[d] + q % L.interior_size[d];
        q /= L.interior_size[d];
      }
      own(i) += 1;
    }
  }
  for (Index f = 0; f < own.size(); ++f) REQUIRE(own.data()[f] == 1);
}

template <class T, int R>
auto identity = [](Tensor<T, R> const& b, double) { return b; };

}  // namespace

TEST_CASE("overlap tiling layout: 10x10, patch 4, halo 1 (by hand)") {
  // Padded size 12, window 6: starts 0, 4, 8 -> the last moved back to 12 - 6 = 6.
  // Interiors: [0,4) [4,8) and [6+2, 10) (trim = 4 + 4 - 6 = 2), crop starts 1, 1, 1 + 2.
  OverlapTilingStrategy<float, 4> s({1, 1, 10, 10}, TilingOptions{{4}, {1}});
  std::vector<DimRow> d{{0, 0, 4, 1}, {4, 4, 4, 1}, {6, 8, 2, 3}};
  check_layout(s, {2, 3}, {d, d});
  CHECK(s.window_shape() == Shape<4>{1, 1, 6, 6});
  CHECK(s.grid_shape() == std::vector<Index>{3, 3});
  check_partition(s);
}

TEST_CASE("overlap tiling layout: per-dim sizes, halos and strides (values from an independent script)") {
  TilingOptions o{{5, 3}, {2, 1}, {3, 2}};
  OverlapTilingStrategy<double, 4> s({2, 3, 13, 7}, o);
  check_layout(s, {2, 3},
               {{{0, 0, 5, 2}, {3, 5, 3, 4}, {6, 8, 3, 4}, {8, 11, 2, 5}},  // H = 13, p 5, r 2, s 3
                {{0, 0, 3, 1}, {2, 3, 2, 2}, {4, 5, 2, 2}}});               // W = 7, p 3, r 1, s 2
  CHECK(s.window_shape() == Shape<4>{2, 3, 9, 5});
  check_partition(s);
}

TEST_CASE("overlap tiling layout: 3D volume and a subset of dims") {
  OverlapTilingStrategy<float, 5> s({1, 1, 6, 8, 9}, TilingOptions{{4}, {2}});
  check_layout(s, {2, 3, 4},
               {{{0, 0, 4, 2}, {2, 4, 2, 4}},                 // D = 6
                {{0, 0, 4, 2}, {4, 4, 4, 2}},                 // H = 8
                {{0, 0, 4, 2}, {4, 4, 4, 2}, {5, 8, 1, 5}}});  // W = 9
  check_partition(s);

  TilingOptions w{{5}, {0}};
  w.tiled_dims = {3};
  OverlapTilingStrategy<float, 4> sw({1, 2, 4, 11}, w);
  check_layout(sw, {3}, {{{0, 0, 5, 0}, {5, 5, 5, 0}, {6, 10, 1, 4}}});
  CHECK(sw.window_shape() == Shape<4>{1, 2, 4, 5});
  check_partition(sw);

  TilingOptions c{{2}, {1}};  // tile the channel dim of a volume only
  c.tiled_dims = {1};
  OverlapTilingStrategy<float, 5> sc({1, 5, 2, 2, 2}, c);
  check_layout(sc, {1}, {{{0, 0, 2, 1}, {2, 2, 2, 1}, {3, 4, 1, 2}}});
}

TEST_CASE("overlap tiling: patch larger than the signal is shrunk, not a crash") {
  OverlapTilingStrategy<float, 4> s({1, 1, 5, 20}, TilingOptions{{8}, {1}});
  CHECK(s.patch_size() == std::vector<Index>{5, 8});
  check_layout(s, {2, 3}, {{{0, 0, 5, 1}}, {{0, 0, 8, 1}, {8, 8, 8, 1}, {12, 16, 4, 5}}});
  auto x = random_tensor<float, 4>({1, 1, 5, 20}, 3);
  CHECK(max_abs_diff(process_tiled(s, x, identity<float, 4>, 0.0), x) == 0);
}

TEST_CASE("overlap tiling: padded windows read the signal as each pad mode says") {
  Tensor4<double> x(1, 1, 5, 5);
  for (Index h = 0; h < 5; ++h)
    for (Index w = 0; w < 5; ++w) x(0, 0, h, w) = double(10 * h + w);
  // Window 0 starts at padded (0, 0) = signal (-2, -2); the last window ends at padded 9 = signal 6.
  std::vector<std::tuple<PadMode, double, double>> cases{
      {PadMode::reflect, 22, 22},   // -2 -> 2, 6 -> 2
      {PadMode::replicate, 0, 44},  // clamp
      {PadMode::circular, 33, 11},  // -2 -> 3, 6 -> 1
      {PadMode::zeros, 0, 0}};
  for (auto [mode, first, last] : cases) {
    TilingOptions o{{3}, {2}};
    o.pad_mode = mode;
    OverlapTilingStrategy<double, 4> s({1, 1, 5, 5}, o);
    Index n = s.num_patches();
    std::vector<Index> idx{0, n - 1};
    auto p = s.local_patches(x, idx);
    CAPTURE(to_string(mode));
    CHECK(p[0](0, 0, 0, 0) == first);
    CHECK(p[1](0, 0, 6, 6) == last);
    CHECK(p[0](0, 0, 2, 3) == x(0, 0, 0, 1));  // inside the signal: no padding involved
  }
}

TEST_CASE_TEMPLATE("identity round trip is exact for every pad mode, blend, 2D and 3D", T, float, double) {
  double const tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  auto x4 = random_tensor<T, 4>({2, 3, 37, 29}, 1);
  auto x5 = random_tensor<T, 5>({1, 2, 11, 13, 9}, 2);
  for (auto mode : {PadMode::reflect, PadMode::replicate, PadMode::circular, PadMode::zeros})
    for (auto blend : {Blend::none, Blend::linear, Blend::gaussian})
      for (bool overlap : {false, true}) {
        CAPTURE(to_string(mode));
        CAPTURE(to_string(blend));
        CAPTURE(overlap);
        TilingOptions o{{8, 6}, {3, 2}};
        if (overlap) o.stride = {5, 3};
        o.pad_mode = mode;
        o.blend = blend;
        OverlapTilingStrategy<T, 4> s4(shape_of(x4), o);
        auto y = process_tiled(s4, x4, identity<T, 4>, 0.0);
        CHECK(max_abs_diff(y, x4) <= (blend == Blend::none ? 0.0 : tol));
        auto y1 = process_tiled(s4, x4, identity<T, 4>, 0.0, 1);
        CHECK(max_abs_diff(y1, y) == 0);

        TilingOptions o5{{4, 5, 3}, {1, 2, 1}};
        if (overlap) o5.stride = {3, 2, 3};
        o5.pad_mode = mode;
        o5.blend = blend;
        OverlapTilingStrategy<T, 5> s5(shape_of(x5), o5);
        auto z = process_tiled(s5, x5, identity<T, 5>, 0.0, 3);
        CHECK(max_abs_diff(z, x5) <= (blend == Blend::none ? 0.0 : tol));
      }
}

TEST_CASE_TEMPLATE("BasicStrategy: equal splits, exact round trip, unequal patches batched apart", T, float, double) {
  auto x = random_tensor<T, 4>({1, 2, 10, 7}, 4);
  BasicStrategy<T, 4> s(shape_of(x), {2, 3}, {3, 2});
  REQUIRE(s.num_patches() == 6);
  // H = 10 in 3: 4, 3, 3; W = 7 in 2: 4, 3.
  CHECK(s.boxes()[0].start == Shape<4>{0, 0, 0, 0});
  CHECK(s.boxes()[0].size == Shape<4>{1, 2, 4, 4});
  CHECK(s.boxes()[3].start == Shape<4>{0, 0, 4, 4});
  CHECK(s.boxes()[3].size == Shape<4>{1, 2, 3, 3});
  CHECK(s.boxes()[4].start == Shape<4>{0, 0, 7, 0});
  CHECK(max_abs_diff(process_tiled(s, x, identity<T, 4>, 0.0), x) == 0);
  CHECK(max_abs_diff(process_tiled(s, x, identity<T, 4>, 0.0, 1), x) == 0);

  BasicStrategy<T, 4> sw(shape_of(x), {3}, {3});  // W = 7 in 3: 3, 2, 2
  std::vector<Index> all{0, 1, 2};
  auto patches = sw.local_patches(x, all);
  auto b = sw.batch(patches, 0);
  REQUIRE(b.size() == 2);
  CHECK(shape_of(b[0]) == Shape<4>{1, 2, 10, 3});
  CHECK(shape_of(b[1]) == Shape<4>{2, 2, 10, 2});
  std::vector<Index> counts{1, 2};
  auto back = sw.unbatch(b, counts);
  REQUIRE(back.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) CHECK(max_abs_diff(back[k], patches[k]) == 0);
  auto x5 = random_tensor<T, 5>({1, 1, 5, 6, 7}, 5);
  BasicStrategy<T, 5> s5(shape_of(x5), {}, {2});
  CHECK(s5.num_patches() == 8);
  CHECK(max_abs_diff(process_tiled(s5, x5, identity<T, 5>, 0.0), x5) == 0);
}

TEST_CASE("blending removes the step that window-dependent processing leaves at tile borders") {
  Shape<4> sh{1, 1, 64, 64};
  auto x = zeros<double>(sh);
  // The processor adds the window index; batches of one patch come in index order.
  auto max_jump = [](Tensor4<double> const& y) {
    double m = 0;
    for (Index h = 0; h < 64; ++h)
      for (Index w = 0; w < 64; ++w) {
        if (w + 1 < 64) m = std::max(m, std::abs(y(0, 0, h, w + 1) - y(0, 0, h, w)));
        if (h + 1 < 64) m = std::max(m, std::abs(y(0, 0, h + 1, w) - y(0, 0, h, w)));
      }
    return m;
  };
  double jump_none = 0;
  for (auto blend : {Blend::none, Blend::linear, Blend::gaussian}) {
    TilingOptions o{{16}, {4}, {8}};
    o.blend = blend;
    OverlapTilingStrategy<double, 4> s(sh, o);
    REQUIRE(s.grid_shape() == std::vector<Index>{7, 7});
    double k = 0;
    auto add_index = [&k](Tensor4<double> const& b, double) -> Tensor4<double> {
      Tensor4<double> r = b + b.constant(k);
      k += 1;
      return r;
    };
    auto y = process_tiled(s, x, add_index, 0.0, 1);
    CAPTURE(to_string(blend));
    if (blend == Blend::none) {
      jump_none = max_jump(y);
      CHECK(jump_none == doctest::Approx(7));        // one grid row down: index + 7
      // Interiors [0,16) [16,24) [24,32) ...: flat inside a tile, a step of 1 across w = 16.
      CHECK(y(0, 0, 3, 8) == y(0, 0, 3, 7));
      CHECK(y(0, 0, 3, 16) - y(0, 0, 3, 15) == 1);
    } else {
      // Tents (k + 1/2) over an 8-sample overlap sum to 8: a uniform ramp moving by 1/8 of
      // the index difference (7 between grid rows) per sample; Gaussians (std p/5) by <= 0.2.
      CHECK(max_jump(y) < 0.2 * jump_none);
      if (blend == Blend::linear) CHECK(max_jump(y) == doctest::Approx(7.0 / 8.0));
    }
  }
}

namespace {
// A user strategy: horizontal stripes of `height` rows with a replicated halo of `halo` rows.
template <class T>
struct Stripes {
  using scalar_type = T;
  static constexpr int rank = 4;
  using tensor_type = Tensor4<T>;
  Shape<4> shape;
  Index height, halo;
  Shape<4> signal_shape() const { return shape; }
  Index num_patches() const { return (shape[2] + height - 1) / height; }
  std::vector<Tensor4<T>> local_patches(Tensor4<T> const& x, std::span<Index const> idx) const {
    std::vector<Tensor4<T>> out;
    for (Index i : idx) {
      Tensor4<T> p(shape[0], shape[1], height + 2 * halo, shape[3]);
      for (Index b = 0; b < shape[0]; ++b)
        for (Index c = 0; c < shape[1]; ++c)
          for (Index h = 0; h < p.dimension(2); ++h)
            for (Index w = 0; w < shape[3]; ++w)
              p(b, c, h, w) = x(b, c, std::clamp<Index>(i * height - halo + h, 0, shape[2] - 1), w);
      out.push_back(std::move(p));
    }
    return out;
  }
  std::vector<Tensor4<T>> batch(std::vector<Tensor4<T>> const& p, Index m) const { return batch_patches(p, m); }
  std::vector<Tensor4<T>> unbatch(std::vector<Tensor4<T>> const& b, std::span<Index const> c) const {
    return unbatch_patches(b, c);
  }
  void reduce(Tensor4<T>& out, std::span<PatchPair<T, 4> const> pairs) const {
    for (auto const& [i, p] : pairs)
      for (Index b = 0; b < shape[0]; ++b)
        for (Index c = 0; c < shape[1]; ++c)
          for (Index h = i * height; h < std::min(shape[2], (i + 1) * height); ++h)
            for (Index w = 0; w < shape[3]; ++w) out(b, c, h, w) += p(b, c, h - i * height + halo, w);
  }
};
static_assert(SignalStrategy<Stripes<float>>);

// Vertical 3-tap average with a replicated border.
template <class T>
Tensor4<T> vertical_average(Tensor4<T> const& x, double) {
  Tensor4<T> y(x.dimensions());
  Index const H = x.dimension(2);
  for (Index b = 0; b < x.dimension(0); ++b)
    for (Index c = 0; c < x.dimension(1); ++c)
      for (Index h = 0; h < H; ++h)
        for (Index w = 0; w < x.dimension(3); ++w)
          y(b, c, h, w) = (x(b, c, std::max<Index>(h - 1, 0), w) + x(b, c, h, w) +
                           x(b, c, std::min<Index>(h + 1, H - 1), w)) / T(3);
  return y;
}
}  // namespace

TEST_CASE_TEMPLATE("a user strategy (stripes) plugs into process_tiled and AnySignalStrategy", T, float, double) {
  auto x = random_tensor<T, 4>({2, 1, 20, 9}, 6);  // 20 rows: stripes of 6, 6, 6, 2 (+ halo)
  Stripes<T> s{shape_of(x), 6, 1};
  auto ref = vertical_average(x, 0.0);
  auto y = process_tiled(s, x, vertical_average<T>, 0.0, 2);
  // Halo 1 covers the 3-tap filter; the replicated pad at the image border matches its border.
  double const tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  CHECK(max_abs_diff(y, ref) <= tol);
  AnySignalStrategy<T, 4> any(s, "stripes");
  CHECK(any.num_patches() == 4);
  CHECK(any.name() == "stripes");
  CHECK(max_abs_diff(process_tiled(any, x, vertical_average<T>, 0.0), ref) <= tol);
  CHECK(any.template target<Stripes<T>>() != nullptr);
}

TEST_CASE("create_strategy maps runtime names; partial processing adds up across 'ranks'") {
  Shape<4> sh{1, 2, 30, 21};
  TilingOptions o{{8}, {2}, {6}};
  o.blend = Blend::linear;
  auto a = create_strategy<double, 4>("overlap_tiling", sh, o);
  auto b = create_strategy<double, 4>("smart_tiling", sh, o);
  REQUIRE(a.template target<OverlapTilingStrategy<double, 4>>() != nullptr);
  CHECK(a.num_patches() == b.num_patches());
  auto x = random_tensor<double, 4>(sh, 7);
  // Three "ranks" own patches round robin; the sum of their outputs is the full result.
  auto full = process_tiled(a, x, vertical_average<double>, 0.0);
  auto sum = zeros<double>(sh);
  for (int r = 0; r < 3; ++r) {
    std::vector<Index> mine;
    for (Index i = r; i < a.num_patches(); i += 3) mine.push_back(i);
    auto part = zeros<double>(sh);
    process_patches(a, x, std::span<Index const>(mine), [](Tensor4<double> const& t) { return vertical_average(t, 0); },
                    2, part);
    sum += part;
  }
  CHECK(max_abs_diff(sum, full) < 1e-14);

  auto basic = create_strategy<float, 4>("basic", Shape<4>{1, 1, 10, 7}, TilingOptions{{4}});
  auto const* bs = basic.template target<BasicStrategy<float, 4>>();
  REQUIRE(bs != nullptr);
  CHECK(bs->num_patches() == 6);  // ceil(10/4) = 3 by ceil(7/4) = 2
  CHECK(parse_pad_mode("circular") == PadMode::circular);
  CHECK(parse_blend("gaussian") == Blend::gaussian);
}

TEST_CASE("bad tiling input throws Error with a clear message") {
  Shape<4> sh{1, 1, 16, 16};
  using OTS = OverlapTilingStrategy<float, 4>;
  using BS = BasicStrategy<float, 4>;
  CHECK_THROWS_WITH_AS(OTS(sh, TilingOptions{{0}, {1}}),
                       "distinv: OverlapTilingStrategy: patch_size must be > 0, got 0 for dim 2", Error);
  CHECK_THROWS_AS(OTS(sh, TilingOptions{{-3}, {1}}), Error);
  CHECK_THROWS_WITH_AS(OTS(sh, TilingOptions{{8}, {16}}),
                       "distinv: OverlapTilingStrategy: receptive_field_size must be in [0, 16) for dim 2 of size 16, got 16",
                       Error);
  CHECK_THROWS_AS(OTS(sh, TilingOptions{{8}, {-1}}), Error);
  CHECK_THROWS_WITH_AS(OTS(sh, TilingOptions{{8}, {1}, {9}}),
                       "distinv: OverlapTilingStrategy: stride must be in [1, patch_size = 8] for dim 2, got 9", Error);
  CHECK_THROWS_AS(OTS(sh, TilingOptions{{8, 8, 8}, {1}}), Error);
  TilingOptions bad_dims{{8}, {1}};
  bad_dims.tiled_dims = {4};
  CHECK_THROWS_AS(OTS(sh, bad_dims), Error);
  CHECK_THROWS_WITH_AS((create_strategy<float, 4>("tiles", sh)),
                       "distinv: unknown tiling strategy \"tiles\": expected one of basic, overlap_tiling, smart_tiling",
                       Error);
  CHECK_THROWS_WITH_AS(parse_pad_mode("mirror"),
                       "distinv: unknown pad mode \"mirror\": expected one of reflect, replicate, circular, zeros", Error);
  CHECK_THROWS_AS(parse_blend("cosine"), Error);
  CHECK_THROWS_AS(BS(sh, {2}, {17}), Error);

  OTS s(sh, TilingOptions{{8}, {2}});
  Tensor4<float> x(1, 1, 16, 15);
  x.setZero();
  std::vector<Index> i0{0};
  CHECK_THROWS_WITH_AS(s.local_patches(x, i0),
                       "distinv: OverlapTilingStrategy::local_patches: expected a signal of shape (1, 1, 16, 16), got (1, 1, 16, 15)",
                       Error);
  auto ok = zeros<float>(sh);
  std::vector<Index> i9{9};
  CHECK_THROWS_AS(s.local_patches(ok, i9), Error);
  auto crop = [](Tensor4<float> const& b, double) -> Tensor4<float> {
    Eigen::array<Index, 4> off{0, 0, 1, 1}, ext{b.dimension(0), b.dimension(1), b.dimension(2) - 2, b.dimension(3) - 2};
    return b.slice(off, ext);
  };
  CHECK_THROWS_WITH_AS(process_tiled(s, ok, crop, 0.0),
                       "distinv: process_patches: the processor returned shape (4, 1, 10, 10) for a batch of shape "
                       "(4, 1, 12, 12) (it must keep the shape)",
                       Error);
}
