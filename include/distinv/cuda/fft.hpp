#pragma once
// cuda/fft.hpp: batched 2-D real FFTs with cuFFT. FftPlan2d<T> owns the R2C and C2R plans of
// `batch` planes of H x W (float: R2C/C2R, double: D2Z/Z2D), half spectra H x (W/2 + 1) per
// plane, unnormalised (inverse(forward(x)) = H W x). Plans are owned by the object that uses
// them (no static cache). Compiles with the host compiler.
#include <cufft.h>

#include <climits>
#include <type_traits>
#include <utility>

#include "distinv/core/concepts.hpp"
#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/cuda/error.hpp"

namespace distinv::cuda {

/// A batched 2-D real-to-complex cuFFT plan pair (forward R2C, inverse C2R, unnormalised) of `batch` planes of
/// H x W; move-only.
template <class T>
class FftPlan2d {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "FftPlan2d: float or double");

 public:
  /// Complex element type of the half spectra.
  using Complex = kernels::Complex<T>;

  /// Plans `batch` transforms of H x W on `stream`; throws Error for sizes beyond int range or a cuFFT error.
  FftPlan2d(Index H, Index W, Index batch, cudaStream_t stream) : H_(H), W_(W), batch_(batch) {
    DISTINV_REQUIRE(H > 0 && W > 0 && batch > 0 && H <= INT_MAX && W <= INT_MAX && batch <= INT_MAX &&
                        H * W <= INT_MAX,
                    "FftPlan2d: expected positive sizes within int range, got H = ", H, ", W = ", W,
                    ", batch = ", batch);
    int n[2] = {int(H), int(W)};
    constexpr bool is_float = std::is_same_v<T, float>;
    int const real_dist = int(H * W), spec_dist = int(H * (W / 2 + 1));
    check(cufftPlanMany(&fwd_, 2, n, nullptr, 1, real_dist, nullptr, 1, spec_dist, is_float ? CUFFT_R2C : CUFFT_D2Z,
                        int(batch)),
          "cufftPlanMany (forward)");
    try {
      check(cufftPlanMany(&inv_, 2, n, nullptr, 1, spec_dist, nullptr, 1, real_dist,
                          is_float ? CUFFT_C2R : CUFFT_Z2D, int(batch)),
            "cufftPlanMany (inverse)");
      check(cufftSetStream(fwd_, stream), "cufftSetStream");
      check(cufftSetStream(inv_, stream), "cufftSetStream");
    } catch (...) {
      destroy();
      throw;
    }
  }
  /// Takes over the plans.
  FftPlan2d(FftPlan2d&& o) noexcept
      : H_(o.H_), W_(o.W_), batch_(o.batch_), fwd_(std::exchange(o.fwd_, 0)), inv_(std::exchange(o.inv_, 0)) {}
  /// Destroys the own plans, takes over the other's.
  FftPlan2d& operator=(FftPlan2d&& o) noexcept {
    if (this != &o) {
      destroy();
      H_ = o.H_;
      W_ = o.W_;
      batch_ = o.batch_;
      fwd_ = std::exchange(o.fwd_, 0);
      inv_ = std::exchange(o.inv_, 0);
    }
    return *this;
  }
  FftPlan2d(FftPlan2d const&) = delete;
  FftPlan2d& operator=(FftPlan2d const&) = delete;
  ~FftPlan2d() { destroy(); }

  /// Rows H of each plane.
  Index height() const noexcept { return H_; }
  /// Columns W of each plane.
  Index width() const noexcept { return W_; }
  /// Number of planes.
  Index batch() const noexcept { return batch_; }
  /// Complex elements of the half spectra of all planes.
  Index spectrum_size() const noexcept { return batch_ * H_ * (W_ / 2 + 1); }
  /// True when planned for exactly these sizes.
  bool matches(Index H, Index W, Index batch) const noexcept { return H == H_ && W == W_ && batch == batch_; }

  /// spec = R2C(x): batch * H * W reals in, batch * H * (W/2+1) complex out (x is not modified).
  void forward(T const* x, Complex* spec) const {
    if constexpr (std::is_same_v<T, float>)
      check(cufftExecR2C(fwd_, const_cast<cufftReal*>(x), reinterpret_cast<cufftComplex*>(spec)), "cufftExecR2C");
    else
      check(cufftExecD2Z(fwd_, const_cast<cufftDoubleReal*>(x), reinterpret_cast<cufftDoubleComplex*>(spec)),
            "cufftExecD2Z");
  }
  /// x = C2R(spec), unnormalised; spec is overwritten (cuFFT's C2R uses it as work space).
  void inverse(Complex* spec, T* x) const {
    if constexpr (std::is_same_v<T, float>)
      check(cufftExecC2R(inv_, reinterpret_cast<cufftComplex*>(spec), x), "cufftExecC2R");
    else
      check(cufftExecZ2D(inv_, reinterpret_cast<cufftDoubleComplex*>(spec), x), "cufftExecZ2D");
  }

 private:
  void destroy() noexcept {
    if (fwd_) cufftDestroy(fwd_);
    if (inv_) cufftDestroy(inv_);
    fwd_ = inv_ = 0;
  }
  Index H_ = 0, W_ = 0, batch_ = 0;
  cufftHandle fwd_ = 0, inv_ = 0;
};

}  // namespace distinv::cuda
