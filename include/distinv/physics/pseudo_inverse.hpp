#pragma once
// physics/pseudo_inverse.hpp: A_dagger (least-squares solution by conjugate gradient on
// AᵀA x = Aᵀy, as deepinv's LinearPhysics.A_dagger) and compute_sqnorm (‖A‖² = largest
// eigenvalue of AᵀA by the power method, deepinv's compute_norm) for any linear operator,
// single or stacked (anything with A_adjoint and A_adjoint_A). Uses linalg/ (below physics).
#include <utility>

#include "distinv/core/signal.hpp"
#include "distinv/linalg/cg.hpp"
#include "distinv/linalg/power_method.hpp"

namespace distinv::physics {

/// argmin_x ‖A x − y‖² from x0 = Aᵀy, by CG on the normal equations. `y` is a tensor for a
/// single operator, a TensorList for a stack.
template <class Op, class Y>
auto A_dagger(Op const& op, Y const& y, linalg::CgOptions opt = {}) {
  auto b = op.A_adjoint(y);
  using X = std::remove_cvref_t<decltype(b)>;
  X x0 = b;  // b's storage becomes CG's residual
  return linalg::conjugate_gradient([&](X const& x) { return X(op.A_adjoint_A(x)); }, std::move(b), std::move(x0), opt)
      .x;
}

/// ‖A‖² = λ_max(AᵀA), from x0 (a random signal of the input shape).
template <class Op, Signal X>
double compute_sqnorm(Op const& op, X const& x0, linalg::PowerOptions opt = {}) {
  return linalg::power_method([&](X const& x) { return X(op.A_adjoint_A(x)); }, x0, opt).eigenvalue;
}

}  // namespace distinv::physics
