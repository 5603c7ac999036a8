// bench_mpi_distributed: the distributed layer end to end on RGB float images, 1 rank
// (SingleProcess) against 2 ranks (Threads, or MPI under mpiexec):
//   grad8/*   L2 gradient of 8 anisotropic circular Gaussian blurs at 2048²: Fourier-fused,
//             cached plain (Σ AᵢᵀAᵢx − Σ Aᵢᵀyᵢ) and general (Σ Aᵢᵀ(Aᵢx − yᵢ)); one FFTW pair floor
//   tv/*      TV denoising (50 iterations) at 2048², untiled and tiled (patch 256, halo 50)
//   pnp/*     one PnP-PGD iteration at 1024², 8 blurs, tiled TV prior: data / prior / comm split
//   reduce/*  the cost of reduce::Exact against reduce::Plain at 1024²: cached-plain gradient and
//             A_adjoint of 8 blurs, TV prior with blended tiles (patch 256); run alone with
//             --benchmark_filter=reduce/
//   pnp_layout/*  one PnP-PGD iteration at 2048², 3 circular blurs, tiled TV prior, fixed step, on
//             the replicated layout against slabs (make_distrib_bundle<layout::Slabs>): time, bytes
//             sent and collectives per rank; run alone with --benchmark_filter=pnp_layout/
//   slab/*    the fused gradient of the same 8 blurs at 2048² on the slab layout
//             (physics::CircularNormal over layout::SlabFft: one distributed FFT pair) against the replicated
//             physics::CircularNormal, and the tiled TV of tv/* on slabs (layout::SlabProcessing);
//             run alone with --benchmark_filter=slab/
//             slab/mpiP/{slabfft,fftw_mpi,fftw_mpi_measure}: the same gradient on comm::Mpi with
//             the SlabFft engine and with FFTW's MPI interface (layout::FftwMpiSlabFft, ESTIMATE
//             or MEASURE plans; builds with FFTW-MPI), on
//             every rank of the job (P = 1 without mpiexec); arg 1: partition (0 balanced = FFTW's
//             at 2048², 1 shifted by 24 rows: FFTW-MPI then moves rows to its own decomposition)
//   ./bench_mpi_distributed                     SingleProcess and Threads (2 ranks)
//   mpiexec -n 2 ./bench_mpi_distributed        MPI (rank 0 reports)
// DISTINV_BENCH_TBB_THREADS=k caps oneTBB at k threads per process (1: each rank runs serially,
// so that 1 against 2 ranks shows the rank-level speed-up alone).
// Every case runs a fixed number of iterations so that all ranks run the same collectives.
// testing::CountingComm<Comm> (tests/counting_comm.hpp) forwards every collective and adds its wall
// time (comm_ms; with Threads it includes waiting for the slower rank), the bytes the rank sends
// to other ranks (sent_MB) and the collectives it enters (collectives) to per-rank counters, per
// iteration. Counters are the max over ranks.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <array>
#include <chrono>
#include <complex>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include "distinv/config.hpp"
#include "bench_support.hpp"
#include "counting_comm.hpp"
#include "distinv/distinv.hpp"
#include "distinv/distributed/data_fidelity.hpp"
#include "distinv/distributed/measurements.hpp"
#include "distinv/factory.hpp"
#include "distinv/fft/fftw.hpp"
#include "distinv/layout/fftw_mpi_slab_fft.hpp"
#include "distinv/layout/slab_fft.hpp"
#include "distinv/layout/tiled_prior.hpp"
#include "distinv/mpi.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;

namespace {

template <class Comm>
using Counted = testing::CountingComm<Comm>;
using bench::random_image;

physics::StackedLinearPhysics<physics::Blur<float>> eight_blurs() {
  std::vector<physics::Blur<float>> ops;
  for (int i = 0; i < 8; ++i)
    ops.emplace_back(physics::gaussian_blur<float>(std::array<double, 2>{1.0 + 0.25 * i, 2.0 + 0.3 * i}, 22.5 * i),
                     physics::Padding::circular);
  return physics::StackedLinearPhysics<physics::Blur<float>>(ops);
}

/// The measurements y_i = A_i x_true, the same on every rank (built once per process).
TensorList<Tensor4<float>> measurements(physics::StackedLinearPhysics<physics::Blur<float>> const& stack, Index n) {
  auto const truth = random_image(n, 7);
  TensorList<Tensor4<float>> y;
  for (std::size_t i = 0; i < stack.size(); ++i) y.push_back(stack[i].A(truth));
  return y;
}

/// What one rank measured beside the benchmark's time, summed over the timed iterations.
struct Split {
  double comm = 0, data = 0, prior = 0, sent = 0, calls = 0;  ///< seconds; bytes sent to other ranks; collectives
};

/// A case: `make(ctx)` runs on every rank (outside the timed loop) and returns `step(split)`,
/// one timed iteration, which adds to `split` what it measured itself (data, prior).
enum class Backend { single, threads, mpi };

template <class Ctx>
Split run_rank(Ctx& ctx, auto const& make, benchmark::IterationCount iterations, benchmark::State* st) {
  auto step = make(ctx);
  Split split;
  step(split);  // warm-up: plans, caches, tiling strategy, first touch
  split = {};
  testing::CommTally const before = ctx.comm().tally();
  if (!st) {
    for (benchmark::IterationCount i = 0; i < iterations; ++i) step(split);
  } else if constexpr (std::is_same_v<typename Ctx::comm_type, Counted<comm::Mpi>>) {
    MPI_Comm const native = MPI_COMM_WORLD;
    for (auto _ : *st) {
      MPI_Barrier(native);
      double const t0 = MPI_Wtime();
      step(split);
      double dt = MPI_Wtime() - t0;
      MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, native);  // slowest rank
      st->SetIterationTime(dt);
    }
  } else {
    for (auto _ : *st) step(split);
  }
  testing::CommTally const spent = ctx.comm().tally() - before;
  split.comm = spent.seconds;
  split.sent = double(spent.bytes());
  split.calls = double(spent.calls());
  return split;
}

template <class Make>
void run_case(benchmark::State& st, Backend backend, Make make) {
  auto const iterations = st.max_iterations;
  std::vector<Split> splits;
  if (backend == Backend::single) {
    DistributedContext<Counted<comm::SingleProcess>> ctx(Counted<comm::SingleProcess>(comm::SingleProcess{}));
    splits.push_back(run_rank(ctx, make, iterations, &st));
  } else if (backend == Backend::threads) {
    auto world = comm::Threads::make_world(2);
    splits.resize(2);
    {
      std::jthread peer([&] {
        DistributedContext<Counted<comm::Threads>> ctx(Counted<comm::Threads>(comm::Threads(world, 1)));
        splits[1] = run_rank(ctx, make, iterations, nullptr);
      });
      DistributedContext<Counted<comm::Threads>> ctx(Counted<comm::Threads>(comm::Threads(world, 0)));
      splits[0] = run_rank(ctx, make, iterations, &st);
    }
  } else {
    DistributedContext<Counted<comm::Mpi>> ctx(Counted<comm::Mpi>(comm::Mpi(MPI_COMM_WORLD)));
    Split s = run_rank(ctx, make, iterations, &st);  // every rank runs the same timed loop
    std::array<double, 5> v{s.comm, s.data, s.prior, s.sent, s.calls};
    MPI_Allreduce(MPI_IN_PLACE, v.data(), 5, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    splits.push_back({v[0], v[1], v[2], v[3], v[4]});
  }
  Split worst;
  for (auto const& s : splits) {
    worst.comm = std::max(worst.comm, s.comm);
    worst.data = std::max(worst.data, s.data);
    worst.prior = std::max(worst.prior, s.prior);
    worst.sent = std::max(worst.sent, s.sent);
    worst.calls = std::max(worst.calls, s.calls);
  }
  double const per_ms = 1e3 / double(iterations);
  st.counters["comm_ms"] = worst.comm * per_ms;
  st.counters["sent_MB"] = worst.sent / 1e6 / double(iterations);  // per iteration, the busiest rank
  st.counters["collectives"] = worst.calls / double(iterations);
  if (worst.data > 0) st.counters["data_ms"] = worst.data * per_ms;
  if (worst.prior > 0) st.counters["prior_ms"] = worst.prior * per_ms;
}

// ---- 1. L2 gradient of 8 blurs ------------------------------------------------------------

enum class GradPath { fused, cached_plain, general };

template <ReductionPolicy Reduce = reduce::Exact>
auto grad_case(GradPath path, Index n) {
  auto stack = std::make_shared<physics::StackedLinearPhysics<physics::Blur<float>>>(eight_blurs());
  auto y = std::make_shared<TensorList<Tensor4<float>>>(measurements(*stack, n));
  auto x = std::make_shared<Tensor4<float>>(random_image(n, 2));
  return [=](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    auto physics = std::make_shared<decltype(distribute<gather::Concatenated, Reduce>(*stack, ctx))>(
        distribute<gather::Concatenated, Reduce>(*stack, ctx));
    auto ym = std::make_shared<DistributedMeasurements<Ctx, Tensor4<float>>>(ctx, *y);
    auto f = std::make_shared<DistributedDataFidelity<Ctx, optim::L2, Reduce>>(
        ctx, optim::L2{}, DataFidelityOptions{.fused = path == GradPath::fused});
    return [=](Split&) {
      if (path == GradPath::general) benchmark::DoNotOptimize(f->grad(*x, *y, *physics).data());
      else benchmark::DoNotOptimize(f->grad(*x, *ym, *physics).data());
    };
  };
}

void grad8(benchmark::State& st, Backend backend, GradPath path) { run_case(st, backend, grad_case(path, st.range(0))); }

// ---- 2. Tiled TV denoising ----------------------------------------------------------------

constexpr double tv_sigma = 0.05;

void tv_untiled(benchmark::State& st) {
  auto const x = random_image(st.range(0), 5);
  optim::TVDenoiser<float> tv{};
  benchmark::DoNotOptimize(tv(x, tv_sigma).data());
  for (auto _ : st) benchmark::DoNotOptimize(tv(x, tv_sigma).data());
}

void tv_tiled(benchmark::State& st, Backend backend) {
  auto x = std::make_shared<Tensor4<float>>(random_image(st.range(0), 5));
  Index const patch = st.range(1);
  run_case(st, backend, [=](auto& ctx) {
    auto proc = std::make_shared<decltype(distribute(optim::TVDenoiser<float>{}, ctx, TilingConfig{}))>(
        distribute(optim::TVDenoiser<float>{}, ctx, TilingConfig{.patch_size = patch}));
    return [=](Split&) { benchmark::DoNotOptimize((*proc)(*x, tv_sigma).data()); };
  });
}

// ---- 3. One PnP-PGD iteration -------------------------------------------------------------

void pnp_iteration(benchmark::State& st, Backend backend) {
  Index const n = st.range(0);
  auto stack = std::make_shared<physics::StackedLinearPhysics<physics::Blur<float>>>(eight_blurs());
  auto y = std::make_shared<TensorList<Tensor4<float>>>(measurements(*stack, n));
  run_case(st, backend, [=](auto& ctx) {
    auto b = std::make_shared<decltype(make_distrib_bundle(ctx, FactoryConfig{*stack, *y}, Shape<4>{1, 3, n, n},
                                                           optim::PnP{optim::TVDenoiser<float>{}},
                                                           TilingConfig{.patch_size = 256}))>(
        make_distrib_bundle(ctx, FactoryConfig{*stack, *y}, Shape<4>{1, 3, n, n},
                            optim::PnP{optim::TVDenoiser<float>{}}, TilingConfig{.patch_size = 256}));
    return [=](Split& split) {
      auto const r = optim::pnp_pgd(*b, {.max_iter = 1, .step = 0.3, .sigma = 0.004});
      split.data += r.history[0].data_seconds;
      split.prior += r.history[0].prior_seconds;
    };
  });
}

// ---- 4. Exact against plain reductions ------------------------------------------------------

template <ReductionPolicy Reduce>
void reduce_adjoint(benchmark::State& st, Backend backend) {
  Index const n = st.range(0);
  auto stack = std::make_shared<physics::StackedLinearPhysics<physics::Blur<float>>>(eight_blurs());
  auto y = std::make_shared<TensorList<Tensor4<float>>>(measurements(*stack, n));
  run_case(st, backend, [=](auto& ctx) {
    auto physics = std::make_shared<decltype(distribute<gather::Concatenated, Reduce>(*stack, ctx))>(
        distribute<gather::Concatenated, Reduce>(*stack, ctx));
    return [=](Split&) { benchmark::DoNotOptimize(physics->A_adjoint(*y).data()); };
  });
}

template <ReductionPolicy Reduce>
void reduce_prior_blended(benchmark::State& st, Backend backend) {
  auto x = std::make_shared<Tensor4<float>>(random_image(st.range(0), 5));
  Index const patch = st.range(1);
  run_case(st, backend, [=](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    auto const opt = TilingConfig{.patch_size = patch, .overlap = true}.options(Index(50));
    auto proc = std::make_shared<
        DistributedProcessing<Ctx, optim::TVDenoiser<float>, tiling::OverlapTilingStrategy<4>, Reduce>>(
        ctx, optim::TVDenoiser<float>{}, opt);
    return [=](Split&) { benchmark::DoNotOptimize((*proc)(*x, tv_sigma).data()); };
  });
}

// ---- 5. The fused gradient on slabs ----------------------------------------------------------

#if DISTINV_HAS_FFTW
/// The replicated fused gradient (physics::CircularNormal, one FFTW pair per call), 1 rank.
void slab_replicated(benchmark::State& st) {
  Index const n = st.range(0);
  auto const stack = eight_blurs();
  auto const y = measurements(stack, n);
  physics::CircularNormal<float> fused(Shape<4>{1, 3, n, n});
  for (std::size_t i = 0; i < stack.size(); ++i) fused.add(stack[i], y[i]);
  auto const x = random_image(n, 2);
  benchmark::DoNotOptimize(fused.grad(x).data());
  for (auto _ : st) benchmark::DoNotOptimize(fused.grad(x).data());
}

/// The same gradient on slabs: S and B sharded, one distributed FFT pair (two all_to_allv) per call.
void slab_sharded(benchmark::State& st, Backend backend) {
  Index const n = st.range(0);
  auto stack = std::make_shared<physics::StackedLinearPhysics<physics::Blur<float>>>(eight_blurs());
  auto y = std::make_shared<TensorList<Tensor4<float>>>(measurements(*stack, n));
  auto x = std::make_shared<Tensor4<float>>(random_image(n, 2));
  run_case(st, backend, [=](auto& ctx) {
    using Comm = typename std::remove_reference_t<decltype(ctx)>::comm_type;
    using Slab = layout::SlabTensor<float, 4, Comm>;
    auto const part = layout::RowPartition::balanced(n, ctx.world_size());
    auto normal = std::make_shared<physics::CircularNormal<float, layout::SlabFft<float, Comm>>>(ctx.comm(), Shape<4>{1, 3, n, n}, part);
    for (std::size_t i = 0; i < stack->size(); ++i) normal->add((*stack)[i], Slab::scatter(ctx.comm(), (*y)[i], part));
    auto xs = std::make_shared<Slab const>(Slab::scatter(ctx.comm(), *x, part));
    return [=](Split&) { benchmark::DoNotOptimize(normal->grad(*xs).local().data()); };
  });
}
#endif

/// The tiled TV prior of §2 on slabs (layout::SlabProcessing: each rank its rows' tiles, the
/// rows they read and write through two all_to_allv; no image-sized all-reduce).
void slab_tv(benchmark::State& st, Backend backend) {
  Index const n = st.range(0), patch = st.range(1);
  auto x = std::make_shared<Tensor4<float>>(random_image(n, 5));
  run_case(st, backend, [=](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using Slab = layout::SlabTensor<float, 4, typename Ctx::comm_type>;
    auto const part = layout::RowPartition::balanced(n, ctx.world_size());
    optim::TVDenoiser<float> const tv{};  // the halo as distribute() gives tv/*: TV's receptive field
    auto proc = std::make_shared<layout::SlabProcessing<Ctx, optim::TVDenoiser<float>>>(
        ctx, tv, TilingConfig{.patch_size = patch}.options(optim::declared_receptive_field(tv)));
    auto xs = std::make_shared<Slab const>(Slab::scatter(ctx.comm(), *x, part));
    return [=](Split&) { benchmark::DoNotOptimize((*proc)(*xs, tv_sigma).local().data()); };
  });
}

// ---- 6. One PnP-PGD iteration, replicated against sharded ---------------------------------

/// pnp_layout/*/{replicated,sharded}: one PnP-PGD iteration (fixed step: no power method) over 3
/// circular blurs (the fused gradient) with the tiled TV prior (patch 256), on the bundle of
/// make_distrib_bundle<Layout>: layout::Replicated (every rank the whole signal; the prior
/// all-reduces it) or layout::Slabs (balanced rows; the gradient's two transposes, the tiles' halo
/// rows). Sharded, each rank scatters its slabs of the measurements once, outside the timed loop.
template <class Layout>
void pnp_layout(benchmark::State& st, Backend backend) {
  Index const n = st.range(0);
  auto stack = std::make_shared<physics::StackedLinearPhysics<physics::Blur<float>>>([] {
    auto const eight = eight_blurs();
    std::vector<physics::Blur<float>> ops{eight[0], eight[1], eight[2]};
    return physics::StackedLinearPhysics<physics::Blur<float>>(ops);
  }());
  auto y = std::make_shared<TensorList<Tensor4<float>>>(measurements(*stack, n));
  run_case(st, backend, [=](auto& ctx) {
    Shape<4> const shape{1, 3, n, n};
    optim::PnP const prior{optim::TVDenoiser<float>{}};
    TilingConfig const tiling{.patch_size = 256};
    auto made = [&] {
      if constexpr (std::is_same_v<Layout, layout::Replicated>) {
        return make_distrib_bundle<layout::Replicated>(ctx, FactoryConfig{*stack, *y}, shape, prior, tiling);
      } else {
        using Slab = layout::SlabTensor<float, 4, typename std::remove_reference_t<decltype(ctx)>::comm_type>;
        auto const part = layout::RowPartition::balanced(n, ctx.world_size());
        TensorList<Slab> ys;
        for (auto const& m : *y) ys.push_back(Slab::scatter(ctx.comm(), m, part));
        return make_distrib_bundle<layout::Slabs>(ctx, FactoryConfig{*stack, ys}, shape, prior, tiling);
      }
    }();
    auto b = std::make_shared<decltype(made)>(std::move(made));
    return [=](Split& split) {
      auto const r = optim::pnp_pgd(*b, {.max_iter = 1, .step = 0.3, .sigma = 0.004});
      split.data += r.history[0].data_seconds;
      split.prior += r.history[0].prior_seconds;
    };
  });
}

#if DISTINV_HAS_FFTW_MPI
/// The slab gradient on comm::Mpi (every rank of MPI_COMM_WORLD) with the distributed transform
/// `Engine`: SlabFft or FFTW's MPI interface. Arg 1: 0 balanced rows, 1 rank 0 holding 24 rows
/// fewer than the balanced split (the rest shifted to the next rank).
template <class Engine>
void slab_engine(benchmark::State& st) {
  Index const n = st.range(0);
  comm::Mpi const comm(MPI_COMM_WORLD);
  using Slab = layout::SlabTensor<float, 4, comm::Mpi>;
  auto part = layout::RowPartition::balanced(n, comm.size());
  if (st.range(1) == 1 && comm.size() > 1) {
    auto o = part.offsets();
    o[1] -= 24;
    part = layout::RowPartition(std::move(o));
  }
  auto const stack = eight_blurs();
  auto const y = measurements(stack, n);
  physics::CircularNormal<float, Engine> normal(comm, Shape<4>{1, 3, n, n}, part);
  for (std::size_t i = 0; i < stack.size(); ++i) normal.add(stack[i], Slab::scatter(comm, y[i], part));
  auto const x = Slab::scatter(comm, random_image(n, 2), part);
  benchmark::DoNotOptimize(normal.grad(x).local().data());  // warm-up: plans, first touch
  for (auto _ : st) {
    MPI_Barrier(MPI_COMM_WORLD);
    double const t0 = MPI_Wtime();
    benchmark::DoNotOptimize(normal.grad(x).local().data());
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);  // slowest rank
    st.SetIterationTime(dt);
  }
}

/// slab/mpiP/{slabfft,fftw_mpi,fftw_mpi_measure}: the engines of the slab gradient on all P ranks.
void register_engines(int ranks) {
  std::string const t = "slab/mpi" + std::to_string(ranks) + "/";
  for (Index partition : {Index(0), Index(1)}) {
    if (partition == 1 && ranks == 1) continue;  // one rank: every partition is FFTW's
    benchmark::RegisterBenchmark((t + "slabfft").c_str(), slab_engine<layout::SlabFft<float, comm::Mpi>>)
        ->Args({2048, partition})->Iterations(10)->Unit(benchmark::kMillisecond)->UseManualTime();
    benchmark::RegisterBenchmark((t + "fftw_mpi").c_str(), slab_engine<layout::FftwMpiSlabFft<float>>)
        ->Args({2048, partition})->Iterations(10)->Unit(benchmark::kMillisecond)->UseManualTime();
    benchmark::RegisterBenchmark((t + "fftw_mpi_measure").c_str(),
                                 slab_engine<layout::FftwMpiSlabFft<float, fft::MpiPlanner::measure>>)
        ->Args({2048, partition})->Iterations(10)->Unit(benchmark::kMillisecond)->UseManualTime();
  }
}
#else
void register_engines(int) {}  // no FFTW-MPI in this build
#endif

template <ReductionPolicy Reduce>
void register_reduce(Backend backend, std::string const& t, auto const& timing) {
  std::string const p(Reduce::name());
  timing(benchmark::RegisterBenchmark(("reduce/" + t + "/grad8_cached/" + p).c_str(),
                                      [backend](benchmark::State& st) {
                                        run_case(st, backend, grad_case<Reduce>(GradPath::cached_plain, st.range(0)));
                                      })
             ->Arg(1024),
         5);
  timing(benchmark::RegisterBenchmark(("reduce/" + t + "/A_adjoint8/" + p).c_str(),
                                      [backend](benchmark::State& st) { reduce_adjoint<Reduce>(st, backend); })
             ->Arg(1024),
         5);
  timing(benchmark::RegisterBenchmark(("reduce/" + t + "/tv_blended/" + p).c_str(),
                                      [backend](benchmark::State& st) { reduce_prior_blended<Reduce>(st, backend); })
             ->Args({1024, 256}),
         2);
}

void register_all(Backend backend) {
  char const* const tag = backend == Backend::single ? "1rank" : backend == Backend::threads ? "threads2" : "mpi2";
  auto timing = [&](benchmark::internal::Benchmark* b, int iters) {
    b->Iterations(iters)->Unit(benchmark::kMillisecond);
    if (backend == Backend::mpi) b->UseManualTime();
    else b->UseRealTime();
  };
  std::string const t = tag;
  for (auto [name, path] : {std::pair{"fused", GradPath::fused}, std::pair{"cached_plain", GradPath::cached_plain},
                            std::pair{"general", GradPath::general}})
    timing(benchmark::RegisterBenchmark(("grad8/" + t + "/" + name).c_str(),
                                        [backend, path](benchmark::State& st) { grad8(st, backend, path); })
               ->Arg(2048),
           path == GradPath::fused ? 10 : 3);
  timing(benchmark::RegisterBenchmark(("tv/" + t + "/tiled").c_str(),
                                      [backend](benchmark::State& st) { tv_tiled(st, backend); })
             ->Args({2048, 256}),
         2);
  timing(benchmark::RegisterBenchmark(("pnp/" + t + "/iteration").c_str(),
                                      [backend](benchmark::State& st) { pnp_iteration(st, backend); })
             ->Arg(1024),
         3);
  register_reduce<reduce::Plain>(backend, t, timing);
  register_reduce<reduce::Exact>(backend, t, timing);
#if DISTINV_HAS_FFTW
  if (backend == Backend::single)
    timing(benchmark::RegisterBenchmark("slab/1rank/replicated_fused", slab_replicated)->Arg(2048), 10);
  timing(benchmark::RegisterBenchmark(("slab/" + t + "/slabs").c_str(),
                                      [backend](benchmark::State& st) { slab_sharded(st, backend); })
             ->Arg(2048),
         10);
#endif
  timing(benchmark::RegisterBenchmark(("slab/" + t + "/tv_tiled").c_str(),
                                      [backend](benchmark::State& st) { slab_tv(st, backend); })
             ->Args({2048, 256}),
         2);
  timing(benchmark::RegisterBenchmark(("pnp_layout/" + t + "/replicated").c_str(),
                                      [backend](benchmark::State& st) { pnp_layout<layout::Replicated>(st, backend); })
             ->Arg(2048),
         1);
  timing(benchmark::RegisterBenchmark(("pnp_layout/" + t + "/sharded").c_str(),
                                      [backend](benchmark::State& st) { pnp_layout<layout::Slabs>(st, backend); })
             ->Arg(2048),
         1);
}

}  // namespace

int main(int argc, char** argv) {
  comm::MpiSession session(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::optional<tbb::global_control> tbb_cap;
  if (char const* k = std::getenv("DISTINV_BENCH_TBB_THREADS")) {
    tbb_cap.emplace(tbb::global_control::max_allowed_parallelism, std::size_t(std::max(1, std::atoi(k))));
    benchmark::AddCustomContext("tbb_threads_per_process", k);
  }
  if (size == 1) {
#if DISTINV_HAS_FFTW
    benchmark::RegisterBenchmark("fftw_pair_rgb", bench::fft_pair_rgb)->Arg(2048)->Iterations(10)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
    benchmark::RegisterBenchmark("tv/1rank/untiled", tv_untiled)->Arg(2048)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();
    register_all(Backend::single);
    register_all(Backend::threads);
  } else {
    register_all(Backend::mpi);
  }
  register_engines(size);
  bench::run_benchmarks(argc, argv, rank);
}
