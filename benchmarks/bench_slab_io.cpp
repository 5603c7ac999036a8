// bench_slab_io: the slab layout's file writers and reader (layout/slab_io.hpp, slab_png.hpp) on
// the built-in 2048² RGB float test picture (48 MiB), 1 rank (SingleProcess) and 2 rank threads
// (comm::Threads), against the whole-tensor io::write_npy / read_npy / write_png of one process:
//   npy/write/*   write_npy_slabs: rank 0 writes the header and sizes a temporary, each rank
//                 writes its rows at their offsets, rank 0 renames it
//   npy/read/*    read_npy_slab: rank 0 checks the header, each rank reads its rows
//   png/write/*   write_png_slabs: rank 0 receives 8-bit bands of rows and deflates them (libpng)
// Files go to a scratch folder under the system temp directory (removed at exit): the page
// cache, not the disk, is measured (no fsync; reads of a file just written). Time: rank 0's
// wall time per call (the peer thread runs the same calls); bytes_per_second: of the 48 MiB
// float tensor. Run: ./build/benchmarks/bench_slab_io [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <filesystem>
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

using namespace distinv;
namespace fs = std::filesystem;

namespace {

constexpr Index side = 2048;

Tensor4<float> const& picture() {
  static Tensor4<float> const x = io::test_image<float>(side, side, 3);
  return x;
}

fs::path const& scratch() {
  static fs::path const dir = [] {
    fs::path d = fs::temp_directory_path() / ("distinv_bench_slab_io_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

/// The picture's .npy, written once, that the readers read.
fs::path const& npy_input() {
  static fs::path const p = [] {
    fs::path f = scratch() / "input.npy";
    io::write_npy(f, picture());
    return f;
  }();
  return p;
}

void count_bytes(benchmark::State& st) {
  st.SetBytesProcessed(st.iterations() * picture().size() * Index(sizeof(float)));
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

/// This rank's slab of the picture (balanced rows); scattered from rank 0 (a collective).
template <class Comm>
layout::SlabTensor<float, 4, Comm> slab_of_picture(Comm const& comm) {
  return layout::SlabTensor<float, 4, Comm>::scatter(comm, picture(), layout::RowPartition::balanced(side, comm.size()));
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
  fs::path const out = scratch() / ("slabs" + std::to_string(st.range(0)) + ".npy");
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [out, x = slab_of_picture(comm)] { layout::write_npy_slabs(out, x); };
  });
}

void npy_read_slab(benchmark::State& st) {
  on_ranks(st, int(st.range(0)), [&](auto comm) {
    return [comm] { benchmark::DoNotOptimize(layout::read_npy_slab<float, 4>(comm, npy_input()).local().data()); };
  });
}

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
  registered(benchmark::RegisterBenchmark("npy/write/whole", npy_write_whole));
  registered(benchmark::RegisterBenchmark("npy/write/slabs", npy_write_slabs)->Arg(1)->Arg(2));
  registered(benchmark::RegisterBenchmark("npy/read/whole", npy_read_whole));
  registered(benchmark::RegisterBenchmark("npy/read/slab", npy_read_slab)->Arg(1)->Arg(2));
#if DISTINV_HAS_PNG
  registered(benchmark::RegisterBenchmark("png/write/whole", png_write_whole));
  registered(benchmark::RegisterBenchmark("png/write/slabs", png_write_slabs)->Arg(1)->Arg(2));
#endif
  benchmark::Initialize(&argc, argv);
  npy_input();  // the picture and its file, before any timing
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  fs::remove_all(scratch(), ec);
}
