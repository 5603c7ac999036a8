// The operators on slabs (layout/sharded_physics.hpp, layout/sharded_stack.hpp) on every
// backend: sharded == replicated (scatter, apply, gather) for A, A_adjoint, A_adjoint_A and
// A_A_adjoint of Blur (5 paddings, odd / even / tall kernels, broadcast filters), Downsampling,
// Inpainting and Denoising, with heights not divisible by the ranks, slabs of a single row,
// kernel halos taller than a slab, unbalanced partitions; adjoint dot tests on shards; noisy
// forward as the replicated one draws it; a stack's Aᵀ, AᵀA and L2 gradient; bad input is the
// same Error on every rank (and the ranks still agree afterwards).
#include "distinv/layout/sharded_physics.hpp"

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backends.hpp"
#include "slab_testing.hpp"
#include "distinv/layout/sharded_stack.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/physics/stacked.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using distinv::testing::same_error;
using distinv::testing::slab_partitions;
using kernels::Padding;
using layout::RowPartition;
using layout::SlabTensor;

namespace {

template <class T>
Tensor4<T> random_whole(Shape<4> const& s, unsigned seed, double lo = -1) {
  Tensor4<T> t(s);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(lo, 1);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = T(u(gen));
  return t;
}
/// A (Bf, Cf, kh, kw) filter of positive taps, each plane summing to one.
template <class T>
Tensor4<T> random_filter(Index Bf, Index Cf, Index kh, Index kw, unsigned seed) {
  Tensor4<T> f = random_whole<T>({Bf, Cf, kh, kw}, seed, 0.1);
  for (Index p = 0; p < Bf * Cf; ++p) {
    double s = 0;
    for (Index i = 0; i < kh * kw; ++i) s += double(f.data()[p * kh * kw + i]);
    for (Index i = 0; i < kh * kw; ++i) f.data()[p * kh * kw + i] = T(double(f.data()[p * kh * kw + i]) / s);
  }
  return f;
}

/// Heights: one row per rank, not divisible by the ranks, and a taller one.
std::vector<Index> heights(int p) {
  std::vector<Index> h{Index(p), Index(2 * p + 1)};
  if (13 > 2 * p + 1) h.push_back(13);
  return h;
}

/// True when `f` throws Error (the replicated operator refuses that geometry).
template <class F>
bool refused(F&& f) {
  try {
    f();
  } catch (Error const&) {
    return true;
  }
  return false;
}

/// The sharded operator `sh` equals the replicated `rep` on a random x of shape `s` laid out as
/// `part`, and passes the dot test on shards.
template <class T, class Comm, class Rep, class Sh>
void check_equals_replicated(Rep const& rep, Sh const& sh, Comm const& comm, Shape<4> const& s,
                             RowPartition const& part, unsigned seed) {
  double const tol = distinv::testing::tol<T>();
  Tensor4<T> const xw = random_whole<T>(s, seed);
  auto const x = SlabTensor<T, 4, Comm>::scatter(comm, xw, part);
  Tensor4<T> const yw = rep.A(xw);
  auto const y = sh.A(x);
  REQUIRE(y.shape() == shape_of(yw));
  CHECK(y.partition() == sh.output_partition(s, part));
  CHECK(max_abs_diff(y.gather(), yw) <= tol);
  Tensor4<T> const vw = random_whole<T>(shape_of(yw), seed + 1);
  auto const v = SlabTensor<T, 4, Comm>::scatter(comm, vw, y.partition());
  auto const xa = sh.A_adjoint(v, part);
  CHECK(xa.partition() == part);
  Tensor4<T> const xaw = rep.A_adjoint(vw);
  CHECK(max_abs_diff(xa.gather(), xaw) <= tol);
  auto const xd = sh.A_adjoint(v);  // the default layout of the adjoint
  CHECK(xd.partition() == sh.input_partition(v.shape(), v.partition()));
  CHECK(max_abs_diff(xd.gather(), xaw) <= tol);
  auto const n = sh.A_adjoint_A(x);
  CHECK(n.partition() == part);
  CHECK(max_abs_diff(n.gather(), rep.A_adjoint_A(xw)) <= tol);
  auto const m = sh.A_A_adjoint(v);
  CHECK(m.partition() == v.partition());
  CHECK(max_abs_diff(m.gather(), rep.A_A_adjoint(vw)) <= tol);
  CHECK(dot(y, v) == doctest::Approx(dot(x, xa)).epsilon(10 * tol));  // <A x, v> = <x, Aᵀ v>
}

template <class Comm>
using BlurOn = layout::Sharded<physics::Blur<float>, Comm>;

}  // namespace

static_assert(physics::LinearPhysics<layout::Sharded<physics::Blur<float>, comm::SingleProcess>>);
static_assert(physics::LinearPhysics<layout::Sharded<physics::Downsampling<double>, comm::Threads>>);
static_assert(physics::LinearPhysics<layout::Sharded<physics::Inpainting<float>, comm::SingleProcess>>);
static_assert(physics::LinearPhysics<layout::Sharded<physics::Denoising<float>, comm::SingleProcess>>);

TEST_CASE_TEMPLATE("slab operators: Blur on slabs equals the replicated Blur, every padding", T, float, double) {
  for_each_backend([](auto& ctx) {
    int const p = ctx.world_size();
    struct Kernel {
      Index Bf, kh, kw;
    };
    // odd, even, and 7 rows tall: a halo of 3 rows, taller than a slab of one or two rows
    for (Kernel k : {Kernel{1, 3, 3}, Kernel{2, 2, 4}, Kernel{1, 7, 5}})
      for (Padding pad : {Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros, Padding::valid})
        for (Index H : heights(p)) {
          Shape<4> const s{2, 2, H, 6};
          physics::Blur<T> rep(random_filter<T>(k.Bf, 1, k.kh, k.kw, unsigned(H + k.kh)), pad);
          if (refused([&] { rep.output_shape(s); }) || rep.output_shape(s)[2] < p) continue;
          CAPTURE(kernels::padding_name(pad));
          CAPTURE(H);
          CAPTURE(k.kh);
          auto const sh = layout::shard(rep, ctx.comm());
          for (auto const& part : slab_partitions(H, p)) {
            CAPTURE(part.to_string());
            check_equals_replicated<T>(rep, sh, ctx.comm(), s, part, 7);
          }
        }
    // An automatic circular blur the replicated operator runs through the FFT (11 x 11 taps)
    // runs the direct path on slabs, with the same result.
    Shape<4> const s{1, 3, 13, 12};
    physics::Blur<T> big(random_filter<T>(1, 1, 11, 11, 3), Padding::circular);
    check_equals_replicated<T>(big, layout::shard(big, ctx.comm()), ctx.comm(), s, RowPartition::balanced(13, p), 9);
  });
}

TEST_CASE_TEMPLATE("slab operators: Downsampling on slabs equals the replicated one", T, float, double) {
  for_each_backend([](auto& ctx) {
    int const p = ctx.world_size();
    for (Index f : {Index(2), Index(3)})
      for (Index kh : {Index(0), Index(3), Index(4)})  // 0: no filter
        for (Padding pad : {Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros, Padding::valid}) {
          if (kh == 0 && pad != Padding::circular) continue;
          for (Index H : {f * p, 2 * f * p + 1, Index(17)}) {  // down to one output row per rank
            Index const W = 7;
            Shape<4> const s{1, 2, H, W};
            std::optional<Tensor<T, 2>> kernel;
            if (kh > 0) {
              Tensor4<T> const fl = random_filter<T>(1, 1, kh, kh, unsigned(H + kh));
              kernel = Tensor<T, 2>(kh, kh);
              std::copy_n(fl.data(), kh * kh, kernel->data());
            }
            physics::Downsampling<T> rep(f, kernel, pad, std::array<Index, 2>{H, W});
            if (refused([&] { rep.output_shape(s); }) || rep.output_shape(s)[2] < p) continue;
            CAPTURE(f);
            CAPTURE(kh);
            CAPTURE(kernels::padding_name(pad));
            CAPTURE(H);
            auto const sh = layout::shard(rep, ctx.comm());
            for (auto const& part : slab_partitions(H, p)) check_equals_replicated<T>(rep, sh, ctx.comm(), s, part, 11);
          }
        }
    // Without image_hw the input is factor x the output (here 12 = 3 x 4 rows).
    physics::Downsampling<T> plain(3, std::nullopt);
    if (4 >= p)
      check_equals_replicated<T>(plain, layout::shard(plain, ctx.comm()), ctx.comm(), {2, 1, 12, 9},
                                 RowPartition::balanced(12, p), 13);
  });
}

TEST_CASE_TEMPLATE("slab operators: Inpainting (mask on slabs) and Denoising equal the replicated ones", T, float,
                   double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    for (Index H : heights(p))
      for (Shape<4> const ms : {Shape<4>{1, 3, H, 5}, Shape<4>{2, 1, H, 5}}) {
        Tensor4<T> mask = random_whole<T>(ms, unsigned(H), 0);
        for (Index i = 0; i < mask.size(); ++i) mask.data()[i] = mask.data()[i] > T(0.5) ? T(1) : T(0);
        physics::Inpainting<T> rep(mask);
        for (auto const& part : slab_partitions(H, p)) {
          layout::Sharded<physics::Inpainting<T>, Comm> sh(rep, ctx.comm(), part);
          CHECK(sh.partition() == part);
          check_equals_replicated<T>(rep, sh, ctx.comm(), {2, 3, H, 5}, part, 17);
          // from a mask already in the slab layout
          layout::Sharded<physics::Inpainting<T>, Comm> from_slabs(
              SlabTensor<T, 4, Comm>::scatter(ctx.comm(), mask, part));
          check_equals_replicated<T>(rep, from_slabs, ctx.comm(), {2, 3, H, 5}, part, 19);
        }
        physics::Denoising<T> id;
        check_equals_replicated<T>(id, layout::shard(id, ctx.comm()), ctx.comm(), {1, 2, H, 4},
                                   RowPartition::balanced(H, p), 23);
      }
  });
}

TEST_CASE("slab operators: a noisy forward draws the replicated operator's noise") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    Index const H = 2 * ctx.world_size() + 1;
    Shape<4> const s{1, 2, H, 6};
    physics::Blur<float> rep(random_filter<float>(1, 1, 3, 3, 1), Padding::reflect);
    rep.set_noise(physics::GaussianNoise<float>(0.1f));
    Tensor4<float> const xw = random_whole<float>(s, 3);
    std::mt19937_64 a(42), b(42);
    Tensor4<float> const want = rep.forward(xw, a);
    auto const x = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), xw, RowPartition::balanced(H, ctx.world_size()));
    CHECK(max_abs_diff(layout::shard(rep, ctx.comm()).forward(x, b).gather(), want) <= 1e-6);
  });
}

TEST_CASE_TEMPLATE("slab operators: a stack's A_adjoint, A_adjoint_A and L2 gradient equal the replicated stack's", T,
                   float, double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    double const tol = distinv::testing::tol<T>();
    for (Index H : {Index(p), Index(2 * p + 1), Index(11)}) {
      if (H <= 2) continue;  // reflect by a 4 x 4 kernel needs more than 2 rows
      Shape<4> const s{1, 3, H, 8};
      std::vector<physics::Blur<T>> reps;
      reps.emplace_back(random_filter<T>(1, 1, 3, 3, 1), Padding::circular);
      reps.emplace_back(random_filter<T>(1, 3, 4, 4, 2), Padding::reflect);
      reps.emplace_back(random_filter<T>(1, 1, 5, 3, 3), Padding::zeros);
      if (H - 1 >= p) reps.emplace_back(random_filter<T>(1, 1, 2, 2, 4), Padding::valid);
      physics::StackedLinearPhysics<physics::Blur<T>> const rep(reps);
      std::vector<layout::Sharded<physics::Blur<T>, Comm>> ops;
      for (auto const& b : reps) ops.push_back(layout::shard(b, ctx.comm()));
      layout::ShardedStack<layout::Sharded<physics::Blur<T>, Comm>> const stack(ops);
      CAPTURE(H);
      for (auto const& part : slab_partitions(H, p)) {
        Tensor4<T> const xw = random_whole<T>(s, 5);
        auto const x = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), xw, part);
        auto const ax = stack.A(x);
        TensorList<Tensor4<T>> yw;
        std::vector<SlabTensor<T, 4, Comm>> y;
        for (std::size_t i = 0; i < reps.size(); ++i) {
          CHECK(max_abs_diff(ax[i].gather(), reps[i].A(xw)) <= tol);
          yw.push_back(random_whole<T>(reps[i].output_shape(s), unsigned(30 + i)));
          y.push_back(SlabTensor<T, 4, Comm>::scatter(ctx.comm(), yw[i], ax[i].partition()));
        }
        auto const aty = stack.A_adjoint(y, part);
        CHECK(aty.partition() == part);
        CHECK(max_abs_diff(aty.gather(), rep.A_adjoint(yw)) <= tol);
        CHECK(max_abs_diff(stack.A_adjoint_A(x).gather(), rep.A_adjoint_A(xw)) <= tol);
        Tensor4<T> const grad_ref = rep.A_adjoint_A(xw) - rep.A_adjoint(yw);
        auto const grad = stack.grad(optim::L2{}, x, y);
        CHECK(grad.partition() == part);
        CHECK(max_abs_diff(grad.gather(), grad_ref) <= 10 * tol);
        double fn_ref = 0;
        for (std::size_t i = 0; i < reps.size(); ++i) fn_ref += optim::L2{}.fn(xw, yw[i], reps[i]);
        CHECK(stack.fn(optim::L2{}, x, y) == doctest::Approx(fn_ref).epsilon(10 * tol));
      }
    }
  });
}

TEST_CASE("slab operators: bad input is the same Error on every rank, and the ranks go on together") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    Index const H = 2 * p + 1;
    auto const part = RowPartition::balanced(H, p);
    Shape<4> const s{3, 2, H, 6};
    auto const x = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random_whole<float>(s, 1), part);
    // a filter (2, 1, ...) does not broadcast over B = 3
    auto const bad_filter =
        layout::shard(physics::Blur<float>(random_filter<float>(2, 1, 3, 3, 2), Padding::zeros), ctx.comm());
    same_error(ctx, [&] { (void)bad_filter.A(x); });
    auto const blur =
        layout::shard(physics::Blur<float>(random_filter<float>(1, 1, 3, 3, 2), Padding::zeros), ctx.comm());
    // an output or input layout of the wrong rows
    same_error(ctx, [&] { (void)blur.A(x, RowPartition::balanced(H + 1, p)); });
    same_error(ctx, [&] { (void)blur.A_adjoint(x, RowPartition::balanced(H + 1, p)); });
    if (physics::Blur<float>::fft_type::available) {
      physics::Blur<float> const fft(random_filter<float>(1, 1, 3, 3, 2), Padding::circular, physics::BlurMethod::fft);
      same_error(ctx, [&] { (void)layout::shard(fft, ctx.comm()); });
    }
    // a valid blur whose output has fewer rows than ranks
    if (p >= 2) {
      Index const h = 3 + p - 2;  // 3 x 3 valid: p - 1 output rows
      auto const thin = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random_whole<float>({1, 1, h, 6}, 3),
                                                            RowPartition::balanced(h, p));
      auto const valid =
          layout::shard(physics::Blur<float>(random_filter<float>(1, 1, 3, 3, 2), Padding::valid), ctx.comm());
      same_error(ctx, [&] { (void)valid.A(thin); });
    }
    // Downsampling: a measurement that the fixed image size cannot give
    auto const down = layout::shard(
        physics::Downsampling<float>(2, std::nullopt, Padding::circular, std::array<Index, 2>{H, 6}), ctx.comm());
    auto const y3 = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random_whole<float>({3, 2, H, 3}, 4), part);
    same_error(ctx, [&] { (void)down.A_adjoint(y3); });
    // Inpainting: a signal of another height, or laid out otherwise than the mask
    layout::Sharded<physics::Inpainting<float>, Comm> inpaint(
        physics::Inpainting<float>(random_whole<float>({1, 1, H, 6}, 5)), ctx.comm(), part);
    auto const other = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random_whole<float>({3, 2, H + 1, 6}, 6),
                                                           RowPartition::balanced(H + 1, p));
    same_error(ctx, [&] { (void)inpaint.A(other); });
    for (auto const& q : slab_partitions(H, p))
      if (q != part)
        same_error(ctx, [&] {
          (void)inpaint.A(SlabTensor<float, 4, Comm>::scatter(ctx.comm(), random_whole<float>(s, 7), q));
        });
    same_error(ctx,
                     [&] { (void)inpaint.A(x, RowPartition::balanced(H + 1, p)); });  // Inpainting keeps the layout
    // a stack: too few measurements, a measurement of the wrong shape
    layout::ShardedStack<BlurOn<Comm>> const stack({blur, blur});
    auto const y = stack.A(x);
    same_error(ctx, [&] { (void)stack.A_adjoint({y[0]}, part); });
    same_error(ctx, [&] { (void)stack.grad(optim::L2{}, x, {y[0], other}); });
    same_error(ctx, [&] { (void)layout::ShardedStack<BlurOn<Comm>>(std::vector<BlurOn<Comm>>{}); });
    // every rank threw alike, so the ranks still meet in the same collectives
    CHECK(max_abs_diff(stack.A_adjoint(y, part), blur.A_adjoint(y[0]) * 2.0f) <= 1e-6);
  });
}
