// Host tests of the tiling functors (core/kernels/tiling.hpp) and of the generic extraction
// and reduction over a strategy's layout (tiling/process.hpp), no GPU: windows and reduce
// against a plain reference written from the layout's definition (source maps, reduce box,
// weights in double converted to T, product dim 0 first), bit for bit, for every pad mode and
// blend, several shapes, halos, strides and tiled dims; the functors also called directly.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "distinv/core/kernels/for_each.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/kernels/tiling.hpp"
#include "distinv/host/for_each.hpp"
#include "distinv/tiling/basic.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/process.hpp"

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

/// Multi-index of element e of a row-major box.
template <int R>
Shape<R> unravel(Index e, Shape<R> const& size) {
  Shape<R> i{};
  for (int d = R - 1; d >= 0; --d) {
    i[d] = e % size[d];
    e /= size[d];
  }
  return i;
}

/// The reference window of patch p: window[q] = x[map_0[q_0], ..] or 0.
template <class T, int R>
Tensor<T, R> reference_window(TileLayout<R> const& L, Tensor<T, R> const& x, Index p) {
  Tensor<T, R> w(L.window_shape(p));
  for (Index e = 0; e < w.size(); ++e) {
    auto const q = unravel<R>(e, L.window_shape(p));
    Shape<R> src{};
    bool zero = false;
    for (int d = 0; d < R; ++d) {
      src[d] = L.source_map(p, d)[std::size_t(q[d])];
      zero = zero || src[d] < 0;
    }
    w.data()[e] = zero ? T(0) : x(src);
  }
  return w;
}

/// The reference reduce of processed window w of patch p into out.
template <class T, int R>
void reference_add(TileLayout<R> const& L, Tensor<T, R> const& w, Index p, Tensor<T, R>& out) {
  auto const& b = L.box(p);
  for (Index e = 0; e < numel(b.size); ++e) {
    auto const i = unravel<R>(e, b.size);
    Shape<R> src{}, dst{};
    T f = T(1);
    for (int d = 0; d < R; ++d) {
      src[d] = b.src_start[d] + i[d];
      dst[d] = b.dst_start[d] + i[d];
      auto const wd = L.weights(p, d);
      if (!wd.empty()) f *= T(wd[std::size_t(i[d])]);
    }
    out(dst) += f * w(src);
  }
}

// Every window extracted (one per batch, and all of them in one batch where they share a
// shape) equals the reference; adding random processed windows of a subset (in a shuffled
// order) into a random output, then all of them, adds exactly what the reference adds.
template <class T, int R, class S>
void check_against_reference(S const& s, unsigned seed) {
  auto const& L = s.tile_layout();
  REQUIRE(L.num_patches() == s.num_patches());
  REQUIRE(L.signal_shape() == s.signal_shape());
  auto x = random_tensor<T, R>(s.signal_shape(), seed);
  std::vector<Index> all(std::size_t(s.num_patches()));
  std::iota(all.begin(), all.end(), Index(0));
  std::vector<Tensor<T, R>> ref;
  for (Index i : all) ref.push_back(reference_window(L, x, i));
  bool same_shape = true;
  for (Index i : all) {
    CAPTURE(i);
    Index const one[1] = {i};
    CHECK(equal(extract_batch(s, x, std::span<Index const>(one, 1)), ref[std::size_t(i)]));
    same_shape = same_shape && L.window_shape(i) == L.window_shape(0);
  }
  if (same_shape) {  // one batch of every window, in a shuffled order: back to back
    std::vector<Index> order = all;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed + 3));
    auto const batch = extract_batch(s, x, std::span<Index const>(order));
    Index const n = numel(L.window_shape(0));
    bool ok = true;
    for (std::size_t k = 0; k < order.size(); ++k)
      ok = ok && std::equal(ref[std::size_t(order[k])].data(), ref[std::size_t(order[k])].data() + n,
                            batch.data() + Index(k) * n);
    CHECK(ok);
  }

  std::mt19937 g(seed + 1);
  std::vector<Index> order = all;
  std::shuffle(order.begin(), order.end(), g);
  auto out_ref = random_tensor<T, R>(s.signal_shape(), seed + 100);
  Tensor<T, R> out = out_ref;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k % 3 == 1) continue;
    auto const p = random_tensor<T, R>(L.window_shape(order[k]), seed + 2 + unsigned(k));
    reference_add(L, p, order[k], out_ref);
    Index const one[1] = {order[k]};
    add_batch(s, p, std::span<Index const>(one, 1), out);
  }
  CHECK(equal(out, out_ref));

  // Processed = extracted windows: the reduce of all patches is the signal again.
  Tensor<T, R> y = zeros<T>(s.signal_shape());
  for (Index i : all) {
    Index const one[1] = {i};
    add_batch(s, ref[std::size_t(i)], std::span<Index const>(one, 1), y);
  }
  CHECK(max_abs_diff(y, x) <= (std::is_same_v<T, float> ? 2e-6 : 1e-14));
}

struct Case {
  std::vector<Index> shape;
  std::vector<int> dims;
  std::vector<Index> patch, halo, stride;
};

}  // namespace

TEST_CASE_TEMPLATE("tiled extraction and reduction follow OverlapTilingStrategy's layout (every pad mode and blend)", T,
                   float, double) {
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
    for (auto mode : {Padding::reflect, Padding::replicate, Padding::circular, Padding::zeros})
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
        OverlapTilingStrategy<4> s(sh, o);
        check_against_reference<T, 4>(s, ++seed);
      }
}

TEST_CASE_TEMPLATE("tiled extraction and reduction follow OverlapTilingStrategy on volumes (rank 5)", T, float, double) {
  for (auto blend : {Blend::none, Blend::linear, Blend::gaussian}) {
    TilingOptions o{{4, 5, 3}, {1, 2, 1}};
    o.stride = {3, 2, 3};
    o.pad_mode = Padding::reflect;
    o.blend = blend;
    OverlapTilingStrategy<5> s({1, 2, 11, 13, 9}, o);
    CAPTURE(to_string(blend));
    check_against_reference<T, 5>(s, 3);
  }
}

TEST_CASE_TEMPLATE("tiled extraction and reduction follow BasicStrategy (unequal pieces)", T, float, double) {
  BasicStrategy<4> s({2, 3, 11, 14}, {1, 2, 3}, {2, 3, 4});
  check_against_reference<T, 4>(s, 5);
  BasicStrategy<4> s2({3, 1, 5, 7}, {}, {1});
  check_against_reference<T, 4>(s2, 6);
}

TEST_CASE("tile layouts share equal maps and weights; accessors agree with the layout") {
  TilingOptions o{{4}, {2}};
  o.blend = Blend::linear;
  o.pad_mode = Padding::zeros;
  OverlapTilingStrategy<4> s({1, 2, 10, 10}, o);
  auto const& tab = s.tile_layout();
  // 3 x 3 windows of 8: distinct maps = 1 (B) + 1 (C) + 3 (H) + 3 (W).
  CHECK(tab.maps().size() == std::size_t(1 + 2 + 3 * 8 + 3 * 8));
  CHECK(tab.weights().size() == std::size_t(2 * 3 * 4));
  CHECK(tab.map_offsets().size() == std::size_t(9 * 4));
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
  OverlapTilingStrategy<4> sn({1, 2, 10, 10}, none);
  CHECK(sn.blend_weights(5, 2).empty());
  CHECK(sn.reduce_box(5).dst_start == sn.layout(5).interior_start);
  CHECK_THROWS_AS(s.source_map(9, 2), Error);
  CHECK_THROWS_AS(s.blend_weights(0, 4), Error);
}

TEST_CASE_TEMPLATE("tiling functors called directly: element and grid forms agree; padded windows and pasted interiors",
                   T, float, double) {
  // A 2 x 5 x 7 signal (two planes), windows read through pad_index maps, as a strategy's.
  Index const P = 2, H = 5, W = 7;
  auto const x = random_tensor<T, 3>({P, H, W}, 41);
  auto window_of = [&](Index y0, Index x0, Index h, Index w, kernels::Padding m, std::vector<T>& out,
                       bool grid) {
    std::vector<Index> maps, offset{0, P, P + h};
    for (Index p = 0; p < P; ++p) maps.push_back(p);
    for (Index i = 0; i < h; ++i) maps.push_back(kernels::pad_index(m, y0 + i, H));
    for (Index j = 0; j < w; ++j) maps.push_back(kernels::pad_index(m, x0 + j, W));
    Index const patch0[1] = {0};
    out.assign(std::size_t(P * h * w), T(7));  // every element must be written
    kernels::TileExtract<T, 3> f{x.data(), out.data(), maps.data(), offset.data(), patch0, {P, h, w}, {H * W, W, 1}, P * h};
    if (grid)
      host::Serial{}.grid(P * h, w, f);
    else
      kernels::for_each_index(P * h * w, f);
  };
  // a window hanging over the top-left corner, reflect padding: rows -2..1 -> 2 1 0 1
  Index const h = 4, w = 3;
  std::vector<T> patch, patch_grid;
  window_of(-2, -1, h, w, kernels::Padding::reflect, patch, false);
  window_of(-2, -1, h, w, kernels::Padding::reflect, patch_grid, true);
  CHECK(patch == patch_grid);
  Index const rows[] = {2, 1, 0, 1}, cols[] = {1, 0, 1};
  for (Index p = 0; p < P; ++p)
    for (Index i = 0; i < h; ++i)
      for (Index j = 0; j < w; ++j) CHECK(patch[std::size_t((p * h + i) * w + j)] == x(p, rows[i], cols[j]));
  window_of(3, 5, h, w, kernels::Padding::zeros, patch, false);
  CHECK(patch[0] == x(0, 3, 5));
  CHECK(patch[2] == T(0));                   // column 7 is outside
  CHECK(patch[std::size_t(2 * w)] == T(0));  // row 5 is outside

  // tiles of 3 x 4 interiors with a halo of 1, interiors pasted back: the signal again
  for (auto m : {kernels::Padding::circular, kernels::Padding::reflect, kernels::Padding::replicate,
                 kernels::Padding::zeros}) {
    Tensor<T, 3> out(P, H, W);
    out.setZero();
    Index const th = 3, tw = 4, halo = 1, ph = th + 2 * halo, pw = tw + 2 * halo;
    std::vector<T> tile;
    for (Index y0 = 0; y0 < H; y0 += th)
      for (Index x0 = 0; x0 < W; x0 += tw) {
        window_of(y0 - halo, x0 - halo, ph, pw, m, tile, (y0 + x0) % 2 == 0);
        Index const ih = std::min(th, H - y0), iw = std::min(tw, W - x0);
        kernels::TileAdd<T, 3> add{tile.data(), out.data(), {nullptr, nullptr, nullptr}, {P, ih, iw}, {0, halo, halo},
                                   {0, y0, x0}, {ph * pw, pw, 1}, {H * W, W, 1}};
        if ((y0 + x0) % 2 == 0)
          host::Launch{}.grid(P * ih, iw, add);
        else
          kernels::for_each_index(P * ih * iw, add);
      }
    CHECK(max_abs_diff(out, x) == 0);
    // weighted: the weights (double) are converted to T and multiplied dim 0 first
    double const wy[1] = {0.3}, wx[1] = {0.7};
    T const before = out(0, 0, 0);
    kernels::TileAdd<T, 3> one{tile.data(), out.data(), {nullptr, wy, wx}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0},
                               {ph * pw, pw, 1}, {H * W, W, 1}};
    one(0, 0);
    CHECK(out(0, 0, 0) == before + T(1) * T(0.3) * T(0.7) * tile[0]);
  }
}
