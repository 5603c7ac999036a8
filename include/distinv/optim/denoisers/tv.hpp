#pragma once
// optim/denoisers/tv.hpp: isotropic total-variation denoising, the proximal operator
//   u = argmin_v 1/2 ||v - x||^2 + lambda TV(v),   TV(v) = sum_ij |(grad v)_ij|_2,
// per (b, c) plane, by FGP (Beck & Teboulle 2009, fast projected gradient on the dual) with a
// FIXED number of iterations, so that the radius of dependence is known exactly:
// receptive_field() == max_iter. Forward differences, Neumann boundary. TVDenoiser and
// tv_value run on any Signal (host tensors, device tensors) through its space; the algorithm
// is core/kernels/tv.hpp (fused row by row where a plane runs on one thread). Models
// Denoiser. core/, host/ and oneTBB only.
#include <algorithm>
#include <span>
#include <type_traits>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/tv.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/host/space.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/denoisers/planes.hpp"

namespace distinv::optim {

/// Isotropic TV of each plane of a (B, C, H, W) signal, summed: sum |grad x| (forward
/// differences, Neumann), accumulated in double.
template <Signal X>
  requires(rank_v<X> == 4)
double tv_value(X const& x) {
  Index const H = x.dimension(2), W = x.dimension(3);
  return space_traits<space_of_t<X>>::launcher().sum(x.size(), kernels::TvNormTerm<scalar_t<X>>{x.data(), H, W});
}

/// TV prox of one H x W host plane: `iters` FGP iterations, u = x + lambda div p at the end.
/// If `px`, `py` are non-empty (size H*W) they receive the final dual field p (|p_ij| <= 1),
/// so that x - u = -lambda div p exactly and the duality gap can be checked.
template <class T>
void tv_prox_plane(std::span<T const> x, Index H, Index W, double lambda, int iters, std::span<T> u,
                   std::span<T> px = {}, std::span<T> py = {}) {
  Index const n = H * W;
  DISTINV_REQUIRE(Index(x.size()) == n && Index(u.size()) == n, "tv_prox_plane: expected planes of ", n,
                  " samples, got ", x.size(), " and ", u.size());
  DISTINV_REQUIRE(lambda >= 0 && iters >= 0, "tv_prox_plane: expected lambda >= 0 and iters >= 0, got ", lambda,
                  " and ", iters);
  if (n == 0) return;
  host::Buffer<T> data(std::size_t(kernels::tv_work_size(1, H, W)));
  auto const w = kernels::tv_work(data.data(), 1, H, W);
  kernels::tv_fgp_serial(x.data(), u.data(), w, 1, H, W, lambda, iters);
  if (!px.empty()) std::copy_n(w.px, n, px.begin());
  if (!py.empty()) std::copy_n(w.py, n, py.begin());
}

/// TV denoiser: prox of lambda * TV with lambda = scale * sigma (scale 1 by default: for
/// images in [0, 1] and noise std sigma this is a reasonable, slightly strong, weight).
/// Each of the `max_iter` iterations widens the dependence by one sample per axis (grad and
/// div are one-sided, one forward and one backward), so output (i, j) depends only on input
/// within max_iter samples along each axis: receptive_field() == max_iter.
/// `d(x, sigma)` takes any (B, C, H, W) Signal of T and runs in its space (`d(x, sigma,
/// space)`: on that space object, e.g. a device::Cuda with its stream; the result is ready
/// once that stream is synchronised).
template <class T>
struct TVDenoiser {
  /// FGP iterations (default 50); also the receptive field.
  int max_iter = 50;
  /// λ = scale · sigma (default 1).
  double scale = 1.0;

  /// The TV prox of every (b, c) plane at λ = scale · sigma; throws Error for sigma < 0 or max_iter < 0.
  template <Signal X>
    requires(std::is_same_v<scalar_t<X>, T> && rank_v<X> == 4)
  X operator()(X const& x, double sigma, space_of_t<X> const& space = {}) const {
    DISTINV_REQUIRE(sigma >= 0, "TVDenoiser: expected sigma >= 0, got ", sigma);
    DISTINV_REQUIRE(max_iter >= 0, "TVDenoiser: expected max_iter >= 0, got ", max_iter);
    Index const H = x.dimension(2), W = x.dimension(3);
    double const lambda = scale * sigma;
    X u(shape_of(x));
    detail::for_plane_batches(space, x.dimension(0) * x.dimension(1), [&](auto const& launch, Index p0, Index count) {
      auto work = detail::allocate<T>(kernels::tv_work_size(count, H, W), space);
      auto const w = kernels::tv_work(work.data(), count, H, W);
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(launch)>, host::Serial>)
        kernels::tv_fgp_serial(x.data() + p0 * H * W, u.data() + p0 * H * W, w, count, H, W, lambda, max_iter);
      else
        kernels::tv_fgp(launch, x.data() + p0 * H * W, u.data() + p0 * H * W, w, count, H, W, lambda, max_iter);
    });
    return u;
  }
  /// max_iter: a pixel depends on pixels at most max_iter away.
  Index receptive_field() const { return max_iter; }
};

static_assert(Denoiser<TVDenoiser<float>, float>);
static_assert(Denoiser<TVDenoiser<double>, double>);

}  // namespace distinv::optim
