#pragma once
// layout/fftw_mpi_slab_fft.hpp: FftwMpiSlabFft<T>, the 2-D real FFT of every (B, C) plane of a
// SlabTensor under comm::Mpi by FFTW's MPI interface (fft/fftw_mpi.hpp): one in-place FFTW-MPI
// r2c / c2r plan pair per plane count (planes interleaved, FFTW_MPI_TRANSPOSED_OUT / _IN), in
// FFTW's own block decomposition. The signal's RowPartition is kept: its rows are moved to
// FFTW's rows by one all_to_allv each way, skipped when the two coincide (fftw_partition() gives
// FFTW's split as a layout when every rank has a row). The half spectrum is sharded by FFTW's
// spectral columns with SlabFft's index (e = plane * plane_spectrum() + (col - col_lo) * H +
// row), and filter / analyse / synthesise are SlabFft's, so SlabCircularNormal takes it as its
// engine (SlabFftEngine). Memory per rank O(N / P).
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <tbb/blocked_range.h>
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
/// spectral columns per rank. Copies share the plans, made on the first transform of a plane
/// count. Every transform is a collective.
template <class T, class Engine = fft::FftwMpi>
  requires(Engine::available && requires { typename Engine::template slab_plan<T>; })
class FftwMpiSlabFft {
 public:
  using scalar_type = T;                             ///< float or double
  using complex_type = kernels::Complex<T>;          ///< a coefficient
  using tensor_type = SlabTensor<T, 4, comm::Mpi>;   ///< the signals transformed
  using spectrum_type = host::Buffer<complex_type>;  ///< a rank's shard of spectra

  /// Transforms of H x W planes laid out by `part` (rows of H over comm's ranks). A collective
  /// (it gathers FFTW's decomposition); plans are made later, on first use.
  FftwMpiSlabFft(comm::Mpi comm, Index rows, Index cols, RowPartition part)
      : comm_(std::move(comm)), rows_(rows), cols_(cols), part_(std::move(part)) {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "FftwMpiSlabFft: expected a positive grid, got ", rows, " x ", cols);
    DISTINV_REQUIRE(part_.ranks() == comm_.size() && part_.rows() == rows, "FftwMpiSlabFft: expected a partition of ",
                    rows, " rows over ", comm_.size(), " ranks, got ", part_.to_string());
    auto const mine = plan_type::decomposition(comm_.native(), rows, cols);
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
  /// True when the signal's rows differ from FFTW's: each transform then moves them (one
  /// all_to_allv each way).
  bool redistributes() const noexcept { return row_offsets_ != part_.offsets(); }
  /// FFTW's rows per rank as a slab layout, when every rank has one (signals laid out by it are
  /// transformed without redistribution); none otherwise.
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
    Index const planes = in.planes();
    auto const plan = plan_for(planes);
    auto buf = to_fftw(in, *plan);
    plan->forward(buf.data());
    each_coefficient(planes, [&](Index e, Index at) { f(e, buf[std::size_t(at)]); });
    plan->inverse(buf.data());
    from_fftw(buf, out);
  }
  /// f(e, complex_type const& v) for every coefficient of this rank's shard of F in. A collective.
  template <class F>
  void analyse(tensor_type const& in, F const& f) const {
    check(in, "FftwMpiSlabFft::analyse");
    auto const plan = plan_for(in.planes());
    auto buf = to_fftw(in, *plan);
    plan->forward(buf.data());
    each_coefficient(in.planes(), [&](Index e, Index at) { f(e, std::as_const(buf[std::size_t(at)])); });
  }
  /// out = F⁻¹(g) plane by plane, g(e) the coefficient e of this rank's shard. A collective.
  template <class G>
  void synthesise(G const& g, tensor_type& out) const {
    check(out, "FftwMpiSlabFft::synthesise");
    auto const plan = plan_for(out.planes());
    spectrum_type buf(std::size_t(plan->alloc_size()));
    each_coefficient(out.planes(), [&](Index e, Index at) { buf[std::size_t(at)] = g(e); });
    plan->inverse(buf.data());
    from_fftw(buf, out);
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
  /// The plans by plane count, shared by copies.
  struct Plans {
    std::mutex mutex;
    std::map<Index, std::shared_ptr<plan_type const>> by_planes;
  };

  int me() const { return comm_.rank(); }
  /// Reals of one row of FFTW's layout: W/2 + 1 complex columns (the last padded), every plane.
  Index row_length(Index planes) const { return 2 * spectrum_cols() * planes; }
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

  /// The plan pair of `planes` planes, made on first use (a collective: every rank asks for the
  /// same plane count in the same transform).
  std::shared_ptr<plan_type const> plan_for(Index planes) const {
    std::lock_guard lock(plans_->mutex);
    auto& slot = plans_->by_planes[planes];
    if (!slot) {
      auto plan = std::make_shared<plan_type const>(comm_.native(), rows_, cols_, planes);
      auto const& l = plan->local();
      int differs = (l.rows != fftw_rows() || (l.rows > 0 && l.row_lo != fftw_row_lo(me())) ||
                     l.cols != local_cols() || (l.cols > 0 && l.col_lo != col_lo(me())));
      comm_.all_reduce(std::span<int>(&differs, 1), ReduceOp::max);
      DISTINV_REQUIRE(!differs, "FftwMpiSlabFft: FFTW's decomposition of ", planes,
                      " planes differs from that of one plane");
      slot = std::move(plan);
    }
    return slot;
  }

  /// k = (local col) * H + row over this rank's shard, in parallel: body(e, at) for every plane,
  /// e the spectrum index and `at` the place of the coefficient in FFTW's interleaved buffer.
  template <class Body>
  void each_coefficient(Index planes, Body&& body) const {
    Index const ps = plane_spectrum();
    tbb::parallel_for(tbb::blocked_range<Index>(0, ps), [&](tbb::blocked_range<Index> const& range) {
      for (Index k = range.begin(); k != range.end(); ++k)
        for (Index pl = 0; pl < planes; ++pl) body(pl * ps + k, k * planes + pl);
    });
  }

  /// Rows of `x` into FFTW's layout (local row, padded column, plane), `dst` of local rows ×
  /// row_length reals; the padding is zero.
  void pack(tensor_type const& x, T* dst) const {
    Index const planes = x.planes(), h = x.local_rows(), rl = row_length(planes);
    tbb::parallel_for(Index(0), h, [&](Index i) {
      T* row = dst + i * rl;
      for (Index pl = 0; pl < planes; ++pl) {
        T const* src = x.local().data() + (pl * h + i) * cols_;
        for (Index c = 0; c < cols_; ++c) row[c * planes + pl] = src[c];
      }
      std::fill(row + cols_ * planes, row + rl, T(0));
    });
  }
  /// The inverse of pack: FFTW's layout (`src`) into the rows of `out`.
  void unpack(T const* src, tensor_type& out) const {
    Index const planes = out.planes(), h = out.local_rows(), rl = row_length(planes);
    tbb::parallel_for(Index(0), h, [&](Index i) {
      T const* row = src + i * rl;
      for (Index pl = 0; pl < planes; ++pl) {
        T* dst = out.local().data() + (pl * h + i) * cols_;
        for (Index c = 0; c < cols_; ++c) dst[c] = row[c * planes + pl];
      }
    });
  }

  /// FFTW's in-place buffer holding this rank's FFTW rows of `x` (moved there when the layouts differ).
  spectrum_type to_fftw(tensor_type const& x, plan_type const& plan) const {
    spectrum_type buf(std::size_t(plan.alloc_size()));
    T* rows = reinterpret_cast<T*>(buf.data());
    if (!redistributes()) {
      pack(x, rows);
      return buf;
    }
    Index const rl = row_length(x.planes());
    host::Buffer<T> send(std::size_t(x.local_rows() * rl));
    pack(x, send.data());
    move_rows(send.data(), x.local_rows(), rows, fftw_rows(), rl, true);
    return buf;
  }
  /// The real rows in FFTW's buffer back to the signal's rows of `out`.
  void from_fftw(spectrum_type const& buf, tensor_type& out) const {
    T const* rows = reinterpret_cast<T const*>(buf.data());
    if (!redistributes()) return unpack(rows, out);
    Index const rl = row_length(out.planes());
    host::Buffer<T> recv(std::size_t(out.local_rows() * rl));
    move_rows(rows, fftw_rows(), recv.data(), out.local_rows(), rl, false);
    unpack(recv.data(), out);
  }
  /// One all_to_allv of whole rows of `rl` reals: from the signal's rows to FFTW's (to_fftw) or
  /// back. Rows ascend with the rank in both layouts, so each side is its rows in order.
  void move_rows(T const* send, Index send_rows, T* recv, Index recv_rows, Index rl, bool to_fftw) const {
    int const p = comm_.size();
    auto overlap = [](Index a0, Index a1, Index b0, Index b1) { return std::max<Index>(0, std::min(a1, b1) - std::max(a0, b0)); };
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
  std::vector<Index> row_offsets_, col_offsets_;
  std::shared_ptr<Plans> plans_ = std::make_shared<Plans>();
};

}  // namespace distinv::layout
