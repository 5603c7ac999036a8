// Bit-identical results on every backend and number of ranks (reduce::Exact, the default):
// A_adjoint, A_adjoint_A, A_vjp, the three gradient paths of the data fidelity (fused, cached,
// general), fn, compute_sqnorm (both variants), A_dagger and short PnP-PGD, FISTA and PnP-HQS
// runs (tiles pasted and blended) give the same bytes as on one process. The reference is recomputed on every
// rank on a SingleProcess context, then each backend's results are compared byte by byte.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;

namespace {

using distinv::testing::random_tensor;

/// Five blurs, circular (the fused path) or with one reflect blur (the cached path).
template <class T>
std::vector<physics::Blur<T>> blurs(bool all_circular) {
  using physics::gaussian_blur;
  std::vector<physics::Blur<T>> ops;
  ops.emplace_back(gaussian_blur<T>(1.0), physics::Padding::circular);
  ops.emplace_back(gaussian_blur<T>(2.5), physics::Padding::circular);
  ops.emplace_back(gaussian_blur<T>(std::array<double, 2>{1.5, 3.5}, 30.0), physics::Padding::circular);
  ops.emplace_back(gaussian_blur<T>(0.7), all_circular ? physics::Padding::circular : physics::Padding::reflect);
  ops.emplace_back(gaussian_blur<T>(std::array<double, 2>{0.8, 2.0}, 70.0), physics::Padding::circular);
  return ops;
}

/// Named results, as bytes.
struct Results {
  std::vector<std::string> names;
  std::vector<std::vector<unsigned char>> bytes;
  template <class X>
  void add(std::string name, X const& x) {
    names.push_back(std::move(name));
    auto const* p = reinterpret_cast<unsigned char const*>(x.data());
    bytes.emplace_back(p, p + sizeof(*x.data()) * std::size_t(x.size()));
  }
  void add(std::string name, double v) {
    names.push_back(std::move(name));
    auto const* p = reinterpret_cast<unsigned char const*>(&v);
    bytes.emplace_back(p, p + sizeof(v));
  }
};

template <class T, class Ctx>
Results operators_and_gradients(Ctx& ctx) {
  Results r;
  Tensor4<T> const x = random_tensor<T>({1, 3, 22, 18}, 1);
  for (bool circular : {true, false}) {
    std::string const tag = circular ? "circular " : "mixed ";
    physics::StackedLinearPhysics<physics::Blur<T>> const stack(blurs<T>(circular));
    auto A = distribute(stack, ctx);
    auto const y = stack.A(random_tensor<T>({1, 3, 22, 18}, 2));
    r.add(tag + "A_adjoint", A.A_adjoint(y));
    r.add(tag + "A_adjoint mean", A.A_adjoint(y, Reduction::mean));
    r.add(tag + "A_adjoint_A", A.A_adjoint_A(x));
    r.add(tag + "A_vjp", A.A_vjp(x, y));
    r.add(tag + "sqnorm local", A.compute_sqnorm(x, {.local_only = true, .max_iter = 20, .tol = 0}));
    r.add(tag + "sqnorm global", A.compute_sqnorm(x, {.local_only = false, .max_iter = 20, .tol = 0}));
    r.add(tag + "A_dagger", A.A_dagger(y, {.local_only = false, .max_iter = 8, .tol = 0}));
    DistributedMeasurements ym(ctx, y);
    DistributedDataFidelity l2(ctx, optim::L2{});
    DistributedDataFidelity l2_cached(ctx, optim::L2{}, DataFidelityOptions{.fused = false});
    CHECK(l2.gradient_path(x, ym, A) == (circular ? GradientPath::fused : GradientPath::cached));
    CHECK(l2_cached.gradient_path(x, ym, A) == GradientPath::cached);
    CHECK(l2.gradient_path(x, y, A) == GradientPath::general);  // a plain list: no cache
    r.add(tag + "grad " + std::string(to_string(l2.gradient_path(x, ym, A))), l2.grad(x, ym, A));
    r.add(tag + "grad cached", l2_cached.grad(x, ym, A));
    r.add(tag + "grad general", l2.grad(x, y, A));
    r.add(tag + "fn", l2.fn(x, ym, A));
    DistributedDataFidelity l1(ctx, optim::L1{});
    r.add(tag + "L1 grad", l1.grad(x, ym, A));
    r.add(tag + "L1 fn", l1.fn(x, ym, A));
  }
  return r;
}

template <class Ctx>
Results pnp_runs(Ctx& ctx) {
  Results r;
  auto const clean = io::test_image<float>(48, 40, 3);
  auto ops = blurs<float>(true);
  for (auto& op : ops) op.set_noise(physics::GaussianNoise<float>{0.03f});
  physics::StackedLinearPhysics<physics::Blur<float>> const stack(ops);
  auto const y = distribute(stack, ctx).forward(clean);
  for (bool blended : {false, true}) {
    auto bundle = make_distrib_bundle(ctx, FactoryConfig{stack, y}, shape_of(clean),
                                      optim::PnP{optim::TVDenoiser<float>{.max_iter = 10}},
                                      TilingConfig{.patch_size = 16, .overlap = blended});
    bundle.signal.update_(bundle.physics.A_dagger(y, {.local_only = false, .max_iter = 5, .tol = 0}));
    auto const start = bundle.signal.data();
    std::string const tiles = blended ? " blended tiles" : " pasted tiles";
    r.add("pnp_pgd" + tiles, optim::pnp_pgd(bundle, {.max_iter = 4, .step_scale = 1.8, .sigma = 0.01}).x);
    bundle.signal.update_(start);
    r.add("fista" + tiles, optim::fista(bundle, {.max_iter = 3, .sigma = 0.01}).x);
    bundle.signal.update_(start);
    r.add("pnp_hqs" + tiles, optim::pnp_hqs(bundle, {.max_iter = 2, .step = 5, .sigma = 0.01}, {.max_iter = 4, .tol = 0}).x);
  }
  return r;
}

template <class Compute>
void check_bit_identical(Compute compute) {
  Results reference;
  launch<comm::SingleProcess>([&](auto& ctx) { reference = compute(ctx); });
  distinv::testing::for_each_backend([&](auto& ctx) {
    auto const got = compute(ctx);
    REQUIRE(got.names == reference.names);
    for (std::size_t k = 0; k < got.names.size(); ++k) {
      INFO(got.names[k], " on ", ctx.world_size(), " rank(s), backend ",
           std::remove_cvref_t<decltype(ctx.comm())>::name());
      CHECK(got.bytes[k] == reference.bytes[k]);
    }
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}

}  // namespace

TEST_CASE_TEMPLATE("reproducible: operators, data fidelity and norms are bit-identical on every backend", T, float,
                   double) {
  check_bit_identical([](auto& ctx) { return operators_and_gradients<T>(ctx); });
}

TEST_CASE("reproducible: PnP-PGD, FISTA, PnP-HQS with pasted and blended tiles are bit-identical on every backend") {
  check_bit_identical([](auto& ctx) { return pnp_runs(ctx); });
}
