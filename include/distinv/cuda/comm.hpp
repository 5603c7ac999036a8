#pragma once
// cuda/comm.hpp: collectives on device buffers. DeviceCommBackend is the concept (rank, size,
// all_reduce / broadcast / all_gatherv on DeviceSpans, barrier); HostStaged<Comm> models it
// over any host CommBackend (SingleProcess, Threads, Mpi) by copying through a pinned host
// buffer that it owns. comm::Nccl (distinv/cuda/nccl.hpp) models it with NCCL. Every
// collective is blocking: it returns when the result is in the device buffer. The free
// functions all_reduce / broadcast(comm, DeviceSpan) reduce device memory over a host
// backend (its NCCL communicator, a CUDA-aware MPI, or pinned staging). Compiles with the
// host compiler.
#include <cuda_runtime.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "distinv/comm/traits.hpp"
#include "distinv/core/concepts.hpp"
#include "distinv/cuda/device_tensor.hpp"

namespace distinv::cuda {

/// Collectives on device memory (same rules as CommBackend: every rank calls them in the same
/// order, in place, blocking).
template <class C>
concept DeviceCommBackend =
    requires(C& c, DeviceSpan<double> d, DeviceSpan<float> f, DeviceSpan<double const> cd,
             std::span<Index const> counts) {
      { c.rank() } -> std::convertible_to<int>;
      { c.size() } -> std::convertible_to<int>;
      c.all_reduce(d, ReduceOp::sum);
      c.all_reduce(f, ReduceOp::max);
      c.broadcast(d, 0);
      c.all_gatherv(cd, d, counts);
      c.barrier();
    };

namespace detail {
/// Pinned (page-locked) host memory, grown on demand.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  PinnedBuffer(PinnedBuffer const&) = delete;
  PinnedBuffer& operator=(PinnedBuffer const&) = delete;
  ~PinnedBuffer() { release(); }

  template <class T>
  T* get(std::size_t n) {
    std::size_t const need = n * sizeof(T);
    if (need > bytes_) {
      release();
      check(cudaMallocHost(&p_, need), "cudaMallocHost");
      bytes_ = need;
    }
    return static_cast<T*>(p_);
  }

 private:
  void release() noexcept {
    if (p_) cudaFreeHost(p_);
    p_ = nullptr;
    bytes_ = 0;
  }
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};
}  // namespace detail

/// Device collectives through a host backend: device -> pinned host, host collective,
/// pinned host -> device, on `stream`. At one rank nothing is copied. Move-only (it owns its
/// staging buffers); make one per rank from that rank's Comm.
template <CommBackend Comm>
class HostStaged {
 public:
  /// Over `comm`, copies queued on `stream` (0: legacy default stream).
  explicit HostStaged(Comm comm, cudaStream_t stream = nullptr) : comm_(std::move(comm)), stream_(stream) {}
  /// Movable (the staging buffers move with it).
  HostStaged(HostStaged&&) noexcept = default;
  /// Movable (the staging buffers move with it).
  HostStaged& operator=(HostStaged&&) noexcept = default;

  /// "host_staged<" + the host backend's name + ">".
  static std::string name() { return std::string("host_staged<") + std::string(Comm::name()) + ">"; }
  /// This rank of the host backend.
  int rank() const { return comm_.rank(); }
  /// Number of ranks of the host backend.
  int size() const { return comm_.size(); }
  /// The host backend.
  Comm const& host() const noexcept { return comm_; }
  /// The stream the copies are queued on.
  cudaStream_t stream() const noexcept { return stream_; }

  /// In-place all-reduce of a device buffer: device to pinned host, host all-reduce, back; returns when done.
  template <class T>
  void all_reduce(DeviceSpan<T> buf, ReduceOp op) {
    if (comm_.size() == 1 || buf.empty()) return;  // every rank has the same size
    T* h = send_.get<T>(buf.size());
    to_host(h, buf.data(), buf.size());
    comm_.all_reduce(std::span<T>(h, buf.size()), op);
    to_device(buf.data(), h, buf.size());
  }

  /// Broadcast of a device buffer from `root` through pinned host memory; returns when done.
  template <class T>
  void broadcast(DeviceSpan<T> buf, int root) {
    if (comm_.size() == 1 || buf.empty()) {
      comm_.broadcast(std::span<T>{}, root);  // checks the root, keeps the ranks in step
      return;
    }
    T* h = send_.get<T>(buf.size());
    if (comm_.rank() == root) to_host(h, buf.data(), buf.size());
    comm_.broadcast(std::span<T>(h, buf.size()), root);
    if (comm_.rank() != root) to_device(buf.data(), h, buf.size());
  }

  /// recv = the concatenation over ranks r of their `send` (counts[r] elements each).
  template <class T>
  void all_gatherv(std::type_identity_t<DeviceSpan<T const>> send, DeviceSpan<T> recv, std::span<Index const> counts) {
    T* hs = send_.get<T>(send.size());
    T* hr = recv_.get<T>(recv.size());
    to_host(hs, send.data(), send.size());
    comm_.all_gatherv(std::span<T const>(hs, send.size()), std::span<T>(hr, recv.size()), counts);
    to_device(recv.data(), hr, recv.size());
  }

  /// Waits for this rank's queued work on `stream`, then for every rank.
  void barrier() {
    synchronize(stream_);
    comm_.barrier();
  }

 private:
  template <class T>
  void to_host(T* h, T const* d, std::size_t n) {
    if (n == 0) return;
    check(cudaMemcpyAsync(h, d, n * sizeof(T), cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync");
    synchronize(stream_);
  }
  template <class T>
  void to_device(T* d, T const* h, std::size_t n) {
    if (n == 0) return;
    check(cudaMemcpyAsync(d, h, n * sizeof(T), cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
    synchronize(stream_);
  }

  Comm comm_;
  cudaStream_t stream_;
  detail::PinnedBuffer send_, recv_;
};

namespace detail {
/// This host thread's pinned staging memory.
inline PinnedBuffer& thread_staging() {
  thread_local PinnedBuffer buffer;
  return buffer;
}
}  // namespace detail

/// In-place all-reduce of device memory over a host backend's ranks (see the header comment).
template <CommBackend Comm, class T>
void all_reduce(Comm const& comm, DeviceSpan<T> buf, ReduceOp op) {
  using traits = comm_traits<Comm>;
  if constexpr (traits::has_device_comm) {
    traits::device_comm(comm).all_reduce(buf, op);
    return;
  } else {
    if (comm.size() == 1 || buf.empty()) return;  // every rank has the same size
    if (traits::device_aware(comm) && op != ReduceOp::mean) {  // mean divides on the host
      synchronize(nullptr);
      comm.all_reduce(std::span<T>(buf.data(), buf.size()), op);
      return;
    }
  }
  T* h = detail::thread_staging().template get<T>(buf.size());
  check(cudaMemcpy(h, buf.data(), buf.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
  comm.all_reduce(std::span<T>(h, buf.size()), op);
  check(cudaMemcpy(buf.data(), h, buf.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
}

/// Broadcast of device memory from `root` over a host backend's ranks.
template <CommBackend Comm, class T>
void broadcast(Comm const& comm, DeviceSpan<T> buf, int root) {
  if constexpr (comm_traits<Comm>::has_device_comm) {
    comm_traits<Comm>::device_comm(comm).broadcast(buf, root);
    return;
  }
  if (comm.size() == 1 || buf.empty()) {
    comm.broadcast(std::span<T>{}, root);  // checks the root, keeps the ranks in step
    return;
  }
  T* h = detail::thread_staging().template get<T>(buf.size());
  if (comm.rank() == root)
    check(cudaMemcpy(h, buf.data(), buf.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
  comm.broadcast(std::span<T>(h, buf.size()), root);
  if (comm.rank() != root)
    check(cudaMemcpy(buf.data(), h, buf.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
}

}  // namespace distinv::cuda
