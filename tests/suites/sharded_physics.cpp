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

namespace {

/// A local operator of a user's own (a 1-2-1 vertical smoothing times a per-pixel weight, rows
/// through reflect padding): it declares its footprint and its block kernel, and keeps the
/// weight rows of one span (physics::PixelRows). Whole images run the kernel on padded rows.
struct Smooth3 : physics::WithNoise<Smooth3, double> {
  using scalar_type = double;
  using tensor_type = Tensor4<double>;
  Tensor4<double> w;  ///< (1, 1, rows held, W)
  Index first = 0, H = 0;

  Shape<4> output_shape(Shape<4> const& in) const {
    DISTINV_REQUIRE(in[2] == H && in[3] == w.dimension(3), "Smooth3: expected ", H, " rows");
    return in;
  }
  physics::RowFootprint row_footprint() const { return {1, 1, 1, Padding::reflect}; }
  tensor_type A_rows(tensor_type const& block, physics::RowBlock const& b) const {
    tensor_type y(b.out);
    Index const W = b.out[3], n = b.out[2], nb = b.block[2];
    for (Index p = 0; p < b.out[0] * b.out[1]; ++p)
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < W; ++j) {
          Index const r = b.out_lo + i - b.in_lo;
          double const s = block.data()[(p * nb + r - 1) * W + j] + 2 * block.data()[(p * nb + r) * W + j] +
                           block.data()[(p * nb + r + 1) * W + j];
          y.data()[(p * n + i) * W + j] = w.data()[(b.out_lo + i - first) * W + j] * s;
        }
    return y;
  }
  tensor_type A_adjoint_rows(tensor_type const& y, physics::RowBlock const& b) const {
    tensor_type x = zeros<double>(b.block);
    Index const W = b.out[3], n = b.out[2], nb = b.block[2];
    for (Index p = 0; p < b.out[0] * b.out[1]; ++p)
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < W; ++j) {
          Index const r = b.out_lo + i - b.in_lo;
          double const t = w.data()[(b.out_lo + i - first) * W + j] * y.data()[(p * n + i) * W + j];
          x.data()[(p * nb + r - 1) * W + j] += t;
          x.data()[(p * nb + r) * W + j] += 2 * t;
          x.data()[(p * nb + r + 1) * W + j] += t;
        }
    return x;
  }
  Smooth3 on_rows(physics::RowSpan const& s) const {
    Smooth3 out{{}, Tensor4<double>(1, 1, s.out_hi - s.out_lo, w.dimension(3)), s.out_lo, H};
    std::copy_n(w.data() + (s.out_lo - first) * w.dimension(3), out.w.size(), out.w.data());
    return out;
  }
  /// The whole image with one reflected row above and below.
  tensor_type A(tensor_type const& x) const { return A_rows(padded(x), whole(shape_of(x))); }
  tensor_type A_adjoint(tensor_type const& y) const {  // the padded block folded back (reflect's adjoint)
    Shape<4> const s = shape_of(y);
    tensor_type const b = A_adjoint_rows(y, whole(s));
    tensor_type x = zeros<double>(s);
    for (Index p = 0; p < s[0] * s[1]; ++p)
      for (Index r = 0; r < s[2] + 2; ++r)
        for (Index j = 0; j < s[3]; ++j)
          x.data()[(p * s[2] + kernels::pad_index(Padding::reflect, r - 1, s[2])) * s[3] + j] +=
              b.data()[(p * (s[2] + 2) + r) * s[3] + j];
    return x;
  }
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }
  tensor_type A_adjoint_A(tensor_type const& x) const { return A_adjoint(A(x)); }
  tensor_type A_A_adjoint(tensor_type const& y) const { return A(A_adjoint(y)); }

  physics::RowBlock whole(Shape<4> const& s) const { return physics::RowBlock::whole(row_footprint(), s, s); }
  static tensor_type padded(tensor_type const& x) {
    Shape<4> const s = shape_of(x);
    tensor_type b(Shape<4>{s[0], s[1], s[2] + 2, s[3]});
    for (Index p = 0; p < s[0] * s[1]; ++p)
      for (Index r = 0; r < s[2] + 2; ++r)
        std::copy_n(x.data() + (p * s[2] + kernels::pad_index(Padding::reflect, r - 1, s[2])) * s[3], s[3],
                    b.data() + (p * (s[2] + 2) + r) * s[3]);
    return b;
  }
};
static_assert(physics::PixelRows<Smooth3>);

/// A non-local operator of a user's own on slabs, from public blocks only: y = (column sums of x)
/// as a (B, C, W, 1) detector, summed over the ranks (sum_over_ranks), the adjoint spreading the
/// gathered detector back; an operator with neither path is refused at compile time.
struct ColumnSums {
  using scalar_type = double;
  using tensor_type = Tensor4<double>;
  Index H = 0, W = 0;
  Shape<4> output_shape(Shape<4> const& in) const { return {in[0], in[1], W, 1}; }
  Shape<4> input_shape(Shape<4> const& out) const { return {out[0], out[1], H, W}; }
  template <class Comm>
  SlabTensor<double, 4, Comm> A(SlabTensor<double, 4, Comm> const& x, RowPartition const& out) const {
    Tensor4<double> partial = zeros<double>(output_shape(x.shape()));
    for (Index p = 0; p < x.planes(); ++p)
      for (Index i = 0; i < x.local_rows(); ++i)
        for (Index j = 0; j < W; ++j) partial.data()[p * W + j] += x.local().data()[(p * x.local_rows() + i) * W + j];
    return layout::sum_over_ranks(x.comm(), partial, out);
  }
  template <class Comm>
  SlabTensor<double, 4, Comm> A_adjoint(SlabTensor<double, 4, Comm> const& y, RowPartition const& in) const {
    Tensor4<double> const yw = y.gather();
    SlabTensor<double, 4, Comm> x(y.comm(), input_shape(y.shape()), in);
    for (Index p = 0; p < x.planes(); ++p)
      for (Index i = 0; i < x.local_rows(); ++i)
        for (Index j = 0; j < W; ++j) x.local().data()[(p * x.local_rows() + i) * W + j] = yw.data()[p * W + j];
    return x;
  }
};
static_assert(layout::has_slab_path_v<ColumnSums, comm::SingleProcess>);
static_assert(!layout::has_slab_path_v<physics::StackedLinearPhysics<physics::Blur<float>>, comm::SingleProcess>);

}  // namespace

TEST_CASE("slab operators: a user's stencil with a row footprint and per-pixel rows equals the whole-image operator") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    for (Index H : heights(p)) {
      if (H < 2) continue;  // reflect needs two rows
      Shape<4> const s{1, 2, H, 5};
      Smooth3 const rep{{}, random_whole<double>({1, 1, H, 5}, unsigned(H), 0.5), 0, H};
      CAPTURE(H);
      for (auto const& part : slab_partitions(H, p)) {
        CAPTURE(part.to_string());
        // any partition, the weight whole on every rank
        check_equals_replicated<double>(rep, layout::shard(rep, ctx.comm()), ctx.comm(), s, part, 29);
        // bound to the partition: each rank keeps its weight rows only
        layout::Sharded<Smooth3, Comm> const bound(rep, ctx.comm(), part);
        CHECK(bound.op().w.dimension(2) == part.count(ctx.rank()));
        CHECK(bound.bound_partition() == part);
        check_equals_replicated<double>(rep, bound, ctx.comm(), s, part, 31);
      }
    }
  });
}

TEST_CASE("slab operators: the public blocks (relayout, sum_over_ranks) and a user's SlabOperator") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using Slab = SlabTensor<double, 4, Comm>;
    int const p = ctx.world_size();
    Index const H = 2 * p + 1, W = 6;
    Tensor4<double> const xw = random_whole<double>({2, 1, H, W}, 41);
    auto const parts = slab_partitions(H, p);
    for (auto const& a : parts)
      for (auto const& b : parts) {  // relayout moves rows and changes no value
        auto const x = Slab::scatter(ctx.comm(), xw, a);
        auto const y = layout::relayout(x, b);
        CHECK(y.partition() == b);
        CHECK(max_abs_diff(y.gather(), xw) == 0);
      }
    // sum_over_ranks: Σ_r (r + 1) · xw on every backend, the terms added in rank order
    auto const sum = layout::sum_over_ranks(ctx.comm(), Tensor4<double>(xw * double(ctx.rank() + 1)), parts.back());
    Tensor4<double> want = xw * 1.0;
    for (int r = 1; r < p; ++r) want = want + xw * double(r + 1);
    CHECK(max_abs_diff(sum.gather(), want) == 0);
    // a user's SlabOperator: the dot test and the replicated column sums
    Index const Hx = 7;
    if (W >= p && Hx >= p) {
      ColumnSums const cs{Hx, W};
      Tensor4<double> const x = random_whole<double>({1, 2, Hx, W}, 43);
      auto const sh = layout::shard(cs, ctx.comm());
      auto const xs = Slab::scatter(ctx.comm(), x, RowPartition::balanced(Hx, p));
      auto const y = sh.A(xs);
      CHECK(y.partition() == RowPartition::balanced(W, p));
      Tensor4<double> const yw = y.gather();
      for (Index pl = 0; pl < 2; ++pl)
        for (Index j = 0; j < W; ++j) {
          double s = 0;
          for (Index i = 0; i < Hx; ++i) s += x.data()[(pl * Hx + i) * W + j];
          CHECK(yw.data()[pl * W + j] == doctest::Approx(s).epsilon(1e-12));
        }
      auto const v = Slab::scatter(ctx.comm(), random_whole<double>({1, 2, W, 1}, 44), y.partition());
      CHECK(dot(y, v) == doctest::Approx(dot(xs, sh.A_adjoint(v))).epsilon(1e-12));
      CHECK(max_abs_diff(sh.A_adjoint_A(xs), sh.A_adjoint(sh.A(xs))) == 0);
      // the result of a user's operator is checked against the layout asked for
      same_error(ctx, [&] { (void)sh.A(xs, RowPartition::balanced(W + 1, p)); });
    }
  });
}

TEST_CASE("slab operators: row-by-row operators take any output layout; a bound operator or a bad shape refuses alike") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    Index const H = 2 * p + 1;
    Tensor4<float> const xw = random_whole<float>({1, 2, H, 4}, 51);
    auto const parts = slab_partitions(H, p);
    auto const id = layout::shard(physics::Denoising<float>{}, ctx.comm());
    auto const x = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), xw, parts[0]);
    for (auto const& q : parts) {  // the identity into another layout: the row exchange
      auto const y = id.A(x, q);
      CHECK(y.partition() == q);
      CHECK(max_abs_diff(y.gather(), xw) == 0);
      CHECK(max_abs_diff(id.A_adjoint(y, parts[0]).gather(), xw) == 0);
    }
    // an Inpainting bound to one layout holds its rows of the mask only, and refuses another layout
    Tensor4<float> const mask = random_whole<float>({1, 1, H, 4}, 52, 0);
    layout::Sharded<physics::Inpainting<float>, Comm> const inpaint(physics::Inpainting<float>(mask), ctx.comm(),
                                                                    parts.back());
    CHECK(inpaint.op().mask().dimension(2) == parts.back().count(ctx.rank()));
    if (p > 1) same_error(ctx, [&] { (void)inpaint.A(x); });
    // a Smooth3 whose weight covers fewer rows than the signal: its output_shape refuses
    Smooth3 const short_rows{{}, random_whole<double>({1, 1, H, 4}, 53, 0.5), 0, H + 1};
    auto const sm = layout::shard(short_rows, ctx.comm());
    same_error(ctx, [&] {
      (void)sm.A(SlabTensor<double, 4, Comm>::scatter(ctx.comm(), random_whole<double>({1, 1, H, 4}, 54), parts[0]));
    });
  });
}
