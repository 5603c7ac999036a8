#pragma once
// tests/counting_comm.hpp: Counting<Comm>, a CommBackend that forwards every collective of
// `Comm` and records what it moved (per rank, in a Moved shared by the copies): the suites that
// check that a slab operation sends no more than it must (slab prior, slab FFT).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "distinv/core/concepts.hpp"

namespace distinv::testing {

/// What one rank's collectives moved, in elements.
struct Moved {
  Index all_reduce_calls = 0, largest_all_reduce = 0, largest_all_gatherv = 0, all_to_allv_calls = 0;
  Index gathered_elements = 0;  ///< received by the first all_to_allv of a call (rows read from others)
  Index to_others = 0;          ///< all_to_allv: elements sent to other ranks, summed over the calls
  Index to_self = 0;            ///< all_to_allv: elements a rank sent itself, summed over the calls
};

/// Forwards every collective of `Comm` and records what it moved in a Moved.
template <class Comm>
class Counting {
 public:
  Counting(Comm comm, std::shared_ptr<Moved> moved) : comm_(std::move(comm)), moved_(std::move(moved)) {}
  static constexpr std::string_view name() { return Comm::name(); }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op) const {
    ++moved_->all_reduce_calls;
    moved_->largest_all_reduce = std::max(moved_->largest_all_reduce, Index(buf.size()));
    comm_.all_reduce(buf, op);
  }
  template <class T>
  void broadcast(std::span<T> buf, int root) const {
    comm_.broadcast(buf, root);
  }
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    moved_->largest_all_gatherv = std::max(moved_->largest_all_gatherv, Index(recv.size()));
    comm_.all_gatherv(send, recv, counts);
  }
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    if (moved_->all_to_allv_calls++ % 2 == 0) moved_->gathered_elements = Index(recv.size());
    for (int q = 0; q < size() && std::size_t(q) < send_counts.size(); ++q)
      (q == rank() ? moved_->to_self : moved_->to_others) += send_counts[std::size_t(q)];
    comm_.all_to_allv(send, send_counts, recv, recv_counts);
  }
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const { comm_.broadcast_bytes(bytes, root); }
  void barrier() const { comm_.barrier(); }

 private:
  Comm comm_;
  std::shared_ptr<Moved> moved_;
};

}  // namespace distinv::testing
