// An operator of the user's with neither a row footprint nor the slab-operator concept, put on
// layout::Slabs through one documented entry point (ENTRY: 1 distribute<layout::Slabs>, 2
// make_distrib_bundle<layout::Slabs>, 3 layout::shard). It must not compile, and the compiler
// must say so in one static_assert naming what is missing and the guide page (checked, with the
// size of the error output, by no_slab_path.cmake). It compiles on layout::Replicated.
#include "distinv/distinv.hpp"

using namespace distinv;

/// A LinearPhysics (the identity times 2) and nothing for slabs.
struct Twice : physics::WithNoise<Twice, float> {
  using scalar_type = float;
  using tensor_type = Tensor4<float>;
  Shape<4> output_shape(Shape<4> const& in) const { return in; }
  tensor_type A(tensor_type const& x) const { return x * 2.0f; }
  tensor_type A_adjoint(tensor_type const& y) const { return y * 2.0f; }
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }
  tensor_type A_adjoint_A(tensor_type const& x) const { return x * 4.0f; }
  tensor_type A_A_adjoint(tensor_type const& y) const { return y * 4.0f; }
};

int main() {
  DistributedContext<comm::SingleProcess> ctx;
  physics::StackedLinearPhysics<Twice> const stack(std::vector<Twice>{Twice{}});
  [[maybe_unused]] Shape<4> const shape{1, 1, 8, 8};
#if ENTRY == 1
  auto const A = distribute<layout::Slabs>(stack, ctx, shape);
  (void)A;
#elif ENTRY == 2
  FactoryConfig<physics::StackedLinearPhysics<Twice>, optim::L2, TensorList<layout::SlabTensor<float, 4, comm::SingleProcess>>>
      config{stack, {}, optim::L2{}};
  auto const bundle = make_distrib_bundle<layout::Slabs>(ctx, config, shape);
  (void)bundle;
#elif ENTRY == 3
  auto const op = layout::shard(Twice{}, ctx.comm());
  (void)op;
#else
  auto const A = distribute<layout::Replicated>(stack, ctx);  // fine on the replicated layout
  (void)A;
#endif
}
