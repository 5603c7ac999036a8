#pragma once
// core/concepts.hpp: the policy axes of distinv that every layer shares — how ranks talk
// (CommBackend) and which rank owns which operator or patch (ShardingPolicy). Layer-specific
// concepts (LinearPhysics, SignalStrategy, Denoiser, GatherPolicy) live beside their layer.
// STL only: nothing here includes MPI, CUDA or TBB.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace distinv {

/// Signed index and extent type (std::ptrdiff_t, Eigen's Index).
using Index = std::ptrdiff_t;

/// Element-wise reduction of an all-reduce.
enum class ReduceOp { sum, mean, max, min };

/// A communication backend: `size()` ranks running the same program, each calling the
/// collectives in the same order. Collectives are blocking and in place; every rank gets
/// the same result. At size 1 they do nothing (a copy at most). all_to_allv(send, send_counts,
/// recv, recv_counts) is the personalised exchange of the sharded layout (halo rows, FFT
/// transposes): rank r sends the consecutive block q of `send` (send_counts[q] elements) to
/// rank q and receives rank q's block for it into block q of `recv` (recv_counts[q] elements).
template <class C>
concept CommBackend =
    std::copy_constructible<C> &&
    requires(C const& c, std::span<double> d, std::span<float> f, std::span<std::int64_t> i,
             std::span<double const> cd, std::span<Index const> counts, std::vector<std::byte>& bytes) {
      { C::name() } -> std::convertible_to<std::string_view>;
      { c.rank() } -> std::convertible_to<int>;
      { c.size() } -> std::convertible_to<int>;
      c.all_reduce(d, ReduceOp::sum);
      c.all_reduce(f, ReduceOp::max);
      c.all_reduce(i, ReduceOp::min);
      c.broadcast(d, 0);
      c.all_gatherv(cd, d, counts);  // counts[r]: elements sent by rank r; d.size() == sum
      c.all_to_allv(cd, counts, d, counts);  // block r of the send buffer to rank r, block q of recv from rank q
      c.broadcast_bytes(bytes, 0);   // resizes `bytes` on every rank but the root
      c.barrier();
    };

/// Which rank owns item `i` of `n` when there are `p` ranks. Every item is owned by exactly
/// one rank; a rank may own none.
template <class S>
concept ShardingPolicy = requires(Index i, Index n, int p) {
  { S::name() } -> std::convertible_to<std::string_view>;
  { S::owner(i, n, p) } -> std::convertible_to<int>;
};

}  // namespace distinv
