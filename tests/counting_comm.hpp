#pragma once
// tests/counting_comm.hpp: CountingComm<Comm>, a CommBackend that forwards every collective to
// the backend it wraps and counts, per kind of collective, the calls, the bytes this rank hands
// over for other ranks and the wall time spent inside (waiting for the other ranks included),
// with the wrapped backend's comm_traits. Shared by the tests (exact byte counts of the layouts)
// and benchmarks/bench_mpi_distributed.cpp (sent_MB, collectives, comm_ms). Library headers only.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "distinv/comm/single_process.hpp"
#include "distinv/comm/traits.hpp"
#include "distinv/core/concepts.hpp"

namespace distinv::testing {

/// The calls of one kind of collective and the bytes this rank sent into them for other ranks.
struct CommCount {
  std::int64_t calls = 0, bytes = 0;
  CommCount operator-(CommCount const& o) const { return {calls - o.calls, bytes - o.bytes}; }
};

/// What one rank's collectives cost. Bytes are those of this rank's data that other ranks receive,
/// 0 on one rank: an all-reduce's buffer (once), a broadcast's buffer once per receiver on the
/// root, an all_gatherv's send buffer once per other rank, an all_to_allv's blocks for the other
/// ranks. broadcast counts broadcast_bytes too.
struct CommTally {
  CommCount all_reduce, broadcast, all_gatherv, all_to_allv, barrier;
  double seconds = 0;  ///< wall time inside collectives
  std::int64_t own_bytes = 0;  ///< all_to_allv: bytes of the blocks a rank sent itself (not in bytes())

  std::int64_t calls() const {
    return all_reduce.calls + broadcast.calls + all_gatherv.calls + all_to_allv.calls + barrier.calls;
  }
  std::int64_t bytes() const {
    return all_reduce.bytes + broadcast.bytes + all_gatherv.bytes + all_to_allv.bytes + barrier.bytes;
  }
  /// What was counted since `before`.
  CommTally operator-(CommTally const& before) const {
    return {all_reduce - before.all_reduce, broadcast - before.broadcast, all_gatherv - before.all_gatherv,
            all_to_allv - before.all_to_allv, barrier - before.barrier, seconds - before.seconds,
            own_bytes - before.own_bytes};
  }
};

/// A CommBackend forwarding to `Comm` that adds every collective to a CommTally shared by the
/// copies of one rank's backend (so that the objects a context builds count into one tally).
template <CommBackend Comm>
class CountingComm {
 public:
  explicit CountingComm(Comm comm) : comm_(std::move(comm)), tally_(std::make_shared<CommTally>()) {}

  static constexpr std::string_view name() { return Comm::name(); }
  Comm const& inner() const noexcept { return comm_; }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  /// What this rank's collectives have cost so far.
  CommTally tally() const { return *tally_; }

  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op) const {
    counted(&CommTally::all_reduce, buf.size_bytes(), [&] { comm_.all_reduce(buf, op); });
  }
  template <class T>
  void broadcast(std::span<T> buf, int root) const {
    counted(&CommTally::broadcast, rank() == root ? buf.size_bytes() * others() : 0,
            [&] { comm_.broadcast(buf, root); });
  }
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    counted(&CommTally::all_gatherv, send.size_bytes() * others(), [&] { comm_.all_gatherv(send, recv, counts); });
  }
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    std::size_t const own = send_counts.empty() ? 0 : std::size_t(send_counts[std::size_t(rank())]) * sizeof(T);
    tally_->own_bytes += std::int64_t(own);
    counted(&CommTally::all_to_allv, send.size_bytes() - own,
            [&] { comm_.all_to_allv(send, send_counts, recv, recv_counts); });
  }
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const {
    counted(&CommTally::broadcast, rank() == root ? bytes.size() * others() : 0,
            [&] { comm_.broadcast_bytes(bytes, root); });
  }
  void barrier() const {
    counted(&CommTally::barrier, 0, [&] { comm_.barrier(); });
  }

 private:
  std::size_t others() const { return std::size_t(size() - 1); }

  template <class F>
  void counted(CommCount CommTally::*kind, std::size_t bytes, F&& f) const {
    auto const t0 = std::chrono::steady_clock::now();
    f();
    tally_->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CommCount& c = (*tally_).*kind;
    ++c.calls;
    if (size() > 1) c.bytes += std::int64_t(bytes);  // one rank sends nothing
  }

  Comm comm_;
  std::shared_ptr<CommTally> tally_;
};

static_assert(CommBackend<CountingComm<comm::SingleProcess>>);

/// CountingComm's inner backend, for forward_comm_traits.
inline constexpr auto counting_inner = [](auto const& c) -> auto const& { return c.inner(); };

}  // namespace distinv::testing

/// CountingComm shares memory, is device aware, ... exactly as the backend it wraps.
template <class Comm>
struct distinv::comm_traits<distinv::testing::CountingComm<Comm>>
    : forward_comm_traits<Comm, distinv::testing::counting_inner> {};
