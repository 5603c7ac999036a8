#pragma once
// cuda/denoisers.cuh: the TV and wavelet denoisers of optim/denoisers/ on (B, C, H, W) device
// tensors: cuda::TVDenoiser<T> (FGP, fixed iterations) and cuda::WaveletDenoiser<T> (periodic
// orthogonal Haar / db4, soft / hard), same parameters, checks and results (to rounding) as
// optim::TVDenoiser / optim::WaveletDenoiser; also cuda::wavelet_forward / wavelet_inverse.
// The math is in core/kernels/{tv,wavelet}.hpp, launched here. Needs nvcc.
#include <cuda_runtime.h>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/tv.hpp"
#include "distinv/core/kernels/wavelet.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/kernels.cuh"

namespace distinv::cuda {

using kernels::ThresholdMode;
using kernels::Wavelet;

namespace detail {

/// Device work space owned by a denoiser: grows on demand, kept between calls. A copy of its
/// owner starts with an empty one (so denoisers stay copyable, and copies share nothing).
template <class T>
class WorkSpace {
 public:
  WorkSpace() = default;
  WorkSpace(WorkSpace const&) {}
  WorkSpace& operator=(WorkSpace const&) { return *this; }
  WorkSpace(WorkSpace&&) noexcept = default;
  WorkSpace& operator=(WorkSpace&&) noexcept = default;

  /// At least n values (contents unspecified).
  T* get(Index n) {
    buf_.reserve(std::size_t(n));
    return buf_.data();
  }

 private:
  DeviceBuffer<T> buf_;
};

/// Queues kernels::<functor> launches of the host drivers on one stream.
struct StreamLaunch {
  cudaStream_t stream;
  template <class F>
  void operator()(Index n, F const& f) const {
    for_each(n, f, stream);
  }
};

inline void check_wavelet_shape(Index H, Index W, int levels, char const* who) {
  DISTINV_REQUIRE(levels >= 1 && levels < 30, who, ": expected levels >= 1, got ", levels);
  Index const m = Index(1) << levels;
  DISTINV_REQUIRE(H % m == 0 && W % m == 0, who, ": H and W must be multiples of 2^levels = ", m, ", got ", H, " x ",
                  W);
}

}  // namespace detail

/// TV denoiser on the device: prox of lambda TV per (b, c) plane with lambda = scale * sigma,
/// `max_iter` FGP iterations (see optim::TVDenoiser); receptive_field() == max_iter.
/// Work is queued on `stream`; the returned tensor is ready once that stream is synchronised
/// (to_host does it). The dual fields are cached in the object: not for concurrent use by
/// two host threads (a copy has its own cache).
template <class T>
class TVDenoiser {
 public:
  int max_iter = 50;
  double scale = 1.0;
  cudaStream_t stream = nullptr;

  TVDenoiser() = default;
  TVDenoiser(int max_iter_, double scale_ = 1.0, cudaStream_t stream_ = nullptr)
      : max_iter(max_iter_), scale(scale_), stream(stream_) {}

  DeviceTensor<T, 4> operator()(DeviceTensor<T, 4> const& x, double sigma) const {
    DISTINV_REQUIRE(sigma >= 0, "cuda::TVDenoiser: expected sigma >= 0, got ", sigma);
    DISTINV_REQUIRE(max_iter >= 0, "cuda::TVDenoiser: expected max_iter >= 0, got ", max_iter);
    Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3), n = x.size();
    DeviceTensor<T, 4> u(x.shape());
    if (n == 0) return u;
    T* w = work_.get(4 * n);
    kernels::tv_fgp(detail::StreamLaunch{stream}, x.data(), u.data(), kernels::TvWork<T>{w, w + n, w + 2 * n, w + 3 * n},
                    planes, H, W, scale * sigma, max_iter);
    return u;
  }
  Index receptive_field() const { return max_iter; }

 private:
  mutable detail::WorkSpace<T> work_;
};

/// Wavelet denoiser on the device (see optim::WaveletDenoiser): forward transform, threshold
/// of every detail coefficient at threshold(sigma), inverse. H, W multiples of 2^levels.
/// Same stream and caching rules as cuda::TVDenoiser.
template <class T>
class WaveletDenoiser {
 public:
  Wavelet wavelet = Wavelet::db4;
  int levels = 3;
  ThresholdMode mode = ThresholdMode::soft;
  double threshold_scale = 0;
  cudaStream_t stream = nullptr;

  WaveletDenoiser() = default;
  WaveletDenoiser(Wavelet wavelet_, int levels_ = 3, ThresholdMode mode_ = ThresholdMode::soft,
                  double threshold_scale_ = 0, cudaStream_t stream_ = nullptr)
      : wavelet(wavelet_), levels(levels_), mode(mode_), threshold_scale(threshold_scale_), stream(stream_) {}

  /// threshold_scale * sigma; threshold_scale <= 0 picks 3 (hard) or 1.5 (soft).
  double threshold(double sigma) const {
    double const s = threshold_scale > 0 ? threshold_scale : (mode == ThresholdMode::hard ? 3.0 : 1.5);
    return s * sigma;
  }

  DeviceTensor<T, 4> operator()(DeviceTensor<T, 4> const& x, double sigma) const {
    DISTINV_REQUIRE(sigma >= 0, "cuda::WaveletDenoiser: expected sigma >= 0, got ", sigma);
    detail::check_wavelet_shape(x.dimension(2), x.dimension(3), levels, "cuda::WaveletDenoiser");
    Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3);
    DeviceTensor<T, 4> out(x.shape());
    if (x.size() == 0) return out;
    kernels::wavelet_denoise(detail::StreamLaunch{stream}, x.data(), out.data(), work_.get(x.size()), planes, H, W,
                             kernels::wavelet_taps(wavelet), levels, T(threshold(sigma)), mode == ThresholdMode::soft);
    return out;
  }
  Index receptive_field() const { return kernels::wavelet_receptive_field(wavelet, levels); }

 private:
  mutable detail::WorkSpace<T> work_;
};

/// Orthogonal `levels`-level 2D transform of every (b, c) plane, Mallat layout (see
/// optim::wavelet_forward); queued on `stream`.
template <class T>
DeviceTensor<T, 4> wavelet_forward(DeviceTensor<T, 4> const& x, Wavelet w, int levels, cudaStream_t stream = nullptr) {
  detail::check_wavelet_shape(x.dimension(2), x.dimension(3), levels, "cuda::wavelet_forward");
  DeviceTensor<T, 4> out(x.shape());
  if (x.size() == 0) return out;
  DeviceBuffer<T> scratch(std::size_t(x.size()));
  kernels::wavelet_transform(detail::StreamLaunch{stream}, x.data(), out.data(), scratch.data(),
                             x.dimension(0) * x.dimension(1), x.dimension(2), x.dimension(3), kernels::wavelet_taps(w),
                             levels, false);
  return out;  // freeing `scratch` waits for the device
}

/// Inverse of wavelet_forward; queued on `stream`.
template <class T>
DeviceTensor<T, 4> wavelet_inverse(DeviceTensor<T, 4> const& c, Wavelet w, int levels, cudaStream_t stream = nullptr) {
  detail::check_wavelet_shape(c.dimension(2), c.dimension(3), levels, "cuda::wavelet_inverse");
  DeviceTensor<T, 4> out(c.shape());
  if (c.size() == 0) return out;
  DeviceBuffer<T> scratch(std::size_t(c.size()));
  kernels::wavelet_transform(detail::StreamLaunch{stream}, c.data(), out.data(), scratch.data(),
                             c.dimension(0) * c.dimension(1), c.dimension(2), c.dimension(3), kernels::wavelet_taps(w),
                             levels, true);
  return out;
}

}  // namespace distinv::cuda
