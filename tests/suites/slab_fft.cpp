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
#include "slab_testing.hpp"

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
    int const p = ctx.world_size();
    for (Shape<4> const s : {Shape<4>{1, 3, 19, 14}, Shape<4>{2, 3, Index(p), 9}, Shape<4>{1, 3, 11, 1}}) {
      CAPTURE(distinv::to_string(s));
      distinv::testing::check_slab_normal<layout::SlabCircularNormal<T, Comm>>(
          ctx.comm(), s, RowPartition::balanced(s[2], p),
          [&](auto const& slab, auto const& x, Tensor4<T> const& whole, auto const& ops, auto const& ys) {
            // The same on one rank of its own (every row, every spectral column): every line
            // transform and spectral product is the same whatever the rows per rank, so the
            // gradient has the same bits on any number of ranks.
            using One = SlabTensor<T, 4, comm::SingleProcess>;
            auto const whole_rows = RowPartition::balanced(s[2], 1);
            layout::SlabCircularNormal<T, comm::SingleProcess> one({}, s, whole_rows, {1, s[1]});
            for (std::size_t i = 0; i < ops.size(); ++i) one.add(ops[i], One::scatter({}, ys[i], whole_rows));
            CHECK(max_abs_diff(slab.grad(x).gather(), one.grad(One::scatter({}, whole, whole_rows)).local()) == 0);
          });
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
    using Counted = distinv::testing::CountingComm<Comm>;
    int const p = ctx.world_size();
    Counted const counted(ctx.comm());
    for (auto const& s : shapes_for(p))
      for (bool uneven : {false, true}) {
        CAPTURE(distinv::to_string(s));
        CAPTURE(uneven);
        Index const H = s[2], W = s[3], Wc = W / 2 + 1, planes = s[0] * s[1];
        auto const part = uneven ? uneven_partition(H, p) : RowPartition::balanced(H, p);
        layout::SlabFft<double, Counted> fft(counted, H, W, part);
        layout::SlabFft<double, Comm> plain(ctx.comm(), H, W, part);
        auto const whole = random_tensor<double>(s, 5);
        auto const x = SlabTensor<double, 4, Counted>::scatter(counted, whole, part);
        auto y = zeros_like(x);
        auto halve = [](Index, kernels::Complex<double>& v) {
          v.re *= 0.5;
          v.im *= 0.5;
        };
        auto const before = counted.tally();
        fft.filter(x, y, halve);
        auto const m = counted.tally() - before;
        // One transpose each way (none on one rank), nothing to itself: there its rows of the
        // other ranks' columns, back the other ranks' rows of its columns.
        Index const h = part.count(ctx.rank()), mine = fft.local_cols();
        CHECK(m.all_to_allv.calls == (p > 1 ? 2 : 0));
        CHECK(m.own_bytes == 0);
        CHECK(m.all_to_allv.bytes ==
              (p > 1 ? planes * (h * (Wc - mine) + mine * (H - h)) * Index(sizeof(kernels::Complex<double>)) : 0));
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
