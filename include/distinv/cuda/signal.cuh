#pragma once
// cuda/signal.cuh: cuda::DeviceTensor as a distinv Signal, so that the generic templates
// (distributed stack, data fidelity, tiling, solvers) run over device buffers unchanged:
// eager arithmetic operators (+, -, * by a scalar, +=, -=, *=), and signal_traits (zeros,
// fill, host transfers, element-wise map2 / sum2 with host/device functors, dot, all-reduce
// and broadcast through the rank's host CommBackend). Every kernel is queued on the default
// stream, whose order makes the results visible to the next operation; reductions and
// transfers wait for it. Collectives go to the backend's NCCL communicator where it has one
// (comm::WithNccl), pass device pointers straight to a backend whose comm_traits report device_aware (a
// CUDA-aware MPI), or else stage through pinned host memory (one buffer per host thread).
// Needs nvcc.
#include <cuda_runtime.h>

#include <span>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/cuda/comm.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/kernels.cuh"

namespace distinv::cuda {

namespace detail {
/// out[e] = a[e] + s b[e]
template <class T>
struct Lincomb {
  T const* a;
  T s;
  T const* b;
  T* out;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = a[e] + s * b[e]; }
};
/// out[e] = f(a[e], b[e])
template <class F, class T>
struct Map2 {
  F f;
  T const* a;
  T const* b;
  T* out;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = f(a[e], b[e]); }
};
/// f(a[e], b[e]) as a reduction term
template <class F, class T>
struct Sum2Term {
  F f;
  T const* a;
  T const* b;
  DISTINV_HOST_DEVICE double operator()(Index e) const noexcept { return double(f(a[e], b[e])); }
};

}  // namespace detail

// ---- arithmetic, eager, on the default stream ---------------------------------------------

/// a += b, eager on the default stream.
template <class T, int R>
DeviceTensor<T, R>& operator+=(DeviceTensor<T, R>& a, DeviceTensor<T, R> const& b) {
  axpy(T(1), b, a);
  return a;
}
/// a −= b, eager on the default stream.
template <class T, int R>
DeviceTensor<T, R>& operator-=(DeviceTensor<T, R>& a, DeviceTensor<T, R> const& b) {
  axpy(T(-1), b, a);
  return a;
}
/// a *= s, eager on the default stream.
template <class T, int R>
DeviceTensor<T, R>& operator*=(DeviceTensor<T, R>& a, std::type_identity_t<T> s) {
  scale(s, a);
  return a;
}
/// a + s b, one kernel.
template <class T, int R>
DeviceTensor<T, R> lincomb(DeviceTensor<T, R> const& a, T s, DeviceTensor<T, R> const& b) {
  detail::require_same_shape(a, b, "DeviceTensor arithmetic");
  DeviceTensor<T, R> out(a.shape());
  for_each(a.size(), detail::Lincomb<T>{a.data(), s, b.data(), out.data()});
  return out;
}
/// a + b, a new device tensor.
template <class T, int R>
DeviceTensor<T, R> operator+(DeviceTensor<T, R> const& a, DeviceTensor<T, R> const& b) {
  return lincomb(a, T(1), b);
}
/// a − b, a new device tensor.
template <class T, int R>
DeviceTensor<T, R> operator-(DeviceTensor<T, R> const& a, DeviceTensor<T, R> const& b) {
  return lincomb(a, T(-1), b);
}
/// a s, a new device tensor.
template <class T, int R>
DeviceTensor<T, R> operator*(DeviceTensor<T, R> const& a, std::type_identity_t<T> s) {
  DeviceTensor<T, R> out(a.shape());
  for_each(a.size(), kernels::Map{kernels::Scale<T>{s}, a.data(), out.data()});
  return out;
}
/// s a, a new device tensor.
template <class T, int R>
DeviceTensor<T, R> operator*(std::type_identity_t<T> s, DeviceTensor<T, R> const& a) {
  return a * s;
}

}  // namespace distinv::cuda

namespace distinv {

template <class T, int R>
struct signal_traits<cuda::DeviceTensor<T, R>> {
  /// The device tensor.
  using tensor_type = cuda::DeviceTensor<T, R>;
  /// The host tensor it copies to.
  using host_type = Tensor<T, R>;
  /// CUDA device memory.
  using space_type = device::Cuda;
  /// True: device memory.
  static constexpr bool on_device = true;

  /// A zero tensor of shape `s`.
  static tensor_type zeros(Shape<R> const& s) { return tensor_type::zeros(s); }
  /// A tensor of shape `s` filled with `value`.
  static tensor_type filled(Shape<R> const& s, T value) {
    tensor_type t(s);
    cuda::for_each(t.size(), kernels::Fill<T>{value, t.data()});
    return t;
  }
  /// A host copy (waits for it).
  static host_type to_host(tensor_type const& x) { return x.to_host(); }
  /// A device copy of `h`.
  static tensor_type from_host(host_type const& h) { return cuda::to_device(h); }

  /// f element-wise on the device.
  template <class F>
  static tensor_type map2(tensor_type const& a, tensor_type const& b, F const& f) {
    tensor_type out(a.shape());
    cuda::for_each(a.size(), cuda::detail::Map2<F, T>{f, a.data(), b.data(), out.data()});
    return out;
  }
  /// Σ f(a[i], b[i]) in double on the device.
  template <class F>
  static double sum2(tensor_type const& a, tensor_type const& b, F const& f) {
    return cuda::thread_reducer().sum(a.size(), cuda::detail::Sum2Term<F, T>{f, a.data(), b.data()});
  }
  /// ⟨a, b⟩ in double.
  static double dot(tensor_type const& a, tensor_type const& b) {
    return cuda::thread_reducer().sum(a.size(), kernels::DotTerm<T>{a.data(), b.data()});
  }
  /// max |a_i − b_i|.
  static double max_abs_diff(tensor_type const& a, tensor_type const& b) {
    return distinv::max_abs_diff(a.to_host(), b.to_host());  // tests and diagnostics only
  }

  /// All-reduce through the backend's device path (device-aware, device communicator, or host staging).
  template <CommBackend Comm>
  static void all_reduce(Comm const& comm, tensor_type& x, ReduceOp op) {
    cuda::all_reduce(comm, x.span(), op);
  }
  /// Broadcast through the backend's device path.
  template <CommBackend Comm>
  static void broadcast(Comm const& comm, tensor_type& x, int root) {
    cuda::broadcast(comm, x.span(), root);
  }
};

static_assert(DeviceSignal<cuda::DeviceTensor<float, 4>>);
static_assert(DeviceSignal<cuda::DeviceTensor<double, 5>>);

}  // namespace distinv
