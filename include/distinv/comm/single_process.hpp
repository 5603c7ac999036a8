#pragma once
// comm/single_process.hpp: the reference backend, one rank. Every collective is a no-op
// (all_gatherv copies its one piece); all other backends are tested against this one.
#include <algorithm>
#include <span>

#include "distinv/core/concepts.hpp"
#include "distinv/comm/traits.hpp"
#include "distinv/core/error.hpp"

namespace distinv::comm {

/// The reference backend: one rank, every collective a no-op (all_gatherv and all_to_allv copy their one
/// piece). All other backends are tested against it.
struct SingleProcess {
  /// "single_process".
  static constexpr std::string_view name() { return "single_process"; }
  /// Always 0.
  int rank() const noexcept { return 0; }
  /// Always 1.
  int size() const noexcept { return 1; }
  /// Nothing to reduce with one rank.
  template <class T>
  void all_reduce(std::span<T>, ReduceOp) const noexcept {}
  /// Nothing to send; throws Error unless root is 0.
  template <class T>
  void broadcast(std::span<T>, int root) const {
    DISTINV_REQUIRE(root == 0, "broadcast: expected root 0 on a single process, got ", root);
  }
  /// Copies `send` into `recv`; throws Error unless counts is {send.size()} and recv has that size.
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    DISTINV_REQUIRE(counts.size() == 1 && Index(send.size()) == counts[0] && recv.size() == send.size(),
                    "all_gatherv: expected one count equal to the send size ", send.size(),
                    " and a receive buffer of that size, got ", counts.size(), " counts and ",
                    recv.size(), " receive elements");
    std::copy(send.begin(), send.end(), recv.begin());
  }
  /// Copies `send` into `recv`; throws Error unless both counts equal the buffer sizes.
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    DISTINV_REQUIRE(send_counts.size() == 1 && recv_counts.size() == 1 && send_counts[0] == recv_counts[0] &&
                        Index(send.size()) == send_counts[0] && recv.size() == send.size(),
                    "all_to_allv: expected one send and one receive count equal to the buffer sizes, got ",
                    send_counts.size(), " and ", recv_counts.size(), " counts for ", send.size(), " and ", recv.size(),
                    " elements");
    std::copy(send.begin(), send.end(), recv.begin());
  }
  /// Nothing to send; throws Error unless root is 0.
  void broadcast_bytes(std::vector<std::byte>&, int root) const { broadcast(std::span<char>{}, root); }
  /// Nothing to wait for.
  void barrier() const noexcept {}
};
static_assert(CommBackend<SingleProcess>);

}  // namespace distinv::comm
