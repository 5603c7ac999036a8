// bench_tiling: tiled vs untiled TV and wavelet denoising of a 2048^2 RGB float image (one
// process). Tiling: patch 256, halo = TV receptive field (= max_iter), reflect pad, batches
// of 8 patches. The ratio BM_tv_tiled / BM_tv_untiled is the tiling overhead (halo
// recomputation ~ ((256 + 2*halo) / 256)^2 plus extraction and reduction);
// BM_tiling_identity is the bare cost of cutting, batching and pasting back. BM_wavelet_*:
// db4, 3 levels, soft; tiled with halo 56 (the receptive field 49 rounded up to the dyadic
// grid of 8, so windows of 368 need no padding). BM_tv_px / BM_wavelet_px: the untiled
// denoisers on an RGB image of side N (the top-left N x N of the same image), as ns per
// pixel per TV iteration (ns per pixel for the wavelets); BM_tv_peer: the peer workload of
// issue 24 (1024^2 RGB, 256^2 tiles, halo 32, 20 TV iterations). One core:
// the rates use CPU time (steadier on a shared machine). taskset -c 0 ./build/benchmarks/bench_tiling --benchmark_filter='_px|peer'
#include <benchmark/benchmark.h>

#include <random>

#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/process.hpp"

using namespace distinv;

namespace {
Tensor4<float> const& image() {
  static Tensor4<float> x = [] {
    Tensor4<float> t(1, 3, 2048, 2048);
    std::mt19937_64 g(1);
    std::normal_distribution<float> n(0.f, 0.1f);
    for (Index c = 0; c < 3; ++c)
      for (Index i = 0; i < 2048; ++i)
        for (Index j = 0; j < 2048; ++j)
          t(0, c, i, j) = float(((i / 256 + j / 256) % 2) * 0.5 + 0.25) + n(g);
    return t;
  }();
  return x;
}

/// The top-left N x N of image() (3 planes).
Tensor4<float> crop(Index N) {
  Tensor4<float> t(1, 3, N, N);
  for (Index c = 0; c < 3; ++c)
    for (Index i = 0; i < N; ++i)
      for (Index j = 0; j < N; ++j) t(0, c, i, j) = image()(0, c, i, j);
  return t;
}

/// ns per unit of work: Google Benchmark's inverted rate of `units` per iteration, in 1e-9 s.
benchmark::Counter ns_per(double units, benchmark::State const& st) {
  return benchmark::Counter(units * double(st.iterations()) / 1e9,
                            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

tiling::OverlapTilingStrategy<4> strategy(Index halo) {
  return tiling::OverlapTilingStrategy<4>(shape_of(image()), tiling::TilingOptions{{256}, {halo}});
}

void BM_tv_untiled(benchmark::State& st) {
  optim::TVDenoiser<float> tv{int(st.range(0))};
  for (auto _ : st) benchmark::DoNotOptimize(tv(image(), 0.1).data());
  st.counters["Mpix/s"] = benchmark::Counter(3.0 * 2048 * 2048 * double(st.iterations()) / 1e6, benchmark::Counter::kIsRate);
}

void BM_tv_tiled(benchmark::State& st) {
  optim::TVDenoiser<float> tv{int(st.range(0))};
  auto s = strategy(tv.receptive_field());
  for (auto _ : st) benchmark::DoNotOptimize(tiling::process_tiled(s, image(), tv, 0.1, 8).data());
  st.counters["patches"] = double(s.num_patches());
  st.counters["Mpix/s"] = benchmark::Counter(3.0 * 2048 * 2048 * double(st.iterations()) / 1e6, benchmark::Counter::kIsRate);
}

void BM_wavelet_untiled(benchmark::State& st) {
  optim::WaveletDenoiser<float> wd{};
  for (auto _ : st) benchmark::DoNotOptimize(wd(image(), 0.1).data());
  st.counters["Mpix/s"] = benchmark::Counter(3.0 * 2048 * 2048 * double(st.iterations()) / 1e6, benchmark::Counter::kIsRate);
}

void BM_wavelet_tiled(benchmark::State& st) {
  optim::WaveletDenoiser<float> wd{};
  auto s = strategy(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(tiling::process_tiled(s, image(), wd, 0.1, 8).data());
  st.counters["Mpix/s"] = benchmark::Counter(3.0 * 2048 * 2048 * double(st.iterations()) / 1e6, benchmark::Counter::kIsRate);
}

void BM_tv_px(benchmark::State& st) {
  Index const N = st.range(0);
  int const iters = 50;
  auto const x = crop(N);
  optim::TVDenoiser<float> tv{iters};
  for (auto _ : st) benchmark::DoNotOptimize(tv(x, 0.1).data());
  st.counters["ns/px/it"] = ns_per(3.0 * double(N * N) * iters, st);
}

void BM_wavelet_px(benchmark::State& st) {
  Index const N = st.range(0);
  auto const x = crop(N);
  optim::WaveletDenoiser<float> wd{};
  for (auto _ : st) benchmark::DoNotOptimize(wd(x, 0.1).data());
  st.counters["ns/px"] = ns_per(3.0 * double(N * N), st);
}

void BM_tv_peer(benchmark::State& st) {
  auto const x = crop(1024);
  optim::TVDenoiser<float> tv{20};
  tiling::OverlapTilingStrategy<4> s(shape_of(x), tiling::TilingOptions{{256}, {32}});
  for (auto _ : st) benchmark::DoNotOptimize(tiling::process_tiled(s, x, tv, 0.1).data());
  st.counters["patches"] = double(s.num_patches());
}

void BM_tiling_identity(benchmark::State& st) {
  auto s = strategy(st.range(0));
  auto id = [](Tensor4<float> const& b, double) { return b; };
  for (auto _ : st) benchmark::DoNotOptimize(tiling::process_tiled(s, image(), id, 0.0, 8).data());
}
}  // namespace

BENCHMARK(BM_tv_untiled)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_tv_tiled)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_wavelet_untiled)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_wavelet_tiled)->Arg(56)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_tiling_identity)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_tv_px)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK(BM_wavelet_px)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK(BM_tv_peer)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_MAIN();
