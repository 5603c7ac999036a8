#pragma once
// optim/denoisers/concepts.hpp: the Denoiser concept — `d(batch, sigma)` maps a (B, C, H, W)
// batch to a tensor of the same shape — and receptive_field_of(d), the radius of dependence
// a tiling halo must cover (0 when the type does not say; declared_receptive_field tells
// whether it does). Any callable plugs in: a lambda, a network wrapper, TVDenoiser,
// WaveletDenoiser, GaussianDenoiser. core/ and oneTBB only.
#include <concepts>
#include <cstddef>
#include <optional>

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

/// A type that declares its receptive field: `d.receptive_field()`.
template <class D>
concept DeclaresReceptiveField = requires(D const& d) {
  { d.receptive_field() } -> std::convertible_to<Index>;
};

/// d.receptive_field() if the type declares it, else nullopt.
template <class D>
std::optional<Index> declared_receptive_field(D const& d) {
  if constexpr (DeclaresReceptiveField<D>) return static_cast<Index>(d.receptive_field());
  else return std::nullopt;
}

/// d.receptive_field() if the type declares it, else 0.
template <class D>
Index receptive_field_of(D const& d) {
  return declared_receptive_field(d).value_or(0);
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
