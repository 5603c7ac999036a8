#pragma once
// fft/fftw_mpi.hpp: FFTW's MPI interface (fftw3-mpi.h, Debian libfftw3-mpi-dev) as the tag
// fft::FftwMpi, whose slab_plan<T> (FftwMpiPlan) is the in-place pair of FFTW-MPI 2-D r2c / c2r
// plans of one H x W plane over an MPI communicator, in FFTW's own block decomposition (rows
// in, spectral columns out: FFTW_MPI_TRANSPOSED_OUT / _IN, one transpose each way).
// fftw_mpi_init runs once per process, and plans are made and destroyed under the FFTW planner
// lock of fft/fftw.hpp. Without FFTW-MPI in the build (distinv/config.hpp) the tag is declared
// unavailable, beside the MpiPlanner choice. The only place that includes <fftw3-mpi.h>.
#include <string_view>

#include "distinv/config.hpp"
#include "distinv/fft/fftw.hpp"

namespace distinv::fft {
/// How FFTW-MPI plans: `estimate` (FFTW_ESTIMATE: no trial runs, the same plan every run, as
/// distinv's other FFTW plans) or `measure` (FFTW_MEASURE: collective trial runs when planning,
/// seconds at 2048², faster transforms; the plan, and so the last bits, may change between runs).
enum class MpiPlanner { estimate, measure };
}  // namespace distinv::fft

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
  static std::ptrdiff_t local_size(std::ptrdiff_t n0, std::ptrdiff_t n1, MPI_Comm comm, std::ptrdiff_t* local_n0,
                                   std::ptrdiff_t* start0, std::ptrdiff_t* local_n1, std::ptrdiff_t* start1) {
    return fftw_mpi_local_size_2d_transposed(n0, n1, comm, local_n0, start0, local_n1, start1);
  }
  static plan r2c(std::ptrdiff_t n0, std::ptrdiff_t n1, double* in, complex* out, MPI_Comm comm, unsigned flags) {
    return fftw_mpi_plan_dft_r2c_2d(n0, n1, in, out, comm, flags);
  }
  static plan c2r(std::ptrdiff_t n0, std::ptrdiff_t n1, complex* in, double* out, MPI_Comm comm, unsigned flags) {
    return fftw_mpi_plan_dft_c2r_2d(n0, n1, in, out, comm, flags);
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
  static std::ptrdiff_t local_size(std::ptrdiff_t n0, std::ptrdiff_t n1, MPI_Comm comm, std::ptrdiff_t* local_n0,
                                   std::ptrdiff_t* start0, std::ptrdiff_t* local_n1, std::ptrdiff_t* start1) {
    return fftwf_mpi_local_size_2d_transposed(n0, n1, comm, local_n0, start0, local_n1, start1);
  }
  static plan r2c(std::ptrdiff_t n0, std::ptrdiff_t n1, float* in, complex* out, MPI_Comm comm, unsigned flags) {
    return fftwf_mpi_plan_dft_r2c_2d(n0, n1, in, out, comm, flags);
  }
  static plan c2r(std::ptrdiff_t n0, std::ptrdiff_t n1, complex* in, float* out, MPI_Comm comm, unsigned flags) {
    return fftwf_mpi_plan_dft_c2r_2d(n0, n1, in, out, comm, flags);
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
  Index alloc = 0;   ///< complex elements of the in-place buffer (FFTW's alloc_local)
};

/// The in-place FFTW-MPI 2-D transforms of one H x W plane over the ranks of an MPI
/// communicator: forward takes this rank's rows (each padded to 2 (W/2 + 1) reals) and leaves
/// its spectral columns (local column, row) in the same buffer; inverse retraces it
/// (unnormalised: H W). Made collectively, with the planner `planner`. Thread-safe to execute;
/// the communicator must outlive the plan.
template <class T>
class FftwMpiPlan {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "FftwMpiPlan: float or double");
  using api = detail::FftwMpi<T>;

 public:
  using complex_type = kernels::Complex<T>;  ///< a coefficient (FFTW's layout)

  /// Plans the pair of a rows x cols plane over `comm`. A collective; throws the same Error on
  /// every rank when FFTW cannot plan on some rank.
  FftwMpiPlan(MPI_Comm comm, Index rows, Index cols, MpiPlanner planner = MpiPlanner::estimate) {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "fft::FftwMpiPlan: expected a positive grid, got ", rows, " x ", cols);
    unsigned const flags = planner == MpiPlanner::measure ? FFTW_MEASURE : FFTW_ESTIMATE;
    int ok = 0;
    {
      std::lock_guard lock(detail::planner_mutex());
      detail::mpi_init_once<T>();
      std::ptrdiff_t n0 = 0, start0 = 0, n1 = 0, start1 = 0;
      std::ptrdiff_t const alloc = api::local_size(rows, cols / 2 + 1, comm, &n0, &start0, &n1, &start1);
      local_ = {Index(start0), Index(n0), Index(start1), Index(n1), Index(alloc)};
      auto buf = make_buffer<T, complex_type>(std::size_t(alloc));  // overwritten by FFTW_MEASURE
      auto* c = reinterpret_cast<typename api::complex*>(buf.get());
      auto* r = reinterpret_cast<T*>(buf.get());
      r2c_ = api::r2c(rows, cols, r, c, comm, flags | FFTW_MPI_TRANSPOSED_OUT);
      c2r_ = api::c2r(rows, cols, c, r, comm, flags | FFTW_MPI_TRANSPOSED_IN);
      ok = r2c_ && c2r_;
    }
    int const mine = ok;
    int const code = MPI_Allreduce(&mine, &ok, 1, MPI_INT, MPI_MIN, comm);
    if (code != MPI_SUCCESS || !ok) {
      destroy();
      fail("fft::FftwMpiPlan: FFTW-MPI could not plan a ", rows, " x ", cols, " transform");
    }
  }
  FftwMpiPlan(FftwMpiPlan const&) = delete;
  FftwMpiPlan& operator=(FftwMpiPlan const&) = delete;
  ~FftwMpiPlan() { destroy(); }

  /// This rank's rows and spectral columns (FFTW's decomposition) and its buffer size.
  FftwMpiLocal const& local() const noexcept { return local_; }

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
