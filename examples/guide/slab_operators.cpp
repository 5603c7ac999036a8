// slab_operators: the guide page "Your operator on slabs". Two operators of the user's own, one
// class each, on the replicated layout and on slabs: the guide's projection (non-local: it models
// layout::SlabOperator) and a weighted 3 x 3 stencil (local: it declares its row footprint, and its
// per-pixel weight image is held by rows). Checks slabs == replicated (A and Aᵀ, relative 1e-5),
// the dot test on slabs, that a stencil built from its own rows gives the same, and prints the
// bytes of weight image each rank holds, which fall with the ranks.
#include <array>
#include <cstdio>
#include <random>

#include "distinv/distinv.hpp"
#include "distinv/layout/sharded_physics.hpp"
#include "guide.hpp"
#include "projection.hpp"
#include "weighted_stencil.hpp"

using namespace distinv;
using guide_ops::Projection;
using guide_ops::WeightedStencil;

Tensor4<float> random(Shape<4> const& s, unsigned seed, float lo = -1, float hi = 1) {
  Tensor4<float> t(s);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = u(g);
  return t;
}

/// The operators of `stack` on both layouts: slab A and Aᵀ against the replicated ones, and the
/// dot test on slabs. Returns the slab physics.
template <class Ctx, class Stack>
auto both_layouts(Ctx& ctx, Stack const& stack, Shape<4> const& shape, char const* name) {
  using Slab = layout::SlabTensor<float, 4, typename Ctx::comm_type>;
  Tensor4<float> const xw = random(shape, 1);
  //! [both_layouts]
  auto const replicated = distribute<layout::Replicated>(stack, ctx);  // each rank its operators
  auto const slabs = distribute<layout::Slabs>(stack, ctx, shape);     // each rank its rows
  Slab const x = Slab::scatter(ctx.comm(), xw, slabs.partition());     // this rank's rows of x
  auto const y_replicated = replicated.A(xw);  // every measurement, whole, on every rank
  auto const y_slabs = slabs.A(x);             // this rank's rows of every measurement
  //! [both_layouts]
  double err = 0, scale = 0;
  TensorList<Tensor4<float>> vw;
  TensorList<Slab> v;
  for (std::size_t k = 0; k < y_slabs.size(); ++k) {
    err = std::max(err, max_abs_diff(y_slabs[k].gather(), y_replicated[k]));
    scale = std::max(scale, max_abs(y_replicated[k]));
    vw.push_back(random(shape_of(y_replicated[k]), 10 + unsigned(k)));
    v.push_back(Slab::scatter(ctx.comm(), vw[k], y_slabs[k].partition()));
  }
  Tensor4<float> const at_replicated = replicated.A_adjoint(vw);
  Slab const at_slabs = slabs.A_adjoint(v);
  double const err_adjoint = max_abs_diff(at_slabs.gather(), at_replicated) / max_abs(at_replicated);
  //! [dot_test]
  double lhs = 0;
  for (std::size_t k = 0; k < y_slabs.size(); ++k) lhs += dot(y_slabs[k], v[k]);  // Σ_k <A_k x, v_k>
  double const rhs = dot(x, at_slabs);                                           // <x, Σ_k A_kᵀ v_k>
  //! [dot_test]
  if (ctx.rank() == 0)
    std::printf("%s on %d rank(s): |A slabs - A replicated| = %.1e, |Aᵀ slabs - Aᵀ replicated| = %.1e (relative), "
                "dot test %.7g = %.7g\n",
                name, ctx.world_size(), err / scale, err_adjoint, lhs, rhs);
  guide::check(err <= 1e-5 * scale, "slab_operators: A on slabs = A replicated");
  guide::check(err_adjoint <= 1e-5, "slab_operators: Aᵀ on slabs = Aᵀ replicated");
  guide::check(std::abs(lhs - rhs) <= 1e-5 * std::abs(lhs), "slab_operators: the dot test on slabs");
  return slabs;
}

int main(int argc, char** argv) {
  Index const H = 20, W = 24;
  Shape<4> const shape{1, 2, H, W};
  std::vector<Projection> angles;  // two axes, two gains
  for (int k = 0; k < 4; ++k) angles.emplace_back(k % 2, 1.0f + 0.25f * float(k), H, W);
  std::vector<WeightedStencil> stencils;  // two stencils, each with its weight image
  stencils.emplace_back(std::array<float, 9>{0, -1, 0, -1, 4, -1, 0, -1, 0}, random({1, 1, H, W}, 3, 0.5f, 1.5f));
  stencils.emplace_back(std::array<float, 9>{1, 2, 1, 0, 0, 0, -1, -2, -1}, random({1, 1, H, W}, 4, 0.5f, 1.5f));

  return guide::run(argc, argv, [&](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    both_layouts(ctx, physics::StackedLinearPhysics<Projection>(angles), shape, "projection");
    auto const slabs = both_layouts(ctx, physics::StackedLinearPhysics<WeightedStencil>(stencils), shape, "stencil");

    //! [bytes]
    std::size_t held = 0;  // the weight rows this rank holds, over every operator on slabs
    for (auto const& op : slabs.stack().operators()) held += op.op().weight_bytes();
    //! [bytes]
    std::size_t const whole = stencils.size() * std::size_t(H * W) * sizeof(float);
    std::size_t const share = stencils.size() * std::size_t((H + ctx.world_size() - 1) / ctx.world_size() * W) *
                              sizeof(float);
    std::printf("stencil: rank %d holds %zu bytes of weight rows (whole images: %zu bytes)\n", ctx.rank(), held, whole);
    guide::check(held <= share, "slab_operators: each rank holds only its rows of the weight images");

    //! [from_rows]
    // A code whose weight image is too large for one rank builds each rank's operator from its
    // rows only (here scattered from the whole; a real code reads its rows from its file).
    auto const part = slabs.partition();
    auto const w = layout::SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random({1, 1, H, W}, 3, 0.5f, 1.5f), part);
    WeightedStencil const mine(std::array<float, 9>{0, -1, 0, -1, 4, -1, 0, -1, 0}, w.local(), w.lo(), H);
    layout::Sharded<WeightedStencil, Comm> const on_slabs(mine, ctx.comm(), part, layout::rows_held);
    //! [from_rows]
    auto const x = layout::SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random(shape, 1), part);
    guide::check(max_abs_diff(on_slabs.A(x), slabs.stack().operators()[0].A(x)) == 0,
                 "slab_operators: an operator built from its rows = the same operator sharded");
  });
}
