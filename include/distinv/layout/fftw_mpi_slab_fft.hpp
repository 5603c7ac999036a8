#pragma once
// layout/fftw_mpi_slab_fft.hpp: FftwMpiSlabFft<T>, the 2-D real FFT of every (B, C) plane of a
// SlabTensor under comm::Mpi by FFTW's MPI interface (fft/fftw_mpi.hpp): one in-place FFTW-MPI
// r2c / c2r plan pair (FFTW_MPI_TRANSPOSED_OUT / _IN), made with the engine, run plane by plane
// in FFTW's own block decomposition. The signal's RowPartition is kept: each plane's rows move
// to FFTW's rows by one all_to_allv each way, skipped when the two splits coincide
// (fftw_partition() gives FFTW's split as a layout when every rank has a row). The half
// spectrum is sharded by FFTW's spectral columns with SlabFft's index (e = plane *
// plane_spectrum() + (col - col_lo) * H + row), and filter / analyse / synthesise are SlabFft's,
// so physics::CircularNormal takes it as its engine (SlabFftEngine). Memory per rank O(N / P).
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/comm/mpi.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/fftw_mpi.hpp"
#include "distinv/host/space.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_fft.hpp"
#include "distinv/layout/slab_tensor.hpp"

namespace distinv::layout {

/// The unnormalised 2-D real FFT of every (B, C) plane of a SlabTensor<T, 4, comm::Mpi> by
/// FFTW's MPI interface (see the file's comment): SlabFft's interface and spectrum index, FFTW's
/// spectral columns per rank; `Planner` is FFTW's planning (fft::MpiPlanner). Copies share the
/// plans. Construction and every transform are collectives.
template <class T, fft::MpiPlanner Planner = fft::MpiPlanner::estimate, class Engine = fft::FftwMpi>
  requires(Engine::available && requires { typename Engine::template slab_plan<T>; })
class FftwMpiSlabFft {
 public:
  using scalar_type = T;                             ///< float or double
  using fft_type = fft::Fftw;                        ///< the host engine of the blurs it serves (CircularNormal)
  using complex_type = kernels::Complex<T>;          ///< a coefficient
  using tensor_type = SlabTensor<T, 4, comm::Mpi>;   ///< the signals transformed
  using spectrum_type = host::Buffer<complex_type>;  ///< a rank's shard of spectra

  /// Transforms of H x W planes laid out by `part` (rows of H over comm's ranks): plans them and
  /// gathers FFTW's decomposition. A collective; FFTW's failure to plan is every rank's Error.
  FftwMpiSlabFft(comm::Mpi comm, Index rows, Index cols, RowPartition part)
      : comm_(std::move(comm)), rows_(rows), cols_(cols), part_(std::move(part)) {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "FftwMpiSlabFft: expected a positive grid, got ", rows, " x ", cols);
    DISTINV_REQUIRE(part_.ranks() == comm_.size() && part_.rows() == rows, "FftwMpiSlabFft: expected a partition of ",
                    rows, " rows over ", comm_.size(), " ranks, got ", part_.to_string());
    plan_ = std::make_shared<plan_type const>(comm_.native(), rows, cols, Planner);
    auto const& mine = plan_->local();
    std::array<Index, 4> const sent{mine.row_lo, mine.rows, mine.col_lo, mine.cols};
    std::vector<Index> all(4 * std::size_t(comm_.size()));
    std::vector<Index> const counts(std::size_t(comm_.size()), 4);
    comm_.all_gatherv(std::span<Index const>(sent), std::span<Index>(all), std::span<Index const>(counts));
    row_offsets_ = offsets(all, 0, rows, "rows");
    col_offsets_ = offsets(all, 2, spectrum_cols(), "spectral columns");
  }

  Index rows() const noexcept { return rows_; }  ///< H
  Index cols() const noexcept { return cols_; }  ///< W
  /// W/2 + 1: the columns of the half spectrum.
  Index spectrum_cols() const noexcept { return cols_ / 2 + 1; }
  RowPartition const& partition() const noexcept { return part_; }  ///< the signals' rows per rank
  comm::Mpi const& comm() const noexcept { return comm_; }           ///< the backend
  /// Rank r's first spectral column (FFTW's decomposition: ceil((W/2 + 1) / P) per rank).
  Index col_lo(int r) const { return col_offsets_[std::size_t(r)]; }
  Index col_hi(int r) const { return col_offsets_[std::size_t(r) + 1]; }  ///< one past rank r's last
  /// Spectral columns of this rank (0 on the last ranks when W/2 + 1 is small).
  Index local_cols() const { return col_hi(me()) - col_lo(me()); }
  /// Coefficients of one plane on this rank: local_cols() * H.
  Index plane_spectrum() const { return local_cols() * rows_; }
  /// The index in a plane's shard of coefficient (row, col), col in [col_lo, col_hi) of this rank.
  Index spectrum_index(Index row, Index col) const { return (col - col_lo(me())) * rows_ + row; }
  /// Rank r's first row in FFTW's decomposition (ceil(H / P) per rank; the last ranks may have none).
  Index fftw_row_lo(int r) const { return row_offsets_[std::size_t(r)]; }
  Index fftw_row_hi(int r) const { return row_offsets_[std::size_t(r) + 1]; }  ///< one past rank r's last
  /// True when the signal's rows differ from FFTW's: each plane's rows then move (one
  /// all_to_allv each way).
  bool redistributes() const noexcept { return row_offsets_ != part_.offsets(); }
  /// FFTW's rows per rank as a slab layout, when every rank has one (signals laid out by it are
  /// transformed without moving rows); none otherwise.
  std::optional<RowPartition> fftw_partition() const {
    for (std::size_t r = 0; r + 1 < row_offsets_.size(); ++r)
      if (row_offsets_[r + 1] == row_offsets_[r]) return std::nullopt;
    return RowPartition(row_offsets_);
  }

  /// out = F⁻¹(f(F in)) plane by plane; f(e, complex_type& v) for every coefficient of this
  /// rank's shard. `out` may be `in`. A collective.
  template <class F>
  void filter(tensor_type const& in, tensor_type& out, F const& f) const {
    check(in, "FftwMpiSlabFft::filter");
    in.require_same_layout(out, "FftwMpiSlabFft::filter (output)");
    Scratch s = scratch(in);
    for (Index pl = 0; pl < in.planes(); ++pl) {
      to_fftw(in, pl, s);
      plan_->forward(s.fftw.data());
      each_coefficient(pl, [&](Index e, Index k) { f(e, s.fftw[std::size_t(k)]); });
      plan_->inverse(s.fftw.data());
      from_fftw(s, pl, out);
    }
  }
  /// f(e, complex_type const& v) for every coefficient of this rank's shard of F in. A collective.
  template <class F>
  void analyse(tensor_type const& in, F const& f) const {
    check(in, "FftwMpiSlabFft::analyse");
    Scratch s = scratch(in);
    for (Index pl = 0; pl < in.planes(); ++pl) {
      to_fftw(in, pl, s);
      plan_->forward(s.fftw.data());
      each_coefficient(pl, [&](Index e, Index k) { f(e, std::as_const(s.fftw[std::size_t(k)])); });
    }
  }
  /// out = F⁻¹(g) plane by plane, g(e) the coefficient e of this rank's shard. A collective.
  template <class G>
  void synthesise(G const& g, tensor_type& out) const {
    check(out, "FftwMpiSlabFft::synthesise");
    Scratch s = scratch(out);
    for (Index pl = 0; pl < out.planes(); ++pl) {
      each_coefficient(pl, [&](Index e, Index k) { s.fftw[std::size_t(k)] = g(e); });
      plan_->inverse(s.fftw.data());
      from_fftw(s, pl, out);
    }
  }

  /// This rank's shard of F x: planes * plane_spectrum() coefficients. A collective.
  spectrum_type forward(tensor_type const& x) const {
    spectrum_type s(std::size_t(x.planes() * plane_spectrum()));
    analyse(x, kernels::StoreSpectrum<T>{s.data()});
    return s;
  }
  /// out = F⁻¹(spectrum) (unnormalised: F⁻¹F = H W), spectrum this rank's shard. A collective.
  void inverse(spectrum_type const& spectrum, tensor_type& out) const {
    DISTINV_REQUIRE(Index(spectrum.size()) == out.planes() * plane_spectrum(), "FftwMpiSlabFft::inverse: expected ",
                    out.planes() * plane_spectrum(), " coefficients on rank ", me(), ", got ", spectrum.size());
    synthesise(kernels::ScaledSpectrum<T>{spectrum.data(), T(1)}, out);
  }

 private:
  using plan_type = typename Engine::template slab_plan<T>;
  /// FFTW's in-place buffer of one plane, and the signal's rows of a plane in FFTW's padded
  /// layout when they move (else empty).
  struct Scratch {
    spectrum_type fftw;
    host::Buffer<T> rows;
  };

  int me() const { return comm_.rank(); }
  /// Reals of one row in FFTW's layout: the W reals padded to 2 (W/2 + 1).
  Index row_length() const { return 2 * spectrum_cols(); }
  Index fftw_rows() const { return fftw_row_hi(me()) - fftw_row_lo(me()); }

  void check(tensor_type const& x, char const* what) const {
    DISTINV_REQUIRE(x.shape()[2] == rows_ && x.shape()[3] == cols_, what, ": expected planes of ", rows_, " x ", cols_,
                    ", got ", distinv::to_string(x.shape()));
    DISTINV_REQUIRE(x.partition() == part_, what, ": expected the row partition ", part_.to_string(), ", got ",
                    x.partition().to_string());
  }

  /// The P + 1 offsets of FFTW's blocks of `total` items from the gathered (lo, count) pairs at
  /// `at` of every rank's four values; every rank holds the same, so a failure is everyone's.
  static std::vector<Index> offsets(std::vector<Index> const& all, std::size_t at, Index total, char const* what) {
    std::size_t const p = all.size() / 4;
    std::vector<Index> o(p + 1, 0);
    for (std::size_t r = 0; r < p; ++r) {
      Index const lo = all[4 * r + at], n = all[4 * r + at + 1];
      DISTINV_REQUIRE(n >= 0 && (n == 0 || lo == o[r]), "FftwMpiSlabFft: FFTW's ", what,
                      " are not contiguous blocks in rank order: rank ", r, " holds [", lo, ", ", lo + n, ")");
      o[r + 1] = o[r] + n;
    }
    DISTINV_REQUIRE(o[p] == total, "FftwMpiSlabFft: FFTW's ", what, " cover ", o[p], " of ", total);
    return o;
  }

  Scratch scratch(tensor_type const& x) const {
    return {spectrum_type(std::size_t(plan_->local().alloc)),
            redistributes() ? host::Buffer<T>(std::size_t(x.local_rows() * row_length())) : host::Buffer<T>()};
  }

  /// body(e, k) for the coefficients k = (local col) * H + row of plane `pl` of this rank's
  /// shard (also their place in FFTW's buffer), e the spectrum index; in parallel.
  template <class Body>
  void each_coefficient(Index pl, Body&& body) const {
    Index const ps = plane_spectrum();
    tbb::parallel_for(Index(0), ps, [&](Index k) { body(pl * ps + k, k); });
  }

  /// Plane `pl` of `x`'s rows into FFTW's padded rows at `dst`; the padding is zero.
  void pack(tensor_type const& x, Index pl, T* dst) const {
    Index const h = x.local_rows(), rl = row_length();
    tbb::parallel_for(Index(0), h, [&](Index i) {
      T* pad = std::copy_n(x.local().data() + (pl * h + i) * cols_, cols_, dst + i * rl);
      std::fill(pad, dst + (i + 1) * rl, T(0));
    });
  }
  /// The inverse of pack: FFTW's padded rows at `src` into plane `pl` of `out`.
  void unpack(T const* src, Index pl, tensor_type& out) const {
    Index const h = out.local_rows(), rl = row_length();
    tbb::parallel_for(Index(0), h,
                      [&](Index i) { std::copy_n(src + i * rl, cols_, out.local().data() + (pl * h + i) * cols_); });
  }

  /// Plane `pl` of `x` into FFTW's buffer: this rank's FFTW rows (moved there when the layouts differ).
  void to_fftw(tensor_type const& x, Index pl, Scratch& s) const {
    T* fftw = reinterpret_cast<T*>(s.fftw.data());
    if (!redistributes()) return pack(x, pl, fftw);
    pack(x, pl, s.rows.data());
    move_rows(s.rows.data(), x.local_rows(), fftw, fftw_rows(), true);
  }
  /// FFTW's real rows back to plane `pl` of the signal's rows of `out`.
  void from_fftw(Scratch& s, Index pl, tensor_type& out) const {
    T const* fftw = reinterpret_cast<T const*>(s.fftw.data());
    if (!redistributes()) return unpack(fftw, pl, out);
    move_rows(fftw, fftw_rows(), s.rows.data(), out.local_rows(), false);
    unpack(s.rows.data(), pl, out);
  }
  /// One all_to_allv of whole padded rows: from the signal's rows to FFTW's (to_fftw) or back.
  /// Rows ascend with the rank in both layouts, so each side is its rows in order.
  void move_rows(T const* send, Index send_rows, T* recv, Index recv_rows, bool to_fftw) const {
    int const p = comm_.size();
    Index const rl = row_length();
    auto overlap = [](Index a0, Index a1, Index b0, Index b1) {
      return std::max<Index>(0, std::min(a1, b1) - std::max(a0, b0));
    };
    std::vector<Index> sc(static_cast<std::size_t>(p)), rc(static_cast<std::size_t>(p));
    for (int q = 0; q < p; ++q) {
      Index const mine_to_q = to_fftw ? overlap(part_.lo(me()), part_.hi(me()), fftw_row_lo(q), fftw_row_hi(q))
                                      : overlap(fftw_row_lo(me()), fftw_row_hi(me()), part_.lo(q), part_.hi(q));
      Index const q_to_mine = to_fftw ? overlap(part_.lo(q), part_.hi(q), fftw_row_lo(me()), fftw_row_hi(me()))
                                      : overlap(fftw_row_lo(q), fftw_row_hi(q), part_.lo(me()), part_.hi(me()));
      sc[std::size_t(q)] = mine_to_q * rl;
      rc[std::size_t(q)] = q_to_mine * rl;
    }
    comm_.all_to_allv(std::span<T const>(send, std::size_t(send_rows * rl)), std::span<Index const>(sc),
                      std::span<T>(recv, std::size_t(recv_rows * rl)), std::span<Index const>(rc));
  }

  comm::Mpi comm_;
  Index rows_, cols_;
  RowPartition part_;
  std::shared_ptr<plan_type const> plan_;
  std::vector<Index> row_offsets_, col_offsets_;
};

}  // namespace distinv::layout
