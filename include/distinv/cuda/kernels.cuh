#pragma once
// cuda/kernels.cuh: the CUDA launchers of the host/device functors of core/kernels/ and the
// device reductions; cuda::Launch is the launcher object (the twin of host::Launch). for_each(n, f, stream) runs f(e) for e < n in a grid-stride kernel;
// Reducer sums f(e) in double with a fixed two-pass block reduction (same grid for the same n,
// so the result does not change from run to run). The math lives in the functors; the
// __global__ bodies here only index. Needs nvcc (include from .cu files).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/cuda/device_tensor.hpp"

namespace distinv::cuda {

namespace detail {

inline constexpr int block_size = 256;       // threads per block of every distinv kernel
inline constexpr int max_blocks = 1 << 16;   // grid cap of for_each (grid-stride beyond)
inline constexpr int reduce_blocks = 256;    // partial sums of a reduction

template <class F>
__global__ void for_each_kernel(Index n, F f) {
  Index const stride = Index(gridDim.x) * Index(blockDim.x);
  for (Index e = Index(blockIdx.x) * Index(blockDim.x) + Index(threadIdx.x); e < n; e += stride) f(e);
}

/// partials[blockIdx.x] = sum over this block's grid-stride share of f(e), in double.
/// Launched with exactly block_size threads per block.
template <class F>
__global__ void reduce_partials_kernel(Index n, F f, double* partials) {
  __shared__ double s[block_size];
  double acc = 0;
  Index const stride = Index(gridDim.x) * Index(blockDim.x);
  for (Index e = Index(blockIdx.x) * Index(blockDim.x) + Index(threadIdx.x); e < n; e += stride) acc += f(e);
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int w = block_size / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = s[0];
}

/// out[0] = sum of partials[0 .. m); one block of block_size threads. (A template only so that
/// the header can be included by several translation units.)
template <class = void>
__global__ void reduce_final_kernel(int m, double const* partials, double* out) {
  __shared__ double s[block_size];
  double acc = 0;
  for (int i = int(threadIdx.x); i < m; i += block_size) acc += partials[i];
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int w = block_size / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = s[0];
}

}  // namespace detail

/// Runs f(e) for e = 0 .. n-1 on the device, queued on `stream` (asynchronous).
/// F: a trivially copyable functor with a DISTINV_HOST_DEVICE operator()(Index).
template <class F>
void for_each(Index n, F const& f, cudaStream_t stream = nullptr) {
  DISTINV_REQUIRE(n >= 0, "cuda::for_each: expected a non-negative count, got ", n);
  if (n == 0) return;
  Index const blocks = std::min<Index>((n + detail::block_size - 1) / detail::block_size, detail::max_blocks);
  detail::for_each_kernel<<<unsigned(blocks), detail::block_size, 0, stream>>>(n, f);
  check(cudaGetLastError(), "cuda::for_each kernel launch");
}

namespace detail {
/// f(e / cols, e % cols): a grid functor run by the 1-D launcher.
template <class F>
struct GridOf {
  F f;
  Index cols;
  DISTINV_HOST_DEVICE void operator()(Index e) const { f(e / cols, e % cols); }
};
}  // namespace detail

/// Device sums in double. Owns its scratch (partials on the device, one pinned result), so a
/// Reducer is reused across calls without allocating; not for concurrent use by two threads.
class Reducer {
 public:
  Reducer() : partials_(detail::reduce_blocks + 1) {
    check(cudaMallocHost(reinterpret_cast<void**>(&host_), sizeof(double)), "cudaMallocHost");
  }
  /// Takes over the buffers.
  Reducer(Reducer&& o) noexcept : partials_(std::move(o.partials_)), host_(std::exchange(o.host_, nullptr)) {}
  Reducer& operator=(Reducer&&) = delete;
  Reducer(Reducer const&) = delete;
  Reducer& operator=(Reducer const&) = delete;
  ~Reducer() {
    if (host_) cudaFreeHost(host_);
  }

  /// sum of f(e), e < n (F returns double); waits for the result.
  template <class F>
  double sum(Index n, F const& f, cudaStream_t stream = nullptr) {
    DISTINV_REQUIRE(n >= 0, "cuda::Reducer::sum: expected a non-negative count, got ", n);
    if (n == 0) return 0.0;
    int const blocks =
        int(std::min<Index>((n + detail::block_size - 1) / detail::block_size, detail::reduce_blocks));
    double* partials = partials_.data();
    detail::reduce_partials_kernel<<<unsigned(blocks), detail::block_size, 0, stream>>>(n, f, partials);
    check(cudaGetLastError(), "cuda::Reducer partial sums launch");
    detail::reduce_final_kernel<><<<1, detail::block_size, 0, stream>>>(blocks, partials, partials + detail::reduce_blocks);
    check(cudaGetLastError(), "cuda::Reducer final sum launch");
    check(cudaMemcpyAsync(host_, partials + detail::reduce_blocks, sizeof(double), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync");
    synchronize(stream);
    return *host_;
  }

 private:
  DeviceBuffer<double> partials_;  // reduce_blocks partial sums, then the total
  double* host_ = nullptr;
};

/// This host thread's reducer for the current device (created on first use).
inline Reducer& thread_reducer() {
  thread_local std::vector<std::unique_ptr<Reducer>> per_device;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  if (per_device.size() <= std::size_t(device)) per_device.resize(std::size_t(device) + 1);
  auto& r = per_device[std::size_t(device)];
  if (!r) r = std::make_unique<Reducer>();
  return *r;
}

/// The device launcher, the twin of host::Launch (host/for_each.hpp): index functors queued
/// on `stream`; `sum` waits for its result (deterministic for a given n: fixed grid).
struct Launch {
  /// The stream the kernels are queued on.
  cudaStream_t stream = nullptr;
  /// Queues f(i) for i in [0, n).
  template <class F>
  void operator()(Index n, F const& f) const {
    for_each(n, f, stream);
  }
  /// Queues f(r, c) for r < rows, c < cols, one thread per call (`work`, the host launcher's
  /// grain hint, is not needed).
  template <class F>
  void grid(Index rows, Index cols, F const& f, Index /*work*/ = 1) const {
    if (rows > 0 && cols > 0) for_each(rows * cols, detail::GridOf<F>{f, cols}, stream);
  }
  /// Σ f(i) for i in [0, n), in double, in a fixed order; waits for the result.
  template <class F>
  double sum(Index n, F const& f) const {
    return thread_reducer().sum(n, f, stream);
  }
};

// ---- tensor-level wrappers (shapes checked, queued on `stream`) ---------------------------

namespace detail {
template <class T, int R>
void require_same_shape(DeviceTensor<T, R> const& a, DeviceTensor<T, R> const& b, char const* what) {
  DISTINV_REQUIRE(a.shape() == b.shape(), what, ": expected shape ", to_string(a.shape()), ", got ",
                  to_string(b.shape()));
}
}  // namespace detail

/// y += a x
template <class T, int R>
void axpy(T a, DeviceTensor<T, R> const& x, DeviceTensor<T, R>& y, cudaStream_t stream = nullptr) {
  detail::require_same_shape(x, y, "cuda::axpy");
  for_each(x.size(), kernels::Axpy<T>{a, x.data(), y.data()}, stream);
}

/// x *= a
template <class T, int R>
void scale(T a, DeviceTensor<T, R>& x, cudaStream_t stream = nullptr) {
  for_each(x.size(), kernels::Map{kernels::Scale<T>{a}, x.data(), x.data()}, stream);
}

/// <a, b> accumulated in double
template <class T, int R>
double dot(DeviceTensor<T, R> const& a, DeviceTensor<T, R> const& b, Reducer& reducer, cudaStream_t stream = nullptr) {
  detail::require_same_shape(a, b, "cuda::dot");
  return reducer.sum(a.size(), kernels::DotTerm<T>{a.data(), b.data()}, stream);
}
/// ⟨a, b⟩ in double; waits for the result.
template <class T, int R>
double dot(DeviceTensor<T, R> const& a, DeviceTensor<T, R> const& b, cudaStream_t stream = nullptr) {
  return dot(a, b, thread_reducer(), stream);
}

/// ||a||_2 accumulated in double
template <class T, int R>
double norm(DeviceTensor<T, R> const& a, Reducer& reducer, cudaStream_t stream = nullptr) {
  return std::sqrt(reducer.sum(a.size(), kernels::SquareTerm<T>{a.data()}, stream));
}
/// sqrt(⟨a, a⟩); waits for the result.
template <class T, int R>
double norm(DeviceTensor<T, R> const& a, cudaStream_t stream = nullptr) {
  return norm(a, thread_reducer(), stream);
}

}  // namespace distinv::cuda
