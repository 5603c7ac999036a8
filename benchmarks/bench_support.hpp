#pragma once
// benchmarks/bench_support.hpp: what several benchmarks share: a seeded random RGB image,
// one FFTW forward + inverse pair on each colour plane (the floor of a fused gradient; only
// with FFTW), and running the registered benchmarks on every MPI rank with rank 0 reporting.
#include <benchmark/benchmark.h>

#include <complex>
#include <cstdint>
#include <random>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/config.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/fftw.hpp"

namespace distinv::bench {

/// (1, 3, n, n) uniform in [0, 1) from `seed`.
inline Tensor4<float> random_image(Index n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Tensor4<float> x(1, 3, n, n);
  for (auto& v : flat(x)) v = u(rng);
  return x;
}

#if DISTINV_HAS_FFTW
/// One r2c + c2r pair on each of the 3 planes of an n x n RGB image, planes in parallel (as
/// the fused gradient runs them).
inline void fft_pair_rgb(benchmark::State& st) {
  Index const n = st.range(0);
  fft::Plan2d<float> plan(n, n);
  auto x = random_image(n, 4);
  Tensor4<float> y(shape_of(x));
  for (auto _ : st) {
    tbb::parallel_for(Index(0), Index(3), [&](Index p) {
      auto buf = fft::make_buffer<float, std::complex<float>>(plan.spectrum_size());
      plan.forward(x.data() + p * n * n, buf.get());
      plan.inverse(buf.get(), y.data() + p * n * n);
    });
    benchmark::DoNotOptimize(y.data());
  }
}
#endif

/// Runs the registered benchmarks; every rank runs them (the collectives must match), rank 0
/// alone reports.
inline void run_benchmarks(int& argc, char** argv, int rank) {
  struct Silent : benchmark::BenchmarkReporter {
    bool ReportContext(Context const&) override { return true; }
    void ReportRuns(std::vector<Run> const&) override {}
  };
  benchmark::Initialize(&argc, argv);
  if (rank == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    Silent silent;
    benchmark::RunSpecifiedBenchmarks(&silent);
  }
  benchmark::Shutdown();
}

}  // namespace distinv::bench
