#pragma once
// fft/fftw_mpi.hpp: FFTW's MPI interface (fftw3-mpi.h, Debian libfftw3-mpi-dev) as the tag
// fft::FftwMpi, whose slab_plan<T> (FftwMpiPlan) is the in-place pair of FFTW-MPI 2-D r2c / c2r
// plans of `planes` interleaved H x W planes over an MPI communicator, in FFTW's own block
// decomposition (rows in, spectral columns out: FFTW_MPI_TRANSPOSED_OUT / _IN, one transpose
// each way). fftw_mpi_init runs once per process, and plans are made and destroyed under the
// FFTW planner lock of fft/fftw.hpp. Without FFTW-MPI in the build (distinv/config.hpp) the tag
// is declared unavailable and nothing else. The only place that includes <fftw3-mpi.h>.
#include <string_view>

#include "distinv/config.hpp"
#include "distinv/fft/fftw.hpp"
#if DISTINV_HAS_FFTW_MPI
#include <fftw3-mpi.h>
#include <mpi.h>

#include <cstddef>
#include <mutex>
#include <type_traits>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::fft {

namespace detail {

template <class T>
struct FftwMpi;

template <>
struct FftwMpi<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static void init() { fftw_mpi_init(); }
  static std::ptrdiff_t local_size(std::ptrdiff_t const* n, std::ptrdiff_t howmany, MPI_Comm comm, std::ptrdiff_t* n0,
                                   std::ptrdiff_t* start0, std::ptrdiff_t* n1, std::ptrdiff_t* start1) {
    return fftw_mpi_local_size_many_transposed(2, n, howmany, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, comm, n0,
                                               start0, n1, start1);
  }
  static plan r2c(std::ptrdiff_t const* n, std::ptrdiff_t howmany, double* in, complex* out, MPI_Comm comm,
                  unsigned flags) {
    return fftw_mpi_plan_many_dft_r2c(2, n, howmany, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out, comm,
                                      flags);
  }
  static plan c2r(std::ptrdiff_t const* n, std::ptrdiff_t howmany, complex* in, double* out, MPI_Comm comm,
                  unsigned flags) {
    return fftw_mpi_plan_many_dft_c2r(2, n, howmany, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out, comm,
                                      flags);
  }
  static void exec_r2c(plan p, double* in, complex* out) { fftw_mpi_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, double* out) { fftw_mpi_execute_dft_c2r(p, in, out); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
};

template <>
struct FftwMpi<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static void init() { fftwf_mpi_init(); }
  static std::ptrdiff_t local_size(std::ptrdiff_t const* n, std::ptrdiff_t howmany, MPI_Comm comm, std::ptrdiff_t* n0,
                                   std::ptrdiff_t* start0, std::ptrdiff_t* n1, std::ptrdiff_t* start1) {
    return fftwf_mpi_local_size_many_transposed(2, n, howmany, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, comm, n0,
                                                start0, n1, start1);
  }
  static plan r2c(std::ptrdiff_t const* n, std::ptrdiff_t howmany, float* in, complex* out, MPI_Comm comm,
                  unsigned flags) {
    return fftwf_mpi_plan_many_dft_r2c(2, n, howmany, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out, comm,
                                       flags);
  }
  static plan c2r(std::ptrdiff_t const* n, std::ptrdiff_t howmany, complex* in, float* out, MPI_Comm comm,
                  unsigned flags) {
    return fftwf_mpi_plan_many_dft_c2r(2, n, howmany, FFTW_MPI_DEFAULT_BLOCK, FFTW_MPI_DEFAULT_BLOCK, in, out, comm,
                                       flags);
  }
  static void exec_r2c(plan p, float* in, complex* out) { fftwf_mpi_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, float* out) { fftwf_mpi_execute_dft_c2r(p, in, out); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
};

/// fftw(f)_mpi_init, once per process and precision; the caller holds planner_mutex().
template <class T>
void mpi_init_once() {
  static bool done = false;
  if (!done) FftwMpi<T>::init();
  done = true;
}

}  // namespace detail

/// FFTW's block decomposition of an H x W real transform over the ranks of an MPI communicator,
/// as seen by one rank: its rows [row_lo, row_lo + rows) of the real grid and its columns
/// [col_lo, col_lo + cols) of the W/2 + 1 of the half spectrum (FFTW_MPI_TRANSPOSED_OUT). Some
/// ranks may have no rows or no columns (FFTW gives every rank but the last ceil(n / P)).
struct FftwMpiLocal {
  Index row_lo = 0;  ///< first row of the real grid on this rank
  Index rows = 0;    ///< rows of the real grid on this rank
  Index col_lo = 0;  ///< first spectral column on this rank
  Index cols = 0;    ///< spectral columns on this rank
  /// Complex elements of the in-place buffer of all the planes (FFTW's alloc_local).
  Index alloc = 0;
};

/// The in-place FFTW-MPI 2-D transforms of `planes` H x W planes, interleaved (the plane index
/// innermost), over the ranks of an MPI communicator: forward takes this rank's rows
/// (local row, column padded to 2 (W/2 + 1) reals, plane) and leaves its spectral columns
/// (local column, row, plane) in the same buffer; inverse retraces it (unnormalised: H W).
/// Made collectively; FFTW_ESTIMATE plans (deterministic). Thread-safe to execute; the
/// communicator must outlive the plan. FFTW 3.3 cannot plan width 1 with more than one plane.
template <class T>
class FftwMpiPlan {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "FftwMpiPlan: float or double");
  using api = detail::FftwMpi<T>;

 public:
  using complex_type = kernels::Complex<T>;  ///< a coefficient (FFTW's layout)

  /// This rank's share of an H x W transform of `planes` planes over `comm` (no communication).
  static FftwMpiLocal decomposition(MPI_Comm comm, Index rows, Index cols, Index planes = 1) {
    std::ptrdiff_t const n[2] = {rows, cols / 2 + 1};
    std::ptrdiff_t n0 = 0, start0 = 0, n1 = 0, start1 = 0;
    std::ptrdiff_t alloc = 0;
    {
      std::lock_guard lock(detail::planner_mutex());
      detail::mpi_init_once<T>();
      alloc = api::local_size(n, planes, comm, &n0, &start0, &n1, &start1);
    }
    return {Index(start0), Index(n0), Index(start1), Index(n1), Index(alloc)};
  }

  /// Plans the pair for `planes` planes of rows x cols over `comm`. A collective; throws the same
  /// Error on every rank when FFTW cannot plan on some rank.
  FftwMpiPlan(MPI_Comm comm, Index rows, Index cols, Index planes) : planes_(planes) {
    DISTINV_REQUIRE(rows > 0 && cols > 0 && planes > 0, "fft::FftwMpiPlan: expected a positive grid and planes, got ",
                    rows, " x ", cols, " x ", planes);
    local_ = decomposition(comm, rows, cols, planes);
    auto buf = make_buffer<T, complex_type>(std::size_t(alloc_size()));
    auto* c = reinterpret_cast<typename api::complex*>(buf.get());
    auto* r = reinterpret_cast<T*>(buf.get());
    std::ptrdiff_t const n[2] = {rows, cols};
    int ok = 0;
    {
      std::lock_guard lock(detail::planner_mutex());
      r2c_ = api::r2c(n, planes, r, c, comm, FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_OUT);
      c2r_ = api::c2r(n, planes, c, r, comm, FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_IN);
      ok = r2c_ && c2r_;
    }
    int const mine = ok;
    int const code = MPI_Allreduce(&mine, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (code != MPI_SUCCESS || !ok) {
      destroy();
      fail("fft::FftwMpiPlan: FFTW-MPI could not plan a ", rows, " x ", cols, " transform of ", planes, " planes",
           cols == 1 && planes > 1 ? " (FFTW 3.3 has no MPI plan of width 1 for several planes; layout::SlabFft has)"
                                   : "");
    }
  }
  FftwMpiPlan(FftwMpiPlan const&) = delete;
  FftwMpiPlan& operator=(FftwMpiPlan const&) = delete;
  ~FftwMpiPlan() { destroy(); }

  /// This rank's rows and spectral columns (FFTW's decomposition).
  FftwMpiLocal const& local() const noexcept { return local_; }
  /// Number of planes.
  Index planes() const noexcept { return planes_; }
  /// Complex elements of the in-place buffer on this rank (FFTW's alloc_local for all planes).
  Index alloc_size() const noexcept { return local_.alloc; }

  /// In place: this rank's padded real rows to its spectral columns. A collective.
  void forward(complex_type* buffer) const {
    api::exec_r2c(r2c_, reinterpret_cast<T*>(buffer), reinterpret_cast<typename api::complex*>(buffer));
  }
  /// In place: this rank's spectral columns to its padded real rows (H W times the inverse). A collective.
  void inverse(complex_type* buffer) const {
    api::exec_c2r(c2r_, reinterpret_cast<typename api::complex*>(buffer), reinterpret_cast<T*>(buffer));
  }

 private:
  void destroy() noexcept {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;  // an FFTW-MPI plan frees its communicators: not after MPI_Finalize
    std::lock_guard lock(detail::planner_mutex());
    for (auto p : {r2c_, c2r_})
      if (p) api::destroy(p);
    r2c_ = c2r_ = nullptr;
  }

  FftwMpiLocal local_;
  Index planes_;
  typename api::plan r2c_ = nullptr;
  typename api::plan c2r_ = nullptr;
};

/// FFTW's MPI interface: the slab-decomposed 2-D transforms of layout/fftw_mpi_slab_fft.hpp.
struct FftwMpi {
  /// True: this build has FFTW-MPI.
  static constexpr bool available = true;
  /// "fftw-mpi".
  static constexpr std::string_view name() { return "fftw-mpi"; }
  /// The plan pair of a slab-decomposed transform, FftwMpiPlan<T>.
  template <class T>
  using slab_plan = FftwMpiPlan<T>;
};

}  // namespace distinv::fft
#else
namespace distinv::fft {
/// FFTW's MPI interface, absent from this build (no libfftw3-mpi-dev, or no FFTW or MPI):
/// layout::FftwMpiSlabFft cannot be instantiated.
struct FftwMpi {
  /// False: no plans.
  static constexpr bool available = false;
  /// "fftw-mpi".
  static constexpr std::string_view name() { return "fftw-mpi"; }
};
}  // namespace distinv::fft
#endif  // DISTINV_HAS_FFTW_MPI
