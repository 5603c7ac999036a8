// linear_operator: the guide page "Your own linear operator". A parallel-beam projection of
// the user's own (projection.hpp: the sums of an image along its columns or along its rows, times
// a detector gain: a two-angle Radon transform), its forward, adjoint and normal operators, the dot test,
// and a stack of such projections spread over the ranks. Checks the dot test and that the
// distributed stack equals the same stack on one process.
#include <cmath>
#include <cstdio>
#include <random>

#include "distinv/distinv.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/stacked.hpp"
#include "guide.hpp"
#include "projection.hpp"

using namespace distinv;
using guide_ops::Projection;  // examples/guide/projection.hpp


Tensor4<float> random(Shape<4> const& s, unsigned seed) {
  Tensor4<float> t(s);
  std::mt19937 g(seed);
  std::normal_distribution<float> n;
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = n(g);
  return t;
}

int main(int argc, char** argv) {
  Index const H = 20, W = 24;
  Shape<4> const shape{1, 1, H, W};
  //! [dot_test]
  Projection const A(1, 0.5f, H, W);
  Tensor4<float> const x = random(shape, 1), y = random(A.output_shape(shape), 2);
  double const lhs = dot(A.A(x), y), rhs = dot(x, A.A_adjoint(y));  // <A x, y> = <x, Aᵀ y>
  std::printf("dot test: <Ax, y> = %.6f, <x, Aᵀy> = %.6f\n", lhs, rhs);
  //! [dot_test]
  if (std::abs(lhs - rhs) > 1e-5 * std::abs(lhs)) return std::fprintf(stderr, "dot test failed\n"), 1;

  //! [stack]
  std::vector<Projection> angles;  // four detectors: two axes, two gains
  for (int k = 0; k < 4; ++k) angles.emplace_back(k % 2, 1.0f + 0.25f * float(k), H, W);
  physics::StackedLinearPhysics<Projection> const stack(angles);  // on one process
  TensorList<Tensor4<float>> ys;
  for (int k = 0; k < 4; ++k) ys.push_back(random(angles[std::size_t(k)].output_shape(shape), 10 + unsigned(k)));
  Tensor4<float> const serial = stack.A_adjoint(ys);  // Σ_k A_kᵀ y_k
  //! [stack]

  return guide::run(argc, argv, [&](auto& ctx) {
    //! [distribute]
    // Each rank builds only the projections it owns (here from a vector; a real code would
    // read the geometry of projection i from its file).
    auto const A = DistributedStackedLinearPhysics<std::remove_cvref_t<decltype(ctx)>, Projection>(
        ctx, 4, [&](Index i, auto const& /*device*/) { return angles[std::size_t(i)]; });
    Tensor4<float> const distributed = A.A_adjoint(ys);  // one all-reduce, the same on every rank
    auto const measured = A.A(x);                         // [A_k x], gathered on every rank
    //! [distribute]
    std::printf("rank %d owns %zu of 4 projections\n", ctx.rank(), A.local_operators().size());
    guide::check(max_abs_diff(distributed, serial) <= 1e-5 * max_abs(serial), "linear_operator: distributed Aᵀ = one process");
    guide::check(measured.size() == 4 && max_abs_diff(measured[3], angles[3].A(x)) == 0,
                 "linear_operator: distributed A gathers every projection");
  });
}
