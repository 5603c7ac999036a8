#pragma once
// launch/threads.hpp: launch<comm::Threads>(n, fn): the SPMD body on n ranks, threads of this
// process. An exception on any rank releases the others and the first real failure is
// rethrown to the caller of launch; a rank thread that cannot be started releases the ranks
// already running and throws Error.
#include <concepts>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "distinv/comm/threads.hpp"
#include "distinv/context.hpp"

namespace distinv {

/// Runs fn(ctx) on `num_ranks` ranks as threads of this process (comm::Threads), rank 0 on the calling thread.
/// An exception on any rank releases the others and the first real failure is rethrown here; throws Error if a
/// rank thread cannot be started.
template <class Comm, ShardingPolicy Sharding = shard::RoundRobin, class F>
  requires std::same_as<Comm, comm::Threads>
void launch(int num_ranks, F&& fn, ContextOptions options = {}) {
  auto world = comm::Threads::make_world(num_ranks);
  std::mutex m;
  std::exception_ptr first;      // first failure that is not a RankAborted
  std::exception_ptr aborted;    // a RankAborted, if that is all there is
  auto body = [&](int r) {
    try {
      DistributedContext<comm::Threads, Sharding> ctx(comm::Threads(world, r), options);
      fn(ctx);
    } catch (comm::RankAborted const&) {
      std::lock_guard lock(m);
      if (!aborted) aborted = std::current_exception();
    } catch (...) {
      {
        std::lock_guard lock(m);
        if (!first) first = std::current_exception();
      }
      world->abort();
    }
  };
  {
    std::vector<std::jthread> ranks;
    ranks.reserve(std::size_t(num_ranks - 1));
    try {
      for (int r = 1; r < num_ranks; ++r) ranks.emplace_back(body, r);
    } catch (std::exception const& e) {  // std::system_error: no more threads (or stack memory)
      world->abort();                    // the started ranks leave their collectives
      int const started = int(ranks.size());
      ranks.clear();                     // and are joined
      fail("launch<Threads>: could not start rank ", started + 1, " of ", num_ranks, " as a thread (", e.what(),
           "); ask for fewer ranks");
    }
    body(0);
  }
  if (first) std::rethrow_exception(first);
  if (aborted) std::rethrow_exception(aborted);
}

}  // namespace distinv
