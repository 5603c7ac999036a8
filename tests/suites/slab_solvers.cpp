// The solvers on slabs (make_distrib_bundle<layout::Slabs>, layout/slab_bundle.hpp) on every
// backend: 10 iterations of PnP-PGD, FISTA and PnP-HQS with the TV denoiser tiled (pasted and
// blended tiles) equal the replicated bundle's to 1e-5 (float), over circular blurs (the fused
// gradient) and blurs with reflect / replicate padding (the stack's sum), on balanced partitions
// of a prime height and on slabs of a single row; over circular blurs each gives the same bits on
// every partition; the physics' A_dagger and compute_sqnorm equal the replicated ones;
// distribute<layout::Slabs> gives the replicated stack's noisy measurements (slab by slab), data
// fidelity and tiled denoiser's result, with `auto const` stacks (forward's call count is not
// logical state; A, A_adjoint, A_adjoint_A are const); bad input is the same Error on every rank.
#include <optional>
#include <string>
#include <vector>

#include "backends.hpp"
#include "distinv/factory.hpp"
#include "distinv/layout/slab_bundle.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"
#include "slab_testing.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using layout::RowPartition;

namespace {

using T = float;
using Image = Tensor4<T>;

std::vector<physics::Blur<T>> blurs(physics::Padding second_padding) {
  using physics::gaussian_blur;
  std::vector<physics::Blur<T>> ops;
  ops.emplace_back(gaussian_blur<T>(1.0), physics::Padding::circular);
  ops.emplace_back(gaussian_blur<T>(std::array<double, 2>{1.0, 2.0}, 30.0), second_padding);
  ops.emplace_back(gaussian_blur<T>(0.7), physics::Padding::circular);
  return ops;
}

/// Each rank's slabs of every measurement.
template <class Comm>
TensorList<layout::SlabTensor<T, 4, Comm>> slabs_of(Comm const& comm, TensorList<Image> const& y,
                                                    RowPartition const& part) {
  TensorList<layout::SlabTensor<T, 4, Comm>> out;
  for (auto const& m : y) out.push_back(layout::SlabTensor<T, 4, Comm>::scatter(comm, m, part));
  return out;
}

template <class Bundle, class X>
auto solve(std::string const& algorithm, Bundle& b, optim::SolverOptions<X> const& opt) {
  if (algorithm == "fista") return optim::fista(b, opt);
  if (algorithm == "hqs") return optim::pnp_hqs(b, opt);
  return optim::pnp_pgd(b, opt);
}

}  // namespace

TEST_CASE("slab solvers: PGD, FISTA and HQS on slabs equal the replicated bundle's (fused and stack gradients)") {
  Shape<4> const shape{1, 3, 37, 29};  // 37: a prime height
  auto const clean = distinv::testing::random_tensor<T>(shape, 1);
  optim::TVDenoiser<T> const tv{.max_iter = 8};
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    int const P = ctx.world_size();
    for (auto pad : {physics::Padding::circular, physics::Padding::reflect, physics::Padding::replicate}) {
      auto const ops = blurs(pad);
      TensorList<Image> y;
      for (std::size_t i = 0; i < ops.size(); ++i)
        y.push_back(Image(ops[i].A(clean) + distinv::testing::random_tensor<T>(shape, 10 + unsigned(i)) * T(0.02)));
      for (bool overlap : {false, true}) {
        TilingConfig const tiling{.patch_size = 12, .receptive_field_size = 6, .overlap = overlap};
        auto rep = make_distrib_bundle(ctx, FactoryConfig{ops, y}, shape, optim::PnP{tv}, tiling);
        Image const rep_start = rep.physics.A_adjoint(y);
        for (std::string const algorithm : {"pgd", "fista", "hqs"}) {
          CAPTURE(int(pad));
          CAPTURE(overlap);
          CAPTURE(algorithm);
          rep.signal.update_(rep_start);
          auto const want = solve(algorithm, rep, optim::SolverOptions<Image>{.max_iter = 10, .sigma = 0.02});
          std::optional<Tensor4<T>> first;  // the first partition's result
          for (auto const& part : distinv::testing::slab_partitions(shape[2], P)) {
            CAPTURE(part.to_string());
            auto ys = slabs_of(ctx.comm(), y, part);
            T const* const y0 = ys[0].local().data();
            auto b = make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, std::move(ys)}, shape, optim::PnP{tv},
                                                        tiling, part);
            CHECK(b.measurements.local()[0].local().data() == y0);  // moved in, not copied
            CHECK(b.physics.partition() == part);
            CHECK(to_string(b.data_fidelity.gradient_path(b.signal.data(), b.measurements, b.physics)) ==
                  std::string(pad == physics::Padding::circular ? "fused" : "general"));
            auto const start = b.physics.A_adjoint(TensorList<layout::SlabTensor<T, 4, Comm>>(b.measurements.local()));
            CHECK(max_abs_diff(start.gather(), rep_start) <= 1e-5);
            b.signal.update_(start);
            auto const clean_slab = layout::SlabTensor<T, 4, Comm>::scatter(ctx.comm(), clean, part);
            optim::SolverOptions<layout::SlabTensor<T, 4, Comm>> opt{.max_iter = 10, .sigma = 0.02,
                                                                     .track_objective = true, .reference = &clean_slab};
            auto const got = solve(algorithm, b, opt);
            CHECK(got.iterations == 10);
            CHECK(got.step == doctest::Approx(want.step).epsilon(1e-4));
            CHECK(max_abs_diff(got.x.gather(), want.x) <= 1e-5);
            CHECK(got.history.back().psnr == doctest::Approx(psnr(want.x, clean)).epsilon(1e-4));
            CHECK(got.history.back().objective ==
                  doctest::Approx(rep.data_fidelity.fn(want.x, rep.measurements, rep.physics)).epsilon(1e-4));
            // Over circular blurs every step is split-independent (the fused A_adjoint, AᵀA and
            // gradient, the tiled prior, dot and norm): the same bits on every partition, for each
            // algorithm with the power method's step. (The sharded blurs' own adjoint, which adds
            // halo rows of neighbours in an order that depends on the split, is not.)
            if (pad == physics::Padding::circular) {
              auto const x = got.x.gather();
              if (first) CHECK(max_abs_diff(x, *first) == 0);
              else first = x;
            }
          }
        }
      }
    }
  });
}

TEST_CASE("slab solvers: A_dagger and compute_sqnorm on slabs equal the replicated stack's") {
  Shape<4> const shape{2, 1, 23, 20};
  auto const clean = distinv::testing::random_tensor<T>(shape, 3);
  for_each_backend([&](auto& ctx) {
    using Comm = typename std::remove_reference_t<decltype(ctx)>::comm_type;
    for (auto pad : {physics::Padding::circular, physics::Padding::reflect}) {
      auto const ops = blurs(pad);
      TensorList<Image> y;
      for (auto const& op : ops) y.push_back(op.A(clean));
      auto rep = make_distrib_bundle(ctx, FactoryConfig{ops, y}, shape);
      for (auto const& part : distinv::testing::slab_partitions(shape[2], ctx.world_size())) {
        auto b = make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, slabs_of(ctx.comm(), y, part)}, shape,
                                                    NoPrior{}, {}, part);
        auto const ys = TensorList<layout::SlabTensor<T, 4, Comm>>(b.measurements.local());
        for (bool local_only : {true, false}) {
          DaggerOptions const d{.local_only = local_only, .max_iter = 12, .tol = 0};
          CHECK(max_abs_diff(b.physics.A_dagger(ys, d).gather(), rep.physics.A_dagger(y, d)) <= 1e-4);
          SqnormOptions const s{.local_only = local_only, .max_iter = 30, .tol = 1e-6};
          auto const one = layout::filled_like(b.signal.data(), T(1));
          CHECK(b.physics.compute_sqnorm(one, s) ==
                doctest::Approx(rep.physics.compute_sqnorm(filled_like(rep.signal.data(), T(1)), s)).epsilon(1e-4));
        }
      }
    }
  });
}

TEST_CASE("slab solvers: distribute<layout::Slabs> gives the replicated stack's noisy measurements, data fidelity and tiled denoiser") {
  Shape<4> const shape{1, 3, 37, 29};  // 37: a prime height
  auto const clean = distinv::testing::random_tensor<T>(shape, 5);
  auto ops = blurs(physics::Padding::reflect);
  for (auto& op : ops) op.set_noise(physics::GaussianNoise<T>{T(0.05)});
  physics::StackedLinearPhysics<physics::Blur<T>> const stack(ops);
  optim::TVDenoiser<T> const tv{.max_iter = 8};
  distinv::testing::for_each_backend(
      [&](auto& ctx) {
        using Comm = typename std::remove_reference_t<decltype(ctx)>::comm_type;
        using Slab = layout::SlabTensor<T, 4, Comm>;
        int const P = ctx.world_size();
        // The replicated stack's first two forwards (each call draws new noise); const stacks draw too.
        auto const rep = distribute(stack, ctx);
        auto const want0 = rep.forward(clean), want1 = rep.forward(clean);
        CHECK(max_abs_diff(want0[0], want1[0]) > 0.01);
        auto again = distribute<layout::Replicated>(stack, ctx);
        CHECK(max_abs_diff(again.forward(clean)[2], want0[2]) == 0);
        for (auto const& part : distinv::testing::slab_partitions(shape[2], P)) {
          CAPTURE(part.to_string());
          auto const sharded = distribute<layout::Slabs>(stack, ctx, shape, part);
          CHECK(sharded.partition() == part);
          CHECK(sharded.num_operators() == 3);
          Slab const x = Slab::scatter(ctx.comm(), clean, part);
          auto const y0 = sharded.forward(x);
          auto const y1 = sharded.forward(x);
          REQUIRE(y0.size() == 3);
          REQUIRE(y1.size() == 3);
          for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(i);
            CHECK(y0[i].partition() == part);
            CHECK(max_abs_diff(y0[i].gather(), want0[i]) <= 1e-5);
            CHECK(max_abs_diff(y1[i].gather(), want1[i]) <= 1e-5);
          }
          // The linear members of the const stacks: the same on both layouts.
          CHECK(max_abs_diff(sharded.A(x)[1].gather(), rep.A(clean)[1]) <= 1e-5);
          CHECK(max_abs_diff(sharded.A_adjoint(y0).gather(), rep.A_adjoint(want0)) <= 1e-4);
          CHECK(max_abs_diff(sharded.A_adjoint_A(x).gather(), rep.A_adjoint_A(clean)) <= 1e-4);
          // The L2 data fidelity on these measurements: the same gradient and value.
          auto rep_l2 = distribute(optim::L2{}, ctx);
          auto slab_l2 = distribute<layout::Slabs>(optim::L2{}, ctx);
          static_assert(std::is_same_v<decltype(slab_l2), layout::SlabDataFidelity<optim::L2>>);
          DistributedMeasurements<std::remove_reference_t<decltype(ctx)>, Image> const rep_y(ctx, want0);
          layout::SlabMeasurements<Slab> const slab_y(y0.items());
          Slab const x1 = Slab::scatter(ctx.comm(), want1[0], part);
          CHECK(max_abs_diff(slab_l2.grad(x1, slab_y, sharded).gather(), rep_l2.grad(want1[0], rep_y, rep)) <= 1e-5);
          CHECK(slab_l2.fn(x1, slab_y, sharded) == doctest::Approx(rep_l2.fn(want1[0], rep_y, rep)).epsilon(1e-5));
          for (bool overlap : {false, true}) {
            CAPTURE(overlap);
            TilingConfig const tiling{.patch_size = 12, .receptive_field_size = 6, .overlap = overlap};
            auto rep_tv = distribute(tv, ctx, tiling);
            auto slab_tv = distribute<layout::Slabs>(tv, ctx, tiling);
            static_assert(std::is_same_v<decltype(slab_tv), layout::SlabProcessing<std::remove_reference_t<decltype(ctx)>,
                                                                                   optim::TVDenoiser<T>>>);
            CHECK(max_abs_diff(slab_tv(x, 0.05).gather(), rep_tv(clean, 0.05)) == 0);
            auto same_tv = distribute<layout::Replicated>(tv, ctx, tiling);
            CHECK(max_abs_diff(same_tv(clean, 0.05), rep_tv(clean, 0.05)) == 0);
          }
        }
        // The default partition is the balanced one; a bad one is the same Error on every rank.
        CHECK(distribute<layout::Slabs>(stack, ctx, shape).partition() == RowPartition::balanced(shape[2], P));
        auto msg = distinv::testing::same_error(
            ctx, [&] { distribute<layout::Slabs>(stack, ctx, shape, RowPartition::balanced(20, P)); });
        CHECK(msg.find("expected a partition of 37 rows") != std::string::npos);
        msg = distinv::testing::same_error(ctx, [&] { distribute<layout::Slabs>(stack, ctx, {1, 3, 0, 29}); });
        CHECK(msg.find("distribute<layout::Slabs>: expected a non-empty signal shape") != std::string::npos);
      },
      distinv::testing::all_thread_counts, ContextOptions{.seed = 1234, .warn_idle = false});
}

TEST_CASE("slab solvers: bad input is the same Error on every rank") {
  Shape<4> const shape{1, 1, 16, 12};
  auto const clean = distinv::testing::random_tensor<T>(shape, 4);
  for_each_backend([&](auto& ctx) {
    using Comm = typename std::remove_reference_t<decltype(ctx)>::comm_type;
    int const P = ctx.world_size();
    auto ops = blurs(physics::Padding::circular);
    TensorList<Image> y;
    for (auto const& op : ops) y.push_back(op.A(clean));
    auto const part = RowPartition::balanced(16, P);
    auto const ys = slabs_of(ctx.comm(), y, part);
    using distinv::testing::same_error;
    // Too few measurements.
    auto few = ys;
    few.items().pop_back();
    auto msg = same_error(ctx, [&] { make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, few}, shape); });
    CHECK(msg.find("expected 3 measurements") != std::string::npos);
    // A measurement of another shape.
    auto other = ys;
    other[1] = layout::SlabTensor<T, 4, Comm>::zeros(ctx.comm(), {1, 1, 16, 11}, part);
    msg = same_error(ctx, [&] { make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, other}, shape); });
    CHECK(msg.find("measurement 1 has shape") != std::string::npos);
    // Measurements laid out by another partition than the signal's.
    if (P > 1) {
      msg = same_error(ctx, [&] {
        make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, ys}, shape, NoPrior{}, {}, distinv::testing::slab_partitions(16, P)[1]);
      });
      CHECK(msg.find("laid out as") != std::string::npos);
    }
    // A partition of the wrong rows; a blur without a slab path (BlurMethod::fft).
    msg = same_error(ctx, [&] {
      make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, ys}, shape, NoPrior{}, {}, RowPartition::balanced(20, P));
    });
    CHECK(msg.find("partition of 16 rows") != std::string::npos);
    auto fft_ops = ops;
    fft_ops[2] = physics::Blur<T>(ops[2].filter(), physics::Padding::circular, physics::BlurMethod::fft);
    msg = same_error(ctx, [&] { make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{fft_ops, ys}, shape); });
    CHECK(msg.find("BlurMethod::fft") != std::string::npos);
    // A row partition for the replicated layout.
    msg = same_error(ctx, [&] {
      make_distrib_bundle<layout::Replicated>(ctx, FactoryConfig{ops, y}, shape, NoPrior{}, {}, part);
    });
    CHECK(msg.find("layout::Slabs only") != std::string::npos);
    // The ranks still meet in the same collectives.
    auto b = make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{ops, ys}, shape, optim::PnP{optim::TVDenoiser<T>{}},
                                                TilingConfig{.patch_size = 8});
    auto const res = optim::pnp_pgd(b, {.max_iter = 2, .sigma = 0.01});
    CHECK(res.iterations == 2);
  });
}
