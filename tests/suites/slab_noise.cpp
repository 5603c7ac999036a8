// Measurements drawn per slab (layout/slab_noise.hpp) on every backend: Gaussian and Poisson
// noise applied to a slab tensor are the replicated draws bit for bit (B, C > 1 planes, runs of
// odd length so that the normal distribution's cached draw crosses ranks, one-row slabs,
// lopsided partitions), every rank's generator ends where the replicated one does, a sharded
// operator's and a stack's forward draw the replicated noise, and a Poisson rate that the model
// refuses on one rank is the replicated Error, with its message, on every rank. The replicated
// references are drawn one rank at a time (std::lgamma's signgam: see slab_testing.hpp).
#include <random>
#include <string>
#include <vector>

#include "backends.hpp"
#include "slab_testing.hpp"
#include "distinv/layout/sharded_physics.hpp"
#include "distinv/layout/sharded_stack.hpp"
#include "distinv/layout/slab_noise.hpp"
#include "distinv/physics/denoising.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using layout::RowPartition;
using layout::SlabTensor;


TEST_CASE_TEMPLATE("slab noise: Gaussian and Poisson noise on slabs are the replicated draws, bit for bit", T, float,
                   double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    Index const H = 2 * p + 1;
    Shape<4> const s{2, 3, H, 5};  // 6 planes; rows of 5: odd runs
    auto const whole = testing::random_tensor<T>(s, 11);
    std::vector<physics::NoiseModel<T>> const models{
        physics::GaussianNoise<T>(T(0.1)), physics::GaussianNoise<T>(T(0)), physics::PoissonNoise<T>(T(0.05)),
        physics::PoissonNoise<T>(T(0.2), false), physics::NoNoise{}};
    for (std::size_t m = 0; m < models.size(); ++m)
      for (auto const& part : testing::slab_partitions(H, p)) {
        CAPTURE(m);
        CAPTURE(part.to_string());
        std::mt19937_64 a(1234 + m), b(1234 + m);
        Tensor4<T> want = whole;
        testing::one_rank_at_a_time(ctx, [&] { physics::apply_noise(models[m], want, a); });
        auto x = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), whole, part);
        layout::apply_noise(models[m], x, b);
        CHECK(max_abs_diff(x.gather(), want) == 0);
        CHECK(a() == b());  // the generator ends where the replicated draw leaves it
      }
  });
}

TEST_CASE("slab noise: a sharded operator's and a stack's forward draw the replicated noise, bit for bit") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using Op = layout::Sharded<physics::Denoising<float>, Comm>;
    int const p = ctx.world_size();
    Index const H = 3 * p + 1;
    Shape<4> const s{1, 3, H, 7};
    auto const whole = testing::random_tensor<float>(s, 5);
    physics::Denoising<float> const gauss(physics::GaussianNoise<float>(0.05f));
    physics::Denoising<float> const poisson(physics::PoissonNoise<float>(0.1f));
    for (auto const& part : testing::slab_partitions(H, p)) {
      auto const x = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), whole, part);
      std::mt19937_64 a(7), b(7);
      Tensor4<float> one;
      testing::one_rank_at_a_time(ctx, [&] { one = gauss.forward(whole, a); });
      CHECK(max_abs_diff(layout::shard(gauss, ctx.comm()).forward(x, b).gather(), one) == 0);
      physics::StackedLinearPhysics<physics::Denoising<float>> const rep({gauss, poisson, gauss});
      layout::ShardedStack<Op> const stack(
          {layout::shard(gauss, ctx.comm()), layout::shard(poisson, ctx.comm()), layout::shard(gauss, ctx.comm())});
      decltype(rep.forward(whole, a)) want;
      testing::one_rank_at_a_time(ctx, [&] { want = rep.forward(whole, a); });
      auto const got = stack.forward(x, b);
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(max_abs_diff(got[i].gather(), want[i]) == 0);
      CHECK(a() == b());
    }
  });
}

TEST_CASE("slab noise: a rate PoissonNoise refuses on one rank is the replicated Error on every rank") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    Index const H = 2 * p + 1;
    Shape<4> const s{1, 2, H, 4};
    auto whole = testing::random_tensor<float>(s, 9);
    whole(0, 1, H - 1, 2) = -0.5f;  // on the last rank, in the last plane
    physics::NoiseModel<float> const refuse = physics::PoissonNoise<float>(0.1f);
    physics::NoiseModel<float> const clip = physics::PoissonNoise<float>(0.1f, true, true);
    for (auto const& part : testing::slab_partitions(H, p)) {
      std::mt19937_64 a(3), b(3);
      Tensor4<float> rep = whole;
      std::string want;
      testing::one_rank_at_a_time(ctx, [&] { want = testing::error_of([&] { physics::apply_noise(refuse, rep, a); }); });
      REQUIRE_FALSE(want.empty());
      auto x = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), whole, part);
      std::string const got = testing::error_of([&] { layout::apply_noise(refuse, x, b); });
      CHECK(got == want);
      CHECK(testing::same_on_every_rank(ctx, got));
      // the ranks go on together: clip_positive draws alike
      std::mt19937_64 c(4), d(4);
      Tensor4<float> clipped = whole;
      testing::one_rank_at_a_time(ctx, [&] { physics::apply_noise(clip, clipped, c); });
      auto y = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), whole, part);
      layout::apply_noise(clip, y, d);
      CHECK(max_abs_diff(y.gather(), clipped) == 0);
    }
  });
}
