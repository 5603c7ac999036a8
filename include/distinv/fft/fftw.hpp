#pragma once
// fft/fftw.hpp: the host FFT engine fft::Fftw (see fft/engine.hpp) over FFTW3, float and
// double: FftwPlan<T> runs the batched transforms plane by plane in parallel (oneTBB), each
// task on its own aligned buffers, with FFTW's new-array execute functions (thread-safe);
// planning and plan destruction are not thread-safe in FFTW, so they take one process-wide
// lock (FFTW's planner is itself global state). FftwLines<T> (Fftw::lines) holds the 1-D line
// transforms a distributed transform is made of (layout/slab_fft.hpp); fft/complex_fft.hpp plans
// the 2-D complex transform of split planes with detail::Fftw's split_2d. Also sets default_engine<device::Host>: Fftw
// when the build has FFTW (distinv/config.hpp), else fft::None — then this header declares no
// engine. The only place that includes <fftw3.h>.
#include "distinv/config.hpp"
#include "distinv/device.hpp"
#include "distinv/fft/engine.hpp"
#if DISTINV_HAS_FFTW
#include <fftw3.h>

#include <algorithm>
#include <complex>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::fft {

namespace detail {

/// FFTW's planner is global and not thread-safe: every plan creation and destruction in
/// distinv takes this lock. It guards FFTW's state, it holds none of distinv's.
inline std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

template <class T>
struct Fftw;

template <>
struct Fftw<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static plan r2c(int n0, int n1, double* in, complex* out, unsigned flags) {
    return fftw_plan_dft_r2c_2d(n0, n1, in, out, flags);
  }
  static plan c2r(int n0, int n1, complex* in, double* out, unsigned flags) {
    return fftw_plan_dft_c2r_2d(n0, n1, in, out, flags);
  }
  static plan r2c_1d(int n, double* in, complex* out, unsigned flags) {
    return fftw_plan_dft_r2c_1d(n, in, out, flags);
  }
  static plan c2r_1d(int n, complex* in, double* out, unsigned flags) {
    return fftw_plan_dft_c2r_1d(n, in, out, flags);
  }
  static plan dft_1d(int n, complex* in, complex* out, int sign, unsigned flags) {
    return fftw_plan_dft_1d(n, in, out, sign, flags);
  }
  static void exec_r2c(plan p, double* in, complex* out) { fftw_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static void exec_dft(plan p, complex* in, complex* out) { fftw_execute_dft(p, in, out); }
  /// The 2-D complex transform of an n0 x n1 grid held as split real and imaginary planes (row-major).
  static plan split_2d(int n0, int n1, double* ri, double* ii, double* ro, double* io, unsigned flags) {
    fftw_iodim const dims[2] = {{n0, n1, n1}, {n1, 1, 1}};
    return fftw_plan_guru_split_dft(2, dims, 0, nullptr, ri, ii, ro, io, flags);
  }
  static void exec_split(plan p, double* ri, double* ii, double* ro, double* io) { fftw_execute_split_dft(p, ri, ii, ro, io); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
  static void* malloc(std::size_t n) { return fftw_malloc(n); }
  static void free(void* p) { fftw_free(p); }
  static int alignment_of(double* p) { return fftw_alignment_of(p); }
};

template <>
struct Fftw<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static plan r2c(int n0, int n1, float* in, complex* out, unsigned flags) {
    return fftwf_plan_dft_r2c_2d(n0, n1, in, out, flags);
  }
  static plan c2r(int n0, int n1, complex* in, float* out, unsigned flags) {
    return fftwf_plan_dft_c2r_2d(n0, n1, in, out, flags);
  }
  static plan r2c_1d(int n, float* in, complex* out, unsigned flags) {
    return fftwf_plan_dft_r2c_1d(n, in, out, flags);
  }
  static plan c2r_1d(int n, complex* in, float* out, unsigned flags) {
    return fftwf_plan_dft_c2r_1d(n, in, out, flags);
  }
  static plan dft_1d(int n, complex* in, complex* out, int sign, unsigned flags) {
    return fftwf_plan_dft_1d(n, in, out, sign, flags);
  }
  static void exec_r2c(plan p, float* in, complex* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static void exec_dft(plan p, complex* in, complex* out) { fftwf_execute_dft(p, in, out); }
  /// The 2-D complex transform of an n0 x n1 grid held as split real and imaginary planes (row-major).
  static plan split_2d(int n0, int n1, float* ri, float* ii, float* ro, float* io, unsigned flags) {
    fftwf_iodim const dims[2] = {{n0, n1, n1}, {n1, 1, 1}};
    return fftwf_plan_guru_split_dft(2, dims, 0, nullptr, ri, ii, ro, io, flags);
  }
  static void exec_split(plan p, float* ri, float* ii, float* ro, float* io) { fftwf_execute_split_dft(p, ri, ii, ro, io); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
  static void* malloc(std::size_t n) { return fftwf_malloc(n); }
  static void free(void* p) { fftwf_free(p); }
  static int alignment_of(float* p) { return fftwf_alignment_of(p); }
};

template <class T>
struct FftwFree {
  void operator()(void* p) const noexcept { Fftw<T>::free(p); }
};

}  // namespace detail

/// An FFTW-aligned array of n elements of E (T or std::complex<T>), uninitialised.
template <class T, class E = T>
using Buffer = std::unique_ptr<E[], detail::FftwFree<T>>;

/// n uninitialised elements in FFTW-aligned memory; throws Error if FFTW cannot allocate them.
template <class T, class E = T>
Buffer<T, E> make_buffer(std::size_t n) {
  void* p = detail::Fftw<T>::malloc(n * sizeof(E) + (n == 0 ? 1 : 0));
  if (!p) fail("fft::make_buffer: FFTW could not allocate ", n * sizeof(E), " bytes");
  return Buffer<T, E>(static_cast<E*>(p));
}

/// True when `p` has the alignment of distinv's plans (made on fftw_malloc'ed arrays), so that
/// a plan may be executed on it directly.
template <class T>
bool simd_aligned(T const* p) {
  return detail::Fftw<T>::alignment_of(const_cast<T*>(p)) == 0;
}

/// The unnormalised real-to-complex and complex-to-real 2-D transforms of one (H, W) grid.
/// The spectrum has H x (W/2 + 1) entries. Both transforms run out of place, on arrays of
/// simd_aligned alignment; `forward` keeps its input, `inverse` destroys it. Thread-safe.
template <class T>
class Plan2d {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "Plan2d: float or double");
  using api = detail::Fftw<T>;

 public:
  /// std::complex<T>, FFTW's layout.
  using complex_type = std::complex<T>;

  /// Plans a rows x cols real-to-complex transform and its inverse (FFTW_ESTIMATE by default: deterministic
  /// plans); throws Error for a non-positive grid or when FFTW cannot plan.
  Plan2d(Index rows, Index cols, unsigned flags = FFTW_ESTIMATE) : rows_(rows), cols_(cols) {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "fft::Plan2d: expected a positive grid, got ", rows, " x ", cols);
    auto re = make_buffer<T>(real_size());
    auto sp = make_buffer<T, complex_type>(spectrum_size());
    auto* c = reinterpret_cast<typename api::complex*>(sp.get());
    std::lock_guard lock(detail::planner_mutex());
    r2c_ = api::r2c(int(rows), int(cols), re.get(), c, flags);
    c2r_ = api::c2r(int(rows), int(cols), c, re.get(), flags);
    if (!r2c_ || !c2r_) {
      if (r2c_) api::destroy(r2c_);
      if (c2r_) api::destroy(c2r_);
      fail("fft::Plan2d: FFTW could not plan a ", rows, " x ", cols, " transform");
    }
  }
  Plan2d(Plan2d const&) = delete;
  Plan2d& operator=(Plan2d const&) = delete;
  ~Plan2d() {
    std::lock_guard lock(detail::planner_mutex());
    api::destroy(r2c_);
    api::destroy(c2r_);
  }

  /// Rows of the grid.
  Index rows() const noexcept { return rows_; }
  /// Columns of the grid.
  Index cols() const noexcept { return cols_; }
  /// Columns of the half spectrum, cols / 2 + 1.
  Index spectrum_cols() const noexcept { return cols_ / 2 + 1; }
  /// Elements of the real grid.
  std::size_t real_size() const noexcept { return std::size_t(rows_ * cols_); }
  /// Elements of the half spectrum.
  std::size_t spectrum_size() const noexcept { return std::size_t(rows_ * spectrum_cols()); }

  /// spectrum = FFT(in), unnormalised. `in` is left unchanged.
  void forward(T const* in, complex_type* spectrum) const {
    api::exec_r2c(r2c_, const_cast<T*>(in), reinterpret_cast<typename api::complex*>(spectrum));
  }
  /// out = H*W * IFFT(spectrum) (unnormalised); destroys `spectrum`.
  void inverse(complex_type* spectrum, T* out) const {
    api::exec_c2r(c2r_, reinterpret_cast<typename api::complex*>(spectrum), out);
  }

 private:
  Index rows_, cols_;
  typename api::plan r2c_ = nullptr;
  typename api::plan c2r_ = nullptr;
};

/// Plans by (H, W), made on first use. Owned by an operator (never global); thread-safe.
template <class T>
class PlanCache {
 public:
  /// Plans with FFTW `flags` (FFTW_ESTIMATE by default).
  explicit PlanCache(unsigned flags = FFTW_ESTIMATE) : flags_(flags) {}
  /// The plan of a rows x cols grid, made on first use; throws as Plan2d.
  std::shared_ptr<Plan2d<T> const> get(Index rows, Index cols) {
    std::lock_guard lock(mutex_);
    auto& slot = plans_[{rows, cols}];
    if (!slot) slot = std::make_shared<Plan2d<T> const>(rows, cols, flags_);
    return slot;
  }

 private:
  unsigned flags_;
  std::mutex mutex_;
  std::map<std::pair<Index, Index>, std::shared_ptr<Plan2d<T> const>> plans_;
};

/// The batched plan of fft::Fftw: `planes` H x W planes, one FFTW plan pair shared by all.
template <class T>
class FftwPlan {
 public:
  /// Complex element type of the spectra.
  using complex_type = kernels::Complex<T>;

  /// `planes` planes of rows x cols; throws Error unless planes > 0 (and as Plan2d).
  FftwPlan(Index rows, Index cols, Index planes, device::Host const& = {})
      : plan_(std::make_shared<Plan2d<T> const>(rows, cols)), planes_(planes) {
    DISTINV_REQUIRE(planes > 0, "fft::FftwPlan: expected at least one plane, got ", planes);
  }
  /// Rows of each plane.
  Index rows() const noexcept { return plan_->rows(); }
  /// Columns of each plane.
  Index cols() const noexcept { return plan_->cols(); }
  /// Number of planes.
  Index planes() const noexcept { return planes_; }
  /// Elements of one plane's half spectrum.
  Index plane_spectrum() const noexcept { return Index(plan_->spectrum_size()); }
  /// Elements of all the planes' half spectra.
  Index spectrum_size() const noexcept { return planes_ * plane_spectrum(); }

  /// out = F⁻¹(f(F in)) plane by plane; f(e, complex_type& v) for every spectrum index e.
  /// `out` may be `in`.
  template <class F>
  void filter(T const* in, T* out, F const& f) const {
    each_plane([&](Index p, complex_type* buf, T* tmp) {
      forward(in + p * real_size(), buf, tmp);
      Index const base = p * plane_spectrum();
      for (Index k = 0; k < plane_spectrum(); ++k) f(base + k, buf[k]);
      inverse(buf, out + p * real_size(), tmp);
    });
  }
  /// f(e, complex_type const& v) for every coefficient of F in.
  template <class F>
  void analyse(T const* in, F const& f) const {
    each_plane([&](Index p, complex_type* buf, T* tmp) {
      forward(in + p * real_size(), buf, tmp);
      Index const base = p * plane_spectrum();
      for (Index k = 0; k < plane_spectrum(); ++k) f(base + k, std::as_const(buf[k]));
    });
  }
  /// out = F⁻¹(g), g(e) the coefficient of spectrum index e.
  template <class G>
  void synthesise(G const& g, T* out) const {
    each_plane([&](Index p, complex_type* buf, T* tmp) {
      Index const base = p * plane_spectrum();
      for (Index k = 0; k < plane_spectrum(); ++k) buf[k] = g(base + k);
      inverse(buf, out + p * real_size(), tmp);
    });
  }

 private:
  Index real_size() const noexcept { return Index(plan_->real_size()); }
  /// body(p, spectrum buffer, real scratch) for every plane, planes in parallel.
  template <class Body>
  void each_plane(Body&& body) const {
    tbb::parallel_for(Index(0), planes_, [&](Index p) {
      auto buf = make_buffer<T, complex_type>(plan_->spectrum_size());
      Buffer<T> tmp;
      body(p, buf.get(), scratch(tmp));
    });
  }
  // FFTW plans were made on aligned arrays: unaligned planes go through `tmp`.
  T* scratch(Buffer<T>& tmp) const {
    tmp = make_buffer<T>(plan_->real_size());
    return tmp.get();
  }
  void forward(T const* src, complex_type* buf, T* tmp) const {
    if (!simd_aligned(src)) {
      std::copy_n(src, real_size(), tmp);
      src = tmp;
    }
    plan_->forward(src, reinterpret_cast<std::complex<T>*>(buf));
  }
  void inverse(complex_type* buf, T* dst, T* tmp) const {
    if (simd_aligned(dst)) return plan_->inverse(reinterpret_cast<std::complex<T>*>(buf), dst);
    plan_->inverse(reinterpret_cast<std::complex<T>*>(buf), tmp);
    std::copy_n(tmp, real_size(), dst);
  }

  std::shared_ptr<Plan2d<T> const> plan_;
  Index planes_;
};

/// The unnormalised 1-D transforms of single lines that a distributed transform is built from
/// (layout/slab_fft.hpp): the real r2c / c2r of length `real_length` (real_length/2 + 1
/// coefficients) and the complex forward / backward transforms of length `complex_length`, in
/// place. Every array must be simd_aligned (make_buffer's are); c2r destroys its input.
/// Thread-safe (new-array execute).
template <class T>
class FftwLines {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "FftwLines: float or double");
  using api = detail::Fftw<T>;
  using fftw_complex_type = typename api::complex;

 public:
  using complex_type = kernels::Complex<T>;  ///< a coefficient

  /// Plans for real lines of `real_length` and complex lines of `complex_length` (FFTW flags).
  FftwLines(Index real_length, Index complex_length, unsigned flags = FFTW_ESTIMATE)
      : real_(real_length), complex_(complex_length) {
    DISTINV_REQUIRE(real_length > 0 && complex_length > 0, "fft::FftwLines: expected positive lengths, got ",
                    real_length, " and ", complex_length);
    auto re = make_buffer<T>(std::size_t(real_length));
    auto sp = make_buffer<T, complex_type>(std::size_t(std::max(real_length / 2 + 1, complex_length)));
    auto* c = reinterpret_cast<fftw_complex_type*>(sp.get());
    std::lock_guard lock(detail::planner_mutex());
    r2c_ = api::r2c_1d(int(real_length), re.get(), c, flags);
    c2r_ = api::c2r_1d(int(real_length), c, re.get(), flags);
    forward_ = api::dft_1d(int(complex_length), c, c, FFTW_FORWARD, flags);
    backward_ = api::dft_1d(int(complex_length), c, c, FFTW_BACKWARD, flags);
    if (!r2c_ || !c2r_ || !forward_ || !backward_) {
      destroy();
      fail("fft::FftwLines: FFTW could not plan lines of ", real_length, " reals and ", complex_length, " complexes");
    }
  }
  FftwLines(FftwLines const&) = delete;
  FftwLines& operator=(FftwLines const&) = delete;
  ~FftwLines() {
    std::lock_guard lock(detail::planner_mutex());
    destroy();
  }

  Index real_length() const noexcept { return real_; }        ///< length of the real lines
  Index complex_length() const noexcept { return complex_; }  ///< length of the complex lines
  /// True when a line may be transformed where it lies (else: through an aligned copy).
  template <class E>
  static bool aligned(E const* p) {
    return simd_aligned(reinterpret_cast<T const*>(p));
  }

  /// out[0 .. real_length/2] = FFT(in[0 .. real_length)).
  void r2c(T const* in, complex_type* out) const { api::exec_r2c(r2c_, const_cast<T*>(in), as_fftw(out)); }
  /// out = real_length * IFFT(in) (unnormalised); destroys `in`.
  void c2r(complex_type* in, T* out) const { api::exec_c2r(c2r_, as_fftw(in), out); }
  /// line = FFT(line), complex_length entries.
  void forward(complex_type* line) const { api::exec_dft(forward_, as_fftw(line), as_fftw(line)); }
  /// line = complex_length * IFFT(line) (unnormalised).
  void backward(complex_type* line) const { api::exec_dft(backward_, as_fftw(line), as_fftw(line)); }

 private:
  static fftw_complex_type* as_fftw(complex_type* p) { return reinterpret_cast<fftw_complex_type*>(p); }
  void destroy() noexcept {
    for (auto p : {r2c_, c2r_, forward_, backward_})
      if (p) api::destroy(p);
  }

  Index real_, complex_;
  typename api::plan r2c_ = nullptr;
  typename api::plan c2r_ = nullptr;
  typename api::plan forward_ = nullptr;
  typename api::plan backward_ = nullptr;
};

/// The host FFT engine (FFTW3).
struct Fftw {
  /// True: plans exist.
  static constexpr bool available = true;
  /// "fftw".
  static constexpr std::string_view name() { return "fftw"; }
  /// The batched plan, FftwPlan<T>.
  template <class T>
  using plan = FftwPlan<T>;
  /// 1-D line transforms, for distributed transforms (layout/slab_fft.hpp).
  template <class T>
  using lines = FftwLines<T>;
};

/// The host's FFT engine: FFTW.
template <>
struct default_engine<device::Host> {
  /// fft::Fftw.
  using type = Fftw;
};

}  // namespace distinv::fft
#else
namespace distinv::fft {
template <>
struct default_engine<device::Host> {
  using type = None;
};
}  // namespace distinv::fft
#endif  // DISTINV_HAS_FFTW
