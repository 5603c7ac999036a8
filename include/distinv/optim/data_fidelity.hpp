#pragma once
// optim/data_fidelity.hpp: data fidelities f(x) = d(A x, y) for one operator A. Each
// distance provides d(u, y), its gradient in u, and its prox in u where one has a closed
// form; DataFidelity adds fn, grad (= A_vjp(x, ∇d(A x, y))) and prox for a physics.
//   L2                 d = ½‖u − y‖²
//   L1                 d = ‖u − y‖₁
//   PoissonLikelihood  y ~ gain·Poisson(u / gain) (+ background): negative log-likelihood
#include <cmath>
#include <string_view>

#include "distinv/core/host_device.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/linalg/cg.hpp"

namespace distinv::optim {

namespace detail {
// The element-wise terms, as functors written once for host and device signals (map2 / sum2).
struct AbsDifference {
  template <class T>
  DISTINV_HOST_DEVICE double operator()(T a, T b) const { return a > b ? double(a) - double(b) : double(b) - double(a); }
};
struct SignOfDifference {
  template <class T>
  DISTINV_HOST_DEVICE T operator()(T a, T b) const { return T((a > b) - (a < b)); }
};
template <class T>
struct L2ProxTerm {  // (u + g y) / (1 + g)
  T g;
  DISTINV_HOST_DEVICE T operator()(T a, T b) const { return (a + g * b) / (T(1) + g); }
};
template <class T>
struct L1ProxTerm {  // y + soft(u - y, g)
  T g;
  DISTINV_HOST_DEVICE T operator()(T a, T b) const {
    T const r = a - b;
    return b + (r > g ? r - g : r < -g ? r + g : T(0));
  }
};
struct PoissonTerm {  // rate - (y / gain) log(rate): +inf or NaN where rate <= 0 and y > 0
  double gain, bkg;
  template <class T>
  DISTINV_HOST_DEVICE double operator()(T a, T b) const {
    double const rate = double(a) / gain + bkg;
    return rate - (b > T(0) ? double(b) / gain * log(rate) : 0.0);
  }
};
template <class T>
struct PoissonGradTerm {
  double gain, bkg;
  DISTINV_HOST_DEVICE T operator()(T a, T b) const { return T((1.0 - double(b) / gain / (double(a) / gain + bkg)) / gain); }
};
template <class T>
struct PoissonProxTerm {
  double gain, bkg, gamma;
  DISTINV_HOST_DEVICE T operator()(T a, T b) const {
    double const p = gain * bkg + double(a) - gamma / gain;
    double const w = (p + sqrt(p * p + 4.0 * gamma * double(b) / gain)) / (2.0 * gain);
    return T(gain * (w - bkg));
  }
};
}  // namespace detail

/// A fidelity of the normal-equation form, f(x) = ½‖A x − y‖², ∇f = AᵀA x − Aᵀy (it says so
/// with `static constexpr bool normal_form = true`): the distributed layer may cache Aᵀy, fuse
/// the stack's normal operator, and solve its prox by conjugate gradient (pnp_hqs).
template <class F>
concept has_normal_form = requires { requires F::normal_form; };

/// fn, grad and prox of x ↦ d(A x, y) from the distance `Derived` provides.
template <class Derived>
struct DataFidelity {
  /// d(A x, y).
  template <class P, Signal X>
  double fn(X const& x, X const& y, P const& physics) const {
    return self().d(physics.A(x), y);
  }
  /// ∇_x d(A x, y) = A_vjp(x, ∇d(A x, y)).
  template <class P, Signal X>
  X grad(X const& x, X const& y, P const& physics) const {
    return physics.A_vjp(x, self().grad_d(physics.A(x), y));
  }

 private:
  Derived const& self() const { return static_cast<Derived const&>(*this); }
};

/// d(u, y) = ½‖u − y‖², the Gaussian-noise fidelity (deepinv's L2).
struct L2 : DataFidelity<L2> {
  /// "l2".
  static constexpr std::string_view name() { return "l2"; }
  /// ∇ f(x) = Aᵀ(A x − y) = AᵀA x − Aᵀy (see has_normal_form).
  static constexpr bool normal_form = true;
  /// ½‖u − y‖²; throws Error for different shapes.
  template <Signal X>
  double d(X const& u, X const& y) const {
    return 0.5 * sum2(u, y, distinv::detail::SquaredDifference{}, "data fidelity: measurement vs prediction");
  }
  /// u − y; throws Error for different shapes.
  template <Signal X>
  X grad_d(X const& u, X const& y) const {
    require_same_shape(u, y, "L2 gradient: measurement vs prediction");
    return u - y;
  }
  /// argmin_z ½‖z − u‖² + γ·½‖z − y‖²
  template <Signal X>
  X prox_d(X const& u, X const& y, double gamma) const {
    return map2(u, y, detail::L2ProxTerm<scalar_t<X>>{scalar_t<X>(gamma)}, "data fidelity: measurement vs prediction");
  }
  /// argmin_z ½‖z − x‖² + γ·½‖A z − y‖² = (I + γAᵀA)⁻¹(x + γAᵀy), by conjugate gradient.
  template <class P, Signal X>
  X prox(X const& x, X const& y, P const& physics, double gamma, linalg::CgOptions cg = {}) const {
    using T = scalar_t<X>;
    X b = x + physics.A_adjoint(y) * T(gamma);
    return linalg::conjugate_gradient([&](X const& z) { return X(z + physics.A_adjoint_A(z) * T(gamma)); }, b, x, cg).x;
  }
};

/// d(u, y) = ‖u − y‖₁ (deepinv's L1).
struct L1 : DataFidelity<L1> {
  /// "l1".
  static constexpr std::string_view name() { return "l1"; }
  /// ‖u − y‖₁; throws Error for different shapes.
  template <Signal X>
  double d(X const& u, X const& y) const {
    return sum2(u, y, detail::AbsDifference{}, "data fidelity: measurement vs prediction");
  }
  /// A subgradient: sign(u − y) (0 where u = y).
  template <Signal X>
  X grad_d(X const& u, X const& y) const {
    return map2(u, y, detail::SignOfDifference{}, "data fidelity: measurement vs prediction");
  }
  /// argmin_z ½‖z − u‖² + γ‖z − y‖₁ = y + soft(u − y, γ)
  template <Signal X>
  X prox_d(X const& u, X const& y, double gamma) const {
    return map2(u, y, detail::L1ProxTerm<scalar_t<X>>{scalar_t<X>(gamma)}, "data fidelity: measurement vs prediction");
  }
};

/// y ~ gain·Poisson(u / gain + bkg): d(u, y) = Σ (u/gain + bkg) − (y/gain)·log(u/gain + bkg),
/// the negative log-likelihood up to terms free of u. Defined for u/gain + bkg > 0.
struct PoissonLikelihood : DataFidelity<PoissonLikelihood> {
  /// Photon gain (> 0, default 1).
  double gain = 1.0;
  /// Background rate (>= 0, default 0).
  double bkg = 0.0;
  /// "poisson".
  static constexpr std::string_view name() { return "poisson"; }

  PoissonLikelihood() = default;
  /// Throws Error unless gain > 0 and bkg >= 0.
  explicit PoissonLikelihood(double gain_, double bkg_ = 0.0) : gain(gain_), bkg(bkg_) {
    DISTINV_REQUIRE(gain > 0, "PoissonLikelihood: expected gain > 0, got ", gain);
    DISTINV_REQUIRE(bkg >= 0, "PoissonLikelihood: expected bkg >= 0, got ", bkg);
  }
  /// The negative log-likelihood; throws Error where it is not finite (a zero rate where y > 0).
  template <Signal X>
  double d(X const& u, X const& y) const {
    double const s = sum2(u, y, detail::PoissonTerm{gain, bkg}, "data fidelity: measurement vs prediction");
    DISTINV_REQUIRE(std::isfinite(s), "PoissonLikelihood: expected a positive rate u/gain + bkg wherever y > 0, ",
                    "got a non-positive one (gain ", gain, ", bkg ", bkg, ")");
    return s;
  }
  /// Its gradient in u.
  template <Signal X>
  X grad_d(X const& u, X const& y) const {
    return map2(u, y, detail::PoissonGradTerm<scalar_t<X>>{gain, bkg}, "data fidelity: measurement vs prediction");
  }
  /// argmin_z ½(z − u)² + γ d(z, y), elementwise: with w = z/gain + bkg, the positive root of
  /// gain·w² − (gain·bkg + u − γ/gain)·w − γ·y/gain² = 0.
  template <Signal X>
  X prox_d(X const& u, X const& y, double gamma) const {
    return map2(u, y, detail::PoissonProxTerm<scalar_t<X>>{gain, bkg, gamma}, "data fidelity: measurement vs prediction");
  }
};

}  // namespace distinv::optim
