// Host tests of the tiling functors (core/kernels/tiling.hpp) and the tables that drive them
// (tiling/tile_tables.hpp), no GPU: run through kernels::for_each_index, window extraction
// and reduce reproduce OverlapTilingStrategy's and BasicStrategy's local_patches / reduce
// bit for bit, for every pad mode and blend, several shapes, halos, strides and tiled dims.
#include <doctest/doctest.h>

#include <numeric>
#include <random>
#include <vector>

#include "distinv/core/kernels/for_each.hpp"
#include "distinv/core/kernels/tiling.hpp"
#include "distinv/tiling/process.hpp"
#include "distinv/tiling/tile_tables.hpp"

using namespace distinv;
using namespace distinv::tiling;

namespace {

template <class T, int R>
Tensor<T, R> random_tensor(Shape<R> const& s, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Tensor<T, R> x(s);
  for (auto& v : flat(x)) v = T(u(g));
  return x;
}

template <class T, int R>
bool equal(Tensor<T, R> const& a, Tensor<T, R> const& b) {
  if (shape_of(a) != shape_of(b)) return false;
  for (Index i = 0; i < a.size(); ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}

// Every patch extracted by the functor equals the strategy's; reducing random processed
// windows of a subset (in a shuffled order) into a random output, then all of them, adds
// exactly what the strategy's reduce adds.
template <class T, int R, class S>
void check_against_strategy(S const& s, unsigned seed) {
  auto const tab = make_tile_tables(s);
  REQUIRE(tab.num_patches() == s.num_patches());
  auto x = random_tensor<T, R>(s.signal_shape(), seed);
  std::vector<Index> all(std::size_t(s.num_patches()));
  std::iota(all.begin(), all.end(), Index(0));
  auto ref = s.local_patches(x, all);
  for (Index i = 0; i < s.num_patches(); ++i) {
    CAPTURE(i);
    Tensor<T, R> w(tab.window_shape[std::size_t(i)]);
    w.setConstant(T(7));  // every element must be written
    kernels::for_each_index(tab.window_size(i), tab.extract_op(i, x.data(), w.data(), tab.maps.data()));
    CHECK(equal(w, ref[std::size_t(i)]));
  }

  std::vector<PatchPair<T, R>> pairs;
  std::mt19937 g(seed + 1);
  std::vector<Index> order = all;
  std::shuffle(order.begin(), order.end(), g);
  for (std::size_t k = 0; k < order.size(); ++k)
    if (k % 3 != 1) pairs.emplace_back(order[k], random_tensor<T, R>(tab.window_shape[std::size_t(order[k])], seed + 2 + unsigned(k)));
  auto out_ref = random_tensor<T, R>(s.signal_shape(), seed + 100);
  Tensor<T, R> out = out_ref;
  s.reduce(out_ref, std::span<PatchPair<T, R> const>(pairs));
  for (auto const& [i, p] : pairs)
    kernels::for_each_index(tab.box_size(i), tab.add_op(i, p.data(), out.data(), tab.weights.data()));
  CHECK(equal(out, out_ref));

  // Processed = extracted windows: the functor reduce of all patches is the signal again.
  Tensor<T, R> y = zeros<T>(s.signal_shape());
  for (Index i = 0; i < s.num_patches(); ++i)
    kernels::for_each_index(tab.box_size(i), tab.add_op(i, ref[std::size_t(i)].data(), y.data(), tab.weights.data()));
  CHECK(max_abs_diff(y, x) <= (std::is_same_v<T, float> ? 2e-6 : 1e-14));
}

struct Case {
  std::vector<Index> shape;
  std::vector<int> dims;
  std::vector<Index> patch, halo, stride;
};

}  // namespace

TEST_CASE_TEMPLATE("tiling functors reproduce OverlapTilingStrategy (every pad mode and blend)", T, float, double) {
  std::vector<Case> cases{
      {{2, 3, 17, 23}, {2, 3}, {5, 7}, {2, 3}, {}},
      {{2, 3, 17, 23}, {2, 3}, {6, 8}, {1, 4}, {4, 3}},
      {{1, 2, 9, 10}, {2, 3}, {4}, {0}, {}},           // no halo
      {{1, 2, 9, 10}, {2, 3}, {4}, {0}, {2}},          // no halo, overlapping cores
      {{3, 4, 9, 12}, {1, 2, 3}, {2, 4, 5}, {1, 1, 2}, {1, 3, 5}},
      {{4, 2, 7, 11}, {0, 3}, {3, 4}, {1, 2}, {2, 4}},  // batch dim and W
      {{2, 3, 8, 9}, {3}, {4}, {3}, {3}},               // W only
  };
  unsigned seed = 10;
  for (auto const& c : cases)
    for (auto mode : {PadMode::reflect, PadMode::replicate, PadMode::circular, PadMode::zeros})
      for (auto blend : {Blend::none, Blend::linear, Blend::gaussian}) {
        TilingOptions o;
        o.tiled_dims = c.dims;
        o.patch_size = c.patch;
        o.receptive_field_size = c.halo;
        o.stride = c.stride;
        o.pad_mode = mode;
        o.blend = blend;
        Shape<4> sh{c.shape[0], c.shape[1], c.shape[2], c.shape[3]};
        CAPTURE(to_string(sh));
        CAPTURE(c.dims.size());
        CAPTURE(to_string(mode));
        CAPTURE(to_string(blend));
        OverlapTilingStrategy<T, 4> s(sh, o);
        check_against_strategy<T, 4>(s, ++seed);
      }
}

TEST_CASE_TEMPLATE("tiling functors reproduce OverlapTilingStrategy on volumes (rank 5)", T, float, double) {
  for (auto blend : {Blend::none, Blend::linear, Blend::gaussian}) {
    TilingOptions o{{4, 5, 3}, {1, 2, 1}};
    o.stride = {3, 2, 3};
    o.pad_mode = PadMode::reflect;
    o.blend = blend;
    OverlapTilingStrategy<T, 5> s({1, 2, 11, 13, 9}, o);
    CAPTURE(to_string(blend));
    check_against_strategy<T, 5>(s, 3);
  }
}

TEST_CASE_TEMPLATE("tiling functors reproduce BasicStrategy (unequal pieces)", T, float, double) {
  BasicStrategy<T, 4> s({2, 3, 11, 14}, {1, 2, 3}, {2, 3, 4});
  check_against_strategy<T, 4>(s, 5);
  BasicStrategy<T, 4> s2({3, 1, 5, 7}, {}, {1});
  check_against_strategy<T, 4>(s2, 6);
}

TEST_CASE("tile tables share equal maps and weights; accessors agree with the layout") {
  TilingOptions o{{4}, {2}};
  o.blend = Blend::linear;
  o.pad_mode = PadMode::zeros;
  OverlapTilingStrategy<double, 4> s({1, 2, 10, 10}, o);
  auto const tab = make_tile_tables(s);
  // 3 x 3 windows of 8: distinct maps = 1 (B) + 1 (C) + 3 (H) + 3 (W).
  CHECK(tab.maps.size() == std::size_t(1 + 2 + 3 * 8 + 3 * 8));
  CHECK(tab.weights.size() == std::size_t(2 * 3 * 4));
  // Window 0 along H: padded coordinates 0..7 read signal -2..5, zeros outside.
  CHECK(s.source_map(0, 2) == std::vector<Index>{-1, -1, 0, 1, 2, 3, 4, 5});
  CHECK(s.source_map(0, 1) == std::vector<Index>{0, 1});
  CHECK(s.grid_position(5) == std::vector<Index>{1, 2});
  auto const b = s.reduce_box(5);
  CHECK(b.dst_start == Shape<4>{0, 0, 4, 6});  // cores [4, 8) and [6, 10) (the last moved back)
  CHECK(b.src_start == Shape<4>{0, 0, 2, 2});
  CHECK(b.size == Shape<4>{1, 2, 4, 4});
  CHECK(s.blend_weights(5, 1).empty());
  // The weights of the windows covering a sample sum to one (H: cores at 0, 4, 6).
  auto const w0 = s.blend_weights(0, 2), w1 = s.blend_weights(3, 2), w2 = s.blend_weights(6, 2);
  REQUIRE(w0.size() == 4);
  CHECK(w0[0] == doctest::Approx(1.0));
  CHECK(w1[2] + w2[0] == doctest::Approx(1.0));  // sample 6
  CHECK(w1[3] + w2[1] == doctest::Approx(1.0));  // sample 7
  TilingOptions none = o;
  none.blend = Blend::none;
  OverlapTilingStrategy<double, 4> sn({1, 2, 10, 10}, none);
  CHECK(sn.blend_weights(5, 2).empty());
  CHECK(sn.reduce_box(5).dst_start == sn.layout(5).interior_start);
  CHECK_THROWS_AS(s.source_map(9, 2), Error);
  CHECK_THROWS_AS(s.blend_weights(0, 4), Error);
}
