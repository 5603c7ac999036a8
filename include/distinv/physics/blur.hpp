#pragma once
// physics/blur.hpp: Blur<T>, deepinv's Blur: a true 2-D convolution (kernel flipped) of every
// (b, c) plane with one kernel (h, w), centred at (h//2, w//2) for odd and even sizes
// (kernel_centre, deepinv 0.5's conv2d / filter_fft convention), under a Padding. Models LinearPhysics;
// A_adjoint is the exact adjoint for every padding. Circular padding runs through FFTW when
// distinv::fftw is linked and the kernel is big enough (BlurMethod::automatic), otherwise a
// direct oneTBB convolution. Plans and kernel spectra are cached inside the object.
#include "distinv/config.hpp"
#include <array>
#include <complex>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/fftw.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/convolution.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/padding.hpp"

namespace distinv::physics {

/// How Blur computes a circular convolution: automatic picks the faster path (see
/// Blur::uses_fft); direct and fft force one (fft needs DISTINV_HAS_FFTW and circular padding).
enum class BlurMethod { automatic, direct, fft };

/// Kernel area above which automatic circular blurs use the FFT. Measured with
/// benchmarks/bench_blur.cpp (float RGB, 2 shared cores, generic x86-64 build, FFTW_ESTIMATE):
/// the direct path costs ~0.23 / 1.3 / 3.9 ms per tap at 512² / 1024² / 2048², one FFT
/// pass (r2c, product, c2r per plane) ~10-20 / 75-130 / 380-500 ms: crossover between ~50 and
/// ~130 taps at every size, so 9x9 and smaller stay direct, 11x11 and larger go to the FFT.
inline constexpr Index blur_fft_min_kernel_area = 100;

template <class T>
class Blur : public WithNoise<Blur<T>, T> {
 public:
  using scalar_type = T;
  using tensor_type = Tensor4<T>;
  using kernel_type = Tensor<T, 2>;
  using complex_type = std::complex<T>;

  explicit Blur(kernel_type kernel, Padding padding = Padding::circular, BlurMethod method = BlurMethod::automatic)
      : kernel_(std::move(kernel)), padding_(padding), method_(method) {
    DISTINV_REQUIRE(kernel_.dimension(0) > 0 && kernel_.dimension(1) > 0,
                    "Blur: expected a non-empty kernel, got ", kernel_.dimension(0), " x ", kernel_.dimension(1));
    if (method_ == BlurMethod::fft) {
      DISTINV_REQUIRE(padding_ == Padding::circular, "Blur: BlurMethod::fft needs circular padding, got ",
                      padding_name(padding_));
#if !DISTINV_HAS_FFTW
      fail("Blur: BlurMethod::fft needs FFTW (link distinv::fftw)");
#endif
    }
    Index const kh = kernel_.dimension(0), kw = kernel_.dimension(1);
    flipped_ = kernel_type(kh, kw);
    for (Index m = 0; m < kh; ++m)
      for (Index n = 0; n < kw; ++n) flipped_(kh - 1 - m, kw - 1 - n) = kernel_(m, n);
#if DISTINV_HAS_FFTW
    cache_ = std::make_shared<FftCache>();
#endif
  }

  kernel_type const& kernel() const noexcept { return kernel_; }
  Padding padding() const noexcept { return padding_; }
  BlurMethod method() const noexcept { return method_; }

  /// (B, C, H, W) → (B, C, H-h+1, W-w+1) for valid, the same shape otherwise.
  Shape<4> output_shape(Shape<4> const& in) const {
    check_input(in);
    if (padding_ != Padding::valid) return in;
    return {in[0], in[1], in[2] - kernel_.dimension(0) + 1, in[3] - kernel_.dimension(1) + 1};
  }
  /// The input shape whose output is `out` (the shape of A_adjoint(y)).
  Shape<4> input_shape(Shape<4> const& out) const {
    DISTINV_REQUIRE(out[0] > 0 && out[1] > 0 && out[2] > 0 && out[3] > 0,
                    "Blur: expected a non-empty measurement, got ", distinv::to_string(out));
    Shape<4> in = out;
    if (padding_ == Padding::valid) {
      in[2] += kernel_.dimension(0) - 1;
      in[3] += kernel_.dimension(1) - 1;
    }
    check_input(in);
    return in;
  }

  /// True when A and A_adjoint on H x W planes run through the FFT (circular padding only).
  bool uses_fft([[maybe_unused]] Index rows, [[maybe_unused]] Index cols) const noexcept {
#if DISTINV_HAS_FFTW
    if (padding_ != Padding::circular || method_ == BlurMethod::direct) return false;
    return method_ == BlurMethod::fft || kernel_.size() > blur_fft_min_kernel_area;
#else
    return false;
#endif
  }

  tensor_type A(tensor_type const& x) const {
    Shape<4> const in = shape_of(x), out = output_shape(in);
#if DISTINV_HAS_FFTW
    if (uses_fft(in[2], in[3])) return spectral(x, Spectral::forward);
#endif
    detail::Pads const pd = pads();
    Index const planes = in[0] * in[1];
    Index const hp = in[2] + pd.top + pd.bottom, wp = in[3] + pd.left + pd.right;
    tensor_type y(out);
    if (padding_ == Padding::valid) {
      detail::correlate_valid(x.data(), planes, hp, wp, flipped_.data(), flipped_.dimension(0), flipped_.dimension(1),
                              y.data());
    } else {
      std::vector<T> xp(static_cast<std::size_t>(planes * hp * wp));
      detail::pad_planes(x.data(), planes, in[2], in[3], pd, padding_, xp.data());
      detail::correlate_valid(xp.data(), planes, hp, wp, flipped_.data(), flipped_.dimension(0),
                              flipped_.dimension(1), y.data());
    }
    return y;
  }

  tensor_type A_adjoint(tensor_type const& y) const {
    Shape<4> const out = shape_of(y), in = input_shape(out);
#if DISTINV_HAS_FFTW
    if (uses_fft(in[2], in[3])) return spectral(y, Spectral::adjoint);
#endif
    Index const kh = kernel_.dimension(0), kw = kernel_.dimension(1);
    Index const planes = out[0] * out[1];
    // Full correlation of the zero-padded y with the (unflipped) kernel gives the padded-grid
    // image; folding the padded region back is the adjoint of the padding.
    detail::Pads const full{kh - 1, kh - 1, kw - 1, kw - 1};
    Index const hz = out[2] + 2 * (kh - 1), wz = out[3] + 2 * (kw - 1);
    std::vector<T> yz(static_cast<std::size_t>(planes * hz * wz));
    detail::pad_planes(y.data(), planes, out[2], out[3], full, Padding::zeros, yz.data());
    tensor_type x(in);
    if (padding_ == Padding::valid) {
      detail::correlate_valid(yz.data(), planes, hz, wz, kernel_.data(), kh, kw, x.data());
    } else {
      detail::Pads const pd = pads();
      Index const hp = in[2] + pd.top + pd.bottom, wp = in[3] + pd.left + pd.right;
      std::vector<T> xp(static_cast<std::size_t>(planes * hp * wp));
      detail::correlate_valid(yz.data(), planes, hz, wz, kernel_.data(), kh, kw, xp.data());
      detail::fold_planes(xp.data(), planes, in[2], in[3], pd, padding_, x.data());
    }
    return x;
  }

  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }

  /// Aᵀ A x; one FFT pair (multiplication by |K|²) on the FFT path.
  tensor_type A_adjoint_A(tensor_type const& x) const {
#if DISTINV_HAS_FFTW
    Shape<4> const in = shape_of(x);
    check_input(in);
    if (uses_fft(in[2], in[3])) return spectral(x, Spectral::normal);
#endif
    return A_adjoint(A(x));
  }
  tensor_type A_A_adjoint(tensor_type const& y) const {
#if DISTINV_HAS_FFTW
    Shape<4> const out = shape_of(y);
    if (padding_ == Padding::circular && uses_fft(out[2], out[3])) {
      check_input(out);
      return spectral(y, Spectral::normal);
    }
#endif
    return A(A_adjoint(y));
  }

#if DISTINV_HAS_FFTW
  /// FFT of the kernel laid out circularly on an H x W grid (tap (m, n) at
  /// ((m - h/2) mod H, (n - w/2) mod W), kernel_centre), H x (W/2+1) row-major, unnormalised, so that
  /// circular A = IFFT(K · FFT x). Computed once per (H, W) and cached; thread-safe.
  std::shared_ptr<std::vector<complex_type> const> spectrum(Index rows, Index cols) const {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "Blur::spectrum: expected a positive grid, got ", rows, " x ", cols);
    auto plan = cache_->plans.get(rows, cols);
    std::lock_guard lock(cache_->mutex);
    auto& slot = cache_->spectra[{rows, cols}];
    if (!slot) {
      Index const kh = kernel_.dimension(0), kw = kernel_.dimension(1);
      auto grid = fft::make_buffer<T>(plan->real_size());
      std::fill(grid.get(), grid.get() + plan->real_size(), T(0));
      for (Index m = 0; m < kh; ++m)
        for (Index n = 0; n < kw; ++n) {
          Index const r = detail::padded_source(m - kernel_centre(kh), rows, Padding::circular);
          Index const c = detail::padded_source(n - kernel_centre(kw), cols, Padding::circular);
          grid[std::size_t(r * cols + c)] += kernel_(m, n);
        }
      auto sp = fft::make_buffer<T, complex_type>(plan->spectrum_size());
      plan->forward(grid.get(), sp.get());
      slot = std::make_shared<std::vector<complex_type> const>(sp.get(), sp.get() + plan->spectrum_size());
    }
    return slot;
  }
  /// The FFTW plans of an H x W grid, from this operator's cache.
  std::shared_ptr<fft::Plan2d<T> const> plan(Index rows, Index cols) const { return cache_->plans.get(rows, cols); }
#endif

 private:
  void check_input(Shape<4> const& in) const {
    Index const kh = kernel_.dimension(0), kw = kernel_.dimension(1);
    DISTINV_REQUIRE(in[0] > 0 && in[1] > 0 && in[2] > 0 && in[3] > 0,
                    "Blur: expected a non-empty (B, C, H, W) image, got ", distinv::to_string(in));
    if (padding_ == Padding::valid)
      DISTINV_REQUIRE(in[2] >= kh && in[3] >= kw, "Blur (valid padding): expected an image of at least ", kh, " x ",
                      kw, " (the kernel), got ", in[2], " x ", in[3]);
    if (padding_ == Padding::reflect)
      DISTINV_REQUIRE(kh / 2 < in[2] && kw / 2 < in[3], "Blur (reflect padding): expected an image larger than ",
                      kh / 2, " x ", kw / 2, " (the pad widths), got ", in[2], " x ", in[3]);
  }
  /// deepinv's pad widths, kernel_pads: ((h-1)//2 top, h//2 bottom), same for columns; none
  /// for valid.
  detail::Pads pads() const {
    if (padding_ == Padding::valid) return {};
    auto const r = kernel_pads(kernel_.dimension(0)), c = kernel_pads(kernel_.dimension(1));
    return {r.before, r.after, c.before, c.after};
  }

#if DISTINV_HAS_FFTW
  enum class Spectral { forward, adjoint, normal };
  struct FftCache {
    fft::PlanCache<T> plans;
    std::mutex mutex;
    std::map<std::pair<Index, Index>, std::shared_ptr<std::vector<complex_type> const>> spectra;
  };

  /// Every (b, c) plane: IFFT(m · FFT(plane)) with m = K, conj(K) or |K|², in parallel.
  tensor_type spectral(tensor_type const& x, Spectral mode) const {
    Index const rows = x.dimension(2), cols = x.dimension(3), planes = x.dimension(0) * x.dimension(1);
    auto const plan = this->plan(rows, cols);
    auto const spec = spectrum(rows, cols);
    tensor_type y(shape_of(x));
    T const scale = T(1) / T(rows * cols);
    std::size_t const n = plan->real_size(), ns = plan->spectrum_size();
    tbb::parallel_for(Index(0), planes, [&](Index p) {
      auto buf = fft::make_buffer<T, complex_type>(ns);
      fft::Buffer<T> tmp;
      T const* src = x.data() + p * rows * cols;
      if (!fft::simd_aligned(src)) {
        tmp = fft::make_buffer<T>(n);
        std::copy(src, src + n, tmp.get());
        src = tmp.get();
      }
      plan->forward(src, buf.get());
      complex_type const* k = spec->data();
      complex_type* b = buf.get();
      switch (mode) {
        case Spectral::forward:
          for (std::size_t i = 0; i < ns; ++i) b[i] *= k[i] * scale;
          break;
        case Spectral::adjoint:
          for (std::size_t i = 0; i < ns; ++i) b[i] *= std::conj(k[i]) * scale;
          break;
        case Spectral::normal:
          for (std::size_t i = 0; i < ns; ++i) b[i] *= std::norm(k[i]) * scale;
          break;
      }
      T* dst = y.data() + p * rows * cols;
      if (fft::simd_aligned(dst)) {
        plan->inverse(b, dst);
      } else {
        if (!tmp) tmp = fft::make_buffer<T>(n);
        plan->inverse(b, tmp.get());
        std::copy(tmp.get(), tmp.get() + n, dst);
      }
    });
    return y;
  }

  std::shared_ptr<FftCache> cache_;  // shared by copies: same kernel, same spectra
#endif

  kernel_type kernel_;
  kernel_type flipped_;
  Padding padding_;
  BlurMethod method_;
};

static_assert(LinearPhysics<Blur<float>>);
static_assert(LinearPhysics<Blur<double>>);

}  // namespace distinv::physics
