// bench_torch: a learned denoiser through LibTorch (distinv::torch), one thread per rank (one
// LibTorch intra-op thread, oneTBB capped at the ranks of the process):
//   tile_batch/B      TorchDenoiser on a batch of B tiles of (patch + 2 halo)² (one process)
//   denoise/<ranks>   distribute(TorchDenoiser, ctx, TilingConfig) on a 1024² RGB image
//   pnp/<ranks>       one PnP-PGD iteration: the quick start's 3 circular Gaussian blurs, fixed
//                     step, the tiled network as prior
// <ranks>: 1rank (SingleProcess) and threads2 (Threads, 2 ranks); under mpiexec -n 2: mpi2.
// DISTINV_BENCH_MODEL=FILE.pt: the network (benchmarks/README.md exports a DRUNet with
// examples/export_denoiser.py from the weights bench_torch_deepinv.py runs in deepinv);
// DISTINV_BENCH_SIZE overrides 1024. Each timed call is the max over the ranks (manual time),
// after one untimed warm-up call; patch 256, halo = the model's receptive field, 4 tiles a batch.
// Counter cpu_s: CPU seconds per call of the ranks' own threads, summed over the ranks (the work
// done, which a loaded machine inflates less than the wall time).
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "distinv/torch.hpp"  // LibTorch first (its c10 defines a CHECK macro)

#include "bench_support.hpp"
#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"
#ifdef DISTINV_BENCH_MPI
#include "distinv/mpi.hpp"
#endif

using namespace distinv;

namespace {

constexpr double sigma = 0.05;
constexpr Index patch = 256, batch = 4;
std::string model;  // DISTINV_BENCH_MODEL
Index size = 1024;  // DISTINV_BENCH_SIZE

distinv::libtorch::TorchDenoiser<float> network() { return distinv::libtorch::TorchDenoiser<float>(model, {.intra_op_threads = 1}); }
TilingConfig tiling() { return TilingConfig{.patch_size = patch, .max_batch_size = batch}; }

enum class Ranks { one, threads2, mpi2 };

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

/// Runs `make(ctx)` on every rank (untimed), then its step once untimed and once per iteration,
/// each timed call the max over the ranks.
template <class Make>
void run_case(benchmark::State& st, Ranks ranks, Make make) {
  tbb::global_control cap(tbb::global_control::max_allowed_parallelism, ranks == Ranks::threads2 ? 2 : 1);
  std::vector<double> seconds(std::size_t(st.max_iterations));
  double cpu = 0;
  auto body = [&](auto& ctx) {
    auto step = make(ctx);
    step();
    double my_cpu = 0;
    for (auto& s : seconds) {
      ctx.barrier();
      auto const t0 = std::chrono::steady_clock::now();
      double const c0 = thread_cpu_seconds();
      step();
      my_cpu += thread_cpu_seconds() - c0;
      double const dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      s = ctx.all_reduce_value(dt, ReduceOp::max);
    }
    my_cpu = ctx.all_reduce_value(my_cpu, ReduceOp::sum);
    if (ctx.rank() == 0) cpu = my_cpu / double(seconds.size());
  };
  if (ranks == Ranks::one) launch<comm::SingleProcess>(body);
  if (ranks == Ranks::threads2) launch<comm::Threads>(2, body);
#ifdef DISTINV_BENCH_MPI
  if (ranks == Ranks::mpi2) {
    DistributedContext<comm::Mpi> ctx(comm::Mpi(MPI_COMM_WORLD));
    body(ctx);
  }
#endif
  std::size_t i = 0;
  for (auto _ : st) st.SetIterationTime(seconds[i++]);
  st.counters["cpu_s"] = cpu;
}

void tile_batch(benchmark::State& st) {
  tbb::global_control cap(tbb::global_control::max_allowed_parallelism, 1);
  auto const d = network();
  Index const tile = patch + 2 * d.receptive_field();
  Tensor4<float> x(st.range(0), 3, tile, tile);
  x.setRandom();
  benchmark::DoNotOptimize(d(x, sigma).data());
  for (auto _ : st) benchmark::DoNotOptimize(d(x, sigma).data());
  st.counters["tiles_per_s"] = benchmark::Counter(double(st.range(0)), benchmark::Counter::kIsIterationInvariantRate);
}

void denoise(benchmark::State& st, Ranks ranks) {
  auto const x = std::make_shared<Tensor4<float>>(bench::random_image(size, 1));
  run_case(st, ranks, [x](auto& ctx) {
    return [p = distribute(network(), ctx, tiling()), x]() mutable { benchmark::DoNotOptimize(p(*x, sigma).data()); };
  });
}

void pnp_iteration(benchmark::State& st, Ranks ranks) {
  std::vector<physics::Blur<float>> blurs;
  for (auto k : {physics::gaussian_blur<float>(1.0), physics::gaussian_blur<float>(2.0),
                 physics::gaussian_blur<float>(std::array<double, 2>{1.5, 3.0}, 30.0)})
    blurs.emplace_back(k, physics::Padding::circular);
  auto const stack = std::make_shared<physics::StackedLinearPhysics<physics::Blur<float>>>(blurs);
  auto const truth = bench::random_image(size, 2);
  auto const y = std::make_shared<TensorList<Tensor4<float>>>();
  for (std::size_t i = 0; i < stack->size(); ++i) y->push_back((*stack)[i].A(truth));
  run_case(st, ranks, [stack, y](auto& ctx) {
    auto b = make_distrib_bundle(ctx, FactoryConfig{*stack, *y}, Shape<4>{1, 3, size, size}, optim::PnP{network()},
                                 tiling());
    b.signal.update_(Tensor4<float>(b.physics.A_adjoint(*y) * (1.f / float(stack->size()))));
    return [b = std::move(b)]() mutable {
      benchmark::DoNotOptimize(optim::pnp_pgd(b, {.max_iter = 1, .step = 0.5, .sigma = sigma}).x.data());
    };
  });
}

void register_all(int world) {
  auto manual = [](benchmark::internal::Benchmark* b) { b->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond); };
  if (world == 1) {
    benchmark::RegisterBenchmark("tile_batch", tile_batch)->Arg(1)->Arg(batch)->Unit(benchmark::kMillisecond)->UseRealTime();
    for (auto [name, r] : {std::pair{"1rank", Ranks::one}, std::pair{"threads2", Ranks::threads2}}) {
      manual(benchmark::RegisterBenchmark((std::string("denoise/") + name).c_str(), denoise, r));
      manual(benchmark::RegisterBenchmark((std::string("pnp/") + name).c_str(), pnp_iteration, r));
    }
  } else {
    manual(benchmark::RegisterBenchmark("denoise/mpi2", denoise, Ranks::mpi2));
    manual(benchmark::RegisterBenchmark("pnp/mpi2", pnp_iteration, Ranks::mpi2));
  }
}

}  // namespace

int main(int argc, char** argv) {
#ifdef DISTINV_BENCH_MPI
  comm::MpiSession session(&argc, &argv);
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
#else
  int const rank = 0, world = 1;
#endif
  char const* m = std::getenv("DISTINV_BENCH_MODEL");
  if (!m) {
    std::fprintf(stderr, "bench_torch: set DISTINV_BENCH_MODEL to a TorchScript denoiser (see benchmarks/README.md)\n");
    return 1;
  }
  model = m;
  if (char const* s = std::getenv("DISTINV_BENCH_SIZE")) size = std::atol(s);
  ::at::set_num_threads(1);  // one LibTorch intra-op thread per rank (oneTBB: capped in each case)
  benchmark::AddCustomContext("model", model);
  benchmark::AddCustomContext("image", std::to_string(size) + "x" + std::to_string(size) + " RGB");
  register_all(world);
  bench::run_benchmarks(argc, argv, rank);
}
