#pragma once
// sharding.hpp: which rank owns item i of n. RoundRobin deals items like cards (i % p),
// Block gives each rank one contiguous range (the first n % p ranks one item more). Both
// model ShardingPolicy; a user's policy plugs in by providing name() and owner(i, n, p).
#include <string_view>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"

namespace distinv::shard {

struct RoundRobin {
  static constexpr std::string_view name() { return "round_robin"; }
  static constexpr int owner(Index i, Index, int p) noexcept { return int(i % p); }
};

struct Block {
  static constexpr std::string_view name() { return "block"; }
  static constexpr int owner(Index i, Index n, int p) noexcept {
    Index const base = n / p, extra = n % p;      // ranks < extra own base + 1 items
    Index const split = extra * (base + 1);
    return int(i < split ? i / (base + 1) : extra + (i - split) / (base > 0 ? base : 1));
  }
};

static_assert(ShardingPolicy<RoundRobin> && ShardingPolicy<Block>);

}  // namespace distinv::shard
