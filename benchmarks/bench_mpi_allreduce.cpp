// All-reduce bandwidth: Threads (2 ranks) and MPI (the ranks of mpiexec), 1, 16 and 64 MiB
// of float, reported as GB/s of reduced data; beside them one plain MPI_Allreduce of the
// whole buffer and the MPI backend at several piece sizes (how its default was chosen).
//   ./bench_mpi_allreduce                      threads benchmarks
//   mpiexec -n 2 ./bench_mpi_allreduce         MPI benchmarks (rank 0 reports)
// MPI benchmarks use fixed iteration counts so that every rank runs the same collectives.
#include <benchmark/benchmark.h>

#include <thread>

#include "bench_support.hpp"
#include "distinv/distinv.hpp"
#include "distinv/mpi.hpp"

using namespace distinv;

namespace {

constexpr std::size_t MiB = std::size_t(1) << 20;

void threads_all_reduce(benchmark::State& state) {
  std::size_t const n = std::size_t(state.range(0)) * MiB / sizeof(float);
  auto world = comm::Threads::make_world(2);
  std::vector<float> mine(n, 1.f), theirs(n, 2.f);
  // The peer rank runs exactly as many all-reduces as this benchmark run's iterations.
  std::jthread peer([&, iterations = state.max_iterations] {
    comm::Threads c(world, 1);
    for (benchmark::IterationCount i = 0; i < iterations; ++i) c.all_reduce(std::span<float>(theirs), ReduceOp::sum);
  });
  comm::Threads c(world, 0);
  for (auto _ : state) c.all_reduce(std::span<float>(mine), ReduceOp::sum);
  state.SetBytesProcessed(state.iterations() * std::int64_t(n * sizeof(float)));
}

template <class Reduce>
void timed_mpi(benchmark::State& state, Reduce&& reduce) {
  comm::Mpi world(MPI_COMM_WORLD);
  reduce(world);  // warm-up: first touch of the buffers and of MPI's internal ones
  for (auto _ : state) {
    world.barrier();
    double const t0 = MPI_Wtime();
    reduce(world);
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);  // slowest rank
    state.SetIterationTime(dt);
  }
}

void mpi_backend(benchmark::State& state) {
  std::size_t const n = std::size_t(state.range(0)) * MiB / sizeof(float);
  std::size_t const piece = state.range(1) > 0 ? std::size_t(state.range(1)) * 1024 : comm::Mpi::default_piece_bytes;
  std::vector<float> v(n, 1.f);
  comm::Mpi c(MPI_COMM_WORLD, piece);
  timed_mpi(state, [&](auto&) { c.all_reduce(std::span<float>(v), ReduceOp::sum); });
  state.SetBytesProcessed(state.iterations() * std::int64_t(n * sizeof(float)));
}

void mpi_single_call(benchmark::State& state) {
  std::size_t const n = std::size_t(state.range(0)) * MiB / sizeof(float);
  std::vector<float> v(n, 1.f);
  timed_mpi(state, [&](auto&) { MPI_Allreduce(MPI_IN_PLACE, v.data(), int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); });
  state.SetBytesProcessed(state.iterations() * std::int64_t(n * sizeof(float)));
}


}  // namespace

int main(int argc, char** argv) {
  comm::MpiSession session(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) {
    benchmark::RegisterBenchmark("threads2/all_reduce_MiB", threads_all_reduce)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
  } else {
    for (int mib : {1, 16, 64}) {
      int const iters = mib == 1 ? 200 : mib == 16 ? 20 : 8;
      benchmark::RegisterBenchmark("mpi/all_reduce_MiB", mpi_backend)->Args({mib, 0})->Iterations(iters)->UseManualTime();
      benchmark::RegisterBenchmark("mpi/plain_MPI_Allreduce_MiB", mpi_single_call)->Arg(mib)->Iterations(iters)->UseManualTime();
    }
    for (int piece_kib : {256, 1024, 4096, 16384, 65536})
      benchmark::RegisterBenchmark("mpi/all_reduce_64MiB_piece_KiB", mpi_backend)
          ->Args({64, piece_kib})->Iterations(8)->UseManualTime();
  }
  bench::run_benchmarks(argc, argv, rank);
}
