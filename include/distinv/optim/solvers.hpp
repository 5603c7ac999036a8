#pragma once
// optim/solvers.hpp: plug-and-play reconstruction over a distributed bundle (physics,
// measurements, data fidelity, signal, prior), written once so that it runs on every backend:
//   pnp_pgd   x ← D_σ(x − γ ∇f(x))                          proximal gradient
//   fista     the same from an extrapolated point (Beck–Teboulle momentum)
//   pnp_hqs   x ← argmin f(x) + ‖x − z‖²/(2γ) by distributed CG (L2 fidelity), z ← D_σ(x)
// The step γ defaults to 1/‖A‖² (distributed power method). Iterations stop after max_iter
// or when ‖x_{k+1} − x_k‖ / ‖x_k‖ < tol; a callback sees every iteration. An iterate or an
// objective that stops being finite ends the run with an Error naming the iteration (the same
// on every rank: the signal and the objective are).
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "distinv/core/signal.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/linalg/cg.hpp"
#include "distinv/optim/data_fidelity.hpp"

namespace distinv::optim {

/// One iteration's record, in SolverResult::history and for the callback.
struct IterationInfo {
  /// Iteration number, from 1.
  int iteration = 0;
  double rel_change = 0;       ///< ‖x_{k+1} − x_k‖ / ‖x_k‖
  double psnr = std::numeric_limits<double>::quiet_NaN();       ///< against the reference, if given
  double objective = std::numeric_limits<double>::quiet_NaN();  ///< f(x) (data fidelity), if tracked
  double seconds = 0;          ///< wall time of this iteration
  double data_seconds = 0;     ///< of which the data step (gradient or CG)
  double prior_seconds = 0;    ///< of which the prior (denoiser)
  double norms_seconds = 0;    ///< of which the norms of the stopping test and the signal update
};

/// Options of pnp_pgd, fista and pnp_hqs.
template <class TensorT>
struct SolverOptions {
  /// Iterations at most (default 50).
  int max_iter = 50;
  double step = 0;          ///< γ; 0: step_scale / ‖A‖² from the distributed power method
  double step_scale = 1.0;  ///< with step = 0; proximal gradient converges for γ < 2 / ‖A‖²
  double sigma = 0.05;      ///< strength passed to the prior's prox (denoiser noise level)
  double tol = 0;           ///< stop when the relative change falls below; 0: run max_iter
  /// Evaluate the data fidelity each iteration (one more collective).
  bool track_objective = false;
  TensorT const* reference = nullptr;  ///< ground truth, for PSNR in the iteration info
  double max_value = 1.0;              ///< peak value for PSNR
  /// Called on every rank after each iteration.
  std::function<void(IterationInfo const&)> callback;
};

/// What the solvers return.
template <class TensorT>
struct SolverResult {
  /// The reconstruction (the same on every rank).
  TensorT x;
  /// Iterations run.
  int iterations = 0;
  bool converged = false;  ///< stopped by tol
  /// The step γ used.
  double step = 0;
  /// One record per iteration.
  std::vector<IterationInfo> history;
};

namespace detail {
using clock = std::chrono::steady_clock;
inline double since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

template <class Bundle>
double default_step(Bundle& b, typename Bundle::tensor_type const& x0, double step, double scale) {
  if (step > 0) return step;
  DISTINV_REQUIRE(step == 0, "solver: expected a positive step, or 0 for step_scale/||A||^2, got ", step);
  DISTINV_REQUIRE(scale > 0, "solver: expected a positive step_scale, got ", scale);
  // Deterministic start (same on every rank): a constant image, laid out as x0.
  auto const v = filled_like(x0, scalar_t<typename Bundle::tensor_type>(1));
  double const L = b.physics.compute_sqnorm(v, {.local_only = false, .max_iter = 100, .tol = 1e-4});
  DISTINV_REQUIRE(L > 0 && std::isfinite(L), "solver: the operator norm estimate is ", L, "; give the step");
  return scale / L;
}

template <class Bundle, class Opt>
void check_options(Bundle const& b, Opt const& opt) {
  static_assert(Bundle::has_prior, "solver: the bundle has no prior (pass one to make_distrib_bundle)");
  DISTINV_REQUIRE(opt.max_iter > 0, "solver: expected max_iter > 0, got ", opt.max_iter);
  DISTINV_REQUIRE(opt.sigma >= 0, "solver: expected sigma >= 0, got ", opt.sigma);
  DISTINV_REQUIRE(opt.tol >= 0, "solver: expected tol >= 0, got ", opt.tol);
  DISTINV_REQUIRE(b.prior != nullptr, "solver: the bundle has no prior (pass one to make_distrib_bundle)");
  if (opt.reference) require_same_shape(*opt.reference, b.signal.data(), "solver reference");
}

/// Records one iteration (PSNR, objective, callback) in `history` and tells whether tol is met;
/// `change` is ‖x_{k+1} − x_k‖ and `prev_norm` ‖x_k‖, the signal is x_{k+1}.
template <class Bundle, class TensorT>
bool record(Bundle& b, SolverOptions<TensorT> const& opt, double step, std::vector<IterationInfo>& history,
            IterationInfo info, double change, double prev_norm) {
  TensorT const& x = b.signal.data();
  DISTINV_REQUIRE(std::isfinite(change) && std::isfinite(prev_norm), "solver: the iterate stopped being finite at ",
                  "iteration ", info.iteration, " (||x_k - x_k-1|| = ", change, ", step ", step,
                  ", sigma ", opt.sigma, "): the step may be too large for the operator, or the data not finite");
  info.rel_change = change / (prev_norm > 0 ? prev_norm : 1.0);
  if (opt.reference) info.psnr = psnr(x, *opt.reference, opt.max_value);
  if (opt.track_objective) {
    info.objective = b.data_fidelity.fn(x, b.measurements, b.physics);
    DISTINV_REQUIRE(std::isfinite(info.objective), "solver: the objective f(x) stopped being finite at iteration ",
                    info.iteration, " (", info.objective, ", step ", step, ")");
  }
  history.push_back(info);
  if (opt.callback) opt.callback(info);
  return opt.tol > 0 && info.rel_change < opt.tol;
}

/// This rank's measurements as a TensorList: the bundle's own list where it keeps one (the slab
/// layout: no copy), else a list of copies (the replicated layout).
template <class Measurements>
decltype(auto) local_list(Measurements const& m) {
  if constexpr (requires { m.list(); }) return m.list();
  else return TensorList<typename Measurements::tensor_type>(m.local());
}

/// z ← z − s · g in place of g (the bits of z - g * s, without a temporary): the point a
/// gradient step reaches, g the gradient at z.
template <Signal X>
X gradient_step(X g, X const& z, double s) {
  scale_(g, scalar_t<X>(-s));
  g += z;
  return g;
}

/// The loop every solver shares: x ← prox(data_step(x), σ), with timing, PSNR, objective,
/// callback and the stopping test. `data_step(x)` returns the point to denoise, x the signal
/// itself (no copy): the solvers hold only what their step needs (PGD: x, the gradient and
/// then the point; the prior's result replaces the signal, which is moved, not copied).
template <class Bundle, class DataStep>
SolverResult<typename Bundle::tensor_type> iterate(Bundle& b, SolverOptions<typename Bundle::tensor_type> const& opt,
                                                   double step, DataStep&& data_step) {
  using TensorT = typename Bundle::tensor_type;
  std::vector<IterationInfo> history;
  bool converged = false;
  for (int k = 1; k <= opt.max_iter && !converged; ++k) {
    IterationInfo info{.iteration = k};
    auto const t0 = clock::now();
    TensorT const& x = b.signal.data();
    std::optional<TensorT> z(data_step(x));
    info.data_seconds = since(t0);
    auto const t1 = clock::now();
    TensorT next = b.prior->prox(std::move(*z), opt.sigma);  // a prior that takes z may release it early
    z.reset();
    info.prior_seconds = since(t1);
    auto const t2 = clock::now();
    auto const [change, prev_norm] = norms_of_step(next, x);  // ‖x_{k+1} − x_k‖, ‖x_k‖: one reduction
    b.signal.update_(std::move(next));
    info.norms_seconds = since(t2);
    info.seconds = since(t0);
    converged = record(b, opt, step, history, info, change, prev_norm);
  }
  int const iterations = int(history.size());
  // x: a copy of the signal, in the bundle's layout (made once, at the end)
  return {.x = b.signal.data(), .iterations = iterations, .converged = converged, .step = step,
          .history = std::move(history)};
}
}  // namespace detail

/// Proximal gradient descent with the prior's prox as denoiser (PnP-PGD), from the bundle's
/// current signal. The result is also left in bundle.signal.
template <class Bundle>
SolverResult<typename Bundle::tensor_type> pnp_pgd(Bundle& b, SolverOptions<typename Bundle::tensor_type> const& opt) {
  using TensorT = typename Bundle::tensor_type;
  detail::check_options(b, opt);
  double const step = detail::default_step(b, b.signal.data(), opt.step, opt.step_scale);
  return detail::iterate(b, opt, step, [&](TensorT const& x) {
    return detail::gradient_step(TensorT(b.data_fidelity.grad(x, b.measurements, b.physics)), x, step);
  });
}

/// FISTA: PnP-PGD from the extrapolated point z = x_k + (t_{k−1} − 1)/t_k · (x_k − x_{k−1}).
/// Holds x_{k−1}, whose storage takes z, then x_k.
template <class Bundle>
SolverResult<typename Bundle::tensor_type> fista(Bundle& b, SolverOptions<typename Bundle::tensor_type> const& opt) {
  using TensorT = typename Bundle::tensor_type;
  using T = typename TensorT::Scalar;
  detail::check_options(b, opt);
  double const step = detail::default_step(b, b.signal.data(), opt.step, opt.step_scale);
  TensorT x_prev = b.signal.data();
  double t = 1;
  return detail::iterate(b, opt, step, [&](TensorT const& x) {
    double const t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    // z = x + (x − x_prev) · c in x_prev's storage: (x_prev − x) · (−c) = (x − x_prev) · c (up to the sign of a zero).
    TensorT z = std::move(x_prev);
    z -= x;
    scale_(z, T(-(t - 1) / t_next));
    z += x;
    t = t_next;
    TensorT point = detail::gradient_step(TensorT(b.data_fidelity.grad(z, b.measurements, b.physics)), z, step);
    x_prev = std::move(z);
    x_prev = x;  // x_k, into z's storage
    return point;
  });
}

/// Half-quadratic splitting (PnP-HQS) for the L2 fidelity: the data step solves
/// (AᵀA + I/γ) x = Aᵀy + z/γ by conjugate gradient on the distributed normal operator.
template <class Bundle>
SolverResult<typename Bundle::tensor_type> pnp_hqs(Bundle& b, SolverOptions<typename Bundle::tensor_type> const& opt,
                                                   linalg::CgOptions cg = {.max_iter = 30, .tol = 1e-6}) {
  using TensorT = typename Bundle::tensor_type;
  using T = typename TensorT::Scalar;
  static_assert(has_normal_form<typename std::remove_cvref_t<decltype(b.data_fidelity)>::fidelity_type>,
                "pnp_hqs: the data step is solved for a fidelity of the normal-equation form (L2) only");
  detail::check_options(b, opt);
  double const step = detail::default_step(b, b.signal.data(), opt.step, opt.step_scale);
  T const inv_gamma = T(1.0 / step);
  // Σ A_iᵀ y_i from each rank's own measurements (a local list, not a copy), one all-reduce.
  TensorT const aty = b.physics.A_adjoint(detail::local_list(b.measurements));
  auto normal = [&](TensorT const& v) {
    TensorT out = b.physics.A_adjoint_A(v);
    add_scaled_(out, v, inv_gamma);
    return out;
  };
  return detail::iterate(b, opt, step, [&](TensorT const& z) {
    TensorT rhs = z;  // z / γ + Aᵀy, the bits of aty + z * (1/γ)
    scale_(rhs, inv_gamma);
    rhs += aty;
    return linalg::conjugate_gradient(normal, std::move(rhs), z, cg).x;
  });
}

}  // namespace distinv::optim
