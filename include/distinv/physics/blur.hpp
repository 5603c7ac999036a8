#pragma once
// physics/blur.hpp: Blur<T, Space, Fft>, deepinv's Blur: a true 2-D convolution (filter
// flipped) of every (b, c) plane by a filter (Bf, Cf, kh, kw) broadcast over (B, C) (a (kh, kw)
// kernel is the (1, 1, kh, kw) filter), under a Padding, centred at (kh//2, kw//2) for odd and
// even sizes as deepinv 0.5's conv2d / filter_fft (kernel_centre, core/kernels/padding.hpp). Models LinearPhysics; A_adjoint is the exact adjoint for every
// padding. One template for every space (core/space.hpp): Blur<float> on the host,
// Blur<float, device::Cuda> on a GPU (from a .cu file, with distinv/cuda.hpp); the direct path
// runs kernels::conv2d (pad once, then a boundary-free correlation) on the space's launcher,
// circular padding may run through the space's FFT engine (fft/engine.hpp: FFTW on the host
// when the build has it, cuFFT on GPUs, none).
// Plans and filter spectra are cached per grid size and shared by copies (thread-safe).
#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <utility>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/fftw.hpp"
#include "distinv/host/space.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/padding.hpp"
#include "distinv/physics/row_footprint.hpp"

namespace distinv::physics {

/// How Blur computes a circular convolution: automatic picks the faster path (see
/// Blur::uses_fft); direct and fft force one (fft needs an FFT engine and circular padding).
enum class BlurMethod { automatic, direct, fft };

/// Filter area above which automatic circular blurs use the FFT. Measured with
/// benchmarks/bench_blur.cpp (float RGB, 2 cores, generic x86-64 build, FFTW_ESTIMATE): the
/// direct path costs ~0.23 / 1.3 / 3.9 ms per tap at 512² / 1024² / 2048², one FFT pass
/// (r2c, product, c2r per plane) ~10-20 / 75-130 / 380-500 ms: crossover between ~50 and
/// ~130 taps at every size, so 9x9 and smaller stay direct, 11x11 and larger go to the FFT.
inline constexpr Index blur_fft_min_kernel_area = 100;

/// Outputs per strip of the direct path: 1024 on the host (the strip accumulates in L1 and
/// vectorises along the row, as the old host loop did over whole rows; 512 and 1024 measured
/// level within the noise, benchmarks/README.md), 1 on a device (one thread per output).
template <class Space>
inline constexpr int blur_strip = space_traits<Space>::on_device ? 1 : 1024;

/// A 2-D convolution y = h * x of every (b, c) plane of a (B, C, H, W) signal by a (kh, kw) kernel (or a (Bf,
/// Cf, kh, kw) filter), with its exact adjoint under any of the 5 paddings (circular by default; deepinv's
/// default is valid). Circular blurs with at least blur_fft_min_kernel_area taps use the FFT engine when there
/// is one. In the host space or a device space; copies share nothing mutable. Models LinearPhysics; set_noise
/// adds a noise model to forward.
template <class T, class Space = device::Host, class Fft = fft::default_engine_t<Space>>
class Blur : public WithNoise<Blur<T, Space, Fft>, T> {
 public:
  /// Element type (float or double).
  using scalar_type = T;
  /// The memory space of its signals (device::Host, device::Cuda).
  using space_type = Space;
  /// The FFT engine (fft::Fftw, the CUDA one, or fft::None).
  using fft_type = Fft;
  /// The signal type: Tensor4<T> on the host, a device tensor on a device.
  using tensor_type = space_tensor_t<Space, T, 4>;
  using filter_type = Tensor4<T>;  ///< (Bf, Cf, kh, kw), host memory
  /// Complex element type of the spectra.
  using complex_type = kernels::Complex<T>;
  /// A buffer of spectrum values in the blur's space.
  using spectrum_type = space_buffer_t<Space, complex_type>;

  /// A (kh, kw) kernel applied to every plane.
  explicit Blur(Tensor<T, 2> const& kernel, Padding padding = Padding::circular,
                BlurMethod method = BlurMethod::automatic, Space space = {})
      : Blur(as_filter(kernel), padding, method, std::move(space)) {}

  /// A (Bf, Cf, kh, kw) filter, Bf in {1, B} and Cf in {1, C} of the signals it is applied to.
  Blur(filter_type filter, Padding padding, BlurMethod method = BlurMethod::automatic, Space space = {})
      : host_filter_(std::move(filter)), padding_(padding), method_(method), space_(std::move(space)) {
    for (int d = 0; d < 4; ++d)
      DISTINV_REQUIRE(host_filter_.dimension(d) > 0, "Blur: expected a non-empty (Bf, Cf, kh, kw) filter, got ",
                      distinv::to_string(shape_of(host_filter_)));
    if (method_ == BlurMethod::fft) {
      DISTINV_REQUIRE(padding_ == Padding::circular, "Blur: BlurMethod::fft needs circular padding, got ",
                      padding_name(padding_));
      DISTINV_REQUIRE(Fft::available, "Blur: BlurMethod::fft needs an FFT engine, and this build has none (",
                      Fft::name(), "): build with FFTW, or use BlurMethod::direct");
    }
    filter_ = upload(host_filter_);
  }

  /// The same blur in another space (e.g. the device copy of a host blur), noise included.
  template <class S2, class F2>
  Blur(Blur<T, S2, F2> const& other, Space space)
      : Blur(other.filter(), other.padding(), Fft::available ? other.method() : BlurMethod::direct, std::move(space)) {
    this->set_noise(other.noise());
  }

  /// A copy (the filter and noise model; its own spectrum cache).
  Blur(Blur const& o) : Blur(o.host_filter_, o.padding_, o.method_, o.space_) {
    this->set_noise(o.noise());
    cache_ = o.cache_;  // copies share plans and spectra
  }
  /// A copy (the filter and noise model; its own spectrum cache).
  Blur& operator=(Blur const& o) {
    if (this != &o) *this = Blur(o);
    return *this;
  }
  /// Moves.
  Blur(Blur&&) noexcept = default;
  /// Moves.
  Blur& operator=(Blur&&) noexcept = default;

  /// The (Bf, Cf, kh, kw) filter, in host memory.
  filter_type const& filter() const noexcept { return host_filter_; }
  /// The (kh, kw) kernel of a (1, 1, kh, kw) filter.
  Tensor<T, 2> kernel() const {
    DISTINV_REQUIRE(host_filter_.dimension(0) == 1 && host_filter_.dimension(1) == 1,
                    "Blur::kernel: the filter has ", host_filter_.dimension(0), " x ", host_filter_.dimension(1),
                    " planes; use filter()");
    Tensor<T, 2> k(kh(), kw());
    std::copy_n(host_filter_.data(), k.size(), k.data());
    return k;
  }
  /// Kernel height.
  Index kh() const noexcept { return host_filter_.dimension(2); }
  /// Kernel width.
  Index kw() const noexcept { return host_filter_.dimension(3); }
  /// The boundary rule.
  Padding padding() const noexcept { return padding_; }
  /// How circular convolutions are computed.
  BlurMethod method() const noexcept { return method_; }
  /// The space (device) it runs in.
  Space const& space() const noexcept { return space_; }

  /// (B, C, H, W) → (B, C, H-h+1, W-w+1) for valid, the same shape otherwise.
  Shape<4> output_shape(Shape<4> const& in) const {
    auto const g = geometry(in);
    return {in[0], in[1], g.Ho, g.Wo};
  }
  /// The input shape whose output is `out` (the shape of A_adjoint(y)).
  Shape<4> input_shape(Shape<4> const& out) const {
    DISTINV_REQUIRE(out[0] > 0 && out[1] > 0 && out[2] > 0 && out[3] > 0,
                    "Blur: expected a non-empty measurement, got ", distinv::to_string(out));
    Shape<4> in = out;
    if (padding_ == Padding::valid) {
      in[2] += kh() - 1;
      in[3] += kw() - 1;
    }
    geometry(in);
    return in;
  }

  /// True when A and A_adjoint on H x W planes run through the FFT (circular padding only).
  bool uses_fft(Index, Index) const noexcept {
    if constexpr (!Fft::available) {
      return false;
    } else {
      if (padding_ != Padding::circular || method_ == BlurMethod::direct) return false;
      return method_ == BlurMethod::fft || kh() * kw() > blur_fft_min_kernel_area;
    }
  }

  /// y = h * x, shape output_shape(shape of x); throws Error for an unacceptable input shape.
  tensor_type A(tensor_type const& x) const {
    auto const g = geometry(shape_of(x));
    tensor_type y(Shape<4>{shape_of(x)[0], shape_of(x)[1], g.Ho, g.Wo});
    if (uses_fft(g.H, g.W)) {
      spectral(g, x, y, kernels::SpectralMultiply<T>::forward);
    } else {
      convolve(g, x.data(), y.data());
    }
    return y;
  }

  /// x = hᵀ * y, the exact adjoint (input shape recovered from y's shape).
  tensor_type A_adjoint(tensor_type const& y) const {
    Shape<4> const out = shape_of(y), in = input_shape(out);
    auto const g = geometry(in);
    tensor_type x(in);
    if (uses_fft(g.H, g.W)) {
      spectral(g, y, x, kernels::SpectralMultiply<T>::adjoint);
    } else {
      convolve_adjoint(g, y.data(), x.data());
    }
    return x;
  }

  /// The vector-Jacobian product at any x: A_adjoint(v) (A is linear).
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }

  /// The direct path on raw planes in the blur's space: y = conv(x) (planes * Ho * Wo outputs of
  /// planes * H * W inputs), g a geometry of this blur's filter (geometry(), or
  /// one with its own row padding: the slab layout convolves its gathered blocks row-valid).
  void convolve(kernels::Conv2dGeometry const& g, T const* x, T* y) const {
    auto scratch = space_traits<Space>::template allocate<T>(kernels::conv2d_scratch(g), space_);
    kernels::conv2d<blur_strip<Space>>(launcher(), g, x, filter_.data(), y, scratch.data());
  }
  /// The adjoint of convolve: x (planes * H * W) from y (planes * Ho * Wo).
  void convolve_adjoint(kernels::Conv2dGeometry const& g, T const* y, T* x) const {
    auto scratch = space_traits<Space>::template allocate<T>(kernels::conv2d_adjoint_scratch(g), space_);
    kernels::conv2d_adjoint<blur_strip<Space>>(launcher(), g, y, filter_.data(), x, scratch.data());
  }

  /// Its footprint on row blocks (the slab layout): output row i reads rows [i − top, i − top +
  /// kh), top = kh's padding before (0 for valid), through the blur's padding. Throws Error for
  /// BlurMethod::fft, which has no row footprint (use direct or automatic: the direct path).
  RowFootprint row_footprint() const {
    DISTINV_REQUIRE(method_ != BlurMethod::fft, "Blur::row_footprint: BlurMethod::fft runs through the whole ",
                    "image's FFT and has no row footprint; use BlurMethod::direct or automatic, which run the direct ",
                    "path on row blocks");
    Index const above = padding_ == Padding::valid ? 0 : kernel_pads(kh()).before;
    return {1, above, kh() - 1 - above, padding_};
  }
  /// The blur of a block of rows that holds its halo: rows valid (kh − 1 rows fewer), columns
  /// padded as the blur pads them.
  tensor_type convolve_rows(tensor_type const& block) const {
    tensor_type y(rows_output_shape(shape_of(block)));
    convolve(rows_geometry(shape_of(block)), block.data(), y.data());
    return y;
  }
  /// The shape of convolve_rows(block) for a block of shape `block`.
  Shape<4> rows_output_shape(Shape<4> const& block) const {
    auto const g = rows_geometry(block);
    return {block[0], block[1], g.Ho, g.Wo};
  }
  /// The adjoint of convolve_rows: a block of shape `block` from its blur y.
  tensor_type convolve_rows_adjoint(tensor_type const& y, Shape<4> const& block) const {
    tensor_type x(block);
    convolve_adjoint(rows_geometry(block), y.data(), x.data());
    return x;
  }
  /// A on one row block (RowLocalPhysics): convolve_rows.
  tensor_type A_rows(tensor_type const& block, RowBlock const&) const { return convolve_rows(block); }
  /// Its exact adjoint: convolve_rows_adjoint into the block's shape.
  tensor_type A_adjoint_rows(tensor_type const& y, RowBlock const& b) const { return convolve_rows_adjoint(y, b.block); }

  /// Aᵀ A x; one FFT pair (multiplication by |K|²) on the FFT path.
  tensor_type A_adjoint_A(tensor_type const& x) const {
    auto const g = geometry(shape_of(x));
    if (!uses_fft(g.H, g.W)) return A_adjoint(A(x));
    tensor_type out(shape_of(x));
    spectral(g, x, out, kernels::SpectralMultiply<T>::normal);
    return out;
  }
  /// A Aᵀ y; one FFT pair on the FFT path (circular: A Aᵀ = Aᵀ A, multiplication by |K|²).
  tensor_type A_A_adjoint(tensor_type const& y) const {
    if (padding_ != Padding::circular) return A(A_adjoint(y));
    auto const g = geometry(shape_of(y));
    if (!uses_fft(g.H, g.W)) return A(A_adjoint(y));
    tensor_type out(shape_of(y));
    spectral(g, y, out, kernels::SpectralMultiply<T>::normal);
    return out;
  }

  /// The half spectra (Bf * Cf planes of H x (W/2+1), row-major) of the filter laid out as a
  /// circular kernel on an H x W grid, unnormalised, so that circular A = F⁻¹(K · F x). In the
  /// blur's space; computed once per grid and cached; thread-safe.
  std::shared_ptr<spectrum_type const> spectrum(Index rows, Index cols) const
    requires(Fft::available)
  {
    DISTINV_REQUIRE(rows > 0 && cols > 0, "Blur::spectrum: expected a positive grid, got ", rows, " x ", cols);
    std::lock_guard lock(cache_->mutex);
    auto& slot = cache_->spectra[{rows, cols}];
    if (!slot) {
      Index const q = host_filter_.dimension(0) * host_filter_.dimension(1);
      space_buffer_t<Space, T> grid(std::size_t(q * rows * cols));
      launcher()(q * rows * cols, kernels::CircularFilter<T>{rows, cols, kh(), kw(), filter_.data(), grid.data()});
      auto const& p = this->plan_locked(rows, cols, q);
      auto s = std::make_shared<spectrum_type>(std::size_t(p.spectrum_size()));
      p.analyse(grid.data(), kernels::StoreSpectrum<T>{s->data()});
      slot = std::move(s);
    }
    return slot;
  }
  /// The FFT plan of `planes` H x W planes, from this operator's cache.
  fft::plan_t<Fft, T> const& plan(Index rows, Index cols, Index planes) const
    requires(Fft::available)
  {
    std::lock_guard lock(cache_->mutex);
    return this->plan_locked(rows, cols, planes);
  }

  /// The convolution geometry of signals of shape `in` (checks the shapes).
  kernels::Conv2dGeometry geometry(Shape<4> const& in) const {
    Index const Bf = host_filter_.dimension(0), Cf = host_filter_.dimension(1);
    DISTINV_REQUIRE(in[0] > 0 && in[1] > 0 && in[2] > 0 && in[3] > 0,
                    "Blur: expected a non-empty (B, C, H, W) image, got ", distinv::to_string(in));
    DISTINV_REQUIRE((Bf == 1 || Bf == in[0]) && (Cf == 1 || Cf == in[1]), "Blur: a filter of shape ",
                    distinv::to_string(shape_of(host_filter_)), " does not broadcast over a signal of shape ",
                    distinv::to_string(in));
    if (padding_ == Padding::valid)
      DISTINV_REQUIRE(in[2] >= kh() && in[3] >= kw(), "Blur (valid padding): expected an image of at least ", kh(),
                      " x ", kw(), " (the kernel), got ", in[2], " x ", in[3]);
    if (padding_ == Padding::reflect)
      DISTINV_REQUIRE(kh() / 2 < in[2] && kw() / 2 < in[3], "Blur (reflect padding): expected an image larger than ",
                      kh() / 2, " x ", kw() / 2, " (the pad widths), got ", in[2], " x ", in[3]);
    return kernels::make_conv2d_geometry(in[0], in[1], in[2], in[3], Bf, Cf, kh(), kw(), padding_);
  }

 private:
  using launcher_type = decltype(space_traits<Space>::launcher(std::declval<Space const&>()));
  using plan_type = fft::plan_t<Fft, T>;

  struct Cache {
    std::mutex mutex;
    std::map<std::tuple<Index, Index, Index>, std::unique_ptr<plan_type const>> plans;
    std::map<std::pair<Index, Index>, std::shared_ptr<spectrum_type const>> spectra;
  };

  static filter_type as_filter(Tensor<T, 2> const& k) {
    filter_type f(1, 1, k.dimension(0), k.dimension(1));
    std::copy_n(k.data(), k.size(), f.data());
    return f;
  }
  space_buffer_t<Space, T> upload(filter_type const& f) const {
    space_buffer_t<Space, T> b(std::size_t(f.size()));
    space_traits<Space>::upload(f.data(), b.data(), f.size(), space_);
    return b;
  }
  launcher_type launcher() const { return space_traits<Space>::launcher(space_); }
  /// The geometry of a block of rows holding its halo: rows valid, columns padded.
  kernels::Conv2dGeometry rows_geometry(Shape<4> const& block) const {
    return kernels::make_conv2d_geometry(block[0], block[1], block[2], block[3], host_filter_.dimension(0),
                                         host_filter_.dimension(1), kh(), kw(), Padding::valid, padding_);
  }

  plan_type const& plan_locked(Index rows, Index cols, Index planes) const {
    auto& slot = cache_->plans[{rows, cols, planes}];
    if (!slot) slot = std::make_unique<plan_type const>(rows, cols, planes, space_);
    return *slot;
  }

  /// out = F⁻¹(op(K) · F in) / (H W) on every plane; in and out have the signal's shape.
  void spectral(kernels::Conv2dGeometry const& g, tensor_type const& in, tensor_type& out,
                typename kernels::SpectralMultiply<T>::Op op) const {
    if constexpr (Fft::available) {
      auto const K = spectrum(g.H, g.W);
      auto const& p = plan(g.H, g.W, g.planes);
      p.filter(in.data(), out.data(),
               kernels::SpectralMultiply<T>{p.plane_spectrum(), g.filter, K->data(), T(1) / T(g.H * g.W), op});
    }
  }

  filter_type host_filter_;
  space_buffer_t<Space, T> filter_;  ///< the filter in the blur's space
  Padding padding_;
  BlurMethod method_;
  Space space_;
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
};

static_assert(RowLocalPhysics<Blur<float>>);
static_assert(RowLocalPhysics<Blur<double>>);

}  // namespace distinv::physics
