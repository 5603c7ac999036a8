#pragma once
// optim/prior.hpp: priors for proximal / PnP solvers. The Prior concept (`prox(x, gamma)`);
// PnP<D> wraps any Denoiser (prox(x, sigma) = d(x, sigma)); TVPrior<T> is weight * TV with
// its value, its prox (the FGP TV denoiser) and the gradient of a smoothed TV, on any Signal.
// Both report receptive_field() so tiled application knows the halo. core/ and
// optim/denoisers only.
#include <type_traits>
#include <utility>

#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/kernels/tv.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/denoisers/planes.hpp"
#include "distinv/optim/denoisers/tv.hpp"

namespace distinv::optim {

/// A prior g with a proximal map: `p.prox(x, gamma)` ~ argmin_u 1/2||u - x||^2 + gamma g(u),
/// for Tensor4<T> x, returning a tensor of the same shape.
template <class P, class T = float>
concept Prior = std::floating_point<T> && requires(P const& p, Tensor4<T> const& x, double gamma) {
  { p.prox(x, gamma) } -> std::convertible_to<Tensor4<T>>;
};

/// Plug-and-play prior: the prox is the denoiser, its sigma the prox parameter.
template <class D>
struct PnP {
  /// The denoiser D, called as D(x, sigma).
  D denoiser;

  PnP() = default;
  /// Wraps `d`.
  explicit PnP(D d) : denoiser(std::move(d)) {}

  /// D(x, sigma); throws Error if the denoiser changes the shape.
  template <Signal X>
  X prox(X const& x, double sigma) const {
    X y = denoiser(x, sigma);
    require_same_shape(x, y, "PnP::prox: the denoiser must keep the shape");
    return y;
  }
  /// The denoiser's receptive field, where it declares one.
  Index receptive_field() const
    requires DeclaresReceptiveField<D>
  {
    return denoiser.receptive_field();
  }
};

/// weight * TV(x), isotropic TV with forward differences and Neumann boundary, on any
/// (B, C, H, W) Signal of T (host or device; the pieces are those of core/kernels/tv.hpp).
///  - fn(x) = weight * sum |grad x|
///  - prox(x, gamma) = argmin_u 1/2||u - x||^2 + gamma * weight * TV(u), by max_iter FGP steps
///  - grad(x) = gradient of the smoothed weight * sum sqrt(|grad x|^2 + eps^2)
///            = -weight * div(grad x / sqrt(|grad x|^2 + eps^2))
template <class T>
struct TVPrior {
  /// λ of λ · TV(x) (default 1).
  double weight = 1.0;
  /// FGP iterations of prox (default 50).
  int max_iter = 50;
  /// Smoothing of grad (> 0, default 1e-3).
  double eps = 1e-3;

  /// weight · TV(x).
  template <Signal X>
    requires(std::is_same_v<scalar_t<X>, T> && rank_v<X> == 4)
  double fn(X const& x) const {
    return weight * tv_value(x);
  }
  /// argmin_u ½‖u − x‖² + gamma · weight · TV(u); throws Error for gamma < 0.
  template <Signal X>
    requires(std::is_same_v<scalar_t<X>, T> && rank_v<X> == 4)
  X prox(X const& x, double gamma) const {
    DISTINV_REQUIRE(gamma >= 0, "TVPrior::prox: expected gamma >= 0, got ", gamma);
    return TVDenoiser<T>{max_iter, weight}(x, gamma);
  }
  /// The gradient of the smoothed TV; throws Error unless eps > 0.
  template <Signal X>
    requires(std::is_same_v<scalar_t<X>, T> && rank_v<X> == 4)
  X grad(X const& x) const {
    DISTINV_REQUIRE(eps > 0, "TVPrior::grad: expected eps > 0, got ", eps);
    Index const H = x.dimension(2), W = x.dimension(3);
    X out(shape_of(x));
    space_of_t<X> const space{};
    detail::for_plane_batches(space, x.dimension(0) * x.dimension(1), [&](auto const& launch, Index p0, Index count) {
      // the FGP work space: (px, py) <- n = grad x / sqrt(|grad x|^2 + eps^2), rx stays 0
      auto data = detail::allocate<T>(kernels::tv_work_size(count, H, W), space);
      auto const w = kernels::tv_work(data.data(), count, H, W);
      launch(w.size, kernels::Fill<T>{T(0), w.data});
      launch.grid(count * H, W, kernels::TvSmoothedDirection<T>{x.data() + p0 * H * W, w.px, w.py, H, W, eps});
      // out = 0 + (-weight) * div(n)
      launch(count * H * W, kernels::TvPrimal<T>{w.rx, w.px, w.py, out.data() + p0 * H * W, W, T(-weight)});
    });
    return out;
  }
  /// max_iter.
  Index receptive_field() const { return max_iter; }
};

/// A prior's prox as a tile processor `p(batch, sigma)` (the tiled priors: DistributedPrior,
/// layout::SlabPrior); the prior must outlive it.
template <class P>
struct ProxProcessor {
  /// The prior (not owned).
  P const* prior;
  /// prior->prox(batch, sigma).
  template <class X>
  X operator()(X const& batch, double sigma) const { return prior->prox(batch, sigma); }
};

/// A prior's gradient as a tile processor `p(batch, sigma)` (sigma unused).
template <class P>
struct GradProcessor {
  /// The prior (not owned).
  P const* prior;
  /// prior->grad(batch).
  template <class X>
  X operator()(X const& batch, double) const { return prior->grad(batch); }
};

static_assert(Prior<TVPrior<float>, float>);
static_assert(Prior<PnP<TVDenoiser<double>>, double>);

}  // namespace distinv::optim
