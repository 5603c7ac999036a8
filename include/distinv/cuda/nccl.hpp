#pragma once
// cuda/nccl.hpp: comm::Nccl, device collectives with NCCL, one GPU per rank. The NCCL unique
// id is made by rank 0 and broadcast through a host CommBackend (comm::Mpi, comm::Threads);
// all_reduce / broadcast / all_gatherv (grouped ncclBroadcast calls) act on DeviceSpans,
// barrier is a one-element all-reduce. Every collective waits for its stream before
// returning. comm::WithNccl<Host> is a host CommBackend (every host collective is Host's) whose
// device signals are reduced by NCCL: the backend of a DistributedContext<WithNccl<Mpi>, ...,
// device::Cuda> for one GPU per rank. Only built when NCCL was found (DISTINV_HAS_NCCL).
// Compiles with the host compiler.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/cuda/comm.hpp"
#include "distinv/cuda/device_tensor.hpp"

namespace distinv::comm {

namespace detail {
inline void check_nccl(ncclResult_t code, char const* what) {
  if (code != ncclSuccess) fail(what, " failed: ", ncclGetErrorString(code), " (", int(code), ")");
}
template <class T>
ncclDataType_t nccl_type() {
  if constexpr (std::is_same_v<T, float>) return ncclFloat;
  else if constexpr (std::is_same_v<T, double>) return ncclDouble;
  else if constexpr (std::is_same_v<T, std::int64_t>) return ncclInt64;
  else if constexpr (std::is_same_v<T, int>) return ncclInt32;
  else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, std::byte>) return ncclUint8;
  else static_assert(sizeof(T) == 0, "distinv::comm::Nccl: unsupported element type");
}
}  // namespace detail

/// Device collectives over NCCL: one communicator per rank and GPU, made collectively from a host backend
/// (which carries the NCCL id). Takes DeviceSpan buffers; queued on its stream.
class Nccl {
 public:
  /// Joins the NCCL communicator of all ranks of `host` on GPU `device` (every rank calls it).
  /// Collectives are queued on `stream` (which must belong to `device`).
  template <CommBackend Host>
  Nccl(Host const& host, int device, cudaStream_t stream = nullptr)
      : rank_(host.rank()), size_(host.size()), device_(device), stream_(stream) {
    cuda::check(cudaSetDevice(device), "cudaSetDevice");
    ncclUniqueId id{};
    std::vector<std::byte> bytes;
    ncclResult_t made = ncclSuccess;
    if (rank_ == 0) {
      made = ncclGetUniqueId(&id);
      if (made == ncclSuccess) {  // on failure an empty message tells the others
        bytes.resize(sizeof(id));
        std::memcpy(bytes.data(), &id, sizeof(id));
      }
    }
    host.broadcast_bytes(bytes, 0);
    if (rank_ == 0) detail::check_nccl(made, "ncclGetUniqueId");
    DISTINV_REQUIRE(bytes.size() == sizeof(id), "Nccl: rank 0 could not create the NCCL unique id (got ",
                    bytes.size(), " bytes, expected ", sizeof(id), ")");
    std::memcpy(&id, bytes.data(), sizeof(id));
    ncclComm_t c = nullptr;
    detail::check_nccl(ncclCommInitRank(&c, size_, id, rank_), "ncclCommInitRank");
    comm_ = std::shared_ptr<ncclComm>(c, [](ncclComm_t p) { ncclCommDestroy(p); });
    cuda::check(cudaMalloc(reinterpret_cast<void**>(&token_raw_), sizeof(float)), "cudaMalloc");
    token_ = std::shared_ptr<float>(token_raw_, [](float* p) { cudaFree(p); });
    cuda::check(cudaMemset(token_raw_, 0, sizeof(float)), "cudaMemset");
  }

  /// "nccl".
  static constexpr std::string_view name() { return "nccl"; }
  /// This rank, in [0, size()).
  int rank() const noexcept { return rank_; }
  /// Number of ranks.
  int size() const noexcept { return size_; }
  /// The device index of this rank.
  int device() const noexcept { return device_; }
  /// The stream the collectives are queued on.
  cudaStream_t stream() const noexcept { return stream_; }
  /// The NCCL communicator.
  ncclComm_t native() const noexcept { return comm_.get(); }

  /// In-place ncclAllReduce of a device buffer; returns when done. Throws Error on an NCCL error or an op NCCL
  /// lacks.
  template <class T>
  void all_reduce(cuda::DeviceSpan<T> buf, ReduceOp op) const {
    if (buf.empty()) return;
    ncclRedOp_t o = ncclSum;
    switch (op) {
      case ReduceOp::sum: o = ncclSum; break;
      case ReduceOp::max: o = ncclMax; break;
      case ReduceOp::min: o = ncclMin; break;
      case ReduceOp::mean:
        DISTINV_REQUIRE(std::is_floating_point_v<T>, "Nccl::all_reduce: mean needs a floating-point type");
        o = ncclAvg;
        break;
    }
    detail::check_nccl(ncclAllReduce(buf.data(), buf.data(), buf.size(), detail::nccl_type<T>(), o, native(), stream_),
                       "ncclAllReduce");
    cuda::synchronize(stream_);
  }

  /// ncclBroadcast of a device buffer from `root`; returns when done.
  template <class T>
  void broadcast(cuda::DeviceSpan<T> buf, int root) const {
    DISTINV_REQUIRE(root >= 0 && root < size_, "broadcast: expected a root in [0, ", size_, "), got ", root);
    if (buf.empty()) return;
    detail::check_nccl(
        ncclBroadcast(buf.data(), buf.data(), buf.size(), detail::nccl_type<T>(), root, native(), stream_),
        "ncclBroadcast");
    cuda::synchronize(stream_);
  }

  /// recv = the concatenation over ranks r of their `send` (counts[r] elements each), as one
  /// group of ncclBroadcast calls (root r sends its piece into its slot of recv).
  template <class T>
  void all_gatherv(std::type_identity_t<cuda::DeviceSpan<T const>> send, cuda::DeviceSpan<T> recv, std::span<Index const> counts) const {
    DISTINV_REQUIRE(counts.size() == std::size_t(size_) && Index(send.size()) == counts[std::size_t(rank_)],
                    "all_gatherv on rank ", rank_, ": expected ", size_, " counts with count[", rank_,
                    "] equal to the send size ", send.size(), ", got ", counts.size(), " counts");
    Index total = 0;
    for (auto c : counts) {
      DISTINV_REQUIRE(c >= 0, "all_gatherv: counts must be non-negative, got ", c);
      total += c;
    }
    DISTINV_REQUIRE(Index(recv.size()) == total, "all_gatherv: expected a receive buffer of ", total,
                    " elements, got ", recv.size());
    detail::check_nccl(ncclGroupStart(), "ncclGroupStart");
    ncclResult_t result = ncclSuccess;
    Index offset = 0;
    for (int r = 0; r < size_; ++r) {
      Index const c = counts[std::size_t(r)];
      if (c > 0 && result == ncclSuccess)
        result = ncclBroadcast(r == rank_ ? static_cast<void const*>(send.data()) : nullptr, recv.data() + offset,
                               std::size_t(c), detail::nccl_type<T>(), r, native(), stream_);
      offset += c;
    }
    ncclResult_t const ended = ncclGroupEnd();
    detail::check_nccl(result, "ncclBroadcast (all_gatherv)");
    detail::check_nccl(ended, "ncclGroupEnd");
    cuda::synchronize(stream_);
  }

  /// Waits for this rank's queued work on `stream`, then for every rank.
  void barrier() const {
    cuda::synchronize(stream_);
    all_reduce(cuda::DeviceSpan<float>{token_.get(), 1}, ReduceOp::sum);
  }

 private:
  int rank_ = 0, size_ = 1, device_ = 0;
  cudaStream_t stream_ = nullptr;
  std::shared_ptr<ncclComm> comm_;
  float* token_raw_ = nullptr;
  std::shared_ptr<float> token_;
};
static_assert(cuda::DeviceCommBackend<Nccl>);

/// A host backend plus NCCL for device buffers: host collectives (spans, bytes, barrier) go to
/// `Host`; cuda::all_reduce / cuda::broadcast of device memory (what the distributed layer
/// does with device signals) go to `device_comm()`, with no host staging.
template <CommBackend Host>
class WithNccl {
 public:
  /// Every rank calls it, with its own GPU `device` (one GPU per rank).
  WithNccl(Host host, int device, cudaStream_t stream = nullptr)
      : host_(std::move(host)), nccl_(host_, device, stream) {}

  /// "nccl".
  static constexpr std::string_view name() { return "nccl"; }
  /// This rank.
  int rank() const { return host_.rank(); }
  /// Number of ranks.
  int size() const { return host_.size(); }
  /// The host backend.
  Host const& host() const noexcept { return host_; }
  /// The NCCL communicator for device buffers.
  Nccl const& device_comm() const noexcept { return nccl_; }

  /// Host buffers: the host backend's all_reduce.
  template <class... A>
  void all_reduce(A&&... a) const {
    host_.all_reduce(std::forward<A>(a)...);
  }
  /// Host buffers: the host backend's broadcast.
  template <class... A>
  void broadcast(A&&... a) const {
    host_.broadcast(std::forward<A>(a)...);
  }
  /// Host buffers: the host backend's all_gatherv.
  template <class... A>
  void all_gatherv(A&&... a) const {
    host_.all_gatherv(std::forward<A>(a)...);
  }
  /// Host buffers: the host backend's all_to_allv.
  template <class... A>
  void all_to_allv(A&&... a) const {
    host_.all_to_allv(std::forward<A>(a)...);
  }
  /// The host backend's broadcast_bytes.
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const { host_.broadcast_bytes(bytes, root); }
  /// The host backend's barrier.
  void barrier() const { host_.barrier(); }

 private:
  Host host_;
  Nccl nccl_;
};

}  // namespace distinv::comm

namespace distinv {
/// WithNccl: the host backend's traits, plus NCCL for device buffers.
template <class Host>
struct comm_traits<comm::WithNccl<Host>> {
  /// As the host backend's.
  static constexpr bool shares_memory = comm_traits<Host>::shares_memory;
  /// As the host backend's.
  static bool device_aware(comm::WithNccl<Host> const& c) { return comm_traits<Host>::device_aware(c.host()); }
  /// True: device buffers go to NCCL.
  static constexpr bool has_device_comm = true;
  /// The NCCL communicator.
  static comm::Nccl const& device_comm(comm::WithNccl<Host> const& c) noexcept { return c.device_comm(); }
};
}  // namespace distinv
