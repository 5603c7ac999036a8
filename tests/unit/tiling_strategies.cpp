// Tiling strategies: layouts against independently computed values, exact identity round
// trips for every pad mode and blend, seamless blending, batches bounded by a byte budget,
// small images (no halo where one tile spans a dim, halos clamped), a user strategy end to
// end, the runtime names, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <random>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "distinv/tiling/process.hpp"
#include "distinv/tiling/with_strategy.hpp"

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
  OverlapTilingStrategy<4> s({1, 1, 10, 10}, TilingOptions{{4}, {1}});
  std::vector<DimRow> d{{0, 0, 4, 1}, {4, 4, 4, 1}, {6, 8, 2, 3}};
  check_layout(s, {2, 3}, {d, d});
  CHECK(s.window_shape() == Shape<4>{1, 1, 6, 6});
  CHECK(s.grid_shape() == std::vector<Index>{3, 3});
  check_partition(s);
}

TEST_CASE("overlap tiling layout: per-dim sizes, halos and strides (values from an independent script)") {
  TilingOptions o{{5, 3}, {2, 1}, {3, 2}};
  OverlapTilingStrategy<4> s({2, 3, 13, 7}, o);
  check_layout(s, {2, 3},
               {{{0, 0, 5, 2}, {3, 5, 3, 4}, {6, 8, 3, 4}, {8, 11, 2, 5}},  // H = 13, p 5, r 2, s 3
                {{0, 0, 3, 1}, {2, 3, 2, 2}, {4, 5, 2, 2}}});               // W = 7, p 3, r 1, s 2
  CHECK(s.window_shape() == Shape<4>{2, 3, 9, 5});
  check_partition(s);
}

TEST_CASE("overlap tiling layout: 3D volume and a subset of dims") {
  OverlapTilingStrategy<5> s({1, 1, 6, 8, 9}, TilingOptions{{4}, {2}});
  check_layout(s, {2, 3, 4},
               {{{0, 0, 4, 2}, {2, 4, 2, 4}},                 // D = 6
                {{0, 0, 4, 2}, {4, 4, 4, 2}},                 // H = 8
                {{0, 0, 4, 2}, {4, 4, 4, 2}, {5, 8, 1, 5}}});  // W = 9
  check_partition(s);

  TilingOptions w{{5}, {0}};
  w.tiled_dims = {3};
  OverlapTilingStrategy<4> sw({1, 2, 4, 11}, w);
  check_layout(sw, {3}, {{{0, 0, 5, 0}, {5, 5, 5, 0}, {6, 10, 1, 4}}});
  CHECK(sw.window_shape() == Shape<4>{1, 2, 4, 5});
  check_partition(sw);

  TilingOptions c{{2}, {1}};  // tile the channel dim of a volume only
  c.tiled_dims = {1};
  OverlapTilingStrategy<5> sc({1, 5, 2, 2, 2}, c);
  check_layout(sc, {1}, {{{0, 0, 2, 1}, {2, 2, 2, 1}, {3, 4, 1, 2}}});
}

TEST_CASE("overlap tiling: patch larger than the signal is shrunk, not a crash") {
  OverlapTilingStrategy<4> s({1, 1, 5, 20}, TilingOptions{{8}, {1}});
  CHECK(s.patch_size() == std::vector<Index>{5, 8});
  // H = 5 is one tile: no halo there (#16), so its window is the dim and its crop start 0.
  CHECK(s.receptive_field_size() == std::vector<Index>{0, 1});
  check_layout(s, {2, 3}, {{{0, 0, 5, 0}}, {{0, 0, 8, 1}, {8, 8, 8, 1}, {12, 16, 4, 5}}});
  CHECK(s.window_shape() == Shape<4>{1, 1, 5, 10});
  auto x = random_tensor<float, 4>({1, 1, 5, 20}, 3);
  CHECK(max_abs_diff(process_tiled(s, x, identity<float, 4>, 0.0), x) == 0);
}

TEST_CASE("overlap tiling: padded windows read the signal as each pad mode says") {
  Tensor4<double> x(1, 1, 5, 5);
  for (Index h = 0; h < 5; ++h)
    for (Index w = 0; w < 5; ++w) x(0, 0, h, w) = double(10 * h + w);
  // Window 0 starts at padded (0, 0) = signal (-2, -2); the last window ends at padded 9 = signal 6.
  std::vector<std::tuple<Padding, double, double>> cases{
      {Padding::reflect, 22, 22},   // -2 -> 2, 6 -> 2
      {Padding::replicate, 0, 44},  // clamp
      {Padding::circular, 33, 11},  // -2 -> 3, 6 -> 1
      {Padding::zeros, 0, 0}};
  for (auto [mode, first, last] : cases) {
    TilingOptions o{{3}, {2}};
    o.pad_mode = mode;
    OverlapTilingStrategy<4> s({1, 1, 5, 5}, o);
    Index n = s.num_patches();
    std::vector<Index> idx{0, n - 1};
    auto p = extract_batch(s, x, std::span<Index const>(idx));  // patch 0, then patch n - 1
    CAPTURE(to_string(mode));
    REQUIRE(shape_of(p) == Shape<4>{2, 1, 7, 7});
    CHECK(p(0, 0, 0, 0) == first);
    CHECK(p(1, 0, 6, 6) == last);
    CHECK(p(0, 0, 2, 3) == x(0, 0, 0, 1));  // inside the signal: no padding involved
  }
}

TEST_CASE_TEMPLATE("identity round trip is exact for every pad mode, blend, 2D and 3D", T, float, double) {
  double const tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  auto x4 = random_tensor<T, 4>({2, 3, 37, 29}, 1);
  auto x5 = random_tensor<T, 5>({1, 2, 11, 13, 9}, 2);
  for (auto mode : {Padding::reflect, Padding::replicate, Padding::circular, Padding::zeros})
    for (auto blend : {Blend::none, Blend::linear, Blend::gaussian})
      for (bool overlap : {false, true}) {
        CAPTURE(to_string(mode));
        CAPTURE(to_string(blend));
        CAPTURE(overlap);
        TilingOptions o{{8, 6}, {3, 2}};
        if (overlap) o.stride = {5, 3};
        o.pad_mode = mode;
        o.blend = blend;
        OverlapTilingStrategy<4> s4(shape_of(x4), o);
        auto y = process_tiled(s4, x4, identity<T, 4>, 0.0);
        CHECK(max_abs_diff(y, x4) <= (blend == Blend::none ? 0.0 : tol));
        auto y1 = process_tiled(s4, x4, identity<T, 4>, 0.0, 1);
        CHECK(max_abs_diff(y1, y) == 0);

        TilingOptions o5{{4, 5, 3}, {1, 2, 1}};
        if (overlap) o5.stride = {3, 2, 3};
        o5.pad_mode = mode;
        o5.blend = blend;
        OverlapTilingStrategy<5> s5(shape_of(x5), o5);
        auto z = process_tiled(s5, x5, identity<T, 5>, 0.0, 3);
        CHECK(max_abs_diff(z, x5) <= (blend == Blend::none ? 0.0 : tol));
      }
}

TEST_CASE_TEMPLATE("BasicStrategy: equal splits, exact round trip, unequal patches batched apart", T, float, double) {
  auto x = random_tensor<T, 4>({1, 2, 10, 7}, 4);
  BasicStrategy<4> s(shape_of(x), {2, 3}, {3, 2});
  REQUIRE(s.num_patches() == 6);
  // H = 10 in 3: 4, 3, 3; W = 7 in 2: 4, 3.
  CHECK(s.boxes()[0].start == Shape<4>{0, 0, 0, 0});
  CHECK(s.boxes()[0].size == Shape<4>{1, 2, 4, 4});
  CHECK(s.boxes()[3].start == Shape<4>{0, 0, 4, 4});
  CHECK(s.boxes()[3].size == Shape<4>{1, 2, 3, 3});
  CHECK(s.boxes()[4].start == Shape<4>{0, 0, 7, 0});
  CHECK(max_abs_diff(process_tiled(s, x, identity<T, 4>, 0.0), x) == 0);
  CHECK(max_abs_diff(process_tiled(s, x, identity<T, 4>, 0.0, 1), x) == 0);

  BasicStrategy<4> sw(shape_of(x), {3}, {3});  // W = 7 in 3: 3, 2, 2
  // The batches the processor sees: unequal windows apart, equal ones together, in order;
  // each holds exactly the windows extract_batch gives for its patches.
  std::vector<Tensor4<T>> seen;
  auto record = [&seen](Tensor4<T> const& b, double) {
    seen.push_back(b);
    return b;
  };
  CHECK(max_abs_diff(process_tiled(sw, x, record, 0.0), x) == 0);
  REQUIRE(seen.size() == 2);
  CHECK(shape_of(seen[0]) == Shape<4>{1, 2, 10, 3});
  CHECK(shape_of(seen[1]) == Shape<4>{2, 2, 10, 2});
  std::vector<Index> first{0}, rest{1, 2};
  CHECK(max_abs_diff(seen[0], extract_batch(sw, x, std::span<Index const>(first))) == 0);
  CHECK(max_abs_diff(seen[1], extract_batch(sw, x, std::span<Index const>(rest))) == 0);
  // and back: the windows added into a zero signal paste the pieces.
  auto back = zeros<T>(shape_of(x));
  add_batch(sw, seen[0], std::span<Index const>(first), back);
  add_batch(sw, seen[1], std::span<Index const>(rest), back);
  CHECK(max_abs_diff(back, x) == 0);
  auto x5 = random_tensor<T, 5>({1, 1, 5, 6, 7}, 5);
  BasicStrategy<5> s5(shape_of(x5), {}, {2});
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
    OverlapTilingStrategy<4> s(sh, o);
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
// A user strategy: horizontal stripes of `height` rows with a replicated halo of `halo` rows
// (geometry only: its layout).
struct Stripes {
  static constexpr int rank = 4;
  Stripes(Shape<4> const& shape, Index height, Index halo) : layout(shape) {
    for (Index i = 0; i * height < shape[2]; ++i) {
      Shape<4> const window{shape[0], shape[1], height + 2 * halo, shape[3]};
      std::array<std::vector<Index>, 4> maps;
      for (int d : {0, 1, 3})
        for (Index q = 0; q < window[d]; ++q) maps[d].push_back(q);
      for (Index q = 0; q < window[2]; ++q) maps[2].push_back(std::clamp<Index>(i * height - halo + q, 0, shape[2] - 1));
      Index const rows = std::min(shape[2], (i + 1) * height) - i * height;
      layout.add(window, ReduceBox<4>{{0, 0, halo, 0}, {0, 0, i * height, 0}, {shape[0], shape[1], rows, shape[3]}}, maps);
    }
  }
  Shape<4> signal_shape() const { return layout.signal_shape(); }
  Index num_patches() const { return layout.num_patches(); }
  TileLayout<4> const& tile_layout() const { return layout; }
  TileLayout<4> layout;
};
static_assert(SignalStrategy<Stripes>);

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

TEST_CASE_TEMPLATE("a user strategy (stripes) plugs into process_tiled", T, float, double) {
  auto x = random_tensor<T, 4>({2, 1, 20, 9}, 6);  // 20 rows: stripes of 6, 6, 6, 2 (+ halo)
  Stripes s{shape_of(x), 6, 1};
  auto ref = vertical_average(x, 0.0);
  auto y = process_tiled(s, x, vertical_average<T>, 0.0, 2);
  // Halo 1 covers the 3-tap filter; the replicated pad at the image border matches its border.
  double const tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  CHECK(max_abs_diff(y, ref) <= tol);
  CHECK(s.num_patches() == 4);
  // One stripe per batch (a budget smaller than a window): the same result.
  CHECK(max_abs_diff(process_tiled(s, x, vertical_average<T>, 0.0, BatchLimit(0, 1)), y) == 0);
}

TEST_CASE("with_strategy maps runtime names onto types; partial processing adds up across 'ranks'") {
  Shape<4> sh{1, 2, 30, 21};
  TilingOptions o{{8}, {2}, {6}};
  o.blend = Blend::linear;
  auto built = [&](std::string_view name) {
    return with_strategy(name, [&]<class S>() { return std::pair{std::is_same_v<S, OverlapTilingStrategy<4>>, S(sh, o).num_patches()}; });
  };
  auto const [a_is_overlap, a_patches] = built("overlap_tiling");
  auto const [b_is_overlap, b_patches] = built("smart_tiling");
  REQUIRE(a_is_overlap);
  REQUIRE(b_is_overlap);
  CHECK(a_patches == b_patches);
  OverlapTilingStrategy<4> const a(sh, o);
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

  auto const basic = with_strategy("basic", [&]<class S>() -> std::optional<BasicStrategy<4>> {
    if constexpr (std::is_same_v<S, BasicStrategy<4>>) return S(Shape<4>{1, 1, 10, 7}, TilingOptions{{4}});
    return std::nullopt;
  });
  REQUIRE(basic.has_value());
  CHECK(basic->num_patches() == 6);  // ceil(10/4) = 3 by ceil(7/4) = 2
  CHECK(with_strategy<5>("basic", []<class S>() { return std::is_same_v<S, BasicStrategy<5>>; }));
  CHECK(parse_padding("circular") == Padding::circular);
  CHECK(parse_blend("gaussian") == Blend::gaussian);
}

TEST_CASE_TEMPLATE("batches are bounded by the byte budget and the count; the result does not depend on them", T,
                   float, double) {
  auto const x = random_tensor<T, 4>({1, 3, 40, 36}, 8);
  TilingOptions o{{8}, {3}, {5}};
  o.blend = Blend::gaussian;
  OverlapTilingStrategy<4> const s(shape_of(x), o);
  std::size_t const window_bytes = std::size_t(numel(s.window_shape())) * sizeof(T);
  REQUIRE(s.num_patches() == 56);  // 8 x 7 windows
  // A processor that depends on the window (so that a wrong pairing of windows and patches
  // would show) and records the batch sizes it is handed.
  auto run = [&](BatchLimit limit, std::vector<Index>& sizes) {
    return process_tiled(s, x, [&sizes](Tensor4<T> const& b, double) -> Tensor4<T> {
      sizes.push_back(b.dimension(0));
      return Tensor4<T>(b * b);
    }, 0.0, limit);
  };
  std::vector<Index> all_sizes, budget_sizes, count_sizes, both_sizes, tiny_sizes;
  auto const all = run(BatchLimit(0, std::size_t(1) << 40), all_sizes);
  CHECK(all_sizes == std::vector<Index>{56});
  CHECK(max_abs_diff(run(BatchLimit(0, 10 * window_bytes + 1), budget_sizes), all) == 0);
  CHECK(budget_sizes == std::vector<Index>{10, 10, 10, 10, 10, 6});  // at most 10 windows' bytes
  CHECK(max_abs_diff(run(BatchLimit(7), count_sizes), all) == 0);
  CHECK(count_sizes.size() == 8);
  CHECK(*std::max_element(count_sizes.begin(), count_sizes.end()) == 7);
  CHECK(max_abs_diff(run(BatchLimit(3, 5 * window_bytes), both_sizes), all) == 0);  // the smaller bound wins
  CHECK(*std::max_element(both_sizes.begin(), both_sizes.end()) == 3);
  CHECK(max_abs_diff(run(BatchLimit(0, 1), tiny_sizes), all) == 0);  // below one window: one patch per batch
  CHECK(tiny_sizes.size() == 56);
  // The default: a 64 MiB budget, not "all patches at once".
  CHECK(BatchLimit{}.max_bytes == default_batch_bytes);
  CHECK(BatchLimit{}.patches_per_batch(std::size_t(1) << 20) == 64);
  CHECK(BatchLimit(5).patches_per_batch(1) == 5);
  std::vector<Index> idx{0};
  auto out = zeros<T>(shape_of(x));
  CHECK_THROWS_AS(process_patches(s, x, std::span<Index const>(idx), [](Tensor4<T> const& b) { return b; }, -1, out),
                  Error);
  CHECK_THROWS_AS(process_patches(s, x, std::span<Index const>(idx), [](Tensor4<T> const& b) { return b; },
                                  BatchLimit(0, 0), out),
                  Error);
}

TEST_CASE("small images: no halo along a dim one tile spans, a halo the image cannot hold clamped") {
  // 16 x 12 with patch 128 and halo 49 (distinv-pnp --size 16): one tile, no halo, no error;
  // tiled processing is the processor on the whole image.
  auto const x = random_tensor<float, 4>({1, 3, 16, 12}, 9);
  OverlapTilingStrategy<4> const one(shape_of(x), TilingOptions{{128}, {49}});
  CHECK(one.num_patches() == 1);
  CHECK(one.patch_size() == std::vector<Index>{16, 12});
  CHECK(one.receptive_field_size() == std::vector<Index>{0, 0});
  CHECK(one.window_shape() == shape_of(x));
  CHECK(max_abs_diff(process_tiled(one, x, vertical_average<float>, 0.0), vertical_average(x, 0.0)) == 0);
  // Tiled along W only (patch 8 < 12): halo 49 clamped to 11 there, none along H.
  for (auto mode : {Padding::reflect, Padding::replicate, Padding::circular, Padding::zeros}) {
    TilingOptions o{{128, 8}, {49}};
    o.pad_mode = mode;
    CAPTURE(to_string(mode));
    OverlapTilingStrategy<4> const s(shape_of(x), o);
    CHECK(s.receptive_field_size() == std::vector<Index>{0, 11});
    CHECK(s.window_shape() == Shape<4>{1, 3, 16, 8 + 2 * 11});
    CHECK(max_abs_diff(process_tiled(s, x, vertical_average<float>, 0.0), vertical_average(x, 0.0)) == 0);
    // every source index lies in the image (or is a zero)
    for (Index i = 0; i < s.num_patches(); ++i)
      for (Index m : s.source_map(i, 3)) CHECK((m >= -1 && m < 12));
  }
  // A 1-pixel-high image: halo 0 whatever was asked.
  OverlapTilingStrategy<4> const line({1, 1, 1, 40}, TilingOptions{{16}, {5}});
  CHECK(line.receptive_field_size() == std::vector<Index>{0, 5});
}

TEST_CASE("reflect padding: the one padding enum gives the reflect indices the old tiling map gave") {
  // The strategy's reflect map was -i below 0 and 2(n - 1) - i above n - 1, for halos < n.
  for (Index n : {2, 3, 5, 16})
    for (Index i = -(n - 1); i <= 2 * (n - 1); ++i) {
      Index const old = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
      CHECK(kernels::pad_index(Padding::reflect, i, n) == old);
    }
}

TEST_CASE("bad tiling input throws Error with a clear message") {
  Shape<4> sh{1, 1, 16, 16};
  using OTS = OverlapTilingStrategy<4>;
  using BS = BasicStrategy<4>;
  CHECK_THROWS_WITH_AS(OTS(sh, TilingOptions{{8, 0}, {1}}),
                       "distinv: OverlapTilingStrategy: patch_size must be > 0, got 0 for dim 3", Error);
  CHECK_THROWS_AS(OTS(sh, TilingOptions{{-3}, {1}}), Error);
  CHECK_THROWS_WITH_AS(OTS(sh, TilingOptions{{8}, {-1}}),
                       "distinv: OverlapTilingStrategy: receptive_field_size must be >= 0, got -1 for dim 2", Error);
  CHECK(OTS(sh, TilingOptions{{8}, {16}}).receptive_field_size() == std::vector<Index>{15, 15});  // clamped (#16)
  CHECK_THROWS_WITH_AS(OTS(sh, TilingOptions{{8}, {1}, {9}}),
                       "distinv: OverlapTilingStrategy: stride must be in [1, patch_size = 8] for dim 2, got 9", Error);
  CHECK_THROWS_AS(OTS(sh, TilingOptions{{8, 8, 8}, {1}}), Error);
  TilingOptions bad_dims{{8}, {1}};
  bad_dims.tiled_dims = {4};
  CHECK_THROWS_AS(OTS(sh, bad_dims), Error);
  TilingOptions valid{{8}, {1}};
  valid.pad_mode = Padding::valid;
  CHECK_THROWS_WITH_AS(OTS(sh, valid),
                       "distinv: OverlapTilingStrategy: pad mode 'valid' cannot pad a window; expected one of "
                       "circular, reflect, replicate, zeros",
                       Error);
  CHECK_THROWS_WITH_AS(with_strategy("tiles", []<class>() {}),
                       "distinv: unknown tiling strategy \"tiles\": expected one of basic, overlap_tiling, smart_tiling",
                       Error);
  CHECK_THROWS_WITH_AS(check_strategy_name("spiral"), doctest::Contains("spiral"), Error);
  CHECK_NOTHROW(check_strategy_name("smart_tiling"));
  CHECK_THROWS_WITH_AS(parse_padding("mirror"), doctest::Contains("unknown padding 'mirror'"), Error);
  CHECK_THROWS_AS(parse_blend("cosine"), Error);
  CHECK_THROWS_AS(BS(sh, {2}, {17}), Error);

  OTS s(sh, TilingOptions{{8}, {2}});
  Tensor4<float> x(1, 1, 16, 15);
  x.setZero();
  std::vector<Index> i0{0};
  CHECK_THROWS_WITH_AS(extract_batch(s, x, std::span<Index const>(i0)),
                       "distinv: extract_batch: expected a signal of shape (1, 1, 16, 16), got (1, 1, 16, 15)", Error);
  auto ok = zeros<float>(sh);
  std::vector<Index> i9{9};
  CHECK_THROWS_AS(extract_batch(s, ok, std::span<Index const>(i9)), Error);
  auto wrong_out = zeros<float>(Shape<4>{1, 1, 16, 15});
  CHECK_THROWS_WITH_AS(process_patches(s, ok, std::span<Index const>(i0), [](Tensor4<float> const& b) { return b; }, 0,
                                       wrong_out),
                       "distinv: process_patches: expected an output of shape (1, 1, 16, 16), got (1, 1, 16, 15)",
                       Error);
  auto crop = [](Tensor4<float> const& b, double) -> Tensor4<float> {
    Eigen::array<Index, 4> off{0, 0, 1, 1}, ext{b.dimension(0), b.dimension(1), b.dimension(2) - 2, b.dimension(3) - 2};
    return b.slice(off, ext);
  };
  CHECK_THROWS_WITH_AS(process_tiled(s, ok, crop, 0.0),
                       "distinv: process_patches: the processor returned shape (4, 1, 10, 10) for a batch of shape "
                       "(4, 1, 12, 12) (it must keep the shape)",
                       Error);
  // A layout whose parts do not fit is refused when it is built (a user's strategy).
  TileLayout<4> L(sh);
  std::array<std::vector<Index>, 4> maps{std::vector<Index>{0}, std::vector<Index>{0}, std::vector<Index>(4, 0),
                                         std::vector<Index>(4, 0)};
  CHECK_THROWS_WITH_AS(L.add({1, 1, 4, 5}, {}, maps), doctest::Contains("the source map of dim 3 must have 5 entries"),
                       Error);
  maps[3][1] = 16;
  CHECK_THROWS_WITH_AS(L.add({1, 1, 4, 4}, {}, maps), doctest::Contains("source index 16 of dim 3 must be in [-1, 16)"),
                       Error);
  maps[3][1] = 0;
  CHECK_THROWS_WITH_AS(L.add({1, 1, 4, 4}, ReduceBox<4>{{0, 0, 2, 0}, {0, 0, 0, 0}, {1, 1, 3, 4}}, maps),
                       doctest::Contains("the reduce box"), Error);
  L.add({1, 1, 4, 4}, ReduceBox<4>{{0, 0, 0, 0}, {0, 0, 12, 12}, {1, 1, 4, 4}}, maps);
  CHECK(L.num_patches() == 1);
}

TEST_CASE("tiling cost model: overhead, critical path and the auto patch size") {
  using tiling::auto_patch_size;
  using tiling::tiling_cost;
  std::array<Index, 2> const img{512, 512};
  std::size_t const rgb = 3 * sizeof(float);
  // 128^2 tiles with TV's halo of 50: 16 windows of 228^2, 3.17x the pixels
  auto const c = tiling_cost(img, 128, 50, rgb, 1);
  CHECK(c.tiles == 16);
  CHECK(c.tiles_per_rank == 16);
  CHECK(c.window_samples == 228.0 * 228.0);
  CHECK(c.overhead == doctest::Approx(16 * 228.0 * 228.0 / (512.0 * 512.0)));
  CHECK(c.window_bytes == 228.0 * 228.0 * double(rgb));
  // one tile spans the image: no halo, no overhead; stride p/2 (overlap): 7 x 7 windows of 128
  CHECK(tiling_cost(img, 512, 50, rgb, 1).overhead == 1.0);
  CHECK(tiling_cost(img, 128, 50, rgb, 1, 64).tiles == 49);
  CHECK(tiling_cost(img, 128, 50, rgb, 3).tiles_per_rank == 6);
  // one rank: one tile (no halo) when it fits the batch; two ranks: 4 tiles of 256 (2 each,
  // 2 x 356^2 < 512^2); a budget too small for the image: the cheapest tiles that fit
  CHECK(auto_patch_size(img, 50, rgb, tiling::default_batch_bytes, 1) == 512);
  CHECK(auto_patch_size(img, 50, rgb, tiling::default_batch_bytes, 2) == 256);
  CHECK(auto_patch_size(img, 50, rgb, std::size_t(356 * 356) * rgb, 1) == 256);
  Index const p = auto_patch_size(img, 50, rgb, std::size_t(300 * 300) * rgb, 1);
  CHECK(tiling_cost(img, p, 50, rgb, 1).window_bytes <= 300.0 * 300.0 * double(rgb));
  for (Index q = 1; q <= 512; ++q)  // no patch that fits is cheaper
    if (tiling_cost(img, q, 50, rgb, 1).window_bytes <= 300.0 * 300.0 * double(rgb))
      CHECK(tiling_cost(img, q, 50, rgb, 1).critical_samples >= tiling_cost(img, p, 50, rgb, 1).critical_samples);
  // nothing fits (a halo larger than the budget): the smallest window
  CHECK(auto_patch_size(img, 50, rgb, 16, 1) == 1);
  // the strategies resolve patch_size {auto_patch} with it; a config's default is auto
  Shape<4> const sh{1, 3, 512, 512};
  TilingOptions o{{tiling::auto_patch}, {50}};
  CHECK(OverlapTilingStrategy<4>(sh, o).num_patches() == 1);
  o.ranks = 2;
  CHECK(OverlapTilingStrategy<4>(sh, o).num_patches() == 4);
  o.stride = {tiling::half_patch};
  CHECK(OverlapTilingStrategy<4>(sh, o).num_patches() == 9);
  CHECK(BasicStrategy<4>(sh, TilingOptions{{tiling::auto_patch}, {50}}).num_patches() == 1);
  CHECK_THROWS_AS(tiling_cost(img, 0, 50, rgb, 1), Error);
  CHECK_THROWS_AS(tiling_cost(img, 8, 50, rgb, 0), Error);
}
