// The tiled prior on slabs (layout/tiled_prior.hpp) on every backend: equal to the replicated
// DistributedProcessing / DistributedPrior bit for bit (pasted tiles; blended ones with
// reduce::Exact), to 1e-5 (blended, reduce::Plain)
// for TV and an identity processor, under reflect / circular / zeros padding, heights not
// divisible by the ranks, slabs of one row, halos taller than a slab (rows from ranks further
// away), 5-D volumes; batches within the byte budget; a bounded block and no image-sized
// collective (a counting backend); bad input is the same Error on every rank.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends.hpp"
#include "slab_testing.hpp"
#include "distinv/distributed/processing.hpp"
#include "distinv/layout/tiled_prior.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/tiling/overlap_tiling.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using distinv::testing::same_error;
using distinv::testing::slab_partitions;
using layout::RowPartition;
using layout::SlabPrior;
using layout::SlabProcessing;
using layout::SlabTensor;

namespace {

template <class T, int R>
Tensor<T, R> noisy(Shape<R> const& s, unsigned seed) {
  Tensor<T, R> x(s);
  std::mt19937 gen(seed);
  std::normal_distribution<double> n(0, 0.1);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(0.5 + 0.3 * double((i / 7) % 2) + n(gen));
  return x;
}

tiling::TilingOptions tiles(Index patch, Index halo, tiling::Blend blend = tiling::Blend::none,
                            tiling::Padding pad = tiling::Padding::reflect) {
  tiling::TilingOptions o;
  o.patch_size = {patch};
  o.receptive_field_size = {halo};
  o.blend = blend;
  o.pad_mode = pad;
  if (blend != tiling::Blend::none) o.stride = {patch / 2};
  return o;
}

struct Identity {
  template <class X>
  X operator()(X const& b, double) const { return b; }
};

/// Forwards every collective of `Comm` and records what it moved (per rank).
struct Moved {
  Index all_reduce_calls = 0, largest_all_reduce = 0, largest_all_gatherv = 0, all_to_allv_calls = 0;
  Index gathered_elements = 0;  ///< received by the first all_to_allv of a call (rows read from others)
};
template <class Comm>
class Counting {
 public:
  Counting(Comm comm, std::shared_ptr<Moved> moved) : comm_(std::move(comm)), moved_(std::move(moved)) {}
  static constexpr std::string_view name() { return Comm::name(); }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  template <class T>
  void all_reduce(std::span<T> buf, ReduceOp op) const {
    ++moved_->all_reduce_calls;
    moved_->largest_all_reduce = std::max(moved_->largest_all_reduce, Index(buf.size()));
    comm_.all_reduce(buf, op);
  }
  template <class T>
  void broadcast(std::span<T> buf, int root) const {
    comm_.broadcast(buf, root);
  }
  template <class T>
  void all_gatherv(std::span<T const> send, std::span<T> recv, std::span<Index const> counts) const {
    moved_->largest_all_gatherv = std::max(moved_->largest_all_gatherv, Index(recv.size()));
    comm_.all_gatherv(send, recv, counts);
  }
  template <class T>
  void all_to_allv(std::span<T const> send, std::span<Index const> send_counts, std::span<T> recv,
                   std::span<Index const> recv_counts) const {
    if (moved_->all_to_allv_calls++ % 2 == 0) moved_->gathered_elements = Index(recv.size());
    comm_.all_to_allv(send, send_counts, recv, recv_counts);
  }
  void broadcast_bytes(std::vector<std::byte>& bytes, int root) const { comm_.broadcast_bytes(bytes, root); }
  void barrier() const { comm_.barrier(); }

 private:
  Comm comm_;
  std::shared_ptr<Moved> moved_;
};

}  // namespace

TEST_CASE("slab prior: TV and identity equal the replicated tiled processing, pasted and blended tiles") {
  optim::TVDenoiser<float> const tv{.max_iter = 10};
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    int const P = ctx.world_size();
    for (Shape<4> const s : {Shape<4>{1, 3, 37, 29}, Shape<4>{2, 1, 23, 20}}) {  // 37, 23: prime heights
      auto const x = noisy<float, 4>(s, 1);
      for (auto blend : {tiling::Blend::none, tiling::Blend::linear, tiling::Blend::gaussian})
        for (auto pad : {tiling::Padding::reflect, tiling::Padding::circular, tiling::Padding::zeros}) {
          CAPTURE(to_string(s));
          CAPTURE(tiling::to_string(blend));
          CAPTURE(tiling::to_string(pad));
          auto const opts = tiles(8, tv.receptive_field(), blend, pad);  // halo 10: taller than a slab
          DistributedProcessing<Ctx, optim::TVDenoiser<float>> rep_tv(ctx, tv, opts);
          DistributedProcessing<Ctx, Identity> rep_id(ctx, Identity{}, opts);
          auto const want_tv = rep_tv(x, 0.1), want_id = rep_id(x, 0.1);
          for (auto const& part : slab_partitions(s[2], P)) {
            CAPTURE(part.to_string());
            auto const xs = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), x, part);
            SlabProcessing<Ctx, optim::TVDenoiser<float>> slab_tv(ctx, tv, opts);
            SlabProcessing<Ctx, Identity> slab_id(ctx, Identity{}, opts);
            auto const got_tv = slab_tv(xs, 0.1).gather(), got_id = slab_id(xs, 0.1).gather();
            CHECK(max_abs_diff(got_tv, want_tv) == 0);  // pasted: one value per sample; blended: exact sums
            CHECK(max_abs_diff(got_id, want_id) == 0);
            if (blend == tiling::Blend::none) CHECK(max_abs_diff(got_id, x) == 0);
            // Plain sums of the blended contributions: equal to rounding.
            using Plain =
                SlabProcessing<Ctx, optim::TVDenoiser<float>, tiling::OverlapTilingStrategy<4>, reduce::Plain>;
            Plain plain(ctx, tv, opts);
            CHECK(max_abs_diff(plain(xs, 0.1).gather(), want_tv) <= 1e-5);
            // Every patch is processed by exactly one rank.
            Index mine = Index(slab_tv.tiles().patches().size());
            ctx.all_reduce(std::span<Index>(&mine, 1));
            CHECK(mine == slab_tv.strategy().num_patches());
            // One-row slabs, halo 10: the block holds rows of ranks further away than a neighbour.
            if (part.count(0) == 1 && P >= 3) {
              Index far = 0;
              for (Index g : slab_tv.tiles().read_rows())
                if (g >= 0 && std::abs(part.owner(g) - ctx.rank()) >= 2) far = 1;
              ctx.all_reduce(std::span<Index>(&far, 1), ReduceOp::max);
              CHECK(far == 1);
            }
          }
        }
    }
  });
}

TEST_CASE("slab prior: prox and gradient equal DistributedPrior's; shape changes rebuild; 5-D volumes") {
  optim::TVPrior<double> const prior{.weight = 0.5, .max_iter = 8};
  auto const x = noisy<double, 4>({1, 2, 30, 26}, 2);
  auto const y = noisy<double, 4>({1, 2, 19, 26}, 3);
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    int const P = ctx.world_size();
    auto const opts = tiles(12, 8);
    DistributedPrior<Ctx, optim::TVPrior<double>> rep(ctx, prior, opts);
    SlabPrior<Ctx, optim::TVPrior<double>> slab(ctx, prior, opts);
    auto const xs = SlabTensor<double, 4, Comm>::scatter(ctx.comm(), x, RowPartition::balanced(30, P));
    auto const ys = SlabTensor<double, 4, Comm>::scatter(ctx.comm(), y, RowPartition::balanced(19, P));
    CHECK(max_abs_diff(slab.prox(xs, 0.2).gather(), rep.prox(x, 0.2)) == 0);
    CHECK(max_abs_diff(slab.grad(xs).gather(), rep.grad(x)) == 0);
    CHECK(max_abs_diff(slab.prox(ys, 0.2).gather(), rep.prox(y, 0.2)) == 0);  // another shape, then back
    CHECK(max_abs_diff(slab.prox(xs, 0.2).gather(), rep.prox(x, 0.2)) == 0);
    CHECK(slab.strategy().num_patches() == rep.strategy().num_patches());
    // (B, C, D, H, W): slabs of D, tiles over D, H, W.
    auto const v = noisy<float, 5>({1, 2, 11, 9, 10}, 4);
    for (auto blend : {tiling::Blend::none, tiling::Blend::linear}) {
      auto const o = tiles(4, 3, blend);
      DistributedProcessing<Ctx, Identity, tiling::OverlapTilingStrategy<5>> rep5(ctx, Identity{}, o);
      SlabProcessing<Ctx, Identity, tiling::OverlapTilingStrategy<5>> slab5(ctx, Identity{}, o);
      for (auto const& part : slab_partitions(11, P)) {
        auto const vs = SlabTensor<float, 5, Comm>::scatter(ctx.comm(), v, part);
        CHECK(max_abs_diff(slab5(vs, 0.1).gather(), rep5(v, 0.1)) == 0);
      }
    }
  });
}

TEST_CASE("slab prior: batches within the byte budget, a bounded block, no image-sized collective") {
  auto const x = noisy<float, 4>({1, 3, 64, 24}, 5);
  optim::TVDenoiser<float> const tv{.max_iter = 5};
  for_each_backend([&](auto& ctx) {
    using Comm = typename std::remove_reference_t<decltype(ctx)>::comm_type;
    auto moved = std::make_shared<Moved>();
    DistributedContext<Counting<Comm>> counted(Counting<Comm>(ctx.comm(), moved));
    using Ctx = decltype(counted);
    int const P = ctx.world_size();
    Index const patch = 8, halo = 5;
    auto const opts = tiles(patch, halo, tiling::Blend::linear);
    DistributedProcessing<Ctx, optim::TVDenoiser<float>> rep(counted, tv, opts);
    auto const want = rep(x, 0.1);
    Index const window_bytes = numel(rep.strategy().window_shape()) * Index(sizeof(float));
    // A processor that records the largest batch it is handed.
    auto largest = std::make_shared<Index>(0);
    auto recording = [&, largest](Tensor4<float> const& b, double sigma) {
      *largest = std::max(*largest, Index(b.size()) * Index(sizeof(float)));
      return tv(b, sigma);
    };
    auto const part = RowPartition::balanced(64, P);
    auto const xs = SlabTensor<float, 4, Counting<Comm>>::scatter(counted.comm(), x, part);
    for (auto limit : {tiling::BatchLimit(0, std::size_t(3 * window_bytes)), tiling::BatchLimit(2),
                       tiling::BatchLimit(0, 1)}) {
      *largest = 0;
      SlabProcessing<Ctx, decltype(recording)> slab(counted, recording, opts, limit);
      *moved = Moved{};
      slab(xs, 0.1);  // builds the strategy and the exchanges, the layout agreed; then a call as in a solver's loop
      CHECK(moved->largest_all_gatherv >= Index(P) * (P + 6));  // the layout check (P + 6 integers per rank), the exchanges' setup
      *moved = Moved{};
      auto const got = slab(xs, 0.1);
      Moved const m = *moved;
      CHECK(max_abs_diff(got.gather(), want) <= 1e-5);
      Index const per_batch = limit.max_patches > 0 ? limit.max_patches
                                                    : std::max(Index(limit.max_bytes) / window_bytes, Index(1));
      Index const bound = per_batch * window_bytes;
      CHECK(*largest <= bound);
      // The collectives of a later call (the layout unchanged: not agreed again): error
      // agreements of one integer, the exact blend's scale (2 integers), the two row exchanges;
      // no all_gatherv, nothing image-sized is all-reduced.
      CHECK(m.largest_all_reduce == 2);
      CHECK(m.largest_all_gatherv == 0);
      CHECK(m.all_to_allv_calls == 2);
      // The rows this rank reads: its own, at most a patch and a halo each side, and more
      // only where the blend's extra half-patch windows reach.
      auto const& rows = slab.tiles().rows();
      CHECK(Index(rows.size()) <= xs.local_rows() + 2 * (patch + halo));
      Index from_others = 0;  // a rank's own rows are copied, not sent
      for (Index g : slab.tiles().read_rows()) from_others += g >= 0 && part.owner(g) != ctx.rank();
      CHECK(m.gathered_elements == from_others * 3 * 24);
    }
  });
}

TEST_CASE("slab prior: a strategy that does not tile H gives the whole signal to the rank of row 0") {
  auto const x = noisy<float, 4>({1, 2, 13, 30}, 6);
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    auto opts = tiles(8, 3);
    opts.tiled_dims = {3};
    SlabProcessing<Ctx, Identity> slab(ctx, Identity{}, opts);
    auto const xs = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), x, RowPartition::balanced(13, ctx.world_size()));
    CHECK(max_abs_diff(slab(xs, 0.1).gather(), x) == 0);
    CHECK(slab.tiles().rows().size() == (ctx.rank() == 0 ? std::size_t(13) : std::size_t(0)));
    CHECK(slab.tiles().patches().size() == (ctx.rank() == 0 ? std::size_t(4) : std::size_t(0)));
  });
}

TEST_CASE("slab prior: bad input is the same Error on every rank, before any exchange") {
  auto const x = noisy<float, 4>({1, 1, 20, 16}, 7);
  for_each_backend([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    int const P = ctx.world_size(), r = ctx.rank();
    SlabProcessing<Ctx, Identity> slab(ctx, Identity{}, tiles(4, 3));
    auto const good = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), x, RowPartition::balanced(20, P));
    if (P > 1) {
      // The ranks disagree on the partition: rank 0 balanced, the others thin first slabs.
      auto const mixed = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), x, slab_partitions(20, P)[r == 0 ? 0 : 1]);
      auto const msg = same_error(ctx, [&] { slab(mixed, 0.1); });
      CHECK(msg.find("the ranks disagree on the signal's layout: rank 0 has shape (1, 1, 20, 16) and rows [0, ") !=
            std::string::npos);
      // ... or on the shape.
      auto const taller = noisy<float, 4>({1, 1, r == 0 ? 20 : 21, 16}, 8);
      auto const uneven =
          SlabTensor<float, 4, Comm>::scatter(ctx.comm(), taller, RowPartition::balanced(taller.dimension(2), P));
      auto const msg2 = same_error(ctx, [&] { slab(uneven, 0.1); });
      CHECK(msg2.find("disagree") != std::string::npos);
    }
    // A processor that fails, or changes the shape, on one rank only.
    int const bad = P - 1;
    auto failing = [&](Tensor4<float> const& b, double) -> Tensor4<float> {
      if (r == bad) fail("this rank's denoiser failed");
      return b;
    };
    SlabProcessing<Ctx, decltype(failing)> fails(ctx, failing, tiles(4, 3));
    auto const msg3 = same_error(ctx, [&] { fails(good, 0.1); });
    CHECK(msg3.find("this rank's denoiser failed") != std::string::npos);
    auto shrinking = [&](Tensor4<float> const& b, double) -> Tensor4<float> {
      if (r != bad) return b;
      return Tensor4<float>(b.slice(Shape<4>{0, 0, 0, 0}, Shape<4>{b.dimension(0), 1, 2, 2}));
    };
    SlabProcessing<Ctx, decltype(shrinking)> shrinks(ctx, shrinking, tiles(4, 3));
    auto const msg4 = same_error(ctx, [&] { shrinks(good, 0.1); });
    CHECK(msg4.find("processor returned shape") != std::string::npos);
    // A strategy built for another shape; a bad batch limit; bad tiling options.
    using Plain = SlabProcessing<Ctx, Identity>;
    using Builder = typename Plain::builder_type;
    Plain wrong(ctx, Identity{}, Builder([](Shape<4> const&) {
                                          return tiling::OverlapTilingStrategy<4>(Shape<4>{1, 1, 8, 8}, tiles(4, 1));
                                        }));
    CHECK_THROWS_WITH_AS(wrong(good, 0.1), doctest::Contains("the strategy was built for shape"), Error);
    CHECK_THROWS_AS(Plain(ctx, Identity{}, tiles(4, 3), tiling::BatchLimit(-1)), Error);
    SlabProcessing<Ctx, Identity> zero(ctx, Identity{}, tiles(-1, 3));  // (0 is tiling::auto_patch)
    CHECK_THROWS_AS(zero(good, 0.1), Error);
    CHECK_THROWS_WITH_AS(slab.strategy(), doctest::Contains("no signal processed yet"), Error);
    // Nobody is left behind: the same objects work afterwards.
    CHECK(max_abs_diff(slab(good, 0.1).gather(), x) == 0);
  }, distinv::testing::all_thread_counts, ContextOptions{.warn_idle = false});
}
