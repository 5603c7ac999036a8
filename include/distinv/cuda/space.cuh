#pragma once
// cuda/space.cuh: the CUDA space, space_traits<device::Cuda> (see core/space.hpp): signals
// are cuda::DeviceTensor, buffers cuda::DeviceBuffer (stream-ordered pool memory), the
// launcher is cuda::Launch on the device's stream, transfers are synchronous cudaMemcpy.
// The device's FFT engine (cuFFT) is set in cuda/fft.cuh. Needs nvcc.
#include <cuda_runtime.h>

#include "distinv/core/space.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/comm.hpp"
#include "distinv/cuda/kernels.cuh"

namespace distinv {

template <>
struct space_traits<device::Cuda> {
  /// The tensor of this space: cuda::DeviceTensor<T, R>.
  template <class T, int R>
  using tensor = cuda::DeviceTensor<T, R>;
  /// The buffer of this space: cuda::DeviceBuffer<E>.
  template <class E>
  using buffer = cuda::DeviceBuffer<E>;
  /// A view of device elements: cuda::DeviceSpan<E>.
  template <class E>
  using span = cuda::DeviceSpan<E>;
  /// True: device memory.
  static constexpr bool on_device = true;

  /// The launcher of index functors on the device's stream.
  static cuda::Launch launcher(device::Cuda const& d = {}) noexcept { return {d.stream}; }
  /// n uninitialised E, allocated and freed in the order of the device's stream (so that a
  /// buffer freed after launches on that stream outlives them).
  template <class E>
  static buffer<E> allocate(Index n, device::Cuda const& d = {}) {
    return buffer<E>(std::size_t(n), d.stream);
  }
  /// Copies n elements from the host to the device (returns when done).
  template <class E>
  static void upload(E const* host_src, E* dst, Index n, device::Cuda const& d = {}) {
    if (n > 0) cuda::check(cudaMemcpyAsync(dst, host_src, std::size_t(n) * sizeof(E), cudaMemcpyHostToDevice, d.stream),
                           "cudaMemcpyAsync");
    cuda::synchronize(d.stream);
  }
  /// Copies n elements from the device to the host (returns when done).
  template <class E>
  static void download(E const* src, E* host_dst, Index n, device::Cuda const& d = {}) {
    if (n > 0) cuda::check(cudaMemcpyAsync(host_dst, src, std::size_t(n) * sizeof(E), cudaMemcpyDeviceToHost, d.stream),
                           "cudaMemcpyAsync");
    cuda::synchronize(d.stream);
  }
  /// All-reduce of a device buffer through the backend's device path.
  template <CommBackend Comm, class E>
  static void all_reduce(Comm const& comm, cuda::DeviceSpan<E> buf, ReduceOp op) {
    cuda::all_reduce(comm, buf, op);
  }
};

}  // namespace distinv
