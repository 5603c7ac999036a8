// Distributed tiled processing and priors: on every backend the result equals the
// single-process tiled result (and the input for an identity processor) whatever the batch
// bound; small images are tiled (no halo where one tile spans, halos clamped); bad processors
// and options are an Error on every rank.
#include <cmath>
#include <random>
#include <utility>

#include "backends.hpp"
#include "distinv/distributed/processing.hpp"
#include "distinv/factory.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/with_strategy.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;

namespace {

template <class X>
X noisy_image(Shape<X::NumDimensions> dims, unsigned seed) {
  X x(dims);
  std::mt19937 gen(seed);
  std::normal_distribution<double> n(0, 0.1);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = typename X::Scalar(0.5 + 0.3 * ((i / 7) % 2) + n(gen));
  return x;
}

tiling::TilingOptions tiles(Index patch, Index halo, tiling::Blend blend = tiling::Blend::none) {
  tiling::TilingOptions o;
  o.patch_size = {patch};
  o.receptive_field_size = {halo};
  o.blend = blend;
  if (blend != tiling::Blend::none) o.stride = {patch / 2};
  return o;
}

/// The part of x farther than m samples from the image border (H and W).
template <class X>
X interior(X const& x, Index m) {
  Shape<4> start{0, 0, m, m}, size{x.dimension(0), x.dimension(1), x.dimension(2) - 2 * m, x.dimension(3) - 2 * m};
  return X(x.slice(start, size));
}

struct Identity {
  template <class X>
  X operator()(X const& b, double) const { return b; }
};

}  // namespace

TEST_CASE("distributed processing: identity returns the input, 2D and 3D, every blend") {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    auto const x = noisy_image<Tensor4<float>>({1, 3, 37, 29}, 1);
    for (auto blend : {tiling::Blend::none, tiling::Blend::linear, tiling::Blend::gaussian}) {
      DistributedProcessing<Ctx, Identity, tiling::OverlapTilingStrategy<4>> p(ctx, Identity{}, tiles(8, 3, blend));
      CHECK(max_abs_diff(p(x, 0.1), x) < 1e-6);
    }
    auto const v = noisy_image<Tensor5<double>>({1, 2, 9, 10, 11}, 2);
    DistributedProcessing<Ctx, Identity, tiling::OverlapTilingStrategy<5>> p3(ctx, Identity{}, tiles(4, 2));
    CHECK(max_abs_diff(p3(v, 0.1), v) == 0);
  });
}

TEST_CASE("distributed tiled TV == single-process tiled TV; batching and shape changes") {
  auto const x = noisy_image<Tensor4<float>>({1, 3, 48, 40}, 3);
  optim::TVDenoiser<float> const tv{.max_iter = 10};
  auto const strategy = tiling::OverlapTilingStrategy<4>(shape_of(x), tiles(16, 10));
  auto const reference = tiling::process_tiled(strategy, x, tv, 0.1);
  auto const untiled = tv(x, 0.1);
  auto const y = noisy_image<Tensor4<float>>({2, 1, 30, 33}, 4);
  auto const reference_y = tiling::process_tiled(tiling::OverlapTilingStrategy<4>(shape_of(y), tiles(16, 10)), y, tv, 0.1);
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using P = DistributedProcessing<Ctx, optim::TVDenoiser<float>, tiling::OverlapTilingStrategy<4>>;
    P one_by_one(ctx, tv, tiles(16, 10), 1), all(ctx, tv, tiles(16, 10), 0);
    auto const a = one_by_one(x, 0.1);
    CHECK(max_abs_diff(a, reference) == 0);  // each pixel comes from exactly one tile
    CHECK(max_abs_diff(all(x, 0.1), a) == 0);
    // halo = receptive field: seamless away from the image border (where the tiles' reflect
    // padding stands in for TV's Neumann boundary).
    CHECK(max_abs_diff(interior(a, 10), interior(untiled, 10)) < 1e-4);
    // Another shape: the strategy is rebuilt; then back.
    CHECK(max_abs_diff(all(y, 0.1), reference_y) == 0);
    CHECK(max_abs_diff(all(x, 0.1), reference) == 0);
    // local: the ranks' contributions add up to the result.
    auto part = all(x, 0.1, local);
    ctx.all_reduce(part);
    CHECK(max_abs_diff(part, reference) == 0);
    // The factory's distribute(denoiser), typed or by a runtime strategy name, gives the same.
    auto d = distribute(tv, ctx, TilingConfig{.patch_size = 16, .receptive_field_size = 10});
    CHECK(max_abs_diff(d(x, 0.1), reference) == 0);
    tiling::with_strategy("smart_tiling", [&]<class S>() {
      auto named = distribute<S>(tv, ctx, TilingConfig{.patch_size = 16, .receptive_field_size = 10});
      CHECK(max_abs_diff(named(x, 0.1), reference) == 0);
    });
  });
}

TEST_CASE("distributed prior: prox and gradient tiled over the ranks") {
  auto const x = noisy_image<Tensor4<double>>({1, 2, 40, 36}, 5);
  optim::TVPrior<double> const prior{.weight = 0.5, .max_iter = 8};
  auto const prox_ref = prior.prox(x, 0.2);
  auto const grad_ref = prior.grad(x);
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    DistributedPrior<Ctx, optim::TVPrior<double>, tiling::OverlapTilingStrategy<4>> p(ctx, prior, tiles(12, 8));
    // halo 8 = receptive field of 8 iterations; the gradient's support is 1 pixel
    CHECK(max_abs_diff(interior(p.prox(x, 0.2), 8), interior(prox_ref, 8)) < 1e-12);
    CHECK(max_abs_diff(interior(p.grad(x), 8), interior(grad_ref, 8)) < 1e-12);
    CHECK(p.fn(x) == doctest::Approx(prior.fn(x)));
    CHECK(p.strategy().num_patches() == 12);
  });
}

TEST_CASE("distributed processing: a processor returning the wrong shape is an Error on every rank") {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    int const bad = ctx.world_size() - 1;
    auto shrink_on_one_rank = [&](Tensor4<float> const& b, double) {
      if (ctx.rank() != bad) return b;
      return Tensor4<float>(b.slice(Shape<4>{0, 0, 0, 0}, Shape<4>{b.dimension(0), b.dimension(1), 2, 2}));
    };
    DistributedProcessing<Ctx, decltype(shrink_on_one_rank), tiling::OverlapTilingStrategy<4>> p(
        ctx, shrink_on_one_rank, tiles(8, 2));
    auto const x = noisy_image<Tensor4<float>>({1, 1, 32, 32}, 6);
    CHECK_THROWS_WITH_AS(p(x, 0.1), doctest::Contains("processor returned shape"), Error);
    ctx.barrier();
    using Plain = DistributedProcessing<Ctx, Identity, tiling::OverlapTilingStrategy<4>>;
    CHECK_THROWS_AS(Plain(ctx, Identity{}, tiles(8, 2), -1), Error);
    // Options every rank shares and gets wrong: a negative patch (0 is tiling::auto_patch), an
    // unknown strategy name.
    Plain negative(ctx, Identity{}, tiles(-1, 2));
    CHECK_THROWS_AS(negative(x, 0.1), Error);
    CHECK_THROWS_WITH_AS(tiling::with_strategy("spiral", [&]<class S>() {
                           return distribute<S>(Identity{}, ctx, TilingConfig{.patch_size = 8})(x, 0.1);
                         }),
                         doctest::Contains("spiral"), Error);
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}

TEST_CASE("distributed tiling of small images: one tile spans the image (no halo), a halo larger than it is clamped") {
  // distinv-pnp's defaults (patch 128, halo = TV's receptive field 49) on its smallest image.
  auto const x = noisy_image<Tensor4<float>>({1, 3, 16, 16}, 7);
  optim::TVDenoiser<float> const tv{};
  REQUIRE(tv.receptive_field() > 16);
  auto const y = noisy_image<Tensor4<float>>({1, 3, 40, 36}, 8);
  optim::TVDenoiser<float> const tv10{.max_iter = 10};
  for_each_backend([&](auto& ctx) {
    auto d = distribute(tv, ctx, TilingConfig{.patch_size = 128});
    CHECK(max_abs_diff(d(x, 0.1), tv(x, 0.1)) == 0);  // one tile, no halo: the untiled TV itself
    CHECK(d.strategy().receptive_field_size() == std::vector<Index>{0, 0});
    // Tiles smaller than the image, a halo the image cannot hold: clamped to size - 1, and
    // still >= the receptive field, so seamless away from the border.
    auto c = distribute(tv10, ctx, TilingConfig{.patch_size = 16, .receptive_field_size = 100});
    auto const r = c(y, 0.1);
    CHECK(c.strategy().receptive_field_size() == std::vector<Index>{39, 35});
    CHECK(max_abs_diff(interior(r, 10), interior(tv10(y, 0.1), 10)) < 1e-4);
    // The whole PnP job on the 16² image, as distinv-pnp --size 16 runs it.
    std::vector<physics::Blur<float>> ops;
    ops.emplace_back(physics::gaussian_blur<float>(1.0), physics::Padding::circular);
    TensorList<Tensor4<float>> meas;
    meas.push_back(ops[0].A(x));
    auto bundle = make_distrib_bundle(ctx, FactoryConfig{ops, meas}, shape_of(x), optim::PnP{tv},
                                      TilingConfig{.patch_size = 128});
    bundle.signal.update_(meas[0]);
    auto const res = optim::pnp_pgd(bundle, {.max_iter = 3, .sigma = 0.01});
    CHECK(res.iterations == 3);
    CHECK(std::isfinite(double(norm(res.x))));
  }, {2});
}

TEST_CASE("distributed processing: the result does not depend on the batch bound") {
  auto const x = noisy_image<Tensor4<float>>({1, 3, 48, 40}, 9);
  optim::TVDenoiser<float> const tv{.max_iter = 6};
  tiling::OverlapTilingStrategy<4> const s(shape_of(x), tiles(8, 6, tiling::Blend::linear));
  std::size_t const window_bytes = std::size_t(numel(s.window_shape())) * sizeof(float);
  for_each_backend([&](auto& ctx) {
    auto const all = distribute(tv, ctx, TilingConfig{.patch_size = 8, .overlap = true,
                                                      .batch_bytes = std::size_t(1) << 40})(x, 0.1);
    for (auto [count, bytes] : {std::pair{Index(0), window_bytes}, std::pair{Index(3), tiling::default_batch_bytes},
                                std::pair{Index(0), 5 * window_bytes + 7}, std::pair{Index(2), 1 * window_bytes}}) {
      CAPTURE(count);
      CAPTURE(bytes);
      auto d = distribute(tv, ctx, TilingConfig{.patch_size = 8, .overlap = true, .max_batch_size = count,
                                                .batch_bytes = bytes});
      CHECK(max_abs_diff(d(x, 0.1), all) == 0);
    }
    CHECK_THROWS_AS(distribute(tv, ctx, TilingConfig{.patch_size = 8, .batch_bytes = 0}), Error);
  }, {1, 3});
}
