#pragma once
// optim/denoisers/wavelet.hpp: orthogonal 2D wavelet transform (separable, periodic boundary,
// Mallat layout per (b, c) plane) with Haar or Daubechies db4 (PyWavelets naming: 4 vanishing
// moments, 8 taps), its inverse, and WaveletDenoiser (soft / hard thresholding of the detail
// coefficients at threshold_scale * sigma) of any size. All run on any Signal (host or device
// tensors) through its space; the transform is core/kernels/wavelet.hpp. Models Denoiser.
// core/, host/ and oneTBB only.
#include <string>
#include <string_view>
#include <type_traits>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/wavelet.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/host/space.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/denoisers/planes.hpp"

namespace distinv::optim {

// The wavelets, their filters and the receptive field live with the functors.
using kernels::ThresholdMode;
using kernels::Wavelet;
using kernels::wavelet_filter;
using kernels::wavelet_receptive_field;

/// "haar" or "db4" as a Wavelet; throws Error for another name.
inline Wavelet parse_wavelet(std::string_view s) {
  if (s == "haar") return Wavelet::haar;
  if (s == "db4") return Wavelet::db4;
  fail("unknown wavelet \"", std::string(s), "\": expected one of haar, db4");
}

namespace detail {
template <Signal X>
X wavelet_apply(X const& x, Wavelet w, int levels, bool inverse, space_of_t<X> const& space, char const* who) {
  using T = scalar_t<X>;
  Index const H = x.dimension(2), W = x.dimension(3);
  kernels::check_wavelet_shape(H, W, levels, who);
  auto const taps = kernels::wavelet_taps(w);
  X out(shape_of(x));
  for_plane_batches(space, x.dimension(0) * x.dimension(1), [&](auto const& launch, Index p0, Index count) {
    auto scratch = allocate<T>(count * H * W, space);
    kernels::wavelet_transform(launch, x.data() + p0 * H * W, out.data() + p0 * H * W, scratch.data(), count, H, W,
                               taps, levels, inverse);
  });
  return out;
}
}  // namespace detail

/// Orthogonal L-level 2D transform of every (b, c) plane (periodic boundary). Output in the
/// Mallat layout: the top-left (H/2^L) x (W/2^L) block is the approximation. H and W must be
/// multiples of 2^L.
template <Signal X>
  requires(rank_v<X> == 4)
X wavelet_forward(X const& x, Wavelet w, int levels, space_of_t<X> const& space = {}) {
  return detail::wavelet_apply(x, w, levels, false, space, "wavelet_forward");
}

/// Inverse of wavelet_forward.
template <Signal X>
  requires(rank_v<X> == 4)
X wavelet_inverse(X const& c, Wavelet w, int levels, space_of_t<X> const& space = {}) {
  return detail::wavelet_apply(c, w, levels, true, space, "wavelet_inverse");
}

/// Wavelet denoiser: forward transform, threshold every detail coefficient at
/// tau = threshold_scale * sigma (soft: shrink by tau; hard: zero below tau), inverse.
/// threshold_scale <= 0 picks the default: 3 for hard (the classical 3-sigma rule), 1.5 for
/// soft. The coarse approximation block is kept.
/// Any H x W: a plane whose sides are not multiples of 2^levels is first grown at its last
/// row and column, by mirroring (numpy 'reflect', as the tiling pads a window), to the next
/// multiples, denoised, and cropped back. A mirror has no jump at the plane's edge, so the
/// padding adds no detail coefficients there that the threshold would smear into the plane
/// (a zero or periodic extension would); sides that are multiples are not padded.
/// `d(x, sigma)` takes any (B, C, H, W) Signal of T (`d(x, sigma, space)`: on that space
/// object, e.g. a device::Cuda with its stream).
template <class T>
struct WaveletDenoiser {
  /// The wavelet (default db4).
  Wavelet wavelet = Wavelet::db4;
  /// Decomposition levels (default 3).
  int levels = 3;
  /// Soft (default) or hard thresholding.
  ThresholdMode mode = ThresholdMode::soft;
  /// Threshold = threshold_scale · sigma; 0: 1.5 (soft) or 3 (hard).
  double threshold_scale = 0;

  /// The threshold used at noise level sigma.
  double threshold(double sigma) const {
    double const s = threshold_scale > 0 ? threshold_scale : (mode == ThresholdMode::hard ? 3.0 : 1.5);
    return s * sigma;
  }

  /// Thresholds the detail coefficients of every (b, c) plane; throws Error for sigma < 0 or bad levels.
  template <Signal X>
    requires(std::is_same_v<scalar_t<X>, T> && rank_v<X> == 4)
  X operator()(X const& x, double sigma, space_of_t<X> const& space = {}) const {
    DISTINV_REQUIRE(sigma >= 0, "WaveletDenoiser: expected sigma >= 0, got ", sigma);
    kernels::check_wavelet_levels(levels, "WaveletDenoiser");
    Index const H = x.dimension(2), W = x.dimension(3);
    Index const Hp = kernels::wavelet_size(H, levels), Wp = kernels::wavelet_size(W, levels);
    bool const padded = Hp != H || Wp != W;
    auto const taps = kernels::wavelet_taps(wavelet);
    T const tau = T(threshold(sigma));
    bool const soft = mode == ThresholdMode::soft;
    X out(shape_of(x));
    detail::for_plane_batches(space, x.dimension(0) * x.dimension(1), [&](auto const& launch, Index p0, Index count) {
      Index const np = count * Hp * Wp;
      auto work = detail::allocate<T>(padded ? 2 * np : np, space);  // scratch, then the padded planes
      T const* in = x.data() + p0 * H * W;
      T* o = out.data() + p0 * H * W;
      if (!padded) return kernels::wavelet_denoise(launch, in, o, work.data(), count, H, W, taps, levels, tau, soft);
      T* xp = work.data() + np;
      launch.grid(count * Hp, Wp, kernels::ReflectResize<T>{in, xp, H, W, Hp, Wp});
      kernels::wavelet_denoise(launch, static_cast<T const*>(xp), xp, work.data(), count, Hp, Wp, taps, levels, tau,
                               soft);
      launch.grid(count * H, W, kernels::ReflectResize<T>{xp, o, Hp, Wp, H, W});
    });
    return out;
  }
  /// The reach of the transform (filter length and levels), in samples.
  Index receptive_field() const { return wavelet_receptive_field(wavelet, levels); }
};

static_assert(Denoiser<WaveletDenoiser<float>, float>);

}  // namespace distinv::optim
