// backend_demo: the same SPMD body on every backend this build has. Each run prints its
// ranks, their devices, the operators each rank owns, and the result of an all-reduce.
//   backend_demo                     single process, then 4 threads
//   mpiexec -n 2 backend_demo --mpi  MPI ranks
//   ... --fail-rank R                make rank R throw before its first collective (or every
//                                    rank with R = -1): shows that nobody is left blocked
//   ... --skip-rank R                make rank R return without its collectives (ranks that
//                                    went different ways): the job is aborted, not left hanging
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "distinv/distinv.hpp"
#ifdef DISTINV_DEMO_MPI
#include "distinv/mpi.hpp"
#endif

template <class Ctx>
void report(Ctx& ctx, int fail_rank = -2, int skip_rank = -2) {
  if (fail_rank == -1 || fail_rank == ctx.rank())
    distinv::fail("backend_demo: rank ", ctx.rank(), " fails on request (--fail-rank)");
  if (skip_rank == ctx.rank()) return;
  auto const mine = ctx.local_indices(6);
  std::string owned;
  for (auto i : mine) owned += " " + std::to_string(i);
  // Each rank contributes rank + 1; the sum over p ranks is p (p + 1) / 2.
  double sum = ctx.all_reduce_value(double(ctx.rank() + 1));
  for (int r = 0; r < ctx.world_size(); ++r) {  // print in rank order
    ctx.barrier();
    if (r == ctx.rank())
      std::printf("  [%s] rank %d/%d on %s owns operators {%s } of 6; all_reduce(rank + 1) = %g\n",
                  std::string(Ctx::comm_type::name()).c_str(), ctx.rank(), ctx.world_size(),
                  ctx.device().name().c_str(), owned.c_str(), sum);
    std::fflush(stdout);
  }
  ctx.barrier();
  double const expected = ctx.world_size() * (ctx.world_size() + 1) / 2.0;
  if (sum != expected) distinv::fail("backend_demo: expected all_reduce = ", expected, ", got ", sum);
}

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--mpi") == 0) {
#ifdef DISTINV_DEMO_MPI
    auto rank_after = [&](char const* flag) { return argc > 3 && std::strcmp(argv[2], flag) == 0 ? std::atoi(argv[3]) : -2; };
    int const fail_rank = rank_after("--fail-rank"), skip_rank = rank_after("--skip-rank");
    distinv::launch<distinv::comm::Mpi>(argc, argv, [&](auto& ctx) {
      if (ctx.rank() == 0) std::printf("MPI backend, %d ranks:\n", ctx.world_size());
      report(ctx, fail_rank, skip_rank);
    }, {}, std::chrono::seconds(3), std::chrono::seconds(3));
    return 0;
#else
    std::fprintf(stderr, "backend_demo: this build has no MPI backend\n");
    return 2;
#endif
  }
  std::printf("SingleProcess backend:\n");
  distinv::launch<distinv::comm::SingleProcess>([](auto& ctx) { report(ctx); });
  std::printf("Threads backend, 4 ranks:\n");
  distinv::launch<distinv::comm::Threads>(4, [](auto& ctx) { report(ctx); });
  return 0;
} catch (std::exception const& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
