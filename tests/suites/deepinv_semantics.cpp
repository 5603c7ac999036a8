// deepinv 0.5's semantics of the distributed layer that a porting user relies on, on every
// backend: the per-call reduction of the adjoint-side operations (sum, mean, or the list of
// per-operator results), zeros of the right shape from a local sum on a rank that owns no
// operator, and deepinv's default overlap (64) for a denoiser that declares no receptive field.
#include <random>

#include "backends.hpp"
#include "distinv/factory.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;

namespace {

using T = float;

Tensor4<T> random_tensor(Shape<4> s, unsigned seed) { return distinv::testing::random_tensor<T>(s, seed); }

/// n blurs; `valid` padding makes A_i y smaller than x (the adjoint's shape is not y's).
std::vector<physics::Blur<T>> blurs(int n, physics::Padding padding) {
  std::vector<physics::Blur<T>> ops;
  for (int i = 0; i < n; ++i) ops.emplace_back(physics::gaussian_blur<T>(0.8 + 0.4 * i), padding);
  return ops;
}

bool same(Tensor4<T> const& a, Tensor4<T> const& b) { return shape_of(a) == shape_of(b) && max_abs_diff(a, b) == 0; }

/// x ↦ x · mean of its (b, c) plane: each window's output depends on the whole window (so on
/// the halo), each patch of a batch on itself only. Declares no receptive field.
struct PlaneMeanScale {
  Tensor4<T> operator()(Tensor4<T> const& x, double) const {
    Tensor4<T> y(x.dimensions());
    Index const plane = x.dimension(2) * x.dimension(3);
    for (Index p = 0; p < x.dimension(0) * x.dimension(1); ++p) {
      double m = 0;
      for (Index e = 0; e < plane; ++e) m += x.data()[p * plane + e];
      m /= double(plane);
      for (Index e = 0; e < plane; ++e) y.data()[p * plane + e] = T(x.data()[p * plane + e] * m);
    }
    return y;
  }
};
static_assert(!optim::DeclaresReceptiveField<PlaneMeanScale>);

}  // namespace

TEST_CASE("deepinv semantics: A_adjoint, A_vjp, A_adjoint_A take a per-call reduction: sum, mean or per_operator") {
  for_each_backend([](auto& ctx) {
    auto const ops = blurs(4, physics::Padding::reflect);
    physics::StackedLinearPhysics<physics::Blur<T>> const stack(ops);
    auto A = distribute(stack, ctx);
    auto Am = distribute(stack, ctx, StackOptions{Reduction::mean});
    Tensor4<T> const x = random_tensor({1, 2, 15, 13}, 1);
    auto const y = stack.A(random_tensor({1, 2, 15, 13}, 2));
    T const quarter = T(1.0 / 4);

    auto const sum = A.A_adjoint(y);
    CHECK(same(A.A_adjoint(y, Reduction::sum), sum));
    CHECK(same(A.A_adjoint(y, Reduction::mean), Tensor4<T>(sum * quarter)));
    CHECK(same(Am.A_adjoint(y), Tensor4<T>(sum * quarter)));  // the stack's default reduction
    CHECK(same(Am.A_adjoint(y, Reduction::sum), sum));         // overridden per call
    CHECK(same(A.A_vjp(x, y, Reduction::mean), Tensor4<T>(A.A_vjp(x, y) * quarter)));
    CHECK(same(A.A_adjoint_A(x, Reduction::mean), Tensor4<T>(A.A_adjoint_A(x) * quarter)));

    // per_operator (deepinv's reduce_op=None): every operator's own result, in operator order.
    auto const adj = A.A_adjoint(y, per_operator);
    auto const vjp = A.A_vjp(x, y, per_operator);
    auto const nrm = A.A_adjoint_A(x, per_operator);
    REQUIRE(adj.size() == ops.size());
    REQUIRE(vjp.size() == ops.size());
    REQUIRE(nrm.size() == ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      CHECK(same(adj[i], ops[i].A_adjoint(y[i])));
      CHECK(same(vjp[i], ops[i].A_vjp(x, y[i])));
      CHECK(same(nrm[i], ops[i].A_adjoint_A(x)));
    }
    // ... or, with `local`, this rank's operators only, in local order.
    auto const mine = A.A_adjoint(y, per_operator, local);
    REQUIRE(mine.size() == A.local_indices().size());
    for (std::size_t k = 0; k < mine.size(); ++k) CHECK(same(mine[k], adj[std::size_t(A.local_indices()[k])]));
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}

TEST_CASE("deepinv semantics: a rank that owns no operator returns zeros of the right shape from a local sum") {
  for_each_backend([](auto& ctx) {
    auto const ops = blurs(2, physics::Padding::valid);  // with 3 or 4 ranks, some rank owns none
    physics::StackedLinearPhysics<physics::Blur<T>> const stack(ops);
    auto A = distribute(stack, ctx);
    Tensor4<T> const x = random_tensor({1, 2, 16, 14}, 3);
    auto const y = stack.A(random_tensor({1, 2, 16, 14}, 4));
    REQUIRE(shape_of(y[0]) != shape_of(x));  // the adjoint's shape is not the measurement's
    DistributedMeasurements ym(ctx, y);
    DistributedDataFidelity l2(ctx, optim::L2{});
    auto const adj = A.A_adjoint(y, local);  // a collective: an idle rank learns the shape
    auto const vjp = A.A_vjp(x, y, local);
    auto const nrm = A.A_adjoint_A(x, local);
    auto const grad = l2.grad(x, ym, A, local);
    auto const general = l2.grad(x, y, A, local);
    for (auto const* part : {&adj, &vjp, &nrm, &grad, &general}) CHECK(shape_of(*part) == shape_of(x));
    if (A.local_indices().empty()) {
      for (auto const* part : {&adj, &vjp, &nrm, &grad, &general}) CHECK(max_abs(*part) == 0);
      CHECK(l2.fn(x, ym, A, local) == 0);
    } else {
      Tensor4<T> expected = zeros_like(x);
      for (Index i : A.local_indices()) expected += ops[std::size_t(i)].A_adjoint(y[std::size_t(i)]);
      CHECK(same(adj, expected));
    }
    // The local parts add up to the whole.
    auto total = adj;
    ctx.all_reduce(total);
    CHECK(max_abs_diff(total, A.A_adjoint(y)) <= 1e-5 * max_abs(total));
    auto total_grad = grad;
    ctx.all_reduce(total_grad);
    CHECK(max_abs_diff(total_grad, l2.grad(x, ym, A)) <= 1e-5 * max_abs(total_grad));
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}

TEST_CASE("deepinv semantics: a denoiser without receptive field is tiled with deepinv's default overlap, 64") {
  CHECK(default_receptive_field == 64);
  CHECK(TilingConfig{}.options(std::nullopt).receptive_field_size == std::vector<Index>{64});
  CHECK(TilingConfig{}.options(Index(7)).receptive_field_size == std::vector<Index>{7});
  CHECK(TilingConfig{.receptive_field_size = 3}.options(std::nullopt).receptive_field_size == std::vector<Index>{3});
  for_each_backend([](auto& ctx) {
    Tensor4<T> const x = random_tensor({1, 1, 160, 144}, 5);
    auto tiled = [&](auto denoiser, Index halo) {
      return distribute(denoiser, ctx, TilingConfig{.patch_size = 32, .receptive_field_size = halo})(x, 0.1);
    };
    auto const by_default = tiled(PlaneMeanScale{}, -1);
    CHECK(same(by_default, tiled(PlaneMeanScale{}, 64)));
    CHECK_FALSE(same(by_default, tiled(PlaneMeanScale{}, 0)));  // a halo of 0 would differ (seams)
    // A denoiser that declares its receptive field keeps it.
    optim::TVDenoiser<T> const tv{.max_iter = 6};
    CHECK(same(tiled(tv, -1), tiled(tv, 6)));
    // The factory's bundle too: its prior is PnP{denoiser}.
    std::vector<physics::Blur<T>> const one{physics::Blur<T>(physics::gaussian_blur<T>(1.0), physics::Padding::circular)};
    auto bundle = make_distrib_bundle(ctx, FactoryConfig{one, TensorList<Tensor4<T>>{x}}, shape_of(x),
                                      optim::PnP{PlaneMeanScale{}}, TilingConfig{.patch_size = 32});
    CHECK(same(bundle.prior->prox(x, 0.1), by_default));
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}
