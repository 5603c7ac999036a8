// tests/cuda/cuda_generic.cu: the generic templates instantiated with device signals
// (DistributedContext<..., device::Cuda>, cuda::DeviceTensor) against the same templates over
// host tensors, on 1, 2 and 3 thread ranks sharing one GPU: the distributed stack (A, forward
// with noise, A_adjoint, A_adjoint_A, the norm by the power method, the pseudo-inverse by CG),
// the distributed data fidelity (fused L2 on device vs plain sums on the host; L1), the tiled
// prior and 20 iterations of PnP-PGD; with NCCL, a context whose device signals are reduced by
// NCCL (comm::WithNccl). Part of distinv_cuda_tests (main in cuda_tests.cu).
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "distinv/config.hpp"
#include "distinv/comm/threads.hpp"
#include "distinv/cuda.hpp"
#include "distinv/distinv.hpp"

using namespace distinv;

namespace {

template <class T>
Tensor4<T> random_signal(Shape<4> const& s, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Tensor4<T> t(s);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = T(u(g));
  return t;
}

/// Four anisotropic Gaussian blurs; `mixed` gives two of them non-circular paddings.
template <class T>
std::vector<physics::Blur<T>> host_blurs(bool mixed, double noise = 0) {
  std::vector<physics::Blur<T>> ops;
  physics::Padding const pads[4] = {physics::Padding::circular, mixed ? physics::Padding::reflect : physics::Padding::circular,
                                    physics::Padding::circular, mixed ? physics::Padding::zeros : physics::Padding::circular};
  for (int i = 0; i < 4; ++i) {
    ops.emplace_back(physics::gaussian_blur<T>({0.8 + 0.3 * i, 1.4 - 0.2 * i}, 20.0 * i), pads[i]);
    if (noise > 0) ops.back().set_noise(physics::GaussianNoise<T>(T(noise)));
  }
  return ops;
}

template <class T>
std::vector<physics::Blur<T, device::Cuda>> device_copies(std::vector<physics::Blur<T>> const& host) {
  std::vector<physics::Blur<T, device::Cuda>> ops;
  for (auto const& op : host) ops.emplace_back(op, device::Cuda{});
  return ops;
}

template <class T>
double tol() {
  return std::is_same_v<T, float> ? 1e-4 : 1e-9;
}

template <class List>
auto to_host_list(List const& l) {
  TensorList<host_tensor_t<typename List::tensor_type>> out;
  for (auto const& t : l) out.push_back(to_host(t));
  return out;
}

template <class F>
void on_thread_ranks(F&& body) {
  for (int ranks : {1, 2, 3})
    launch<comm::Threads>(ranks, [&](auto& host_ctx) {
      auto dev_ctx = on_device(host_ctx, device::Cuda{0});
      dev_ctx.device().activate();
      body(host_ctx, dev_ctx);
    }, ContextOptions{.seed = 11});
}

}  // namespace

TEST_CASE_TEMPLATE("cuda generic: the distributed stack of device blurs equals the host stack", T, float, double) {
  on_thread_ranks([](auto& hctx, auto& dctx) {
    auto const hops = host_blurs<T>(true, 0.05);
    auto const dops = device_copies(hops);
    auto hstack = distribute(hops, hctx);
    auto dstack = distribute(dops, dctx);
    auto const x = random_signal<T>({1, 3, 24, 40}, 3);
    auto const dx = cuda::to_device(x);

    auto const hy = hstack.A(x);
    auto const dy = dstack.A(dx);
    REQUIRE(dy.size() == hy.size());
    for (std::size_t i = 0; i < hy.size(); ++i) CHECK(max_abs_diff(to_host(dy[i]), hy[i]) < tol<T>());

    // Noise drawn on the host from the same per-operator streams: identical measurements.
    auto const hf = hstack.forward(x);
    auto const df = dstack.forward(dx);
    for (std::size_t i = 0; i < hf.size(); ++i) CHECK(max_abs_diff(to_host(df[i]), hf[i]) < tol<T>());

    CHECK(max_abs_diff(to_host(dstack.A_adjoint(dy)), hstack.A_adjoint(hy)) < tol<T>());
    CHECK(max_abs_diff(to_host(dstack.A_adjoint_A(dx)), hstack.A_adjoint_A(x)) < tol<T>());
    // <A x, y> = <x, A^T y> for the whole distributed stack on the device
    auto const dv = dstack.A(cuda::to_device(random_signal<T>({1, 3, 24, 40}, 4)));
    CHECK(dy.dot(dv) == doctest::Approx(dot(dx, dstack.A_adjoint(dv))).epsilon(tol<T>()));

    double const hn = hstack.compute_sqnorm(x, {.local_only = false, .max_iter = 30, .tol = 0});
    double const dn = dstack.compute_sqnorm(dx, {.local_only = false, .max_iter = 30, .tol = 0});
    CHECK(dn == doctest::Approx(hn).epsilon(tol<T>()));
    DaggerOptions const cg{.local_only = false, .max_iter = 15, .tol = 0};
    CHECK(max_abs_diff(to_host(dstack.A_dagger(dy, cg)), hstack.A_dagger(hy, cg)) < 10 * tol<T>());
  });
}

TEST_CASE_TEMPLATE("cuda generic: the distributed data fidelity on the device equals the host", T, float, double) {
  on_thread_ranks([](auto& hctx, auto& dctx) {
    for (bool mixed : {false, true}) {  // all circular: the device fuses in Fourier space
      auto const hops = host_blurs<T>(mixed);
      auto hstack = distribute(hops, hctx);
      auto dstack = distribute(device_copies(hops), dctx);
      auto const truth = random_signal<T>({1, 3, 32, 32}, 5);
      auto const y = hstack.A(truth);
      TensorList<cuda::DeviceTensor<T, 4>> dy;
      for (auto const& t : y) dy.push_back(cuda::to_device(t));
      DistributedMeasurements<std::remove_cvref_t<decltype(hctx)>, Tensor4<T>> hm(hctx, y);
      DistributedMeasurements<std::remove_cvref_t<decltype(dctx)>, cuda::DeviceTensor<T, 4>> dm(dctx, dy);
      DistributedDataFidelity hf(hctx, optim::L2{});
      DistributedDataFidelity df(dctx, optim::L2{});
      auto const x = random_signal<T>({1, 3, 32, 32}, 6);
      auto const dx = cuda::to_device(x);
      CHECK(max_abs_diff(to_host(df.grad(dx, dm, dstack)), hf.grad(x, hm, hstack)) < tol<T>());
      CHECK(max_abs_diff(to_host(df.grad(dx, dm, dstack)), hf.grad(x, hm, hstack)) < tol<T>());  // cached
      CHECK(df.fn(dx, dm, dstack) == doctest::Approx(hf.fn(x, hm, hstack)).epsilon(tol<T>()));
      DistributedDataFidelity hl1(hctx, optim::L1{});
      DistributedDataFidelity dl1(dctx, optim::L1{});
      CHECK(max_abs_diff(to_host(dl1.grad(dx, dy, dstack)), hl1.grad(x, y, hstack)) < tol<T>());
      CHECK(dl1.fn(dx, dy, dstack) == doctest::Approx(hl1.fn(x, y, hstack)).epsilon(tol<T>()));
    }
  });
}

TEST_CASE_TEMPLATE("cuda generic: tiled prior and 20 PnP-PGD iterations on the device equal the host", T, float, double) {
  on_thread_ranks([](auto& hctx, auto& dctx) {
    auto const hops = host_blurs<T>(false, 0.02);
    auto const truth = random_signal<T>({1, 3, 48, 64}, 8);
    auto hstack = distribute(hops, hctx);
    auto const y = hstack.forward(truth);
    TensorList<cuda::DeviceTensor<T, 4>> dy;
    for (auto const& t : y) dy.push_back(cuda::to_device(t));
    TilingConfig const tiling{.patch_size = 24, .receptive_field_size = 6, .overlap = true};
    auto hb = make_distrib_bundle(hctx, FactoryConfig{hops, y}, {1, 3, 48, 64},
                                  optim::PnP{optim::TVDenoiser<T>{6, 1.0}}, tiling);
    auto db = make_distrib_bundle(dctx, FactoryConfig{device_copies(hops), dy}, {1, 3, 48, 64},
                                  optim::PnP{optim::TVDenoiser<T>{6, 1.0}}, tiling);

    auto const x = random_signal<T>({1, 3, 48, 64}, 9);
    CHECK(max_abs_diff(to_host(db.prior->prox(cuda::to_device(x), 0.05)), hb.prior->prox(x, 0.05)) < tol<T>());

    optim::SolverOptions<Tensor4<T>> hopt{.max_iter = 20, .sigma = 0.02};
    optim::SolverOptions<cuda::DeviceTensor<T, 4>> dopt{.max_iter = 20, .sigma = 0.02};
    auto const hr = optim::pnp_pgd(hb, hopt);
    auto const dr = optim::pnp_pgd(db, dopt);
    CHECK(dr.step == doctest::Approx(hr.step).epsilon(1e-3));
    CHECK(max_abs_diff(to_host(dr.x), hr.x) < tol<T>());
  });
}

#if DISTINV_HAS_NCCL
static_assert(CommBackend<comm::WithNccl<comm::SingleProcess>>);
static_assert(comm_traits<comm::WithNccl<comm::Threads>>::shares_memory &&
              comm_traits<comm::WithNccl<comm::Threads>>::has_device_comm &&
              !comm_traits<comm::WithNccl<comm::SingleProcess>>::shares_memory);

TEST_CASE_TEMPLATE("cuda generic: a context reducing device signals with NCCL equals the host", T, float, double) {
  DistributedContext<comm::SingleProcess> hctx;
  DistributedContext<comm::WithNccl<comm::SingleProcess>, shard::RoundRobin, device::Cuda> dctx(
      comm::WithNccl<comm::SingleProcess>(comm::SingleProcess{}, 0), {}, device::Cuda{0});
  dctx.device().activate();
  auto const hops = host_blurs<T>(false);
  auto hstack = distribute(hops, hctx);
  auto dstack = distribute(device_copies(hops), dctx);
  auto const x = random_signal<T>({1, 3, 24, 32}, 12);
  auto const dx = cuda::to_device(x);
  CHECK(max_abs_diff(to_host(dstack.A_adjoint_A(dx)), hstack.A_adjoint_A(x)) < tol<T>());
  auto d = cuda::to_device(x);
  dctx.all_reduce(d);  // one rank: unchanged, through ncclAllReduce
  CHECK(max_abs_diff(to_host(d), x) == 0);
}
#endif
