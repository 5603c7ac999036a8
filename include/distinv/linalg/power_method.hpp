#pragma once
// linalg/power_method.hpp: the power method for the largest eigenvalue of a symmetric positive
// semi-definite operator given as a callable x -> A x (deepinv's compute_norm, used with
// A = AᵀA for ‖A‖²). Stops when the Rayleigh quotient changes by less than tol (relative).
#include <cmath>
#include <concepts>
#include <type_traits>

#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"

namespace distinv::linalg {

/// Options of power_method.
struct PowerOptions {
  /// Iterations at most (default 50).
  int max_iter = 100;
  double tol = 1e-6;  ///< on the relative change of the eigenvalue estimate
};

/// What power_method returns.
struct PowerResult {
  double eigenvalue = 0;  ///< Rayleigh quotient <x, A x> / <x, x> of the last iterate
  /// Iterations run.
  int iterations = 0;
  /// True when the relative change fell below tol.
  bool converged = false;
};

/// Largest eigenvalue of apply, from a start x0 that must not be orthogonal to its eigenvector
/// (a random x0 is the usual choice).
template <Signal X, class Apply>
  requires std::convertible_to<std::invoke_result_t<Apply&, X const&>, X>
PowerResult power_method(Apply&& apply, X const& x0, PowerOptions opt = {}) {
  using T = scalar_t<X>;
  DISTINV_REQUIRE(opt.max_iter >= 1, "power_method: expected max_iter >= 1, got ", opt.max_iter);
  double const n0 = norm(x0);
  DISTINV_REQUIRE(n0 > 0, "power_method: expected a non-zero start x0");
  X x = x0 * static_cast<T>(1 / n0);
  PowerResult res;
  double prev = 0;
  for (int it = 0; it < opt.max_iter; ++it) {
    X const y = apply(x);
    require_same_shape(y, x, "power_method: apply(x) must keep the shape of x");
    double const z = dot(x, y);  // x has unit norm
    res.eigenvalue = z;
    res.iterations = it + 1;
    if (it > 0 && std::abs(z - prev) <= opt.tol * std::abs(prev)) {
      res.converged = true;
      break;
    }
    prev = z;
    double const ny = norm(y);
    if (ny == 0) {  // x in the null space: eigenvalue 0 along it
      res.converged = true;
      break;
    }
    x = y * static_cast<T>(1 / ny);
  }
  return res;
}

}  // namespace distinv::linalg
