#pragma once
// tests/slab_testing.hpp: what the slab-layout suites share: the row partitions they run on
// (balanced, one-row slabs first, one row last), the check that a call throws the same Error
// on every rank, and reference computations run one rank at a time.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/layout/partition.hpp"

namespace distinv::testing {

/// H rows (H > P) over P ranks: balanced; ranks 0 .. P-2 holding one row each; the last rank
/// holding one row. One partition for P = 1.
inline std::vector<layout::RowPartition> slab_partitions(Index H, int P) {
  std::vector<layout::RowPartition> out{layout::RowPartition::balanced(H, P)};
  if (P > 1) {
    std::vector<Index> first;
    for (int r = 0; r < P; ++r) first.push_back(r);
    first.push_back(H);
    out.emplace_back(std::move(first));
    std::vector<Index> last = layout::RowPartition::balanced(H - 1, P - 1).offsets();
    last.push_back(H);
    out.emplace_back(std::move(last));
  }
  return out;
}

/// f() on one rank after the other (a barrier after each), for reference computations that may
/// not run on several rank threads at once: std::poisson_distribution calls std::lgamma, which
/// writes glibc's global signgam.
template <class Ctx, class F>
void one_rank_at_a_time(Ctx& ctx, F&& f) {
  for (int q = 0; q < ctx.world_size(); ++q) {
    if (ctx.rank() == q) f();
    ctx.barrier();
  }
}

/// The message of the Error that f throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (Error const& e) {
    return e.what();
  }
  return {};
}

/// Whether every rank of ctx holds the same `msg` (a checksum of it, max- and min-reduced, agrees).
template <class Ctx>
bool same_on_every_rank(Ctx& ctx, std::string const& msg) {
  double h = double(msg.size());
  for (unsigned char c : msg) h = std::fmod(h * 131 + c, 1099511627776.0);
  double v[2] = {h, -h};
  ctx.comm().all_reduce(std::span<double>(v, 2), ReduceOp::max);
  return v[0] == -v[1];
}

/// Checks that f throws an Error, with the same message on every rank; returns the message.
template <class Ctx, class F>
std::string same_error(Ctx& ctx, F&& f) {
  std::string const msg = error_of(f);
  CHECK_FALSE(msg.empty());
  CHECK(same_on_every_rank(ctx, msg));
  return msg;
}

}  // namespace distinv::testing
