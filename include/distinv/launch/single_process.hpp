#pragma once
// launch/single_process.hpp: launch<comm::SingleProcess>(fn): the SPMD body on one rank.
#include <concepts>

#include "distinv/comm/single_process.hpp"
#include "distinv/context.hpp"

namespace distinv {

/// Runs fn(ctx) once, with a one-rank context (comm::SingleProcess).
template <class Comm, ShardingPolicy Sharding = shard::RoundRobin, class F>
  requires std::same_as<Comm, comm::SingleProcess>
void launch(F&& fn, ContextOptions options = {}) {
  DistributedContext<comm::SingleProcess, Sharding> ctx(comm::SingleProcess{}, options);
  fn(ctx);
}

}  // namespace distinv
