// The distributed FFT of the slab layout and the fused normal operator on slabs, on every
// backend: SlabFft forward then inverse is H W times the identity, its spectrum is the
// replicated FFTW spectrum's columns of the rank, CircularNormal on SlabFft equals the local one
// (grad, normal, Σ Aᵢᵀyᵢ) and gives the same bits on any number of ranks — heights and widths
// not divisible by the ranks, a slab of one row, uneven partitions, fewer spectral columns than
// ranks — and bad input is the same Error on every rank. The complex FFT of (B, 2, H, W) signals:
// fft::ComplexFft equals the direct (centred, orthonormal) DFT; SlabComplexFft is unitary when
// orthonormal (‖F x‖ = ‖x‖, Fᴴ F = I, ⟨F x, z⟩ = ⟨x, Fᴴ z⟩), its shard is ComplexFft's spectrum
// at the rank's columns, with the same bits on any number of ranks (prime sizes, one row per rank).
#include "distinv/layout/slab_fft.hpp"

#include "backends.hpp"
#include "counting_comm.hpp"
#include "distinv/config.hpp"
#include "distinv/fft/complex_fft.hpp"
#include "distinv/fft/fftw.hpp"
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

TEST_CASE_TEMPLATE("CircularNormal on SlabFft equals the local CircularNormal: grad, normal and the data term", T, float, double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    int const p = ctx.world_size();
    for (Shape<4> const s : {Shape<4>{1, 3, 19, 14}, Shape<4>{2, 3, Index(p), 9}, Shape<4>{1, 3, 11, 1}}) {
      CAPTURE(distinv::to_string(s));
      distinv::testing::check_slab_normal<physics::CircularNormal<T, layout::SlabFft<T, Comm>>>(
          ctx.comm(), s, RowPartition::balanced(s[2], p),
          [&](auto const& slab, auto const& x, Tensor4<T> const& whole, auto const& ops, auto const& ys) {
            // The same on one rank of its own (every row, every spectral column): every line
            // transform and spectral product is the same whatever the rows per rank, so the
            // gradient has the same bits on any number of ranks.
            using One = SlabTensor<T, 4, comm::SingleProcess>;
            auto const whole_rows = RowPartition::balanced(s[2], 1);
            physics::CircularNormal<T, layout::SlabFft<T, comm::SingleProcess>> one({}, s, whole_rows, {1, s[1]});
            for (std::size_t i = 0; i < ops.size(); ++i) one.add(ops[i], One::scatter({}, ys[i], whole_rows));
            CHECK(max_abs_diff(slab.grad(x).gather(), one.grad(One::scatter({}, whole, whole_rows)).local()) == 0);
          });
    }
  });
}

TEST_CASE("SlabFft and CircularNormal on it: bad input is the same Error on every rank") {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using physics::Blur;
    using physics::Padding;
    int const p = ctx.world_size();
    Shape<4> const s{1, 3, 2 * Index(p) + 1, 8};
    auto const part = RowPartition::balanced(s[2], p);
    using Fft = layout::SlabFft<float, Comm>;
    using Normal = physics::CircularNormal<float, layout::SlabFft<float, Comm>>;
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
                         "distinv: CircularNormal: expected a circular Blur, got padding reflect", Error);
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

namespace {
/// The four option sets of a complex FFT.
std::vector<fft::ComplexFftOptions> complex_options() {
  return {{false, false}, {true, false}, {false, true}, {true, true}};
}
/// F x by the definition, in double: fftshift(DFT(ifftshift(x))) when centred, scaled as the options say.
Tensor4<double> direct_dft(Tensor4<double> const& x, fft::ComplexFftOptions o, bool inverse) {
  Index const B = x.dimension(0), H = x.dimension(2), W = x.dimension(3);
  Index const sh = o.centred ? H / 2 : 0, sw = o.centred ? W / 2 : 0;             // ifftshift: x[(m + H/2) % H]
  Index const th = o.centred ? H - H / 2 : 0, tw = o.centred ? W - W / 2 : 0;     // fftshift: F[(k + H - H/2) % H]
  double const sign = inverse ? 1.0 : -1.0, pi = std::acos(-1.0);
  double const scale = o.orthonormal ? 1.0 / std::sqrt(double(H * W)) : (inverse ? 1.0 / double(H * W) : 1.0);
  Tensor4<double> y(B, 2, H, W);
  for (Index b = 0; b < B; ++b)
    for (Index k = 0; k < H; ++k)
      for (Index l = 0; l < W; ++l) {
        Index const kf = (k + th) % H, lf = (l + tw) % W;
        std::complex<double> acc = 0;
        for (Index m = 0; m < H; ++m)
          for (Index n = 0; n < W; ++n) {
            std::complex<double> const v(x(b, 0, (m + sh) % H, (n + sw) % W), x(b, 1, (m + sh) % H, (n + sw) % W));
            acc += v * std::polar(1.0, sign * 2 * pi * (double(kf * m) / double(H) + double(lf * n) / double(W)));
          }
        y(b, 0, k, l) = scale * acc.real();
        y(b, 1, k, l) = scale * acc.imag();
      }
  return y;
}
}  // namespace

TEST_CASE_TEMPLATE("ComplexFft: the direct DFT, centred and orthonormal as asked; inverse after forward is x", T, float,
                   double) {
  for (Shape<4> const s : {Shape<4>{2, 2, 5, 7}, Shape<4>{1, 2, 4, 6}, Shape<4>{1, 2, 1, 3}}) {
    for (auto const o : complex_options()) {
      CAPTURE(distinv::to_string(s));
      CAPTURE(o.centred);
      CAPTURE(o.orthonormal);
      fft::ComplexFft<T> const f(s[2], s[3], o);
      auto const x = random_tensor<T>(s, 21);
      Tensor4<double> const xd = x.template cast<double>();
      double const n = double(s[2] * s[3]), tol = distinv::testing::tol<T>();
      CHECK(max_abs_diff(Tensor4<double>(f.forward(x).template cast<double>()), direct_dft(xd, o, false)) <= tol * n);
      CHECK(max_abs_diff(Tensor4<double>(f.inverse(x).template cast<double>()), direct_dft(xd, o, true)) <= tol * n);
      Tensor4<T> y = x;
      f.forward_(y);
      f.inverse_(y);
      CHECK(max_abs_diff(y, x) <= tol);
    }
  }
  CHECK_THROWS_WITH_AS(fft::ComplexFft<T>(0, 3), doctest::Contains("ComplexFft: expected a positive grid"), Error);
  CHECK_THROWS_WITH_AS(fft::ComplexFft<T>(4, 4).forward(random_tensor<T>({1, 3, 4, 4}, 1)),
                       doctest::Contains("expected a complex signal (B, 2, 4, 4), got (1, 3, 4, 4)"), Error);
}

TEST_CASE_TEMPLATE("SlabComplexFft: unitary when orthonormal, the replicated ComplexFft's shard, the same bits on any "
                   "number of ranks", T, float, double) {
  for_each_backend([](auto& ctx) {
    using Comm = typename std::remove_cvref_t<decltype(ctx)>::comm_type;
    using Slab = SlabTensor<T, 4, Comm>;
    using One = SlabTensor<T, 4, comm::SingleProcess>;
    int const p = ctx.world_size();
    for (Shape<4> const s : {Shape<4>{1, 2, 13, 10}, Shape<4>{2, 2, 7, 11}, Shape<4>{1, 2, Index(p), 6},
                             Shape<4>{1, 2, Index(p) + 2, 1}})
      for (bool uneven : {false, true})
        for (auto const o : complex_options()) {
          CAPTURE(distinv::to_string(s));
          CAPTURE(uneven);
          CAPTURE(o.centred);
          CAPTURE(o.orthonormal);
          Index const H = s[2], W = s[3];
          double const tol = distinv::testing::tol<T>();
          auto const part = uneven ? uneven_partition(H, p) : RowPartition::balanced(H, p);
          layout::SlabComplexFft<T, Comm> const f(ctx.comm(), H, W, part, o);
          CHECK(f.spectrum_cols() == W);
          auto const whole = random_tensor<T>(s, 31);
          auto const x = Slab::scatter(ctx.comm(), whole, part);
          auto const spec = f.forward(x);
          REQUIRE(Index(spec.size()) == s[0] * f.local_cols() * H);

          // The shard is the replicated transform's spectrum at this rank's columns.
          auto const full = fft::ComplexFft<T>(H, W, o).forward(whole);
          double worst = 0, spec_sq = 0;
          for (Index b = 0; b < s[0]; ++b)
            for (Index c = f.col_lo(ctx.rank()); c < f.col_hi(ctx.rank()); ++c)
              for (Index i = 0; i < H; ++i) {
                auto const a = spec[std::size_t(b * f.plane_spectrum() + f.spectrum_index(i, c))];
                worst = std::max({worst, std::abs(double(a.re) - full(b, 0, i, c)), std::abs(double(a.im) - full(b, 1, i, c))});
                spec_sq += double(a.re) * a.re + double(a.im) * a.im;
              }
          ctx.comm().all_reduce(std::span<double>(&worst, 1), ReduceOp::max);
          ctx.comm().all_reduce(std::span<double>(&spec_sq, 1), ReduceOp::sum);
          CHECK(worst <= tol * (o.orthonormal ? 1.0 : double(H * W)));

          // F⁻¹ F = I; orthonormal: ‖F x‖ = ‖x‖ and the dot test ⟨F x, z⟩ = ⟨x, Fᴴ z⟩ (real products).
          auto back = zeros_like(x);
          f.inverse(spec, back);
          CHECK(max_abs_diff(back, x) <= tol);
          if (o.orthonormal) {
            double const nx = norm(x);
            CHECK(std::abs(std::sqrt(spec_sq) - nx) <= 1e-6 * nx);
            auto const zwhole = random_tensor<T>(s, 37);
            layout::SlabComplexFft<T, Comm> const g(ctx.comm(), H, W, part, o);
            auto z = g.forward(Slab::scatter(ctx.comm(), zwhole, part));  // any shard of a spectrum
            double lhs = 0;
            for (std::size_t e = 0; e < z.size(); ++e) lhs += double(spec[e].re) * z[e].re + double(spec[e].im) * z[e].im;
            ctx.comm().all_reduce(std::span<double>(&lhs, 1), ReduceOp::sum);
            auto fhz = zeros_like(x);
            f.inverse(z, fhz);
            double const rhs = dot(x, fhz);
            CHECK(std::abs(lhs - rhs) <= 10 * tol * std::max(1.0, std::abs(rhs)));
          }

          // The same bits as on one rank of its own (every line transform is the same), and a
          // filter with the identity is H W x (unnormalised).
          auto const whole_rows = RowPartition::balanced(H, 1);
          layout::SlabComplexFft<T, comm::SingleProcess> const one({}, H, W, whole_rows, o);
          auto const ref = one.forward(One::scatter({}, whole, whole_rows));
          bool same = true;
          for (Index b = 0; b < s[0]; ++b)
            for (Index c = f.col_lo(ctx.rank()); c < f.col_hi(ctx.rank()); ++c)
              for (Index i = 0; i < H; ++i) {
                auto const a = spec[std::size_t(b * f.plane_spectrum() + f.spectrum_index(i, c))];
                auto const r = ref[std::size_t(b * one.plane_spectrum() + c * H + i)];
                same = same && a.re == r.re && a.im == r.im;
              }
          CHECK(same);
          auto y = x;
          f.filter(y, y, [](Index, kernels::Complex<T>&) {});
          CHECK(max_abs_diff(y, x * T(H * W)) <= tol * double(H * W));
        }
    // Bad input: the same Error on every rank.
    using RealFft = layout::SlabFft<float, Comm>;
    CHECK_THROWS_WITH_AS(RealFft(ctx.comm(), 4, 4, RowPartition::balanced(4, p), {true, false}),
                         doctest::Contains("options of the complex transform"), Error);
    layout::SlabComplexFft<float, Comm> const f(ctx.comm(), 4, 4, RowPartition::balanced(4, p));
    auto const three = SlabTensor<float, 4, Comm>::zeros(ctx.comm(), Shape<4>{1, 3, 4, 4}, RowPartition::balanced(4, p));
    CHECK_THROWS_WITH_AS(f.forward(three), doctest::Contains("expected a complex signal (B, 2, H, W), got (1, 3, 4, 4)"),
                         Error);
  });
}
#endif  // DISTINV_HAS_FFTW
