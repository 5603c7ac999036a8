#pragma once
// mpi.hpp: the MPI backend and its launch. Needs an MPI library (target distinv::mpi).
//   int main(int argc, char** argv) { distinv::launch<distinv::comm::Mpi>(argc, argv, body); }
// If the body throws on some rank, launch waits a little for the other ranks: if they all
// failed too, every rank rethrows (a clean exit with an error); otherwise MPI_Abort ends the
// job, so that no rank stays blocked in a collective.
#include <chrono>
#include <concepts>
#include <cstdio>
#include <exception>

#include "distinv/comm/mpi.hpp"
#include "distinv/context.hpp"
#include "distinv/distinv.hpp"

namespace distinv {

template <class Comm, ShardingPolicy Sharding = shard::RoundRobin, class F>
  requires std::same_as<Comm, comm::Mpi>
void launch(int& argc, char**& argv, F&& fn, ContextOptions options = {},
            std::chrono::milliseconds failure_grace = std::chrono::seconds(10)) {
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
  world.barrier_within(std::chrono::hours(24));  // pairs with the failing ranks' barrier
}

}  // namespace distinv
