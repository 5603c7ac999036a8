#pragma once
// distributed/signal.hpp: DistributedSignal, the signal x being reconstructed, the same on
// every rank. With a backend whose ranks share memory (Threads) all ranks read ONE buffer,
// not a copy each; update_ is then a collective that fences readers (barrier), copies one
// slice per rank, and fences again. Elsewhere each rank keeps its own copy (every rank
// computes the same update; `sync` broadcasts rank 0's copy when that is not guaranteed).
// Device signals are never shared: each rank keeps its copy on its own device.
#include <cstring>
#include <memory>
#include <utility>

#include "distinv/comm/traits.hpp"
#include "distinv/core/signal.hpp"

namespace distinv {

/// The signal x being reconstructed, the same on every rank (layout::Replicated). Under a backend whose ranks
/// share memory (Threads) every rank reads one buffer; update_ is then a collective. Elsewhere each rank keeps
/// its own copy.
template <class Ctx, Signal TensorT>
class DistributedSignal {
  static constexpr bool shared = HostTensor<TensorT> && comm_traits<typename Ctx::comm_type>::shares_memory;

 public:
  /// The signal's type.
  using tensor_type = TensorT;
  /// Its tensor rank (4 or 5).
  static constexpr int rank_v = distinv::rank_v<TensorT>;

  /// A zero signal of the given shape (a collective with a shared-memory backend).
  DistributedSignal(Ctx& ctx, Shape<rank_v> shape) : ctx_(&ctx) {
    for (auto d : shape) DISTINV_REQUIRE(d > 0, "DistributedSignal: expected positive extents, got ", to_string(shape));
    if constexpr (shared) {
      if (ctx.rank() == 0) data_ = std::make_shared<TensorT>(zeros_of<TensorT>(shape));
      // Hand rank 0's shared_ptr to every rank (same address space), then let rank 0 go on.
      std::shared_ptr<TensorT>* source = &data_;
      std::vector<std::byte> bytes(sizeof(source));
      std::memcpy(bytes.data(), &source, sizeof(source));
      ctx.comm().broadcast_bytes(bytes, 0);
      std::memcpy(&source, bytes.data(), sizeof(source));
      if (ctx.rank() != 0) data_ = *source;
      ctx.barrier();
    } else {
      data_ = std::make_shared<TensorT>(zeros_of<TensorT>(shape));
    }
  }

  /// The current signal.
  TensorT const& data() const noexcept { return *data_; }
  /// Its shape.
  Shape<rank_v> shape() const { return shape_of(*data_); }
  /// True when this rank reads the same buffer as every other rank.
  static constexpr bool is_shared() { return shared; }

  /// Sets the signal to x; every rank calls it with the same x.
  void update_(TensorT const& x, bool sync = false) {
    require_same_shape(*data_, x, "DistributedSignal::update_");
    if constexpr (shared) {
      ctx_->barrier();  // nobody still reads the old signal
      Index const n = x.size(), p = ctx_->world_size(), r = ctx_->rank();
      Index const lo = sync ? 0 : n * r / p, hi = sync ? (r == 0 ? n : 0) : n * (r + 1) / p;  // sync: rank 0 writes all
      std::copy(x.data() + lo, x.data() + hi, data_->data() + lo);
      ctx_->barrier();
    } else {
      if (x.data() != data_->data()) *data_ = x;
      if (sync) ctx_->broadcast(*data_, 0);
    }
  }
  /// Sets the signal to x, taking its storage where each rank keeps its own copy (no copy; the
  /// old signal is released); with a shared buffer, as update_(x).
  void update_(TensorT&& x, bool sync = false) {
    if constexpr (shared) {
      update_(std::as_const(x), sync);
    } else {
      require_same_shape(*data_, x, "DistributedSignal::update_");
      *data_ = std::move(x);
      if (sync) ctx_->broadcast(*data_, 0);
    }
  }

 private:
  Ctx* ctx_;
  std::shared_ptr<TensorT> data_;
};

}  // namespace distinv
