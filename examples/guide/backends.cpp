// backends: the guide page "Backends and layouts". One SPMD body on the backend of the command
// line (one process, `--threads N`, `--mpi` under mpiexec): what a rank sees of its context,
// the operators it owns, a collective, an error agreed by every rank, the replicated signal
// and a slab-layout signal with a blur on slabs. Checks each against what one process computes.
#include <cstdio>
#include <random>
#include <string>

#include "distinv/distinv.hpp"
#include "distinv/distributed/signal.hpp"
#include "distinv/layout/sharded_physics.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "guide.hpp"

using namespace distinv;

int main(int argc, char** argv) {
  Tensor4<float> image(Shape<4>{1, 2, 17, 12});  // 17 rows: slabs of unequal size
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> u(0, 1);
  for (Index i = 0; i < image.size(); ++i) image.data()[i] = u(gen);

  return guide::run(argc, argv, [&](auto& ctx) {
    //! [context]
    int const rank = ctx.rank(), p = ctx.world_size();
    std::vector<Index> const mine = ctx.local_indices(6);  // the operators of 6 this rank owns (round robin)
    double const owned = ctx.all_reduce_value(double(mine.size()));  // every rank gets the sum
    guide::check(owned == 6, "backends: every operator has exactly one owner");
    //! [context]
    std::printf("rank %d of %d (%s) owns %zu of 6 operators\n", rank, p,
                std::string(std::remove_cvref_t<decltype(ctx)>::comm_type::name()).c_str(), mine.size());

    //! [collectively]
    try {
      ctx.collectively("load my operators", [&] {
        if (rank == p - 1) fail("file op_", p - 1, ".bin is missing");  // fails on the last rank only
      });
      guide::check(false, "backends: collectively throws");
    } catch (Error const& e) {  // on every rank, the same message naming the failing rank
      guide::check(std::string(e.what()).find("failed on rank " + std::to_string(p - 1)) != std::string::npos,
                   "backends: the error names the failing rank");
    }
    //! [collectively]

    //! [replicated]
    DistributedSignal<std::remove_cvref_t<decltype(ctx)>, Tensor4<float>> x(ctx, shape_of(image));
    x.update_(image);  // every rank passes the same tensor; under Threads the ranks share one buffer
    guide::check(max_abs_diff(x.data(), image) == 0, "backends: the replicated signal holds the image");
    //! [replicated]

    //! [slabs]
    auto const part = layout::RowPartition::balanced(image.dimension(2), p);  // 17 rows over p ranks
    auto slab = layout::SlabTensor<float, 4, typename std::remove_cvref_t<decltype(ctx)>::comm_type>::scatter(
        ctx.comm(), image, part);                          // this rank's rows, no communication
    guide::check(slab.local_rows() == part.count(rank), "backends: a slab holds its rows");
    double const d = dot(slab, slab);                      // local sums, then one all-reduce
    guide::check(std::abs(d - dot(image, image)) <= 1e-9 * d, "backends: the slab dot is the whole dot");
    guide::check(max_abs_diff(slab.gather(), image) == 0, "backends: gather undoes scatter");
    physics::Blur<float> const blur(physics::gaussian_blur<float>(1.0), physics::Padding::reflect);
    auto const on_slabs = layout::shard(blur, ctx.comm());  // LinearPhysics on slab tensors
    auto const y = on_slabs.A(slab);  // halo rows from the neighbours, local blur
    guide::check(max_abs_diff(y.gather(), blur.A(image)) <= 1e-5, "backends: the blur on slabs is the blur");
    //! [slabs]
  });
}
