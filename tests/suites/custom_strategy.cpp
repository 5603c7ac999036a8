// A tiling strategy of the user's own, written in this one file: horizontal bands of
// patch_size rows spanning the whole width, each read with a halo of receptive_field_size rows
// above and below (reflect padding at the image border), crop-and-paste. It runs through
// make_distrib_bundle and PnP-PGD on every backend, gives the same result on every backend as
// on one process, and its tiled prior equals the untiled denoiser away from the image border.
#include <random>

#include "backends.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/factory.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/tiling/layout.hpp"

using namespace distinv;

namespace {

/// Bands of `patch_size` rows (the last one shorter), full width, halo rows above and below.
/// All a strategy is: its layout (window shapes, source maps, the box pasted back).
class HorizontalBands {
 public:
  static constexpr int rank = 4;

  HorizontalBands(Shape<4> const& shape, tiling::TilingOptions const& options) : layout_(shape) {
    Index const rows = options.patch_size.at(0), halo = options.receptive_field_size.at(0), H = shape[2];
    DISTINV_REQUIRE(rows > 0 && halo >= 0 && halo < H, "HorizontalBands: expected rows > 0 and 0 <= halo < ", H,
                    ", got ", rows, " and ", halo);
    for (Index top = 0; top < H; top += rows) {
      Index const n = std::min(rows, H - top);
      Shape<4> const window{shape[0], shape[1], n + 2 * halo, shape[3]};
      std::array<std::vector<Index>, 4> maps;
      for (int d : {0, 1, 3})
        for (Index q = 0; q < shape[d]; ++q) maps[std::size_t(d)].push_back(q);
      for (Index q = 0; q < window[2]; ++q)
        maps[2].push_back(kernels::pad_index(kernels::Padding::reflect, top - halo + q, H));
      layout_.add(window, tiling::ReduceBox<4>{{0, 0, halo, 0}, {0, 0, top, 0}, {shape[0], shape[1], n, shape[3]}},
                  maps);
    }
  }
  Shape<4> signal_shape() const { return layout_.signal_shape(); }
  Index num_patches() const { return layout_.num_patches(); }
  tiling::TileLayout<4> const& tile_layout() const { return layout_; }

 private:
  tiling::TileLayout<4> layout_;
};
static_assert(tiling::StrategyFromOptions<HorizontalBands>);

Tensor4<float> test_image(Shape<4> const& s, unsigned seed) {
  Tensor4<float> x(s);
  std::mt19937 g(seed);
  std::normal_distribution<double> n(0, 0.05);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(0.4 + 0.3 * ((i / 9) % 2) + n(g));
  return x;
}

struct Run {
  Tensor4<float> x, prox, untiled;
  Index patches = 0;
};

/// 10 PnP-PGD iterations with the bands, and one prox of the tiled prior.
template <class Ctx>
Run reconstruct(Ctx& ctx, Tensor4<float> const& clean) {
  std::vector<physics::Blur<float>> ops;
  for (double s : {1.0, 1.6}) {
    ops.emplace_back(physics::gaussian_blur<float>(s), physics::Padding::circular);
    ops.back().set_noise(physics::GaussianNoise<float>{0.02f});
  }
  auto const y = distribute(ops, ctx).forward(clean);
  optim::TVDenoiser<float> const tv{.max_iter = 8};
  auto bundle = make_distrib_bundle<gather::Concatenated, HorizontalBands>(
      ctx, FactoryConfig{ops, y}, shape_of(clean), optim::PnP{tv}, TilingConfig{.patch_size = 12, .max_batch_size = 2});
  static_assert(std::is_same_v<typename decltype(bundle)::strategy_type, HorizontalBands>);
  bundle.signal.update_(y[0]);
  auto const res = optim::pnp_pgd(bundle, {.max_iter = 10, .step_scale = 1.5, .sigma = 0.02});
  Run r{res.x, bundle.prior->prox(clean, 0.05), tv(clean, 0.05), bundle.prior->strategy().num_patches()};
  return r;
}

}  // namespace

TEST_CASE("a custom strategy (horizontal bands, one file) through make_distrib_bundle and PnP-PGD on every backend") {
  Shape<4> const shape{1, 3, 46, 40};  // 46 rows: bands of 12, 12, 12 and 10 (two window shapes)
  auto const clean = test_image(shape, 3);
  Run reference;
  launch<comm::SingleProcess>([&](auto& ctx) { reference = reconstruct(ctx, clean); });
  CHECK(reference.patches == 4);
  // halo = the TV receptive field (8 rows): the bands' prox is the untiled TV away from the
  // top and bottom border (where reflect padding stands in for TV's own boundary).
  Index const m = 8;
  Shape<4> const start{0, 0, m, 0}, size{1, 3, shape[2] - 2 * m, shape[3]};
  CHECK(max_abs_diff(Tensor4<float>(reference.prox.slice(start, size)),
                     Tensor4<float>(reference.untiled.slice(start, size))) < 1e-4);
  CHECK(max_abs_diff(reference.prox, reference.untiled) > 0);  // the border differs: the check above is not vacuous
  distinv::testing::for_each_backend([&](auto& ctx) {
    auto const out = reconstruct(ctx, clean);
    CHECK(out.patches == 4);
    CHECK(max_abs_diff(out.prox, reference.prox) == 0);  // each pixel comes from exactly one band
    CHECK(max_abs_diff(out.x, reference.x) < distinv::testing::tol<float>());
  });
}
