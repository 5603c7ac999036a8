#pragma once
// optim/prior.hpp: priors for proximal / PnP solvers. The Prior concept (`prox(x, gamma)`);
// PnP<D> wraps any Denoiser (prox(x, sigma) = d(x, sigma)); TVPrior<T> is weight * TV with
// its value, its prox (the FGP TV denoiser) and the gradient of a smoothed TV. Both report
// receptive_field() so tiled application knows the halo. core/ and optim/denoisers only.
#include <cmath>
#include <utility>

#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
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
  D denoiser;

  PnP() = default;
  explicit PnP(D d) : denoiser(std::move(d)) {}

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

/// weight * TV(x), isotropic TV with forward differences and Neumann boundary.
///  - fn(x) = weight * sum |grad x|
///  - prox(x, gamma) = argmin_u 1/2||u - x||^2 + gamma * weight * TV(u), by max_iter FGP steps
///  - grad(x) = gradient of the smoothed weight * sum sqrt(|grad x|^2 + eps^2)
///            = -weight * div(grad x / sqrt(|grad x|^2 + eps^2))
template <class T>
struct TVPrior {
  double weight = 1.0;
  int max_iter = 50;
  double eps = 1e-3;

  double fn(Tensor4<T> const& x) const { return weight * tv_value(x); }
  Tensor4<T> prox(Tensor4<T> const& x, double gamma) const {
    DISTINV_REQUIRE(gamma >= 0, "TVPrior::prox: expected gamma >= 0, got ", gamma);
    return TVDenoiser<T>{max_iter, weight}(x, gamma);
  }
  Tensor4<T> grad(Tensor4<T> const& x) const {
    DISTINV_REQUIRE(eps > 0, "TVPrior::grad: expected eps > 0, got ", eps);
    return detail::map_planes(x, [&](T const* in, T* out, Index H, Index W) {
      std::vector<T> nx(std::size_t(H * W)), ny(std::size_t(H * W)), zero(std::size_t(H * W), T(0));
      for (Index i = 0; i < H; ++i)
        for (Index j = 0; j < W; ++j) {
          Index const o = i * W + j;
          double const gx = j < W - 1 ? double(in[o + 1]) - in[o] : 0.0;
          double const gy = i < H - 1 ? double(in[o + W]) - in[o] : 0.0;
          double const m = std::sqrt(gx * gx + gy * gy + eps * eps);
          nx[std::size_t(o)] = T(gx / m);
          ny[std::size_t(o)] = T(gy / m);
        }
      // out = 0 + (-weight) * div(n)
      detail::tv_primal(zero.data(), nx.data(), ny.data(), H, W, T(-weight), out);
    });
  }
  Index receptive_field() const { return max_iter; }
};

static_assert(Prior<TVPrior<float>, float>);
static_assert(Prior<PnP<TVDenoiser<double>>, double>);

}  // namespace distinv::optim
