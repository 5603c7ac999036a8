#pragma once
// optim/data_fidelity.hpp: data fidelities f(x) = d(A x, y) for one operator A. Each
// distance provides d(u, y), its gradient in u, and its prox in u where one has a closed
// form; DataFidelity adds fn, grad (= A_vjp(x, ∇d(A x, y))) and prox for a physics.
//   L2                 d = ½‖u − y‖²
//   L1                 d = ‖u − y‖₁
//   PoissonLikelihood  y ~ gain·Poisson(u / gain) (+ background): negative log-likelihood
#include <cmath>
#include <string_view>

#include "distinv/core/tensor.hpp"
#include "distinv/optim/cg.hpp"

namespace distinv::optim {

namespace detail {
template <HostTensor X, class F>
X map2(X const& u, X const& y, F&& f) {
  require_same_shape(u, y, "data fidelity: measurement vs prediction");
  X out(u.dimensions());
  for (Index i = 0; i < u.size(); ++i) out.data()[i] = f(u.data()[i], y.data()[i]);
  return out;
}
template <HostTensor X, class F>
double sum2(X const& u, X const& y, F&& f) {
  require_same_shape(u, y, "data fidelity: measurement vs prediction");
  double s = 0;
  for (Index i = 0; i < u.size(); ++i) s += f(double(u.data()[i]), double(y.data()[i]));
  return s;
}
}  // namespace detail

/// fn, grad and prox of x ↦ d(A x, y) from the distance `Derived` provides.
template <class Derived>
struct DataFidelity {
  template <class P, HostTensor X>
  double fn(X const& x, X const& y, P const& physics) const {
    return self().d(physics.A(x), y);
  }
  template <class P, HostTensor X>
  X grad(X const& x, X const& y, P const& physics) const {
    return physics.A_vjp(x, self().grad_d(physics.A(x), y));
  }

 private:
  Derived const& self() const { return static_cast<Derived const&>(*this); }
};

struct L2 : DataFidelity<L2> {
  static constexpr std::string_view name() { return "l2"; }
  template <HostTensor X>
  double d(X const& u, X const& y) const {
    return 0.5 * detail::sum2(u, y, [](double a, double b) { return (a - b) * (a - b); });
  }
  template <HostTensor X>
  X grad_d(X const& u, X const& y) const {
    require_same_shape(u, y, "L2 gradient: measurement vs prediction");
    return u - y;
  }
  /// argmin_z ½‖z − u‖² + γ·½‖z − y‖²
  template <HostTensor X>
  X prox_d(X const& u, X const& y, double gamma) const {
    using T = scalar_t<X>;
    return detail::map2(u, y, [g = T(gamma)](T a, T b) { return (a + g * b) / (T(1) + g); });
  }
  /// argmin_z ½‖z − x‖² + γ·½‖A z − y‖² = (I + γAᵀA)⁻¹(x + γAᵀy), by conjugate gradient.
  template <class P, HostTensor X>
  X prox(X const& x, X const& y, P const& physics, double gamma, CgOptions cg = {}) const {
    using T = scalar_t<X>;
    X b = x + physics.A_adjoint(y) * T(gamma);
    return conjugate_gradient([&](X const& z) { return X(z + physics.A_adjoint_A(z) * T(gamma)); }, b, x, cg).x;
  }
};

struct L1 : DataFidelity<L1> {
  static constexpr std::string_view name() { return "l1"; }
  template <HostTensor X>
  double d(X const& u, X const& y) const {
    return detail::sum2(u, y, [](double a, double b) { return std::abs(a - b); });
  }
  /// A subgradient: sign(u − y) (0 where u = y).
  template <HostTensor X>
  X grad_d(X const& u, X const& y) const {
    using T = scalar_t<X>;
    return detail::map2(u, y, [](T a, T b) { return T((a > b) - (a < b)); });
  }
  /// argmin_z ½‖z − u‖² + γ‖z − y‖₁ = y + soft(u − y, γ)
  template <HostTensor X>
  X prox_d(X const& u, X const& y, double gamma) const {
    using T = scalar_t<X>;
    return detail::map2(u, y, [g = T(gamma)](T a, T b) {
      T const r = a - b;
      return b + (r > g ? r - g : r < -g ? r + g : T(0));
    });
  }
};

/// y ~ gain·Poisson(u / gain + bkg): d(u, y) = Σ (u/gain + bkg) − (y/gain)·log(u/gain + bkg),
/// the negative log-likelihood up to terms free of u. Defined for u/gain + bkg > 0.
struct PoissonLikelihood : DataFidelity<PoissonLikelihood> {
  double gain = 1.0;
  double bkg = 0.0;
  static constexpr std::string_view name() { return "poisson"; }

  PoissonLikelihood() = default;
  explicit PoissonLikelihood(double gain_, double bkg_ = 0.0) : gain(gain_), bkg(bkg_) {
    DISTINV_REQUIRE(gain > 0, "PoissonLikelihood: expected gain > 0, got ", gain);
    DISTINV_REQUIRE(bkg >= 0, "PoissonLikelihood: expected bkg >= 0, got ", bkg);
  }
  template <HostTensor X>
  double d(X const& u, X const& y) const {
    return detail::sum2(u, y, [&](double a, double b) {
      double const rate = a / gain + bkg;
      DISTINV_REQUIRE(rate > 0 || b == 0, "PoissonLikelihood: expected a positive rate u/gain + bkg, got ", rate);
      return rate - (b > 0 ? b / gain * std::log(rate) : 0.0);
    });
  }
  template <HostTensor X>
  X grad_d(X const& u, X const& y) const {
    using T = scalar_t<X>;
    return detail::map2(u, y, [&](T a, T b) { return T((1.0 - double(b) / gain / (double(a) / gain + bkg)) / gain); });
  }
  /// argmin_z ½(z − u)² + γ d(z, y), elementwise: with w = z/gain + bkg, the positive root of
  /// gain·w² − (gain·bkg + u − γ/gain)·w − γ·y/gain² = 0.
  template <HostTensor X>
  X prox_d(X const& u, X const& y, double gamma) const {
    using T = scalar_t<X>;
    return detail::map2(u, y, [&](T a, T b) {
      double const p = gain * bkg + double(a) - gamma / gain;
      double const w = (p + std::sqrt(p * p + 4.0 * gamma * double(b) / gain)) / (2.0 * gain);
      return T(gain * (w - bkg));
    });
  }
};

}  // namespace distinv::optim
