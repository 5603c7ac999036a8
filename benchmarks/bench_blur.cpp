// bench_blur: Blur A and Aᵀ on RGB float images (B=1, C=3) through the direct and the FFT
// paths, the direct/FFT crossover that sets blur_fft_min_kernel_area, and the fused
// CircularNormal::grad of 8 anisotropic Gaussian blurs against the plain Σ A_iᵀ(A_i x − y_i),
// with one FFTW forward+inverse pair over the same image as the floor; the direct path under
// other paddings (Blur_A/direct_padded, pad = the Padding value: 1 valid, 2 reflect, 4 zeros).
//   ./build/benchmarks/bench_blur --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "distinv/config.hpp"
#include "bench_support.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/gaussian_blur.hpp"

using namespace distinv;
using namespace distinv::physics;

namespace {
using bench::random_image;

/// k > 0: a k x k box kernel; k == 0: gaussian_blur(sigma = 2) (15 x 15).
Tensor<float, 2> kernel(Index k) {
  if (k == 0) return gaussian_blur<float>(2.0);
  Tensor<float, 2> t(k, k);
  t.setConstant(1.f / float(k * k));
  return t;
}

template <BlurMethod M, bool Adjoint>
void BM_blur(benchmark::State& st) {
  Index const n = st.range(0), k = st.range(1);
  Blur<float> b(kernel(k), Padding::circular, M);
  auto x = random_image(n, 1);
  benchmark::DoNotOptimize(Adjoint ? b.A_adjoint(x) : b.A(x));  // plans and spectrum made here
  for (auto _ : st) benchmark::DoNotOptimize(Adjoint ? b.A_adjoint(x) : b.A(x));
  st.counters["taps"] = double(b.kernel().size());
}

void sizes(benchmark::internal::Benchmark* b, bool direct) {
  for (Index n : {512, 1024, 2048})
    for (Index k : {5, 0}) b->Args({n, k});
  if (direct) b->Args({1024, 7})->Args({1024, 9})->Args({1024, 11});
  b->Unit(benchmark::kMillisecond)->MinTime(0.2)->UseRealTime();
}

BENCHMARK(BM_blur<BlurMethod::direct, false>)->Name("Blur_A/direct")->Apply([](auto* b) { sizes(b, true); });
BENCHMARK(BM_blur<BlurMethod::direct, true>)->Name("Blur_At/direct")->Apply([](auto* b) { sizes(b, false); });

/// The direct path under the padding st.range(2) (a Padding value), random k x k filter: the
/// cases of the direct-convolution figures in README.md (reflect, 9x9 and 31x31).
template <bool Adjoint>
void BM_direct_padded(benchmark::State& st) {
  Index const n = st.range(0), k = st.range(1);
  Tensor<float, 2> f(k, k);
  std::mt19937 g(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (Index i = 0; i < f.size(); ++i) f.data()[i] = u(g);
  Blur<float> b(f, static_cast<Padding>(st.range(2)), BlurMethod::direct);
  auto x = random_image(n, 1);
  auto y = b.A(x);
  for (auto _ : st) benchmark::DoNotOptimize(Adjoint ? b.A_adjoint(y) : b.A(x));
}
void padded_sizes(benchmark::internal::Benchmark* b) {
  for (Index n : {512, 2048})
    for (Index k : {9, 31})
      for (Padding p : {Padding::reflect, Padding::zeros, Padding::valid}) b->Args({n, k, Index(p)});
  b->ArgNames({"n", "k", "pad"})->Unit(benchmark::kMillisecond)->MinTime(0.2)->UseRealTime();
}
BENCHMARK(BM_direct_padded<false>)->Name("Blur_A/direct_padded")->Apply(padded_sizes);
BENCHMARK(BM_direct_padded<true>)->Name("Blur_At/direct_padded")->Apply(padded_sizes);
#if DISTINV_HAS_FFTW
BENCHMARK(BM_blur<BlurMethod::fft, false>)->Name("Blur_A/fft")->Apply([](auto* b) { sizes(b, false); });
BENCHMARK(BM_blur<BlurMethod::fft, true>)->Name("Blur_At/fft")->Apply([](auto* b) { sizes(b, false); });

std::vector<Blur<float>> eight_blurs() {
  std::vector<Blur<float>> ops;
  for (int i = 0; i < 8; ++i)
    ops.emplace_back(gaussian_blur<float>({1.0 + 0.25 * i, 3.0 - 0.2 * i}, 22.5 * i), Padding::circular);
  return ops;
}

void BM_grad_plain(benchmark::State& st) {
  Index const n = st.range(0);
  auto ops = eight_blurs();
  auto x = random_image(n, 2);
  std::vector<Tensor4<float>> ys;
  for (auto const& op : ops) ys.push_back(op.A(random_image(n, 3)));
  for (auto _ : st) {
    Tensor4<float> g = ops[0].A_adjoint(ops[0].A(x) - ys[0]);
    for (std::size_t i = 1; i < ops.size(); ++i) g += ops[i].A_adjoint(ops[i].A(x) - ys[i]);
    benchmark::DoNotOptimize(g.data());
  }
}
BENCHMARK(BM_grad_plain)->Name("grad8/plain_sum")->Arg(2048)->Unit(benchmark::kMillisecond)->MinTime(0.2)->UseRealTime();

void BM_grad_fused(benchmark::State& st) {
  Index const n = st.range(0);
  auto ops = eight_blurs();
  auto x = random_image(n, 2);
  CircularNormal<float> normal(Shape<4>{1, 3, n, n});
  for (auto const& op : ops) normal.add(op, op.A(random_image(n, 3)));
  for (auto _ : st) benchmark::DoNotOptimize(normal.grad(x).data());
}
BENCHMARK(BM_grad_fused)->Name("grad8/CircularNormal")->Arg(2048)->Unit(benchmark::kMillisecond)->MinTime(0.2)->UseRealTime();

BENCHMARK(bench::fft_pair_rgb)->Name("fftw_pair_rgb")->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->MinTime(0.2)->UseRealTime();
#endif
}  // namespace

BENCHMARK_MAIN();
