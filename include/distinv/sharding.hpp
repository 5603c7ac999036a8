#pragma once
// sharding.hpp: which rank owns item i of n. RoundRobin deals items like cards (i % p),
// Block gives each rank one contiguous range (the first n % p ranks one item more). Both
// model ShardingPolicy; a user's policy plugs in by providing name() and owner(i, n, p).
#include <string_view>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"

namespace distinv::shard {

/// Item i belongs to rank i mod p (deepinv's default).
struct RoundRobin {
  /// "round_robin".
  static constexpr std::string_view name() { return "round_robin"; }
  /// i mod p.
  static constexpr int owner(Index i, Index, int p) noexcept { return int(i % p); }
};

/// Contiguous blocks: the first n mod p ranks own n/p + 1 items, the others n/p.
struct Block {
  /// "block".
  static constexpr std::string_view name() { return "block"; }
  /// The rank whose block holds item i.
  static constexpr int owner(Index i, Index n, int p) noexcept {
    Index const base = n / p, extra = n % p;      // ranks < extra own base + 1 items
    Index const split = extra * (base + 1);
    return int(i < split ? i / (base + 1) : extra + (i - split) / (base > 0 ? base : 1));
  }
};

static_assert(ShardingPolicy<RoundRobin> && ShardingPolicy<Block>);

}  // namespace distinv::shard
