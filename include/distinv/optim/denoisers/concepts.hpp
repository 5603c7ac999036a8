#pragma once
// optim/denoisers/concepts.hpp: the Denoiser concept — `d(batch, sigma)` maps a (B, C, H, W)
// batch to a tensor of the same shape — and receptive_field_of(d), the radius of dependence
// a tiling halo must cover (0 when the type does not say). Any callable plugs in: a lambda, a
// network wrapper, TVDenoiser, WaveletDenoiser, GaussianDenoiser. core/ and oneTBB only.
#include <concepts>
#include <cstddef>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::optim {

/// `d(x, sigma)` for a Tensor4<T> x returns (something convertible to) a Tensor4<T> of the
/// same shape; sigma is the noise level (or prox weight) the denoiser is asked for.
template <class D, class T = float>
concept Denoiser = std::floating_point<T> && requires(D const& d, Tensor4<T> const& x, double sigma) {
  { d(x, sigma) } -> std::convertible_to<Tensor4<T>>;
};

/// d.receptive_field() if the type has it, else 0.
template <class D>
Index receptive_field_of(D const& d) {
  if constexpr (requires { { d.receptive_field() } -> std::convertible_to<Index>; })
    return static_cast<Index>(d.receptive_field());
  else
    return 0;
}

namespace detail {
/// Runs f(in_plane, out_plane, H, W) on every (b, c) plane of x, planes in parallel.
template <class T, class F>
Tensor4<T> map_planes(Tensor4<T> const& x, F&& f) {
  Tensor4<T> y(x.dimensions());
  Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3);
  tbb::parallel_for(Index(0), planes, [&](Index k) { f(x.data() + k * H * W, y.data() + k * H * W, H, W); });
  return y;
}
}  // namespace detail
}  // namespace distinv::optim
