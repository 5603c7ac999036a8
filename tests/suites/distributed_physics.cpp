// Distributed stacked physics and data fidelity equal the non-distributed stack, on every
// backend and with every gather policy (the demo of seed 004, as tests); bad input is an
// Error on every rank.
#include <random>

#include "backends.hpp"
#include "distinv/distributed/data_fidelity.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/factory.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;

namespace {

constexpr std::initializer_list<int> two_and_three = {2, 3};

using distinv::testing::random_tensor;

/// The blurs of seed 004 plus one with another padding; `n` operators cycle through them.
template <class T>
std::vector<physics::Blur<T>> blurs(int n = 4) {
  std::vector<physics::Blur<T>> ops;
  for (int i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0: ops.emplace_back(physics::gaussian_blur<T>(1.0), physics::Padding::circular); break;
      case 1: ops.emplace_back(physics::gaussian_blur<T>(2.5), physics::Padding::circular); break;
      case 2: ops.emplace_back(physics::gaussian_blur<T>(std::array<double, 2>{1.5, 3.5}, 30.0), physics::Padding::circular); break;
      default: ops.emplace_back(physics::gaussian_blur<T>(1.2), physics::Padding::reflect); break;
    }
  }
  return ops;
}

template <class X>
double rel_diff(X const& a, X const& b) {
  return max_abs_diff(a, b) / std::max(1e-30, max_abs(b));
}
template <class T>
double rel_diff(TensorList<Tensor4<T>> const& a, TensorList<Tensor4<T>> const& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, rel_diff(a[i], b[i]));
  return m;
}

template <class T, class Gather>
void check_stack_equals_reference() {
  for_each_backend([](auto& ctx) {
    using Op = physics::Blur<T>;
    auto const ops = blurs<T>(5);
    auto const ref = physics::StackedLinearPhysics<Op>(ops);
    Tensor4<T> const x = random_tensor<T>({1, 3, 24, 20}, 3);
    DistributedStackedLinearPhysics<std::remove_reference_t<decltype(ctx)>, Op, Gather> A(
        ctx, Index(ops.size()), [&](Index i, auto const&) { return ops[std::size_t(i)]; });
    double const tol = distinv::testing::tol<T>();

    auto const y_ref = ref.A(x);
    auto const y = A.A(x);
    CHECK(rel_diff(y, y_ref) < tol);
    CHECK(A.A(x, local).size() == A.local_indices().size());
    CHECK(rel_diff(A.A_adjoint(y), ref.A_adjoint(y_ref)) < tol);
    CHECK(rel_diff(A.A_vjp(x, y), ref.A_vjp(x, y_ref)) < tol);
    CHECK(rel_diff(A.A_adjoint_A(x), ref.A_adjoint_A(x)) < tol);
    CHECK(rel_diff(A.A_A_adjoint(y), ref.A_A_adjoint(y_ref)) < tol);

    // A local list (this rank's entries only) is accepted too.
    TensorList<Tensor4<T>> mine;
    for (Index i : A.local_indices()) mine.push_back(y[std::size_t(i)]);
    CHECK(rel_diff(A.A_adjoint(mine), ref.A_adjoint(y_ref)) < tol);

    // local: the local parts sum to the global result.
    Tensor4<T> part = A.local_indices().empty() ? zeros<T>(shape_of(x)) : A.A_adjoint_A(x, local);
    ctx.all_reduce(part);
    CHECK(rel_diff(part, ref.A_adjoint_A(x)) < tol);
  }, two_and_three);
}

}  // namespace

TEST_CASE_TEMPLATE("distributed stack == stack, gather naive", T, float, double) {
  check_stack_equals_reference<T, gather::Naive>();
}
TEST_CASE_TEMPLATE("distributed stack == stack, gather concatenated", T, float, double) {
  check_stack_equals_reference<T, gather::Concatenated>();
}
TEST_CASE_TEMPLATE("distributed stack == stack, gather broadcast", T, float, double) {
  check_stack_equals_reference<T, gather::Broadcast>();
}

TEST_CASE("distributed stack: mean reduction, distribute(), A_dagger, compute_sqnorm") {
  for_each_backend([](auto& ctx) {
    using T = double;
    auto const ops = blurs<T>(3);
    auto const ref = physics::StackedLinearPhysics<physics::Blur<T>>(ops);
    auto A = distribute(ref, ctx);
    auto Am = distribute(ref, ctx, StackOptions{Reduction::mean});
    Tensor4<T> const x = random_tensor<T>({1, 2, 16, 16}, 5);
    auto const y = ref.A(x);
    CHECK(rel_diff(Am.A_adjoint(y), Tensor4<T>(ref.A_adjoint(y) * T(1.0 / 3))) < 1e-12);

    // Global pseudo-inverse: CG on the whole stack's normal equations; it fits the data.
    // (On mild, well-conditioned blurs: on strong ones CG amplifies the ranks' different
    // summation order, and equality would test rounding, not the distribution.)
    std::vector<physics::Blur<T>> mild;
    for (double s : {0.3, 0.4, 0.5}) mild.emplace_back(physics::gaussian_blur<T>(s), physics::Padding::circular);
    physics::StackedLinearPhysics<physics::Blur<T>> const mild_ref(mild);
    auto const ym = mild_ref.A(x);
    auto const xd = distribute(mild_ref, ctx).A_dagger(ym, DaggerOptions{.local_only = false, .max_iter = 200, .tol = 1e-12});
    CHECK(rel_diff(xd, physics::A_dagger(mild_ref, ym, linalg::CgOptions{200, 1e-12})) < 1e-9);
    CHECK(rel_diff(xd, x) < 1e-6);  // exact data: the least-squares solution is x itself
    // Local approximation: the mean of the operators' own pseudo-inverses.
    Tensor4<T> mean = zeros_like(x);
    for (auto const& op : ops) mean += physics::A_dagger(op, y[std::size_t(&op - ops.data())], linalg::CgOptions{});
    CHECK(rel_diff(A.A_dagger(y), Tensor4<T>(mean * T(1.0 / 3))) < 1e-8);

    // ‖A‖²: exact by the distributed power method, bounded above by Σ ‖A_i‖².
    double const exact = A.compute_sqnorm(x, SqnormOptions{.local_only = false, .max_iter = 500, .tol = 1e-10});
    double sum = 0;
    for (auto const& op : ops) sum += physics::compute_sqnorm(op, x, linalg::PowerOptions{500, 1e-10});
    CHECK(exact == doctest::Approx(linalg::power_method([&](Tensor4<T> const& v) { return ref.A_adjoint_A(v); }, x,
                                                       linalg::PowerOptions{500, 1e-10}).eigenvalue).epsilon(1e-6));
    CHECK(A.compute_sqnorm(x, SqnormOptions{.local_only = true, .max_iter = 500, .tol = 1e-10}) ==
          doctest::Approx(sum).epsilon(1e-6));
    CHECK(exact <= sum * (1 + 1e-9));
  }, two_and_three);
}

TEST_CASE("distributed forward: the same noisy measurements whatever the number of ranks") {
  using T = float;
  auto ops = blurs<T>(4);
  for (auto& op : ops) op.set_noise(physics::GaussianNoise<T>{0.1});
  Tensor4<T> const x = random_tensor<T>({1, 1, 12, 12}, 9);
  TensorList<Tensor4<T>> expected;
  for (std::size_t i = 0; i < ops.size(); ++i) {  // operator i, first call: its own stream
    std::mt19937_64 gen(detail::operator_seed(7, Index(i), 0));
    expected.push_back(ops[i].forward(x, gen));
  }
  for_each_backend([&](auto& ctx) {
    auto A = distribute(physics::StackedLinearPhysics<physics::Blur<T>>(ops), ctx);
    auto const y = A.forward(x);
    CHECK(rel_diff(y, expected) == 0);
    CHECK(rel_diff(A.forward(x), y) > 0);  // the second call draws new noise
  }, distinv::testing::all_thread_counts, ContextOptions{.seed = 7});
}

TEST_CASE_TEMPLATE("distributed data fidelity == sum over the stack", Fid, optim::L2, optim::L1, optim::PoissonLikelihood) {
  for_each_backend([](auto& ctx) {
    using T = double;
    auto const ops = blurs<T>(4);
    auto const ref = physics::StackedLinearPhysics<physics::Blur<T>>(ops);
    auto A = distribute(ref, ctx);
    Tensor4<T> const x = random_tensor<T>({1, 2, 12, 14}, 1) + T(0.5);
    auto y = ref.A(random_tensor<T>({1, 2, 12, 14}, 2) + T(0.5));
    Fid const fid{};
    double fn_ref = 0;
    Tensor4<T> grad_ref = zeros_like(x);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      fn_ref += fid.fn(x, y[i], ops[i]);
      grad_ref += fid.grad(x, y[i], ops[i]);
    }
    DistributedDataFidelity f(ctx, fid);
    CHECK(f.fn(x, y, A) == doctest::Approx(fn_ref).epsilon(1e-12));
    CHECK(rel_diff(f.grad(x, y, A), grad_ref) < 1e-12);
    DistributedMeasurements ym(ctx, y);
    CHECK(rel_diff(f.grad(x, ym, A), grad_ref) < 1e-12);  // L2: cached Σ A_iᵀ y_i path
    CHECK(rel_diff(f.grad(x, ym, A), grad_ref) < 1e-12);  // served from the cache
    ym.update_(0, y[0] * T(2));
    y[0] = y[0] * T(2);
    CHECK(rel_diff(f.grad(x, ym, A), f.grad(x, y, A)) < 1e-12);  // cache follows the update
    auto fd = distribute(fid, ctx);  // the factory's distribute() of a fidelity
    CHECK(fd.fn(x, y, A) == doctest::Approx(f.fn(x, y, A)).epsilon(1e-12));
    DistributedDataFidelity fm(ctx, fid, DataFidelityOptions{Reduction::mean});
    CHECK(fm.fn(x, y, A) == doctest::Approx(f.fn(x, y, A) / 4).epsilon(1e-12));
    // Per-operator fidelities from a factory.
    DistributedDataFidelity<std::remove_reference_t<decltype(ctx)>, Fid> per_op(
        ctx, 4, [](Index, auto const&) { return Fid{}; });
    CHECK(per_op.fn(x, y, A) == doctest::Approx(f.fn(x, y, A)).epsilon(1e-12));
  }, two_and_three);
}

TEST_CASE("distributed physics: bad input is an Error on every rank, nobody hangs") {
  for_each_backend([](auto& ctx) {
    using T = float;
    auto const ops = blurs<T>(3);
    auto A = distribute(physics::StackedLinearPhysics<physics::Blur<T>>(ops), ctx);
    Tensor4<T> const x = random_tensor<T>({1, 1, 10, 10}, 4);
    auto y = A.A(x);
    // Wrong number of measurements: the same check on every rank.
    TensorList<Tensor4<T>> two{y[0], y[1]};
    // (With 2 ranks, rank 0 owns two operators and takes the list as its local part; rank 1
    // does not: the failure is agreed, so both throw.)
    CHECK_THROWS_WITH_AS(A.A_adjoint(two), doctest::Contains("expected a list of 3"), Error);
    // Wrong shape of the measurement of operator 2, seen only by its owner: every rank throws.
    y[2] = Tensor4<T>(1, 1, 7, 7);
    y[2].setZero();
    std::string message;
    try {
      A.A_adjoint(y);
    } catch (Error const& e) {
      message = e.what();
    }
    // (The owner of operator 2 fails when it sums results of different shapes; or, owning
    // operator 2 alone, the ranks disagree on the result's shape. Either way: every rank.)
    CHECK(message.find("A_adjoint") != std::string::npos);
    CHECK(message.find("shape") != std::string::npos);
    // A factory that throws on one rank only.
    int const bad = ctx.world_size() - 1;
    auto build = [&] {
      DistributedStackedLinearPhysics<std::remove_reference_t<decltype(ctx)>, physics::Blur<T>> B(
          ctx, 3, [&](Index i, auto const&) {
            if (ctx.rank() == bad) throw std::runtime_error("no kernel for operator " + std::to_string(i));
            return ops[std::size_t(i)];
          });
    };
    CHECK_THROWS_WITH_AS(build(), doctest::Contains(doctest::String(("operator factory failed on rank " + std::to_string(bad)).c_str())), Error);
    ctx.barrier();
  }, two_and_three, ContextOptions{.warn_idle = false});
  CHECK_THROWS_WITH_AS(with_gather("scatter", []<class G>() { return 0; }),
                       doctest::Contains("unknown gather policy 'scatter'"), Error);
  CHECK_THROWS_WITH_AS(physics::parse_padding("mirror"), doctest::Contains("mirror"), Error);
  CHECK_THROWS_AS(physics::Blur<float>(physics::gaussian_blur<float>(3.0), physics::Padding::valid)
                      .A(Tensor4<float>(1, 1, 5, 5)), Error);
  CHECK_THROWS_AS(parse_reduction("median"), Error);
}

TEST_CASE_TEMPLATE("fused L2 gradient of circular blurs == plain gradient", T, float, double) {
  for_each_backend([](auto& ctx) {
    auto const ops = blurs<T>(3);  // all circular
    auto const ref = physics::StackedLinearPhysics<physics::Blur<T>>(ops);
    auto A = distribute(ref, ctx);
    Tensor4<T> const x = random_tensor<T>({2, 3, 20, 18}, 11);
    auto const y = ref.A(random_tensor<T>({2, 3, 20, 18}, 12));
    Tensor4<T> plain = zeros_like(x);
    for (std::size_t i = 0; i < ops.size(); ++i) plain += ops[i].A_adjoint(Tensor4<T>(ops[i].A(x) - y[i]));
    DistributedMeasurements ym(ctx, y);
    DistributedDataFidelity fused(ctx, optim::L2{});
    DistributedDataFidelity cached(ctx, optim::L2{}, DataFidelityOptions{.fused = false});
    for (int call = 0; call < 2; ++call) {  // the second call reuses S and B
      CHECK(rel_diff(fused.grad(x, ym, A), plain) < distinv::testing::tol<T>());
      CHECK(rel_diff(cached.grad(x, ym, A), plain) < distinv::testing::tol<T>());
    }
    DistributedDataFidelity mean(ctx, optim::L2{}, DataFidelityOptions{.reduction = Reduction::mean});
    CHECK(rel_diff(mean.grad(x, ym, A), Tensor4<T>(plain * T(1.0 / 3))) < distinv::testing::tol<T>());
  }, two_and_three);
}
