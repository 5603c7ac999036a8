#pragma once
// comm/threads.hpp: N ranks as threads of one process, sharing memory. Collectives work
// directly on the ranks' own buffers (no staging copy): an all-reduce is a reduce-scatter
// (rank r reduces chunk r, reading every rank's buffer, in rank order so that the result is
// the same on every rank and on every run) followed by an all-gather of the chunks. When one
// rank fails, `abort()` releases every rank waiting in a collective. STL only.
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/comm/traits.hpp"
#include "distinv/core/error.hpp"

namespace distinv::comm {

/// Thrown on the ranks that were waiting in a collective when another rank failed.
struct RankAborted : Error {
  RankAborted() : Error("distinv: collective abandoned because another rank failed") {}
};

namespace detail {

/// State shared by the ranks of one Threads world: a reusable barrier and one published
/// buffer slot per rank.
class ThreadsWorld {
 public:
  explicit ThreadsWorld(int n) : n_(n), slots_(std::size_t(n)) {}
  int size() const noexcept { return n_; }

  void barrier() {
    std::unique_lock lock(m_);
    if (aborted_) throw RankAborted();
    auto const gen = generation_;
    if (++arrived_ == n_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != gen || aborted_; });
    if (generation_ == gen) throw RankAborted();
  }

  void abort() {
    std::lock_guard lock(m_);
    aborted_ = true;
    cv_.notify_all();
  }

  struct Slot {
    void const* data = nullptr;
    std::size_t count = 0;
    int root = 0;
    Index const* counts = nullptr;       ///< all_to_allv: elements sent to each rank
    Index const* recv_counts = nullptr;  ///< all_to_allv: elements expected from each rank
  };
  Slot& slot(int r) { return slots_[std::size_t(r)]; }

 private:
  int n_;
  std::mutex m_;
  std::condition_variable cv_;
  int arrived_ = 0;
  unsigned long generation_ = 0;
  bool aborted_ = false;
  std::vector<Slot> slots_;
};

}  // namespace detail

/// The threads backend: the ranks are threads of one process sharing a world (make_world); collectives read the
/// other ranks' buffers in place (no copies through a channel). A rank that fails aborts the world: the others
/// leave their collectives with RankAborted. Usually made by launch<comm::Threads>(n, fn).
class Threads {
 public:
  /// Rank `rank` of `world`; throws Error if the rank is outside the world.
  Threads(std::shared_ptr<detail::ThreadsWorld> world, int rank) : world_(std::move(world)), rank_(rank) {
    DISTINV_REQUIRE(world_ && rank_ >= 0 && rank_ < world_->size(), "Threads: rank ", rank_,
                    " outside the world of ", world_ ? world_->size() : 0, " ranks");
  }
  /// A world of `n` ranks; rank r gets `Threads(world, r)`.
  static std::shared_ptr<detail::ThreadsWorld> make_world(int n) {
    DISTINV_REQUIRE(n >= 1, "Threads: expected at least one rank, got ", n);
    return std::make_shared<detail::ThreadsWorld>(n);
  }

  /// "threads".
  static constexpr std::string_view name() { return "threads"; }
  /// This rank, in [0, size()).
  int rank() const noexcept { return rank_; }
  /// Number of ranks of the world.
  int size() const noexcept { return world_->size(); }
  /// Waits until every rank has arrived; throws RankAborted if the world was aborted.
  void barrier() const { world_->barrier(); }
  /// Aborts the world: every rank waiting in (or later entering) a collective throws RankAborted.
  void abort() const { world_->abort(); }

  /// In-place all-reduce; every rank reads the others' buffers directly. See CommBackend.
  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op) const {
    if (size() == 1) return;
    publish(buf.data(), buf.size(), 0);
    check_same_count("all_reduce", buf.size());
    int const p = size();
    auto const [lo, hi] = chunk(buf.size(), rank_);
    // Reduce-scatter: rank r owns chunk r of every buffer; nobody else writes it now.
    for (std::size_t i = lo; i < hi; ++i) {
      T acc = peer<T>(0)[i];
      for (int q = 1; q < p; ++q) acc = combine(acc, peer<T>(q)[i], op);
      buf[i] = op == ReduceOp::mean ? acc / T(p) : acc;
    }
    world_->barrier();
    // All-gather: copy the other ranks' finished chunks into our buffer.
    for (int q = 0; q < p; ++q) {
      if (q == rank_) continue;
      auto const [qlo, qhi] = chunk(buf.size(), q);
      std::copy(peer<T>(q) + qlo, peer<T>(q) + qhi, buf.data() + qlo);
    }
    world_->barrier();
  }

  /// Copies the root's buffer into every rank's. See CommBackend.
  template <class T>
  void broadcast(std::span<T> buf, int root) const {
    check_root("broadcast", root);
    if (size() == 1) return;
    publish(buf.data(), buf.size(), root);
    check_same_count("broadcast", buf.size());
    if (rank_ != root) std::copy(peer<T>(root), peer<T>(root) + buf.size(), buf.data());
    world_->barrier();
  }

  /// Rank r's `send` (counts[r] elements) into block r of every `recv`; throws Error for inconsistent counts.
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    check_counts(send.size(), recv.size(), counts);
    publish(send.data(), send.size(), 0);
    std::size_t off = 0;
    for (int q = 0; q < size(); ++q) {
      std::copy(peer<T>(q), peer<T>(q) + counts[std::size_t(q)], recv.data() + off);
      off += std::size_t(counts[std::size_t(q)]);
    }
    world_->barrier();
  }

  /// Each rank copies its blocks straight out of the senders' buffers (no staging).
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    check_exchange_counts(send.size(), send_counts, recv.size(), recv_counts);
    world_->slot(rank_) = {send.data(), send.size(), 0, send_counts.data(), recv_counts.data()};
    world_->barrier();
    // Every rank checks every pair, so that a mismatch throws on every rank alike.
    for (int q = 0; q < size(); ++q)
      for (int r = 0; r < size(); ++r) {
        Index const sent = world_->slot(q).counts[r], expected = world_->slot(r).recv_counts[q];
        if (sent != expected) {
          world_->barrier();  // nobody reads the buffers; leave together
          fail("all_to_allv: rank ", q, " sends ", sent, " elements to rank ", r, ", which expects ", expected);
        }
      }
    std::size_t off = 0;
    for (int q = 0; q < size(); ++q) {
      Index const* counts = world_->slot(q).counts;
      Index start = 0;
      for (int r = 0; r < rank_; ++r) start += counts[r];
      std::copy_n(peer<T>(q) + start, counts[rank_], recv.data() + off);
      off += std::size_t(counts[rank_]);
    }
    world_->barrier();
  }

  /// Broadcasts a byte vector from `root`, resizing the others'.
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const {
    check_root("broadcast_bytes", root);
    if (size() == 1) return;
    publish(&bytes, 0, root);
    if (rank_ != root) bytes = *static_cast<std::vector<std::byte> const*>(world_->slot(root).data);
    world_->barrier();
  }

 private:
  template <class T>
  T const* peer(int q) const {
    return static_cast<T const*>(world_->slot(q).data);
  }
  template <class T>
  static T combine(T a, T b, ReduceOp op) {
    switch (op) {
      case ReduceOp::max: return a < b ? b : a;
      case ReduceOp::min: return b < a ? b : a;
      default: return a + b;
    }
  }
  std::pair<std::size_t, std::size_t> chunk(std::size_t n, int r) const {
    std::size_t const p = std::size_t(size());
    return {n * std::size_t(r) / p, n * std::size_t(r + 1) / p};
  }
  void publish(void const* data, std::size_t count, int root) const {
    world_->slot(rank_) = {data, count, root, nullptr, nullptr};
    world_->barrier();
  }
  void check_exchange_counts(std::size_t send, std::span<Index const> send_counts, std::size_t recv,
                             std::span<Index const> recv_counts) const {
    Index ts = 0, tr = 0;
    for (auto c : send_counts) ts += c;
    for (auto c : recv_counts) tr += c;
    DISTINV_REQUIRE(send_counts.size() == std::size_t(size()) && recv_counts.size() == std::size_t(size()) &&
                        Index(send) == ts && Index(recv) == tr,
                    "all_to_allv on rank ", rank_, ": expected ", size(), " send and receive counts summing to the ",
                    "buffer sizes; got ", send_counts.size(), " and ", recv_counts.size(), " counts, send ", send,
                    " (sum ", ts, "), receive ", recv, " (sum ", tr, ")");
  }
  void check_root(char const* what, int root) const {
    DISTINV_REQUIRE(root >= 0 && root < size(), what, ": expected a root in [0, ", size(), "), got ", root);
  }
  // After publish(): every rank sees every count, so a mismatch throws on every rank alike.
  void check_same_count(char const* what, std::size_t n) const {
    for (int q = 0; q < size(); ++q) {
      if (world_->slot(q).count != world_->slot(0).count) {
        world_->barrier();  // nobody reads the buffers; leave together
        fail(what, ": every rank must pass the same number of elements; rank 0 passed ",
             world_->slot(0).count, ", rank ", q, " passed ", world_->slot(q).count, " (this is rank ",
             rank_, " with ", n, ")");
      }
    }
  }
  void check_counts(std::size_t send, std::size_t recv, std::span<Index const> counts) const {
    Index total = 0;
    for (auto c : counts) total += c;
    DISTINV_REQUIRE(counts.size() == std::size_t(size()) && Index(send) == counts[std::size_t(rank_)] &&
                        Index(recv) == total,
                    "all_gatherv on rank ", rank_, ": expected ", size(), " counts, a send size equal to count[",
                    rank_, "] and a receive size equal to their sum; got ", counts.size(), " counts, send ", send,
                    ", receive ", recv, " (sum ", total, ")");
  }

  std::shared_ptr<detail::ThreadsWorld> world_;
  int rank_;
};
static_assert(CommBackend<Threads>);

}  // namespace distinv::comm

namespace distinv {
/// Thread ranks share one address space: they may hand each other pointers.
template <>
struct comm_traits<comm::Threads> : default_comm_traits {
  /// The ranks are threads of one process: they may hand each other pointers.
  static constexpr bool shares_memory = true;
};
}  // namespace distinv
