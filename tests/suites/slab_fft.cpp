// The distributed FFT of the slab layout and the fused normal operator on slabs, on every
// backend: SlabFft forward then inverse is H W times the identity, its spectrum is the
// replicated FFTW spectrum's columns of the rank, SlabCircularNormal equals CircularNormal
// (grad, normal, Σ Aᵢᵀyᵢ) and gives the same bits on any number of ranks — heights and widths
// not divisible by the ranks, a slab of one row, uneven partitions, fewer spectral columns than
// ranks — and bad input is the same Error on every rank.
#include "distinv/layout/slab_fft.hpp"

#include "backends.hpp"
#include "counting_comm.hpp"
#include "distinv/config.hpp"
#include "distinv/fft/fftw.hpp"
#include "distinv/layout/slab_circular_normal.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/gaussian_blur.hpp"

#if DISTINV_HAS_FFTW
using namespace distinv;
using distinv::testing::for_each_backend;
using distinv::testing::random_tensor;
using layout::RowPartition;
using layout::SlabTensor;

namespace {
/// Shapes (B, C, H, W) for P ranks: H and W not divisible by P, one row per rank, W/2 + 1 < P.
std::vector<Shape<4>> shapes_for(int p) {
  std::vector<Shape<4>> s{{1, 3, 13, 10}, {2, 1, 7, 9}, {1, 2, Index(p), 6}, {1, 1, Index(p) + 2, 1}, {1, 3, 32, 33}};
  return s;
}
/// Rows [r, r + 1) on ranks r < P - 1, the rest on the last (a partition not balanced).
RowPartition uneven_partition(Index rows, int p) {
  std::vector<Index> o(std::size_t(p) + 1);
  for (int r = 0; r < p; ++r) o[std::size_t(r)] = r;
  o[std::size_t(p)] = rows;
  return RowPartition(std::move(o));
}
}  // namespace

TEST_CASE_TEMPLATE("SlabFft: inverse after forward is H W times the identity; the shard is the replicated spectrum's",
                   T, float, double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    for (auto const& s : shapes_for(p))
      for (bool uneven : {false, true}) {  // uneven: one row on every rank but the last
        CAPTURE(distinv::to_string(s));
        CAPTURE(uneven);
        Index const H = s[2], W = s[3], Wc = W / 2 + 1, planes = s[0] * s[1];
        auto const part = uneven ? uneven_partition(H, p) : RowPartition::balanced(H, p);
        layout::SlabFft<T, Comm> fft(ctx.comm(), H, W, part);
        auto const whole = random_tensor<T>(s, 3);
        auto const x = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), whole, part);
        // The ranks' column blocks cover the half spectrum.
        CHECK(fft.col_lo(0) == 0);
        CHECK(fft.col_hi(p - 1) == Wc);
        auto const spec = fft.forward(x);
        CHECK(Index(spec.size()) == planes * fft.local_cols() * H);

        // The shard equals the replicated spectrum at this rank's columns.
        fft::FftwPlan<T> plan(H, W, planes);
        std::vector<kernels::Complex<T>> full(std::size_t(plan.spectrum_size()));
        plan.analyse(whole.data(), kernels::StoreSpectrum<T>{full.data()});
        double worst = 0;
        for (Index pl = 0; pl < planes; ++pl)
          for (Index c = fft.col_lo(ctx.rank()); c < fft.col_hi(ctx.rank()); ++c)
            for (Index i = 0; i < H; ++i) {
              auto const a = spec[std::size_t(pl * fft.plane_spectrum() + fft.spectrum_index(i, c))];
              auto const b = full[std::size_t((pl * H + i) * Wc + c)];
              worst = std::max({worst, std::abs(double(a.re) - b.re), std::abs(double(a.im) - b.im)});
            }
        ctx.comm().all_reduce(std::span<double>(&worst, 1), ReduceOp::max);
        CHECK(worst <= distinv::testing::tol<T>() * double(H * W));

        auto back = zeros_like(x);
        fft.inverse(spec, back);
        CHECK(max_abs_diff(back, x * T(H * W)) <= distinv::testing::tol<T>() * double(H * W));
        // filter with the identity in place is H W x as well.
        auto y = x;
        fft.filter(y, y, [](Index, kernels::Complex<T>&) {});
        CHECK(max_abs_diff(y, x * T(H * W)) <= distinv::testing::tol<T>() * double(H * W));
      }
  });
}

TEST_CASE_TEMPLATE("SlabCircularNormal equals CircularNormal: grad, normal and the data term", T, float, double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using physics::Blur;
    using physics::BlurMethod;
    using physics::Padding;
    int const p = ctx.world_size();
    for (Shape<4> const s : {Shape<4>{1, 3, 19, 14}, Shape<4>{2, 3, Index(p), 9}, Shape<4>{1, 3, 11, 1}}) {
      CAPTURE(distinv::to_string(s));
      auto const part = RowPartition::balanced(s[2], p);
      std::vector<Blur<T>> ops;
      ops.emplace_back(physics::gaussian_blur<T>(1.0), Padding::circular, BlurMethod::direct);
      ops.emplace_back(physics::gaussian_blur<T>({0.8, 2.5}, 35), Padding::circular);
      ops.emplace_back(random_tensor<T>(Shape<4>{1, s[1], 4, 3}, 5), Padding::circular, BlurMethod::fft);
      std::array<Index, 2> const weights{1, s[1]};  // the third filter differs per channel
      physics::CircularNormal<T> fused(s, weights);
      layout::SlabCircularNormal<T, Comm> slab(ctx.comm(), s, part, weights), normal_only(ctx.comm(), s, part, weights);
      // The same on one rank of its own (every row, every spectral column).
      using One = SlabTensor<T, 4, comm::SingleProcess>;
      auto const whole_rows = RowPartition::balanced(s[2], 1);
      layout::SlabCircularNormal<T, comm::SingleProcess> one({}, s, whole_rows, weights);
      for (std::size_t i = 0; i < ops.size(); ++i) {
        auto const y = random_tensor<T>(s, 10 + unsigned(i));
        fused.add(ops[i], y);
        slab.add(ops[i], SlabTensor<T, 4, Comm>::scatter(ctx.comm(), y, part));
        one.add(ops[i], One::scatter({}, y, whole_rows));
        normal_only.add_operator(ops[i]);
      }
      CHECK(slab.operator_count() == 3);
      auto const whole = random_tensor<T>(s, 1);
      auto const x = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), whole, part);
      double const tol = distinv::testing::tol<T>();  // absolute (the 1e-5 in float), on values up to ~50
      auto const want_grad = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), fused.grad(whole), part);
      auto const want_normal = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), fused.normal(whole), part);
      auto const want_aty = SlabTensor<T, 4, Comm>::scatter(ctx.comm(), fused.A_adjoint_y(), part);
      CHECK(max_abs_diff(slab.grad(x), want_grad) <= tol);
      CHECK(max_abs_diff(slab.normal(x), want_normal) <= tol);
      CHECK(max_abs_diff(normal_only.normal(x), want_normal) <= tol);
      CHECK(max_abs_diff(slab.A_adjoint_y(), want_aty) <= tol);
      // Every line transform and spectral product is the same whatever the rows per rank: the
      // gradient has the same bits on any number of ranks.
      CHECK(max_abs_diff(slab.grad(x).gather(), one.grad(One::scatter({}, whole, whole_rows)).local()) == 0);
      // The shards of S and B are this rank's columns only.
      Index const shard = slab.fft().local_cols() * s[2];
      CHECK(Index(slab.spectrum_sum().size()) == s[1] * shard);
      CHECK(Index(slab.data_term().size()) == 2 * s[0] * s[1] * shard);
      // The normal operator alone holds S only: B is allocated by the first measurement.
      CHECK(normal_only.data_term().empty());
      CHECK(max_abs(normal_only.A_adjoint_y()) == 0);
      CHECK(max_abs_diff(normal_only.grad(x), want_normal) <= tol);
      slab.reset();
      CHECK(slab.data_term().empty());
      CHECK(max_abs(slab.grad(x)) == 0);
      CHECK(max_abs(slab.A_adjoint_y()) == 0);
      // Measurements added again after a reset: the same gradient.
      for (std::size_t i = 0; i < ops.size(); ++i)
        slab.add(ops[i], SlabTensor<T, 4, Comm>::scatter(ctx.comm(), random_tensor<T>(s, 10 + unsigned(i)), part));
      CHECK(max_abs_diff(slab.grad(x), want_grad) <= tol);
    }
  });
}

TEST_CASE("SlabFft and SlabCircularNormal: bad input is the same Error on every rank") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using physics::Blur;
    using physics::Padding;
    int const p = ctx.world_size();
    Shape<4> const s{1, 3, 2 * Index(p) + 1, 8};
    auto const part = RowPartition::balanced(s[2], p);
    using Fft = layout::SlabFft<float, Comm>;
    using Normal = layout::SlabCircularNormal<float, Comm>;
    // A partition of another number of rows, or over another number of ranks.
    CHECK_THROWS_WITH_AS(Fft(ctx.comm(), s[2] + 1, s[3], part), doctest::Contains("SlabFft: expected a partition of"),
                         Error);
    CHECK_THROWS_AS(Fft(ctx.comm(), s[2], s[3], RowPartition::balanced(s[2], p + 1)), Error);
    CHECK_THROWS_AS(Fft(ctx.comm(), s[2], 0, part), Error);
    Fft fft(ctx.comm(), s[2], s[3], part);
    auto const narrow = SlabTensor<float, 4, Comm>::zeros(ctx.comm(), Shape<4>{1, 3, s[2], 7}, part);
    CHECK_THROWS_WITH_AS(
        fft.forward(narrow),
        doctest::Contains(("SlabFft::analyse: expected planes of " + std::to_string(s[2]) + " x 8").c_str()), Error);
    auto const x = SlabTensor<float, 4, Comm>::zeros(ctx.comm(), s, part);
    auto out = SlabTensor<float, 4, Comm>::zeros(ctx.comm(), Shape<4>{2, 3, s[2], 8}, part);
    CHECK_THROWS_AS(fft.filter(x, out, [](Index, kernels::Complex<float>&) {}), Error);
    CHECK_THROWS_AS(fft.inverse(host::Buffer<kernels::Complex<float>>(3), out), Error);

    Normal slab(ctx.comm(), s, part);
    CHECK_THROWS_WITH_AS(slab.add(Blur<float>(physics::gaussian_blur<float>(1.0), Padding::reflect), x),
                         "distinv: SlabCircularNormal: expected a circular Blur, got padding reflect", Error);
    Blur<float> const circ(physics::gaussian_blur<float>(1.0), Padding::circular);
    CHECK_THROWS_AS(slab.add(circ, narrow), Error);
    CHECK_THROWS_AS(
        slab.add(Blur<float>(random_tensor<float>({1, 3, 3, 3}, 2), Padding::circular), x),
        Error);  // per channel
    CHECK_THROWS_AS(slab.grad(out), Error);
    CHECK_THROWS_AS(Normal(ctx.comm(), s, part, {2, 1}), Error);
    // After every refusal the ranks are still in step: a collective completes.
    slab.add(circ, x);
    CHECK(max_abs(slab.grad(x)) == 0);
  });
}
TEST_CASE("SlabFft: a transpose moves the other ranks' blocks only, its own block stays where it is") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using distinv::testing::Counting;
    using distinv::testing::Moved;
    int const p = ctx.world_size();
    auto moved = std::make_shared<Moved>();
    Counting<Comm> const counted(ctx.comm(), moved);
    for (auto const& s : shapes_for(p))
      for (bool uneven : {false, true}) {
        CAPTURE(distinv::to_string(s));
        CAPTURE(uneven);
        Index const H = s[2], W = s[3], Wc = W / 2 + 1, planes = s[0] * s[1];
        auto const part = uneven ? uneven_partition(H, p) : RowPartition::balanced(H, p);
        layout::SlabFft<double, Counting<Comm>> fft(counted, H, W, part);
        layout::SlabFft<double, Comm> plain(ctx.comm(), H, W, part);
        auto const whole = random_tensor<double>(s, 5);
        auto const x = SlabTensor<double, 4, Counting<Comm>>::scatter(counted, whole, part);
        auto y = zeros_like(x);
        *moved = Moved{};
        auto halve = [](Index, kernels::Complex<double>& v) {
          v.re *= 0.5;
          v.im *= 0.5;
        };
        fft.filter(x, y, halve);
        Moved const m = *moved;
        // One transpose each way (none on one rank), nothing to itself: there its rows of the
        // other ranks' columns, back the other ranks' rows of its columns (as pairs of reals).
        Index const h = part.count(ctx.rank()), mine = fft.local_cols();
        CHECK(m.all_to_allv_calls == (p > 1 ? 2 : 0));
        CHECK(m.to_self == 0);
        CHECK(m.to_others == (p > 1 ? 2 * planes * (h * (Wc - mine) + mine * (H - h)) : 0));
        // The same bits as on the backend itself.
        auto const xp = SlabTensor<double, 4, Comm>::scatter(ctx.comm(), whole, part);
        auto yp = zeros_like(xp);
        plain.filter(xp, yp, halve);
        CHECK(max_abs_diff(y.gather(), yp.gather()) == 0);
        Tensor4<double> const want = whole * (0.5 * double(H * W));
        CHECK(max_abs_diff(y.gather(), want) <= 1e-12 * double(H * W));
      }
  });
}
#endif  // DISTINV_HAS_FFTW
