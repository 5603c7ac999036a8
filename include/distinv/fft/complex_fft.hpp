#pragma once
// fft/complex_fft.hpp: ComplexFft<T>, the 2-D complex FFT of complex images held as deepinv holds
// them, real signals (B, 2, H, W) with channel 0 the real part and 1 the imaginary part: FFTW's
// guru split interface on the two planes, in place (no interleaved copy). Centred (ifftshift →
// fft2 → fftshift) and orthonormal (norm = "ortho") on request (ComplexFftOptions), as deepinv's
// MRIMixin.fft / ifft. One plan per (H, W), made at construction and shared by copies; the
// in-place calls allocate nothing. The replicated counterpart of layout::SlabComplexFft. Host, FFTW.
#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/fftw.hpp"

namespace distinv::fft {

/// How a complex FFT is normalised and centred (ComplexFft, layout::SlabComplexFft).
struct ComplexFftOptions {
  /// ifftshift → fft2 → fftshift (both directions), as deepinv's MRIMixin.fft / ifft: the zero
  /// frequency at (H/2, W/2).
  bool centred = false;
  /// Both directions scaled by 1/sqrt(H W) (norm = "ortho": the transform is unitary); else the
  /// forward transform is unnormalised and the inverse scaled by 1/(H W) (norm = "backward").
  bool orthonormal = false;
};

namespace detail {
/// Rotates a plane of rows x cols entries (row-major) left by `dr` rows and `dc` columns, in place:
/// ifftshift rotates by (rows/2, cols/2), fftshift by (rows - rows/2, cols - cols/2).
template <class E>
void rotate_plane(E* p, Index rows, Index cols, Index dr, Index dc) {
  if (dc % cols != 0)
    for (Index i = 0; i < rows; ++i) std::rotate(p + i * cols, p + i * cols + dc % cols, p + (i + 1) * cols);
  if (dr % rows != 0) std::rotate(p, p + (dr % rows) * cols, p + rows * cols);
}
/// The factor of one direction of a complex FFT of n points under `o`.
inline double complex_fft_scale(ComplexFftOptions const& o, Index n, bool inverse) {
  if (o.orthonormal) return 1.0 / std::sqrt(double(n));
  return inverse ? 1.0 / double(n) : 1.0;
}
}  // namespace detail

}  // namespace distinv::fft

#if DISTINV_HAS_FFTW
#include <tbb/parallel_for.h>

namespace distinv::fft {

/// The 2-D complex FFT of every (real, imaginary) pair of planes of a (B, 2, H, W) host tensor.
/// Copies share the plan; every call is thread-safe (FFTW's new-array execute).
template <class T>
class ComplexFft {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "ComplexFft: float or double");
  using api = detail::Fftw<T>;

 public:
  /// (B, 2, H, W): channel 0 the real part, 1 the imaginary part.
  using tensor_type = Tensor<T, 4>;

  /// Plans the rows x cols transform (FFTW_ESTIMATE: deterministic plans; unaligned arrays
  /// allowed); throws Error for a non-positive grid or when FFTW cannot plan.
  ComplexFft(Index rows, Index cols, ComplexFftOptions options = {})
      : rows_(rows), cols_(cols), options_(options) {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "fft::ComplexFft: expected a positive grid, got ", rows, " x ", cols);
    auto re = make_buffer<T>(std::size_t(rows * cols));
    auto im = make_buffer<T>(std::size_t(rows * cols));
    std::lock_guard lock(detail::planner_mutex());
    auto p = api::split_2d(int(rows), int(cols), re.get(), im.get(), re.get(), im.get(), FFTW_ESTIMATE | FFTW_UNALIGNED);
    if (!p) fail("fft::ComplexFft: FFTW could not plan a ", rows, " x ", cols, " complex transform");
    plan_ = std::shared_ptr<std::remove_pointer_t<typename api::plan>>(p, [](typename api::plan q) {
      std::lock_guard inner(detail::planner_mutex());
      api::destroy(q);
    });
  }

  Index rows() const noexcept { return rows_; }                         ///< H
  Index cols() const noexcept { return cols_; }                         ///< W
  ComplexFftOptions const& options() const noexcept { return options_; }  ///< centring and norm

  /// x ← F x in place, every (real, imaginary) pair of planes of x (B, 2, H, W).
  void forward_(tensor_type& x) const { transform(x, false); }
  /// x ← F⁻¹ x in place (Fᴴ when orthonormal).
  void inverse_(tensor_type& x) const { transform(x, true); }
  /// F x.
  tensor_type forward(tensor_type x) const {
    forward_(x);
    return x;
  }
  /// F⁻¹ x.
  tensor_type inverse(tensor_type x) const {
    inverse_(x);
    return x;
  }

 private:
  void transform(tensor_type& x, bool inverse) const {
    DISTINV_REQUIRE(x.dimension(1) == 2 && x.dimension(2) == rows_ && x.dimension(3) == cols_,
                    "fft::ComplexFft: expected a complex signal (B, 2, ", rows_, ", ", cols_, "), got ",
                    distinv::to_string(shape_of(x)));
    Index const n = rows_ * cols_;
    T const s = T(detail::complex_fft_scale(options_, n, inverse));
    tbb::parallel_for(Index(0), Index(x.dimension(0)), [&](Index b) {
      T* re = x.data() + 2 * b * n;
      T* im = re + n;
      for (T* p : {re, im})
        if (options_.centred) detail::rotate_plane(p, rows_, cols_, rows_ / 2, cols_ / 2);  // ifftshift
      // The inverse is the forward transform with the parts swapped (FFTW's split convention).
      if (inverse) api::exec_split(plan_.get(), im, re, im, re);
      else api::exec_split(plan_.get(), re, im, re, im);
      for (T* p : {re, im}) {
        if (options_.centred) detail::rotate_plane(p, rows_, cols_, rows_ - rows_ / 2, cols_ - cols_ / 2);  // fftshift
        if (s != T(1))
          for (Index k = 0; k < n; ++k) p[k] *= s;
      }
    });
  }

  Index rows_, cols_;
  ComplexFftOptions options_;
  std::shared_ptr<std::remove_pointer_t<typename api::plan>> plan_;
};

}  // namespace distinv::fft
#endif  // DISTINV_HAS_FFTW
