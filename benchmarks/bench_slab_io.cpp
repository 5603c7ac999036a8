// bench_slab_io: the slab layout's file writers and readers (layout/slab_io.hpp, slab_png.hpp,
// io/hdf5_slab.hpp) on the built-in RGB float test picture, 2048² (48 MiB) or 4096² (192 MiB),
// 1 rank (SingleProcess) and 2 rank threads (comm::Threads), against the whole-tensor
// io::write_npy / read_npy / write_png of one process (arguments: ranks, side):
//   npy/write/*    write_npy_slabs: rank 0 writes the header and sizes a temporary, each rank
//                  writes its rows at their offsets, rank 0 renames it
//   npy/read/*     read_npy_slab: rank 0 checks the header, each rank reads its rows
//   png/write/*    write_png_slabs: rank 0 receives 8-bit bands of rows and deflates them (libpng)
//   hdf5/write/*   write_hdf5_slabs (with distinv::hdf5): each rank writes its hyperslab
//   hdf5/read/*    read_hdf5_slab: rank 0 checks the dataset, each rank reads its hyperslab
// Under mpiexec with 2 or more ranks (parallel HDF5 builds), the cases npy/*/mpi and
// hdf5/*/mpi run instead, over comm::Mpi (HDF5 through collective MPI-IO), rank 0 reporting.
// Files go to a scratch folder under the system temp directory (removed at exit): the page
// cache, not the disk, is measured (no fsync; reads of a file just written). Time: rank 0's
// wall time per call (the other ranks run the same calls); bytes_per_second: of the float
// tensor. Run: ./build/benchmarks/bench_slab_io [--benchmark_repetitions=5], or
// mpiexec -n 2 ./build/benchmarks/bench_slab_io [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "distinv/comm/single_process.hpp"
#include "distinv/comm/threads.hpp"
#include "distinv/config.hpp"
#include "distinv/io/npy.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_io.hpp"
#include "distinv/layout/slab_tensor.hpp"
#if DISTINV_HAS_PNG
#include "distinv/io/png.hpp"
#include "distinv/layout/slab_png.hpp"
#endif
#if DISTINV_HAS_HDF5
#include "distinv/io/hdf5.hpp"
#include "distinv/io/hdf5_slab.hpp"
#endif
#if DISTINV_HAS_HDF5_PARALLEL
#include "bench_support.hpp"
#include "distinv/mpi.hpp"
#endif

using namespace distinv;
namespace fs = std::filesystem;

namespace {

/// The test picture of side n (made once per side, by main before any rank thread reads it).
Tensor4<float> const& picture(Index n = 2048) {
  static std::map<Index, Tensor4<float>> pictures;
  auto it = pictures.find(n);
  if (it == pictures.end()) it = pictures.emplace(n, io::test_image<float>(n, n, 3)).first;
  return it->second;
}

/// The scratch folder, made by rank 0 in main (which gives the other MPI ranks its name).
fs::path& scratch() {
  static fs::path dir;
  return dir;
}

/// The picture's .npy, that the readers read (written before any timing, by main).
fs::path npy_input(Index n = 2048) { return scratch() / ("input" + std::to_string(n) + ".npy"); }

void count_bytes(benchmark::State& st, Index n = 2048) {
  st.SetBytesProcessed(st.iterations() * picture(n).size() * Index(sizeof(float)));
}

/// Runs `make(comm)` on each of `ranks` ranks (SingleProcess for 1, else rank threads of one
/// Threads world) outside the timed loop; the step it returns is called once untimed, then once
/// per iteration on every rank, rank 0 inside the benchmark's loop.
template <class Make>
void on_ranks(benchmark::State& st, int ranks, Make make) {
  if (ranks == 1) {
    auto step = make(comm::SingleProcess{});
    step();
    for (auto _ : st) step();
  } else {
    auto world = comm::Threads::make_world(ranks);
    auto const iterations = st.max_iterations;
    std::vector<std::jthread> peers;
    for (int r = 1; r < ranks; ++r)
      peers.emplace_back([&, r] {
        auto step = make(comm::Threads(world, r));
        for (benchmark::IterationCount i = 0; i <= iterations; ++i) step();
      });
    auto step = make(comm::Threads(world, 0));
    step();
    for (auto _ : st) step();
  }
  count_bytes(st);
}

/// This rank's slab of the picture of side n (balanced rows), cut from the picture every rank holds.
template <class Comm>
layout::SlabTensor<float, 4, Comm> slab_of_picture(Comm const& comm, Index n = 2048) {
  return layout::SlabTensor<float, 4, Comm>::scatter(comm, picture(n), layout::RowPartition::balanced(n, comm.size()));
}

void npy_write_whole(benchmark::State& st) {
  fs::path const out = scratch() / "whole.npy";
  for (auto _ : st) io::write_npy(out, picture());
  count_bytes(st);
}

void npy_read_whole(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(io::read_npy<float, 4>(npy_input()).data());
  count_bytes(st);
}

void npy_write_slabs(benchmark::State& st) {
  Index const n = st.range(1);
  fs::path const out = scratch() / ("slabs" + std::to_string(st.range(0)) + ".npy");
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [out, x = slab_of_picture(comm, n)] { layout::write_npy_slabs(out, x); };
  });
  count_bytes(st, n);
}

void npy_read_slab(benchmark::State& st) {
  Index const n = st.range(1);
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [comm, n] { benchmark::DoNotOptimize(layout::read_npy_slab<float, 4>(comm, npy_input(n)).local().data()); };
  });
  count_bytes(st, n);
}

#if DISTINV_HAS_HDF5
/// The picture's HDF5 dataset, that the readers read (written before any timing, by main).
std::string hdf5_input(Index n) { return (scratch() / ("input" + std::to_string(n) + ".h5")).string() + ":/picture"; }

void hdf5_write_slabs(benchmark::State& st) {
  Index const n = st.range(1);
  std::string const out = (scratch() / ("slabs" + std::to_string(st.range(0)) + ".h5")).string() + ":/picture";
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [out, x = slab_of_picture(comm, n)] { io::write_hdf5_slabs(out, x); };
  });
  count_bytes(st, n);
}

void hdf5_read_slab(benchmark::State& st) {
  Index const n = st.range(1);
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [comm, n] { benchmark::DoNotOptimize(io::read_hdf5_slab<float, 4>(comm, hdf5_input(n)).local().data()); };
  });
  count_bytes(st, n);
}
#endif

#if DISTINV_HAS_HDF5_PARALLEL
/// The same step on every MPI rank, the same number of times (rank 0 times it).
template <class Step>
void on_mpi_ranks(benchmark::State& st, Step step) {
  step();
  for (auto _ : st) step();
  count_bytes(st, st.range(0));
}

void npy_write_mpi(benchmark::State& st) {
  Index const n = st.range(0);
  comm::Mpi const comm;
  auto const x = slab_of_picture(comm, n);
  on_mpi_ranks(st, [&] { layout::write_npy_slabs(scratch() / "mpi.npy", x); });
}

void npy_read_mpi(benchmark::State& st) {
  Index const n = st.range(0);
  comm::Mpi const comm;
  on_mpi_ranks(st, [&] { benchmark::DoNotOptimize(layout::read_npy_slab<float, 4>(comm, npy_input(n)).local().data()); });
}

void hdf5_write_mpi(benchmark::State& st) {
  Index const n = st.range(0);
  comm::Mpi const comm;
  auto const x = slab_of_picture(comm, n);
  std::string const out = (scratch() / "mpi.h5").string() + ":/picture";
  on_mpi_ranks(st, [&] { io::write_hdf5_slabs(out, x); });
}

void hdf5_read_mpi(benchmark::State& st) {
  Index const n = st.range(0);
  comm::Mpi const comm;
  on_mpi_ranks(st, [&] { benchmark::DoNotOptimize(io::read_hdf5_slab<float, 4>(comm, hdf5_input(n)).local().data()); });
}
#endif

#if DISTINV_HAS_PNG
void png_write_whole(benchmark::State& st) {
  fs::path const out = scratch() / "whole.png";
  for (auto _ : st) io::write_png(out, picture());
  count_bytes(st);
}

void png_write_slabs(benchmark::State& st) {
  fs::path const out = scratch() / ("slabs" + std::to_string(st.range(0)) + ".png");
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [out, x = slab_of_picture(comm)] { layout::write_png_slabs(out, x); };
  });
}
#endif

void registered(benchmark::internal::Benchmark* b) {
  b->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  int rank = 0, size = 1;
#if DISTINV_HAS_HDF5_PARALLEL
  comm::MpiSession session(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
#endif
  std::vector<Index> const sides = {2048, 4096};
  for (Index n : sides) (void)picture(n);
  if (rank == 0) {  // the scratch folder and the inputs of the readers, before any timing
    scratch() = fs::temp_directory_path() / ("distinv_bench_slab_io_" + std::to_string(::getpid()));
    fs::create_directories(scratch());
    for (Index n : sides) {
      io::write_npy(npy_input(n), picture(n));
#if DISTINV_HAS_HDF5
      io::write_hdf5(hdf5_input(n), picture(n));
#endif
    }
  }
  if (size == 1) {
    registered(benchmark::RegisterBenchmark("npy/write/whole", npy_write_whole));
    registered(benchmark::RegisterBenchmark("npy/read/whole", npy_read_whole));
    for (Index n : sides) {
      registered(benchmark::RegisterBenchmark("npy/write/slabs", npy_write_slabs)->Args({1, n})->Args({2, n}));
      registered(benchmark::RegisterBenchmark("npy/read/slab", npy_read_slab)->Args({1, n})->Args({2, n}));
#if DISTINV_HAS_HDF5
      registered(benchmark::RegisterBenchmark("hdf5/write/slabs", hdf5_write_slabs)->Args({1, n})->Args({2, n}));
      registered(benchmark::RegisterBenchmark("hdf5/read/slab", hdf5_read_slab)->Args({1, n})->Args({2, n}));
#endif
    }
#if DISTINV_HAS_PNG
    registered(benchmark::RegisterBenchmark("png/write/whole", png_write_whole));
    registered(benchmark::RegisterBenchmark("png/write/slabs", png_write_slabs)->Arg(1)->Arg(2));
#endif
  }
#if DISTINV_HAS_HDF5_PARALLEL
  else {
    // every rank names rank 0's scratch folder
    std::vector<std::byte> name;
    if (rank == 0) {
      std::string const dir = scratch().string();
      name.assign(reinterpret_cast<std::byte const*>(dir.data()), reinterpret_cast<std::byte const*>(dir.data()) + dir.size());
    }
    comm::Mpi().broadcast_bytes(name, 0);
    if (rank != 0) scratch() = std::string(reinterpret_cast<char const*>(name.data()), name.size());
    for (Index n : sides) {
      registered(benchmark::RegisterBenchmark("npy/write/mpi", npy_write_mpi)->Arg(n));
      registered(benchmark::RegisterBenchmark("npy/read/mpi", npy_read_mpi)->Arg(n));
      registered(benchmark::RegisterBenchmark("hdf5/write/mpi", hdf5_write_mpi)->Arg(n));
      registered(benchmark::RegisterBenchmark("hdf5/read/mpi", hdf5_read_mpi)->Arg(n));
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  bench::run_benchmarks(argc, argv, rank);
#else
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#endif
  if (rank == 0) {
    std::error_code ec;
    fs::remove_all(scratch(), ec);
  }
}
