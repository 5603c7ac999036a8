#pragma once
// linalg/cg.hpp: conjugate gradient for A x = b with A symmetric positive semi-definite, given
// as a callable x -> A x on signals (host or device) (deepinv's conjugate_gradient). Stops when
// ‖b − A x‖ <= tol · ‖b‖ or after max_iter iterations (an optional callback sees each one).
// Inner products in double. Core only.
#include <cmath>
#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"

namespace distinv::linalg {

/// Options of conjugate_gradient.
struct CgOptions {
  /// Iterations at most (default 100).
  int max_iter = 100;
  double tol = 1e-6;  ///< on the relative residual ‖b − A x‖ / ‖b‖
  /// Called after each iteration with (iterations done, relative residual), if set: for a
  /// progress line (the solver prints nothing).
  std::function<void(int, double)> callback;
};

/// What conjugate_gradient returns.
template <class X>
struct CgResult {
  /// The solution.
  X x;
  /// Iterations run.
  int iterations = 0;
  double residual = 0;  ///< final relative residual ‖b − A x‖ / ‖b‖ (recursive estimate)
  /// True when the residual fell below tol.
  bool converged = false;
};

/// Solves apply(x) = b from x0. Holds x, the residual (in b's storage: pass b as an rvalue
/// where the caller no longer needs it), the direction and apply's result; the updates are in
/// place (scale_, add_scaled_: no temporary signal, the bits of x += p * alpha, ...).
template <Signal X, class Apply>
  requires std::convertible_to<std::invoke_result_t<Apply&, X const&>, X>
CgResult<X> conjugate_gradient(Apply&& apply, X b, X x0, CgOptions opt = {}) {
  using T = scalar_t<X>;
  DISTINV_REQUIRE(opt.max_iter >= 0, "conjugate_gradient: expected max_iter >= 0, got ", opt.max_iter);
  DISTINV_REQUIRE(opt.tol >= 0, "conjugate_gradient: expected tol >= 0, got ", opt.tol);
  require_same_shape(b, x0, "conjugate_gradient: x0 must have the shape of b");
  CgResult<X> res{std::move(x0), 0, 0, false};
  double const bnorm = norm(b);
  if (bnorm == 0) {  // A x = 0: x = 0 solves it
    res.x = zeros_like(b);
    res.converged = true;
    return res;
  }
  X r = std::move(b);  // b − A x0
  r -= X(apply(res.x));
  X p = r;
  double rs = dot(r, r);
  res.residual = std::sqrt(rs) / bnorm;
  if (res.residual <= opt.tol) {
    res.converged = true;
    return res;
  }
  for (int it = 0; it < opt.max_iter; ++it) {
    double rs_new = 0;
    {
      X const ap = apply(p);
      require_same_shape(ap, p, "conjugate_gradient: apply(x) must keep the shape of x");
      double const pap = dot(p, ap);
      if (!(pap > 0)) break;  // p in the null space (semi-definite A): nothing left to gain
      T const alpha = static_cast<T>(rs / pap);
      add_scaled_(res.x, p, alpha);
      add_scaled_(r, ap, T(-alpha));  // r -= ap * alpha
      rs_new = dot(r, r);
    }  // A p released before p is updated
    res.iterations = it + 1;
    res.residual = std::sqrt(rs_new) / bnorm;
    if (opt.callback) opt.callback(res.iterations, res.residual);
    if (res.residual <= opt.tol) {
      res.converged = true;
      break;
    }
    scale_(p, static_cast<T>(rs_new / rs));  // p = r + p * beta
    p += r;
    rs = rs_new;
  }
  return res;
}

}  // namespace distinv::linalg
