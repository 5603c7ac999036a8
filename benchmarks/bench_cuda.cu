// benchmarks/bench_cuda.cu: the GPU hot paths, each beside its floor or its host twin so that
// ratios come from one run: the cuFFT R2C + C2R pair of an RGB image (the floor of a circular
// blur and of the fused gradient), Blur<float, device::Cuda> A + A^T, the L2 gradient of an
// 8-blur stack as plain sums and fused (CircularNormal<float, device::Cuda>), and one PnP-PGD
// iteration (fused gradient + TV prior tiled in 512^2 patches) on the device and on the host. Device times are CUDA-event
// times of the default stream (manual time). Without a GPU it prints SKIPPED and exits 0.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "distinv/cuda.hpp"
#include "distinv/distinv.hpp"

using namespace distinv;

namespace {

Tensor4<float> random_image(Index n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Tensor4<float> x(1, 3, n, n);
  for (auto& v : flat(x)) v = u(rng);
  return x;
}

/// Eight anisotropic Gaussian blurs (circular), as in bench_blur.cpp.
std::vector<physics::Blur<float>> eight_blurs() {
  std::vector<physics::Blur<float>> ops;
  for (int i = 0; i < 8; ++i) ops.emplace_back(physics::gaussian_blur<float>({1.0 + 0.25 * i, 2.5 - 0.2 * i}, 22.5 * i));
  return ops;
}

/// Times `body` with CUDA events on the default stream, one manual time per iteration.
template <class F>
void device_loop(benchmark::State& st, F&& body) {
  cudaEvent_t start, stop;
  cuda::check(cudaEventCreate(&start), "cudaEventCreate");
  cuda::check(cudaEventCreate(&stop), "cudaEventCreate");
  body();  // warm up: plans, spectra, pool memory
  cuda::synchronize(nullptr);
  for (auto _ : st) {
    cudaEventRecord(start, nullptr);
    body();
    cudaEventRecord(stop, nullptr);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    st.SetIterationTime(double(ms) / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

void cufft_pair_rgb(benchmark::State& st) {
  Index const n = st.range(0);
  cuda::FftPlan2d<float> plan(n, n, 3, nullptr);
  auto x = cuda::to_device(random_image(n, 1));
  cuda::DeviceTensor<float, 4> y(x.shape());
  cuda::DeviceBuffer<kernels::Complex<float>> spec(std::size_t(plan.spectrum_size()));
  device_loop(st, [&] {
    plan.forward(x.data(), spec.data());
    plan.inverse(spec.data(), y.data());
  });
}

void blur_a_at(benchmark::State& st) {
  Index const n = st.range(0);
  physics::Blur<float, device::Cuda> blur(eight_blurs()[3], device::Cuda{});
  auto x = cuda::to_device(random_image(n, 2));
  device_loop(st, [&] {
    auto z = blur.A_adjoint(blur.A(x));
    benchmark::DoNotOptimize(z.data());
  });
}

void grad8_plain(benchmark::State& st) {
  Index const n = st.range(0);
  std::vector<physics::Blur<float, device::Cuda>> ops;
  for (auto const& op : eight_blurs()) ops.emplace_back(op, device::Cuda{});
  auto truth = cuda::to_device(random_image(n, 3));
  std::vector<cuda::DeviceTensor<float, 4>> y;
  for (auto const& op : ops) y.push_back(op.A(truth));
  auto x = cuda::to_device(random_image(n, 4));
  device_loop(st, [&] {
    auto g = ops[0].A_adjoint(ops[0].A(x) - y[0]);
    for (std::size_t i = 1; i < ops.size(); ++i) g += ops[i].A_adjoint(ops[i].A(x) - y[i]);
    benchmark::DoNotOptimize(g.data());
  });
}

void grad8_fused(benchmark::State& st) {
  Index const n = st.range(0);
  auto truth = cuda::to_device(random_image(n, 3));
  physics::CircularNormal<float, device::Cuda> normal(truth.shape());
  for (auto const& op : eight_blurs()) {
    physics::Blur<float, device::Cuda> d(op, device::Cuda{});
    normal.add(d, d.A(truth));
  }
  auto x = cuda::to_device(random_image(n, 4));
  device_loop(st, [&] {
    auto g = normal.grad(x);
    benchmark::DoNotOptimize(g.data());
  });
}

/// One PnP-PGD iteration of a SingleProcess bundle: fused gradient of 8 blurs + TV prior
/// (20 FGP iterations) tiled in 512^2 patches with a 20-pixel halo.
template <bool device>
void pnp_iteration(benchmark::State& st) {
  Index const n = st.range(0);
  auto const ops = eight_blurs();
  auto const truth = random_image(n, 5);
  TensorList<Tensor4<float>> y;
  for (auto const& op : ops) y.push_back(op.A(truth));
  TilingConfig const tiling{.patch_size = 512, .receptive_field_size = 20};
  DistributedContext<comm::SingleProcess> host_ctx;
  if constexpr (device) {
    auto ctx = on_device(host_ctx, device::Cuda{0});
    ctx.device().activate();
    std::vector<physics::Blur<float, device::Cuda>> dops;
    for (auto const& op : ops) dops.emplace_back(op, ctx.device());
    TensorList<cuda::DeviceTensor<float, 4>> dy;
    for (auto const& t : y) dy.push_back(cuda::to_device(t));
    auto b = make_distrib_bundle(ctx, FactoryConfig{dops, dy}, shape_of(truth),
                                 optim::PnP{optim::TVDenoiser<float>{20, 1.0}}, tiling);
    optim::SolverOptions<cuda::DeviceTensor<float, 4>> opt{.max_iter = 1, .step = 0.5, .sigma = 0.02};
    device_loop(st, [&] { optim::pnp_pgd(b, opt); });
  } else {
    optim::SolverOptions<Tensor4<float>> hopt{.max_iter = 1, .step = 0.5, .sigma = 0.02};
    auto b = make_distrib_bundle(host_ctx, FactoryConfig{ops, y}, shape_of(truth),
                                 optim::PnP{optim::TVDenoiser<float>{20, 1.0}}, tiling);
    optim::pnp_pgd(b, hopt);  // warm up (fused spectra)
    for (auto _ : st) {
      auto const t0 = std::chrono::steady_clock::now();
      optim::pnp_pgd(b, hopt);
      st.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
}

}  // namespace

BENCHMARK(cufft_pair_rgb)->Arg(2048)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(blur_a_at)->Name("Blur_A_At/cufft")->Arg(2048)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(grad8_plain)->Name("grad8/plain_sum")->Arg(2048)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(grad8_fused)->Name("grad8/CircularNormal")->Arg(2048)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(pnp_iteration<true>)->Name("pnp_pgd_iteration/device")->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(pnp_iteration<false>)
    ->Name("pnp_pgd_iteration/host")
    ->Arg(4096)
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIPPED: no CUDA device\n");
    return 0;
  }
  device::Cuda{0}.activate();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
