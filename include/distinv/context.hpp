#pragma once
// context.hpp: DistributedContext<Comm, Sharding, Device>, what every distributed object is
// built from: rank, world size, device, which items this rank owns, a per-rank random
// generator, and the collectives of its backend (also on whole tensors). `collectively`
// makes a failure on one rank an Error on every rank, so that no rank is left waiting.
#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "distinv/comm/single_process.hpp"
#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/device.hpp"
#include "distinv/sharding.hpp"

namespace distinv {

/// Options of a DistributedContext: seeding of the per-rank generators and the idle-rank warning.
struct ContextOptions {
  std::uint64_t seed = 0;    ///< base seed of the per-rank generators
  bool shared_seed = false;  ///< true: every rank seeds with `seed`; false: `seed + rank`
  bool warn_idle = true;     ///< warn once when this rank owns no item of a sharded set
};

/// What every distributed object is built from: the backend `Comm` (its rank and world size), the `Sharding` of
/// operators and patches over the ranks, the `Device` this rank computes on, and a per-rank random generator.
/// Cheap to copy only where Comm is; pass it by reference. The collectives below are those of the backend, also
/// on whole signals.
template <CommBackend Comm = comm::SingleProcess, ShardingPolicy Sharding = shard::RoundRobin,
          class Device = device::Host>
class DistributedContext {
 public:
  /// The communication backend (a CommBackend).
  using comm_type = Comm;
  /// The sharding policy (a ShardingPolicy).
  using sharding_type = Sharding;
  /// The device (device::Host, device::Cuda).
  using device_type = Device;

  /// A context over `comm`; a default-made one has one rank (SingleProcess).
  explicit DistributedContext(Comm comm = {}, ContextOptions options = {}, Device dev = {})
      : comm_(std::move(comm)), options_(options), device_(std::move(dev)), rng_(seed()) {}

  /// This rank, in [0, world_size()).
  int rank() const noexcept { return comm_.rank(); }
  /// Number of ranks.
  int world_size() const noexcept { return comm_.size(); }
  /// True with more than one rank.
  bool is_distributed() const noexcept { return comm_.size() > 1; }
  /// The device this rank computes on.
  Device const& device() const noexcept { return device_; }
  /// The backend.
  Comm const& comm() const noexcept { return comm_; }
  /// The options it was made with.
  ContextOptions const& options() const noexcept { return options_; }

  /// Seed of this rank's generator: seed + rank, or seed for every rank if shared_seed.
  std::uint64_t seed() const noexcept { return options_.seed + (options_.shared_seed ? 0 : std::uint64_t(rank())); }
  /// This rank's generator, seeded with seed().
  std::mt19937_64& rng() noexcept { return rng_; }

  /// Rank that owns item i of n.
  int owner(Index i, Index n) const {
    DISTINV_REQUIRE(i >= 0 && i < n, "owner: expected an index in [0, ", n, "), got ", i);
    return Sharding::owner(i, n, world_size());
  }

  /// The items of [0, n) this rank owns, in increasing order.
  std::vector<Index> local_indices(Index n) const {
    DISTINV_REQUIRE(n >= 0, "local_indices: expected a non-negative count, got ", n);
    std::vector<Index> mine;
    for (Index i = 0; i < n; ++i)
      if (Sharding::owner(i, n, world_size()) == rank()) mine.push_back(i);
    if (mine.empty() && options_.warn_idle && !warned_idle_) {
      warned_idle_ = true;
      std::cerr << "distinv: warning: rank " << rank() << " of " << world_size() << " owns none of " << n
                << " items (" << Sharding::name() << " sharding); it will only take part in collectives\n";
    }
    return mine;
  }

  /// In-place all-reduce of a host buffer (see CommBackend).
  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op = ReduceOp::sum) const {
    comm_.all_reduce(buf, op);
  }
  /// All-reduce of a whole signal (a device signal goes through its traits: host staging or
  /// a device-aware path).
  template <Signal X>
  void all_reduce(X& x, ReduceOp op = ReduceOp::sum) const {
    signal_traits<X>::all_reduce(comm_, x, op);
  }
  /// All-reduce of one value; returns the result (the same on every rank).
  template <class T>
  T all_reduce_value(T v, ReduceOp op = ReduceOp::sum) const {
    comm_.all_reduce(std::span<T>(&v, 1), op);
    return v;
  }
  /// Broadcast of a host buffer from `root`.
  template <class T>
  void broadcast(std::span<T> buf, int root = 0) const {
    comm_.broadcast(buf, root);
  }
  /// Broadcast of a whole signal from `root` (device signals through their traits).
  template <Signal X>
  void broadcast(X& x, int root = 0) const {
    signal_traits<X>::broadcast(comm_, x, root);
  }
  /// Waits for every rank.
  void barrier() const { comm_.barrier(); }

  /// Runs `f` on this rank. If it throws on any rank, every rank throws a distinv::Error
  /// naming the first failing rank and its message (one small all-reduce, plus a broadcast
  /// of the message on failure). Use around local work that may fail before a collective.
  template <class F>
  auto collectively(char const* what, F&& f) const {
    // Failure is the flag, not a non-empty message: an exception whose what() is "" fails too.
    std::optional<std::string> failure;
    auto fail_here = [&](std::exception const& e) {
      failure = *e.what() ? std::string(e.what()) : std::string("an exception with an empty message");
    };
    if constexpr (std::is_void_v<decltype(f())>) {
      try {
        f();
      } catch (std::exception const& e) {
        fail_here(e);
      } catch (...) {
        failure = "unknown exception";
      }
      agree(what, failure);
    } else {
      std::optional<decltype(f())> result;
      try {
        result.emplace(f());
      } catch (std::exception const& e) {
        fail_here(e);
      } catch (...) {
        failure = "unknown exception";
      }
      agree(what, failure);
      return std::move(*result);
    }
  }

 /// Second half of an error agreement: every rank calls it once `first` (the lowest failing
  /// rank, agreed by a collective) is known; `first` broadcasts its message and every rank
  /// throws an Error naming it.
  [[noreturn]] void fail_from(int first, char const* what, std::string const& local_message) const {
    std::vector<std::byte> bytes;
    if (first == rank())
      bytes.assign(reinterpret_cast<std::byte const*>(local_message.data()),
                   reinterpret_cast<std::byte const*>(local_message.data() + local_message.size()));
    comm_.broadcast_bytes(bytes, first);
    fail(what, " failed on rank ", first, ": ", std::string(reinterpret_cast<char const*>(bytes.data()), bytes.size()));
  }

 private:
  void agree(char const* what, std::optional<std::string> const& failure) const {
    std::int64_t first = failure ? std::int64_t(rank()) : std::int64_t(world_size());
    comm_.all_reduce(std::span<std::int64_t>(&first, 1), ReduceOp::min);
    if (first < world_size()) fail_from(int(first), what, failure ? *failure : std::string());
  }

  Comm comm_;
  ContextOptions options_;
  Device device_;
  std::mt19937_64 rng_;
  mutable bool warned_idle_ = false;
};

/// The same ranks, sharding and options on another device, e.g.
/// `on_device(ctx, device::Cuda{ctx.rank() % gpus})` inside a launched body.
template <class Device, class Comm, class Sharding, class Old>
DistributedContext<Comm, Sharding, Device> on_device(DistributedContext<Comm, Sharding, Old> const& ctx, Device dev) {
  return DistributedContext<Comm, Sharding, Device>(ctx.comm(), ctx.options(), std::move(dev));
}

}  // namespace distinv
