#pragma once
// cuda/fft.cuh: the device FFT engine cuda::Cufft (see fft/engine.hpp) over cuFFT (the
// default engine of device::Cuda, set beside it in cuda/device_tensor.hpp). CufftPlan<T> holds one batched R2C / C2R plan pair
// (cuda/fft.hpp) on the device's stream; filter / analyse / synthesise run the forward
// transform into a spectrum buffer, the functor over every coefficient (one kernel), and the
// inverse. Executions of one plan are serialised by a lock (cuFFT plans are not for
// concurrent use). Needs nvcc.
#include <cuda_runtime.h>

#include <mutex>
#include <string_view>

#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/fft.hpp"
#include "distinv/cuda/kernels.cuh"
#include "distinv/fft/engine.hpp"

namespace distinv::cuda {

namespace detail {
/// f(e, X[e]) at element e.
template <class F, class T>
struct ApplyAt {
  F f;
  kernels::Complex<T>* X;
  DISTINV_HOST_DEVICE void operator()(Index e) const { f(e, X[e]); }
};
/// X[e] = g(e).
template <class G, class T>
struct StoreAt {
  G g;
  kernels::Complex<T>* X;
  DISTINV_HOST_DEVICE void operator()(Index e) const { X[e] = g(e); }
};
}  // namespace detail

/// The batched plan of cuda::Cufft: `planes` H x W planes, on the device's stream.
template <class T>
class CufftPlan {
 public:
  /// Complex element type of the spectra.
  using complex_type = kernels::Complex<T>;

  /// `planes` planes of rows x cols on the device's stream; throws Error on a cuFFT error.
  CufftPlan(Index rows, Index cols, Index planes, device::Cuda const& dev = {})
      : plan_(rows, cols, planes, dev.stream), stream_(dev.stream) {}
  /// Rows of each plane.
  Index rows() const noexcept { return plan_.height(); }
  /// Columns of each plane.
  Index cols() const noexcept { return plan_.width(); }
  /// Number of planes.
  Index planes() const noexcept { return plan_.batch(); }
  /// Elements of one plane's half spectrum.
  Index plane_spectrum() const noexcept { return rows() * (cols() / 2 + 1); }
  /// Elements of all the planes' half spectra.
  Index spectrum_size() const noexcept { return plan_.spectrum_size(); }

  /// out = F⁻¹(f(F in)); f(e, complex_type& v) for every spectrum index e. `out` may be `in`.
  template <class F>
  void filter(T const* in, T* out, F const& f) const {
    std::lock_guard lock(mutex_);
    DeviceBuffer<complex_type> X(std::size_t(spectrum_size()), stream_);
    plan_.forward(in, X.data());
    for_each(spectrum_size(), detail::ApplyAt<F, T>{f, X.data()}, stream_);
    plan_.inverse(X.data(), out);
  }
  /// f(e, complex_type const& v) for every coefficient of F in.
  template <class F>
  void analyse(T const* in, F const& f) const {
    std::lock_guard lock(mutex_);
    DeviceBuffer<complex_type> X(std::size_t(spectrum_size()), stream_);
    plan_.forward(in, X.data());
    for_each(spectrum_size(), detail::ApplyAt<F, T>{f, X.data()}, stream_);
  }
  /// out = F⁻¹(g), g(e) the coefficient of spectrum index e.
  template <class G>
  void synthesise(G const& g, T* out) const {
    std::lock_guard lock(mutex_);
    DeviceBuffer<complex_type> X(std::size_t(spectrum_size()), stream_);
    for_each(spectrum_size(), detail::StoreAt<G, T>{g, X.data()}, stream_);
    plan_.inverse(X.data(), out);
  }

 private:
  FftPlan2d<T> plan_;
  cudaStream_t stream_;
  mutable std::mutex mutex_;
};

/// The device FFT engine (cuFFT).
struct Cufft {
  /// True: plans exist.
  static constexpr bool available = true;
  /// "cufft".
  static constexpr std::string_view name() { return "cufft"; }
  /// The batched plan, CufftPlan<T>.
  template <class T>
  using plan = CufftPlan<T>;
};

}  // namespace distinv::cuda
