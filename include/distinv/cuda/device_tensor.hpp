#pragma once
// cuda/device_tensor.hpp: GPU memory of distinv. device::Cuda (a device index and a stream),
// cuda::Stream (RAII stream), cuda::DeviceSpan (a typed device pointer and a length; never
// dereferenced on the host), cuda::DeviceBuffer (owning cudaMalloc array) and
// cuda::DeviceTensor<T, Rank> (row-major shape over a buffer, like Tensor<T, Rank>). Value
// semantics like the host tensor: copies are deep (device to device, on the default stream),
// moves are cheap; transfers are explicit (to_device / to_host) and synchronous with respect
// to the host. Memory comes from the stream-ordered pool (cudaMallocAsync / cudaFreeAsync on
// the buffer's stream), so temporaries neither synchronise nor call the driver's allocator
// in steady state. No managed memory. Compiles with the host compiler.
#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "distinv/core/tensor.hpp"
#include "distinv/cuda/error.hpp"
#include "distinv/fft/engine.hpp"

namespace distinv::device {

/// A CUDA device and the stream that distinv's work for it is queued on (0: legacy default).
struct Cuda {
  /// True: device memory.
  static constexpr bool is_gpu = true;
  /// The CUDA device index (cudaSetDevice).
  int index = 0;
  /// The stream distinv's work for this device is queued on (nullptr: legacy default).
  cudaStream_t stream = nullptr;
  /// "cuda:<index>".
  std::string name() const { return "cuda:" + std::to_string(index); }
  /// Makes `index` the current device of the calling thread, and lets its default memory pool
  /// keep freed memory (so that a reconstruction's temporaries are recycled, not returned to
  /// the driver at every synchronisation).
  void activate() const {
    cuda::check(cudaSetDevice(index), "cudaSetDevice");
    cudaMemPool_t pool = nullptr;
    cuda::check(cudaDeviceGetDefaultMemPool(&pool, index), "cudaDeviceGetDefaultMemPool");
    unsigned long long keep = ~0ULL;
    cuda::check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), "cudaMemPoolSetAttribute");
  }
};

}  // namespace distinv::device

namespace distinv::cuda {
struct Cufft;  // cuda/fft.cuh
}  // namespace distinv::cuda

namespace distinv::fft {
/// GPUs transform with cuFFT (declared here, with the device, so that every translation unit
/// sees the same default).
template <>
struct default_engine<device::Cuda> {
  /// CUDA signals use cuFFT.
  using type = cuda::Cufft;
};
}  // namespace distinv::fft

namespace distinv::cuda {

/// An owned non-blocking CUDA stream on the current device.
class Stream {
 public:
  Stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags"); }
  /// Takes over the stream.
  Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  /// Destroys the own stream, takes over the other.
  Stream& operator=(Stream&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  Stream(Stream const&) = delete;
  Stream& operator=(Stream const&) = delete;
  ~Stream() { reset(); }

  /// The CUDA stream.
  cudaStream_t get() const noexcept { return s_; }
  /// The CUDA stream.
  operator cudaStream_t() const noexcept { return s_; }
  /// Waits for the work queued on the stream; throws Error on a CUDA error.
  void synchronize() const { check(cudaStreamSynchronize(s_), "cudaStreamSynchronize"); }

 private:
  void reset() noexcept {
    if (s_) cudaStreamDestroy(s_);
    s_ = nullptr;
  }
  cudaStream_t s_ = nullptr;
};

/// Waits for the work queued on `stream`; throws Error on a CUDA error.
inline void synchronize(cudaStream_t stream) { check(cudaStreamSynchronize(stream), "cudaStreamSynchronize"); }

/// A typed device pointer and a length: what the device collectives take.
template <class T>
struct DeviceSpan {
  /// First element (device memory).
  T* ptr = nullptr;
  /// Number of elements.
  std::size_t count = 0;
  /// First element (device memory).
  T* data() const noexcept { return ptr; }
  /// Number of elements.
  std::size_t size() const noexcept { return count; }
  /// True with no element.
  bool empty() const noexcept { return count == 0; }
  /// The same elements, read-only.
  template <class U = T>
    requires(!std::is_const_v<U>)
  operator DeviceSpan<U const>() const noexcept {
    return {ptr, count};
  }
};

/// An owning array of `size` elements of device memory, uninitialised, allocated and freed in
/// order on `stream` (the default stream unless given).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  /// `n` uninitialised elements, allocated on `stream`; throws Error if the allocation fails.
  explicit DeviceBuffer(std::size_t n, cudaStream_t stream = nullptr) : n_(n), stream_(stream) {
    if (n > 0) check(cudaMallocAsync(reinterpret_cast<void**>(&p_), n * sizeof(T), stream), "cudaMallocAsync");
  }
  /// Takes over the memory.
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)), stream_(o.stream_) {}
  /// Frees the own memory, takes over the other's.
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
      stream_ = o.stream_;
    }
    return *this;
  }
  DeviceBuffer(DeviceBuffer const&) = delete;
  DeviceBuffer& operator=(DeviceBuffer const&) = delete;
  ~DeviceBuffer() { release(); }

  /// First element (device memory).
  T* data() noexcept { return p_; }
  /// First element (device memory).
  T const* data() const noexcept { return p_; }
  /// Number of elements.
  std::size_t size() const noexcept { return n_; }
  /// The elements as a DeviceSpan.
  DeviceSpan<T> span() noexcept { return {p_, n_}; }
  /// The elements as a DeviceSpan.
  DeviceSpan<T const> span() const noexcept { return {p_, n_}; }
  /// Grows to at least n elements (contents are lost when it grows).
  void reserve(std::size_t n) {
    if (n > n_) *this = DeviceBuffer(n, stream_);
  }
  /// Zeroes the elements (memset queued on `stream`).
  void set_zero(cudaStream_t stream) {
    if (n_ > 0) check(cudaMemsetAsync(p_, 0, n_ * sizeof(T), stream), "cudaMemsetAsync");
  }

 private:
  void release() noexcept {
    if (p_) cudaFreeAsync(p_, stream_);  // after the work queued on stream_; cannot throw here
    p_ = nullptr;
    n_ = 0;
  }
  T* p_ = nullptr;
  std::size_t n_ = 0;
  cudaStream_t stream_ = nullptr;
};

/// A row-major tensor in device memory, shape semantics of Tensor<T, Rank>.
template <class T, int Rank>
class DeviceTensor {
 public:
  /// Element type (as Eigen's Tensor::Scalar).
  using Scalar = T;
  /// Rank (as Eigen's Tensor::NumDimensions).
  static constexpr int NumDimensions = Rank;

  DeviceTensor() = default;
  /// Uninitialised tensor of the given shape.
  explicit DeviceTensor(Shape<Rank> const& shape) : shape_(checked(shape)), buf_(std::size_t(numel(shape))) {}
  /// Zero tensor of the given shape (the memset is queued on `stream`).
  static DeviceTensor zeros(Shape<Rank> const& shape, cudaStream_t stream = nullptr) {
    DeviceTensor t(shape);
    t.set_zero(stream);
    return t;
  }

  /// Takes over the memory; `o` is left empty.
  DeviceTensor(DeviceTensor&& o) noexcept : shape_(std::exchange(o.shape_, Shape<Rank>{})), buf_(std::move(o.buf_)) {}
  /// Takes over the memory; `o` is left empty.
  DeviceTensor& operator=(DeviceTensor&& o) noexcept {
    if (this != &o) {
      shape_ = std::exchange(o.shape_, Shape<Rank>{});
      buf_ = std::move(o.buf_);
    }
    return *this;
  }
  /// A deep copy, device to device on the default stream (like copying a host tensor).
  DeviceTensor(DeviceTensor const& o) : DeviceTensor(o.shape_) { copy_device(o); }
  /// A deep copy, device to device on the default stream.
  DeviceTensor& operator=(DeviceTensor const& o) {
    if (this == &o) return *this;
    if (shape_ != o.shape_) *this = DeviceTensor(o.shape_);
    copy_device(o);
    return *this;
  }

  /// A deep copy (device to device on `stream`).
  DeviceTensor clone(cudaStream_t stream = nullptr) const {
    DeviceTensor t(shape_);
    t.copy_device(*this, stream);
    return t;
  }

  /// The shape.
  Shape<Rank> const& shape() const noexcept { return shape_; }
  /// Extent of dimension i.
  Index dimension(int i) const noexcept { return shape_[std::size_t(i)]; }
  /// Number of elements.
  Index size() const noexcept { return Index(buf_.size()); }
  /// Size in bytes.
  std::size_t bytes() const noexcept { return buf_.size() * sizeof(T); }
  /// First element (device memory).
  T* data() noexcept { return buf_.data(); }
  /// First element (device memory).
  T const* data() const noexcept { return buf_.data(); }
  /// The elements as a DeviceSpan.
  DeviceSpan<T> span() noexcept { return buf_.span(); }
  /// The elements as a DeviceSpan.
  DeviceSpan<T const> span() const noexcept { return buf_.span(); }

  /// Zeroes the tensor (memset queued on `stream`).
  void set_zero(cudaStream_t stream = nullptr) { buf_.set_zero(stream); }

  /// Copies `host` (same shape) into this tensor; returns when the copy is done.
  void copy_from(Tensor<T, Rank> const& host, cudaStream_t stream = nullptr) {
    DISTINV_REQUIRE(shape_of(host) == shape_, "DeviceTensor::copy_from: expected a host tensor of shape ",
                    to_string(shape_), ", got ", to_string(shape_of(host)));
    if (size() == 0) return;
    check(cudaMemcpyAsync(data(), host.data(), bytes(), cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync");
    synchronize(stream);
  }
  /// Copies this tensor into `host` (resized to this shape); returns when the copy is done.
  void copy_to(Tensor<T, Rank>& host, cudaStream_t stream = nullptr) const {
    if (shape_of(host) != shape_) host.resize(shape_);
    if (size() == 0) return;
    check(cudaMemcpyAsync(host.data(), data(), bytes(), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync");
    synchronize(stream);
  }
  /// A host copy of this tensor.
  Tensor<T, Rank> to_host(cudaStream_t stream = nullptr) const {
    Tensor<T, Rank> h(shape_);
    copy_to(h, stream);
    return h;
  }

 private:
  void copy_device(DeviceTensor const& o, cudaStream_t stream = nullptr) {
    if (size() > 0)
      check(cudaMemcpyAsync(data(), o.data(), bytes(), cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync");
  }
  static Shape<Rank> const& checked(Shape<Rank> const& s) {
    for (auto d : s) DISTINV_REQUIRE(d >= 0, "DeviceTensor: expected non-negative dimensions, got ", to_string(s));
    return s;
  }
  Shape<Rank> shape_{};
  DeviceBuffer<T> buf_;
};

/// A (B, C, H, W) device tensor.
template <class T>
using DeviceTensor4 = DeviceTensor<T, 4>;

/// A device copy of a host tensor; returns when the copy is done.
template <HostTensor X>
DeviceTensor<scalar_t<X>, rank_v<X>> to_device(X const& host, cudaStream_t stream = nullptr) {
  DeviceTensor<scalar_t<X>, rank_v<X>> t(shape_of(host));
  t.copy_from(host, stream);
  return t;
}

}  // namespace distinv::cuda
