// FFTW's MPI interface as the slab FFT engine (layout::FftwMpiSlabFft), MPI only: its spectra
// equal SlabFft's (every coefficient, gathered by (row, column)), inverse after forward is H W
// times the identity, CircularNormal on it equals the replicated CircularNormal and the
// SlabFft-based one — balanced, uneven and FFTW's own partitions, heights not divisible by the
// ranks, FFTW decompositions that leave a rank without rows or spectral columns, width 1,
// FFTW_ESTIMATE and FFTW_MEASURE plans — and bad input is the same Error on every rank. Without FFTW-MPI in the build the case is reported skipped.
#include <doctest/doctest.h>

#include "distinv/config.hpp"

#if DISTINV_HAS_FFTW_MPI
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "backends.hpp"
#include "slab_testing.hpp"
#include "distinv/layout/fftw_mpi_slab_fft.hpp"
#include "distinv/layout/slab_fft.hpp"
#include "distinv/mpi.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/gaussian_blur.hpp"

using namespace distinv;
using distinv::testing::random_tensor;
using layout::RowPartition;

namespace {
using Slab = layout::SlabTensor<float, 4, comm::Mpi>;
template <class T>
using MpiSlab = layout::SlabTensor<T, 4, comm::Mpi>;
template <class T>
using FftwMpiNormal = physics::CircularNormal<T, layout::FftwMpiSlabFft<T>>;

static_assert(layout::SlabFftEngine<layout::FftwMpiSlabFft<float>, float, comm::Mpi>);
static_assert(layout::SlabFftEngine<layout::SlabFft<double, comm::Mpi>, double, comm::Mpi>);

/// The partitions tried for H rows: those of the slab suites and FFTW's own (when every rank has a row).
template <class T>
std::vector<RowPartition> partitions(comm::Mpi const& comm, Index H, Index W) {
  auto out = distinv::testing::slab_partitions(H, comm.size());
  if (auto native = layout::FftwMpiSlabFft<T>(comm, H, W, out[0]).fftw_partition()) out.push_back(*native);
  return out;
}
/// Every rank's shard of a spectrum placed at its (plane, row, column) of the whole half
/// spectrum, summed over the ranks: the whole spectrum on every rank.
template <class T, class Fft>
std::vector<double> whole_spectrum(Fft const& fft, host::Buffer<kernels::Complex<T>> const& shard, Index planes) {
  Index const H = fft.rows(), Wc = fft.spectrum_cols();
  int const me = fft.comm().rank();
  std::vector<double> whole(std::size_t(2 * planes * H * Wc), 0.0);
  for (Index pl = 0; pl < planes; ++pl)
    for (Index c = fft.col_lo(me); c < fft.col_hi(me); ++c)
      for (Index i = 0; i < H; ++i) {
        auto const v = shard[std::size_t(pl * fft.plane_spectrum() + fft.spectrum_index(i, c))];
        std::size_t const at = std::size_t(2 * ((pl * H + i) * Wc + c));
        whole[at] = v.re;
        whole[at + 1] = v.im;
      }
  fft.comm().all_reduce(std::span<double>(whole), ReduceOp::sum);
  return whole;
}
}  // namespace

TEST_CASE_TEMPLATE("FftwMpiSlabFft: the spectra are SlabFft's; inverse after forward is H W times the identity", T,
                   float, double) {
  comm::Mpi const comm(MPI_COMM_WORLD);
  int const p = comm.size();
  // H and W not divisible by P, one row per rank, W/2 + 1 < P, H = P + 1 (FFTW leaves the last
  // ranks without rows from P = 3 on), a single column.
  for (Shape<4> const s : {Shape<4>{1, 3, 13, 10}, Shape<4>{2, 1, 7, 9}, Shape<4>{1, 2, Index(p), 6},
                           Shape<4>{1, 3, Index(p) + 1, 8}, Shape<4>{1, 1, Index(p) + 2, 1}, Shape<4>{1, 3, 32, 33}})
    for (auto const& part : partitions<T>(comm, s[2], s[3])) {
      CAPTURE(distinv::to_string(s));
      CAPTURE(part.to_string());
      Index const H = s[2], W = s[3], Wc = W / 2 + 1, planes = s[0] * s[1];
      layout::FftwMpiSlabFft<T> fft(comm, H, W, part);
      layout::SlabFft<T, comm::Mpi> reference(comm, H, W, part);
      CHECK(fft.col_lo(0) == 0);
      CHECK(fft.col_hi(p - 1) == Wc);
      CHECK(fft.fftw_row_lo(0) == 0);
      CHECK(fft.fftw_row_hi(p - 1) == H);
      bool same_rows = true;  // the rows move to FFTW's exactly when the layouts differ
      for (int r = 0; r < p; ++r)
        same_rows = same_rows && fft.fftw_row_lo(r) == part.lo(r) && fft.fftw_row_hi(r) == part.hi(r);
      CHECK(fft.redistributes() == !same_rows);
      if (auto native = fft.fftw_partition()) CHECK(fft.redistributes() == (*native != part));
      if (H == Index(p) + 1 && p >= 3) CHECK_FALSE(fft.fftw_partition().has_value());  // a rank without FFTW rows

      auto const whole = random_tensor<T>(s, 3);
      auto const x = MpiSlab<T>::scatter(comm, whole, part);
      auto const spec = fft.forward(x);
      CHECK(Index(spec.size()) == planes * fft.local_cols() * H);
      auto const got = whole_spectrum<T>(fft, spec, planes);
      auto const want = whole_spectrum<T>(reference, reference.forward(x), planes);
      double worst = 0;
      for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
      CHECK(worst <= distinv::testing::tol<T>() * double(H * W));

      // FFTW_MEASURE plans: other plans, the same transform.
      layout::FftwMpiSlabFft<T, fft::MpiPlanner::measure> const measured(comm, H, W, part);
      auto const by_measured = whole_spectrum<T>(measured, measured.forward(x), planes);
      double worst_measured = 0;
      for (std::size_t i = 0; i < got.size(); ++i) worst_measured = std::max(worst_measured, std::abs(by_measured[i] - want[i]));
      CHECK(worst_measured <= distinv::testing::tol<T>() * double(H * W));

      auto back = zeros_like(x);
      fft.inverse(spec, back);
      CHECK(max_abs_diff(back, x * T(H * W)) <= distinv::testing::tol<T>() * double(H * W));
      auto y = x;  // filter with the identity, in place
      fft.filter(y, y, [](Index, kernels::Complex<T>&) {});
      CHECK(max_abs_diff(y, x * T(H * W)) <= distinv::testing::tol<T>() * double(H * W));
      // A copy shares the plans and transforms alike.
      auto const copy = fft;
      CHECK(max_abs_diff(back, [&] {
              auto z = zeros_like(x);
              copy.inverse(copy.forward(x), z);
              return z;
            }()) == 0);
    }
}

TEST_CASE_TEMPLATE("FftwMpiSlabFft: CircularNormal on it equals the local CircularNormal and the SlabFft engine", T, float,
                   double) {
  comm::Mpi const comm(MPI_COMM_WORLD);
  int const p = comm.size();
  for (Shape<4> const s : {Shape<4>{1, 3, 19, 14}, Shape<4>{2, 3, Index(p), 9}, Shape<4>{1, 3, Index(p) + 1, 8},
                           Shape<4>{1, 3, 11, 1}})
    for (auto const& part : partitions<T>(comm, s[2], s[3])) {
      CAPTURE(distinv::to_string(s));
      CAPTURE(part.to_string());
      distinv::testing::check_slab_normal<FftwMpiNormal<T>>(
          comm, s, part, [&](auto const& slab, auto const& x, Tensor4<T> const&, auto const& ops, auto const& ys) {
            physics::CircularNormal<T, layout::SlabFft<T, comm::Mpi>> lines(comm, s, part, {1, s[1]});  // the SlabFft engine
            for (std::size_t i = 0; i < ops.size(); ++i) lines.add(ops[i], MpiSlab<T>::scatter(comm, ys[i], part));
            CHECK(max_abs_diff(slab.grad(x), lines.grad(x)) <= distinv::testing::tol<T>());
          });
    }
}

TEST_CASE("FftwMpiSlabFft: bad input is the same Error on every rank") {
  using physics::Blur;
  using physics::Padding;
  using distinv::testing::same_error;
  distinv::testing::for_each_backend([](auto& ctx) {
    comm::Mpi const& comm = ctx.comm();
    int const p = comm.size();
    Shape<4> const s{1, 3, 2 * Index(p) + 1, 8};
    auto const part = RowPartition::balanced(s[2], p);
    using Fft = layout::FftwMpiSlabFft<float>;
    CHECK(same_error(ctx, [&] { Fft(comm, s[2] + 1, s[3], part); })
              .find("FftwMpiSlabFft: expected a partition of") != std::string::npos);
    same_error(ctx, [&] { Fft(comm, s[2], s[3], RowPartition::balanced(s[2], p + 1)); });
    CHECK(same_error(ctx, [&] { Fft(comm, s[2], 0, part); }) ==
          "distinv: FftwMpiSlabFft: expected a positive grid, got " + std::to_string(s[2]) + " x 0");
    Fft fft(comm, s[2], s[3], part);
    auto const narrow = Slab::zeros(comm, Shape<4>{1, 3, s[2], 7}, part);
    CHECK(same_error(ctx, [&] { fft.forward(narrow); })
              .find("FftwMpiSlabFft::analyse: expected planes of " + std::to_string(s[2]) + " x 8") != std::string::npos);
    auto const x = Slab::zeros(comm, s, part);
    auto const other = distinv::testing::slab_partitions(s[2], p).back();
    if (p > 1)
      CHECK(same_error(ctx, [&] { fft.forward(Slab::zeros(comm, s, other)); })
                .find("FftwMpiSlabFft::analyse: expected the row partition") != std::string::npos);
    auto out = Slab::zeros(comm, Shape<4>{2, 3, s[2], 8}, part);
    same_error(ctx, [&] { fft.filter(x, out, [](Index, kernels::Complex<float>&) {}); });
    auto y = zeros_like(x);
    CHECK_THROWS_WITH_AS(fft.inverse(host::Buffer<kernels::Complex<float>>(3), y),
                         doctest::Contains("FftwMpiSlabFft::inverse: expected"), Error);  // names the rank

    FftwMpiNormal<float> slab(comm, s, part);
    CHECK(same_error(ctx, [&] { slab.add(Blur<float>(physics::gaussian_blur<float>(1.0), Padding::reflect), x); }) ==
          "distinv: CircularNormal: expected a circular Blur, got padding reflect");
    Blur<float> const circ(physics::gaussian_blur<float>(1.0), Padding::circular);
    same_error(ctx, [&] { slab.add(circ, narrow); });
    same_error(ctx, [&] { slab.grad(out); });
    // After every refusal the ranks are still in step: collectives complete.
    slab.add(circ, x);
    CHECK(max_abs(slab.grad(x)) == 0);
    comm.barrier();
  });
}
#else
TEST_CASE("FftwMpiSlabFft: FFTW's MPI interface is not in this build (libfftw3-mpi-dev)" * doctest::skip()) {}
#endif  // DISTINV_HAS_FFTW_MPI
