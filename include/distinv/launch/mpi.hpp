#pragma once
// launch/mpi.hpp: launch<comm::Mpi>(argc, argv, fn): the SPMD body on the ranks of
// MPI_COMM_WORLD, in an MPI session of its own. If the body throws on some rank, launch waits a
// little for the other ranks: if they all failed too, every rank rethrows (a clean exit with an
// error); otherwise MPI_Abort ends the job, so that no rank stays blocked in a collective. A
// rank whose body returned waits for the others at most `finish_timeout`, then aborts the job:
// ranks that went different ways (one left in a collective the others never enter) do not
// block for ever. Needs an MPI library (target distinv::mpi).
#include <chrono>
#include <concepts>
#include <cstdio>
#include <exception>

#include "distinv/comm/mpi.hpp"
#include "distinv/context.hpp"

namespace distinv {

/// Runs fn(ctx) on the ranks of MPI_COMM_WORLD (started by mpiexec), in an MPI session of its own. A body that
/// throws on every rank is rethrown on every rank; one that throws on some ranks only waits `failure_grace` for
/// the others, then MPI_Abort ends the job; a rank that returned waits at most `finish_timeout` for the others,
/// then aborts. Needs distinv/mpi.hpp and the target distinv::mpi.
template <class Comm, ShardingPolicy Sharding = shard::RoundRobin, class F>
  requires std::same_as<Comm, comm::Mpi>
void launch(int& argc, char**& argv, F&& fn, ContextOptions options = {},
            std::chrono::milliseconds failure_grace = std::chrono::seconds(10),
            std::chrono::milliseconds finish_timeout = std::chrono::hours(24)) {
  comm::MpiSession session(&argc, &argv);
  comm::Mpi world(MPI_COMM_WORLD);
  try {
    DistributedContext<comm::Mpi, Sharding> ctx(world, options);
    fn(ctx);
  } catch (std::exception const& e) {
    if (!world.barrier_within(failure_grace)) {
      std::fprintf(stderr, "distinv: rank %d failed while other ranks went on (%s); aborting the job\n",
                   world.rank(), e.what());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    throw;
  }
  // Pairs with the failing ranks' barrier, or with the other ranks' end.
  if (!world.barrier_within(finish_timeout)) {
    std::fprintf(stderr,
                 "distinv: rank %d finished, but some rank has not after %lld s (still working, or blocked in a "
                 "collective this rank never entered); aborting the job\n",
                 world.rank(), static_cast<long long>(finish_timeout.count() / 1000));
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
}

}  // namespace distinv
