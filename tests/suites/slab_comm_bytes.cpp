// Bytes per rank of one PnP-PGD iteration (fixed step, tiled TV prior, 3 circular blurs: the
// fused gradient), counted by testing::CountingComm on every backend: on slabs the personalised
// exchanges carry exactly the two FFT transposes of the gradient and the halo rows of the tiles
// (read, and written back to their owners), and every other collective O(H + P) values, whatever
// the width; replicated, the prior all-reduces the whole image and nothing is exchanged. The
// collectives are counted exactly: on slabs the two transposes, the halo gather and scatter_add,
// one all_gatherv of the row sums of both norms of the stopping test, and the prior's error
// agreement (no layout re-agreed, no fused operator rebuilt); replicated the prior's image sum and
// two error agreements (and with shared memory the signal update's two barriers).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends.hpp"
#include "counting_comm.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/factory.hpp"
#include "distinv/layout/slab_bundle.hpp"
#include "distinv/layout/slab_fft.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "slab_testing.hpp"

using namespace distinv;
using distinv::testing::CommTally;
using distinv::testing::CountingComm;
using layout::RowPartition;

namespace {

using T = float;
using Image = Tensor4<T>;

static_assert(comm_traits<CountingComm<comm::Threads>>::shares_memory &&
              !comm_traits<CountingComm<comm::SingleProcess>>::shares_memory);  // the wrapped backend's traits

constexpr Index patch = 16, halo = 4;  // tiles of 16 rows, TV's receptive field of 4

/// The bytes rank r sends in the two transposes of one SlabFft pair over (planes, H, W) split by
/// `part`: forward, its rows of the other ranks' spectral columns; inverse, its columns of the
/// other ranks' rows (complex<float>, 8 bytes).
std::int64_t transpose_bytes(RowPartition const& part, int r, Index planes, Index H, Index W) {
  Index const wc = W / 2 + 1;
  auto const cols = layout::balanced_offsets(wc, part.ranks());
  Index const lc = cols[std::size_t(r) + 1] - cols[std::size_t(r)], lr = part.count(r);
  return 8 * planes * (lr * (wc - lc) + lc * (H - lr));
}

/// The bytes rank r sends for the tiles (crop and paste, windows of patch + 2 halo rows at
/// multiples of the patch, reflect padding; H a multiple of the patch): the rows it owns that the
/// other ranks' windows read, and the rows its own tiles write that other ranks own.
std::int64_t halo_bytes(RowPartition const& part, int r, Index planes, Index H, Index W) {
  std::vector<std::vector<char>> read(std::size_t(part.ranks()), std::vector<char>(std::size_t(H), 0));
  std::vector<char> written(std::size_t(H), 0);
  for (Index t0 = 0; t0 < H; t0 += patch) {
    int const q = part.owner(t0);  // the rank whose rows the tile starts in processes it
    for (Index g = t0 - halo; g < t0 + patch + halo; ++g)
      read[std::size_t(q)][std::size_t(kernels::pad_index(kernels::Padding::reflect, g, H))] = 1;
    if (q == r) std::fill_n(written.begin() + t0, patch, char(1));
  }
  Index rows = 0;
  for (Index g = 0; g < H; ++g) {
    bool const mine = part.owner(g) == r;
    for (int q = 0; q < part.ranks(); ++q) rows += (mine && q != r && read[std::size_t(q)][std::size_t(g)]) ? 1 : 0;
    rows += (!mine && written[std::size_t(g)]) ? 1 : 0;
  }
  return 4 * planes * W * rows;
}

std::vector<physics::Blur<T>> circular_blurs() {
  std::vector<physics::Blur<T>> ops;
  for (double s : {0.8, 1.2, 1.6}) ops.emplace_back(physics::gaussian_blur<T>(s), physics::Padding::circular);
  return ops;
}

/// What the second of two PnP-PGD iterations (fixed step) cost on bundle b's backend.
template <class Bundle, class Ctx>
CommTally one_iteration(Bundle& b, Ctx const& counted) {
  using X = typename Bundle::tensor_type;
  optim::SolverOptions<X> const opt{.max_iter = 1, .step = 0.5, .sigma = 0.02};
  optim::pnp_pgd(b, opt);  // warm-up: the fused spectra, the tiles and their exchanges
  CommTally const before = counted.comm().tally();
  optim::pnp_pgd(b, opt);
  return counted.comm().tally() - before;
}

}  // namespace

TEST_CASE("slab comm bytes: one PnP-PGD iteration sends the transposes and halo rows on slabs, the image replicated") {
  Index const B = 1, C = 3, H = 48;
  auto const ops = circular_blurs();
  optim::TVDenoiser<T> const tv{.max_iter = int(halo)};
  TilingConfig const tiling{.patch_size = patch, .receptive_field_size = halo};
  for (Index W : {Index(40), Index(80)}) {  // what is not O(H + P) grows with the width
    Shape<4> const shape{B, C, H, W};
    auto const clean = distinv::testing::random_tensor<T>(shape, 4);
    TensorList<Image> y;
    for (auto const& op : ops) y.push_back(op.A(clean));
    std::int64_t const image_bytes = B * C * H * W * std::int64_t(sizeof(T));
    distinv::testing::for_each_backend([&](auto& ctx) {
      using Comm = typename std::remove_reference_t<decltype(ctx)>::comm_type;
      using Counted = CountingComm<Comm>;
      using Slab = layout::SlabTensor<T, 4, Counted>;
      DistributedContext<Counted> counted(Counted(ctx.comm()), ctx.options());  // the same ranks, counted
      int const P = ctx.world_size(), r = ctx.rank();
      CAPTURE(W);
      CAPTURE(P);
      // Every other collective of an iteration: an error agreement and the row sums of two norms
      // (2 H doubles), under 8 (2 H + 8 P + 32) bytes per other rank whatever the width.
      std::int64_t const small = 8 * (2 * H + 8 * P + 32) * (P - 1);
      for (auto const& part : distinv::testing::slab_partitions(H, P)) {
        CAPTURE(part.to_string());
        TensorList<Slab> ys;
        for (auto const& m : y) ys.push_back(Slab::scatter(counted.comm(), m, part));
        auto b = make_distrib_bundle<layout::Slabs>(counted, FactoryConfig{ops, ys}, shape, optim::PnP{tv}, tiling, part);
        b.signal.update_(Slab::scatter(counted.comm(), y[0], part));
        CommTally const t = one_iteration(b, counted);
        std::int64_t const exchanged = transpose_bytes(part, r, B * C, H, W) + halo_bytes(part, r, B * C, H, W);
        CHECK(t.all_to_allv.calls == (P == 1 ? 2 : 4));  // the halo gather and scatter_add; the transposes (P > 1)
        CHECK(t.all_to_allv.bytes == (P == 1 ? 0 : exchanged));
        CHECK(t.all_gatherv.calls == 1);  // ‖x_{k+1} − x_k‖ and ‖x_k‖: both row sums of this rank's rows
        CHECK(t.all_gatherv.bytes == 16 * part.count(r) * (P - 1));
        CHECK(t.all_reduce.calls == 1);  // the prior's error agreement (one integer)
        CHECK(t.all_reduce.bytes == (P == 1 ? 0 : 8));
        CHECK(t.broadcast.calls + t.barrier.calls == 0);
        CHECK(t.bytes() - t.all_to_allv.bytes <= small);
        if (P > 1) CHECK(t.all_to_allv.bytes > 0);
        CHECK(t.calls() == ctx.all_reduce_value(t.calls(), ReduceOp::max));  // the same collectives on every rank
      }
      auto rep = make_distrib_bundle<layout::Replicated>(counted, FactoryConfig{ops, y}, shape, optim::PnP{tv}, tiling);
      rep.signal.update_(y[0]);
      CommTally const t = one_iteration(rep, counted);
      CHECK(t.all_to_allv.calls + t.all_gatherv.calls + t.broadcast.calls == 0);
      CHECK(t.all_reduce.calls == 3);  // the tiled prior's sum of every rank's tiles, two error agreements
      CHECK(t.barrier.calls == (comm_traits<Counted>::shares_memory ? 2 : 0));  // the shared signal's update
      CHECK(t.all_reduce.bytes >= (P == 1 ? 0 : image_bytes));
      CHECK(t.bytes() <= (P == 1 ? 0 : image_bytes + small));
    });
  }
}
