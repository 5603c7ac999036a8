#pragma once
// physics/circular_normal.hpp: CircularNormal<T>, the fused normal operator and L2 gradient
// of a stack of circular blurs on (B, C, H, W) signals:
//   S = Σ_i |K_i|²  (H x (W/2+1), real),   Bhat = Σ_i conj(K_i) · FFT(y_i)  (B, C, H, W/2+1),
//   normal(x) = IFFT(S · FFT x) = Σ_i A_iᵀA_i x,  grad(x) = IFFT(S · FFT x − Bhat) = Σ_i A_iᵀ(A_i x − y_i),
// one FFT pair per plane whatever the number of operators. S and Bhat are exposed as raw real
// spans so that a distributed caller all-reduces them in place. Needs distinv::fftw; without
// it the template is only declared and has_circular_normal is false.
// fused_normal<Op> tells generic code (the distributed data fidelity) whether an operator type
// has such fused normal equations, and how to build and all-reduce them; distinv/cuda
// specialises it for the device Blur.
#include "distinv/config.hpp"
namespace distinv::physics {
template <class T>
class CircularNormal;
#if DISTINV_HAS_FFTW
inline constexpr bool has_circular_normal = true;
#else
inline constexpr bool has_circular_normal = false;
#endif

/// No fused normal equations (the primary template). A specialisation has `available = true`,
/// `type` (constructible from the signal shape, with add(op, y) and grad(x)), `usable(op)` (this
/// operator can join) and `all_reduce(ctx, normal)` (sums the accumulated terms over the ranks).
template <class Op>
struct fused_normal {
  static constexpr bool available = false;
};
}  // namespace distinv::physics

#if DISTINV_HAS_FFTW
#include <algorithm>
#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/fftw.hpp"
#include "distinv/physics/blur.hpp"

namespace distinv::physics {

template <class T>
class CircularNormal {
 public:
  using scalar_type = T;
  using tensor_type = Tensor4<T>;
  using complex_type = std::complex<T>;

  /// For signals of shape (B, C, H, W); S and Bhat start at zero.
  explicit CircularNormal(Shape<4> signal_shape) : shape_(signal_shape) {
    DISTINV_REQUIRE(shape_[0] > 0 && shape_[1] > 0 && shape_[2] > 0 && shape_[3] > 0,
                    "CircularNormal: expected a non-empty (B, C, H, W) shape, got ", distinv::to_string(shape_));
    plan_ = std::make_shared<fft::Plan2d<T> const>(shape_[2], shape_[3]);
    spectrum_.assign(plan_->spectrum_size(), T(0));
    data_ = fft::make_buffer<T, complex_type>(planes() * plan_->spectrum_size());
    std::fill(data_.get(), data_.get() + planes() * plan_->spectrum_size(), complex_type(0));
  }
  CircularNormal(CircularNormal&&) noexcept = default;
  CircularNormal& operator=(CircularNormal&&) noexcept = default;

  Shape<4> signal_shape() const noexcept { return shape_; }
  std::size_t operator_count() const noexcept { return count_; }

  /// S += |K|² (the normal operator only; y_i not known or not needed).
  void add_operator(Blur<T> const& op) {
    auto const k = checked_spectrum(op);
    for (std::size_t i = 0; i < spectrum_.size(); ++i) spectrum_[i] += std::norm((*k)[i]);
    ++count_;
  }
  /// S += |K|², Bhat += conj(K) · FFT(y): one operator and its measurement y (shape of x).
  void add(Blur<T> const& op, tensor_type const& y) {
    DISTINV_REQUIRE(shape_of(y) == shape_, "CircularNormal::add: expected a measurement of shape ",
                    distinv::to_string(shape_), ", got ", distinv::to_string(shape_of(y)));
    auto const k = checked_spectrum(op);
    std::size_t const ns = plan_->spectrum_size(), n = plan_->real_size();
    tbb::parallel_for(Index(0), Index(planes()), [&](Index p) {
      auto buf = fft::make_buffer<T, complex_type>(ns);
      plan_->forward(aligned_input(y.data() + p * Index(n), n).get(), buf.get());
      complex_type* d = data_.get() + std::size_t(p) * ns;
      for (std::size_t i = 0; i < ns; ++i) d[i] += std::conj((*k)[i]) * buf[i];
    });
    for (std::size_t i = 0; i < spectrum_.size(); ++i) spectrum_[i] += std::norm((*k)[i]);
    ++count_;
  }
  /// Sets S and Bhat back to zero.
  void reset() {
    std::fill(spectrum_.begin(), spectrum_.end(), T(0));
    std::fill(data_.get(), data_.get() + planes() * plan_->spectrum_size(), complex_type(0));
    count_ = 0;
  }

  /// S, H*(W/2+1) reals (row-major), to all-reduce in place.
  std::span<T> spectrum_sum() noexcept { return spectrum_; }
  std::span<T const> spectrum_sum() const noexcept { return spectrum_; }
  /// Bhat as 2*B*C*H*(W/2+1) reals (interleaved re, im), to all-reduce in place.
  std::span<T> data_term() noexcept {
    return {reinterpret_cast<T*>(data_.get()), 2 * planes() * plan_->spectrum_size()};
  }
  std::span<T const> data_term() const noexcept {
    return {reinterpret_cast<T const*>(data_.get()), 2 * planes() * plan_->spectrum_size()};
  }

  /// Σ_i A_iᵀA_i x.
  tensor_type normal(tensor_type const& x) const { return apply(x, false); }
  /// Σ_i A_iᵀ(A_i x − y_i).
  tensor_type grad(tensor_type const& x) const { return apply(x, true); }

 private:
  std::size_t planes() const noexcept { return std::size_t(shape_[0] * shape_[1]); }

  std::shared_ptr<std::vector<complex_type> const> checked_spectrum(Blur<T> const& op) const {
    DISTINV_REQUIRE(op.padding() == Padding::circular, "CircularNormal: expected a circular Blur, got padding ",
                    padding_name(op.padding()));
    return op.spectrum(shape_[2], shape_[3]);
  }

  /// `src` itself when FFTW-aligned, else an aligned copy (the deleter-less view is a no-op).
  struct Input {
    T const* ptr;
    fft::Buffer<T> own;
    T const* get() const { return ptr; }
  };
  static Input aligned_input(T const* src, std::size_t n) {
    if (fft::simd_aligned(src)) return {src, nullptr};
    auto b = fft::make_buffer<T>(n);
    std::copy(src, src + n, b.get());
    T const* p = b.get();
    return {p, std::move(b)};
  }

  tensor_type apply(tensor_type const& x, bool with_data) const {
    DISTINV_REQUIRE(shape_of(x) == shape_, "CircularNormal: expected a signal of shape ", distinv::to_string(shape_),
                    ", got ", distinv::to_string(shape_of(x)));
    std::size_t const ns = plan_->spectrum_size(), n = plan_->real_size();
    T const scale = T(1) / T(n);
    tensor_type out(shape_);
    tbb::parallel_for(Index(0), Index(planes()), [&](Index p) {
      auto buf = fft::make_buffer<T, complex_type>(ns);
      plan_->forward(aligned_input(x.data() + p * Index(n), n).get(), buf.get());
      complex_type* b = buf.get();
      T const* s = spectrum_.data();
      if (with_data) {
        complex_type const* d = data_.get() + std::size_t(p) * ns;
        for (std::size_t i = 0; i < ns; ++i) b[i] = (b[i] * s[i] - d[i]) * scale;
      } else {
        for (std::size_t i = 0; i < ns; ++i) b[i] *= s[i] * scale;
      }
      T* dst = out.data() + p * Index(n);
      if (fft::simd_aligned(dst)) {
        plan_->inverse(b, dst);
      } else {
        auto tmp = fft::make_buffer<T>(n);
        plan_->inverse(b, tmp.get());
        std::copy(tmp.get(), tmp.get() + n, dst);
      }
    });
    return out;
  }

  Shape<4> shape_;
  std::shared_ptr<fft::Plan2d<T> const> plan_;
  std::vector<T> spectrum_;
  fft::Buffer<T, complex_type> data_;
  std::size_t count_ = 0;
};

/// Circular host blurs fuse through FFTW.
template <class T>
struct fused_normal<Blur<T>> {
  static constexpr bool available = true;
  using type = CircularNormal<T>;
  static bool usable(Blur<T> const& op) { return op.padding() == Padding::circular; }
  template <class Ctx>
  static void all_reduce(Ctx const& ctx, type& n) {
    ctx.all_reduce(n.spectrum_sum());
    ctx.all_reduce(n.data_term());
  }
};

}  // namespace distinv::physics
#endif  // DISTINV_HAS_FFTW
