#pragma once
// torch/threads.hpp: how many LibTorch intra-op threads a rank may use so that ranks x threads
// stays within the cores: threads_per_rank(ctx) = the cores this process may run on divided by
// the ranks of ctx on this host (those whose host name matches, found by one all-gather: all
// of them under Threads). LibTorch's setting is process-wide; pass the count as
// TorchDenoiserOptions::intra_op_threads. POSIX (sched_getaffinity, gethostname) and core/.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "distinv/core/concepts.hpp"

namespace distinv::libtorch {

/// The CPUs this process may run on (its affinity mask; an MPI launcher may bind it to fewer
/// than the machine has).
inline int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Ranks of ctx running on this host (collective: every rank calls it).
template <class Ctx>
int ranks_on_this_host(Ctx const& ctx) {
  if (ctx.world_size() == 1) return 1;
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  // a 52-bit hash travels exactly as a double
  double const mine = double(std::hash<std::string>{}(name) & ((std::size_t(1) << 52) - 1));
  std::vector<double> all(std::size_t(ctx.world_size()));
  std::vector<Index> counts(all.size(), 1);
  ctx.comm().all_gatherv(std::span<double const>(&mine, 1), std::span<double>(all), std::span<Index const>(counts));
  return int(std::count(all.begin(), all.end(), mine));
}

/// Intra-op threads for each rank: max(1, usable_cores() / ranks_on_this_host(ctx)).
template <class Ctx>
int threads_per_rank(Ctx const& ctx) {
  return std::max(1, usable_cores() / ranks_on_this_host(ctx));
}

}  // namespace distinv::libtorch
