#pragma once
// cuda/blur.cuh: blur (2-D convolution) of (B, C, H, W) device tensors, deepinv's conventions
// (see core/kernels/conv2d.hpp): cuda::Blur<T> with A, A_adjoint, A_adjoint_A for the paddings
// valid, circular, reflect, replicate, zeros (direct kernels, exact adjoints), and a cuFFT path
// for circular padding; cuda::CircularNormal<T> fuses sum_i A_i^T A_i and the least-squares
// gradient F^-1(S F x - B) of circular blurs, S and B exposed as device spans for an
// all-reduce. Plans, filter spectra and work space are cached inside each object (no static
// cache), so an object is not for concurrent use by two host threads; a copy starts with empty
// caches. cuda::Blur models physics::LinearPhysics over DeviceTensor<T, 4> (a device copy of a
// host physics::Blur, noise model included), and physics::fused_normal<cuda::Blur<T>> lets
// the distributed data fidelity fuse circular device blurs like host ones. Needs nvcc.
#include <cuda_runtime.h>

#include <algorithm>
#include <memory>
#include <random>
#include <variant>
#include <vector>

#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/fft.hpp"
#include "distinv/cuda/kernels.cuh"
#include "distinv/cuda/signal.cuh"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/noise.hpp"

namespace distinv::cuda {

using kernels::Padding;

/// How a circular Blur is computed: automatic = cuFFT for circular padding, direct otherwise.
enum class BlurMethod { automatic, direct, fft };

namespace detail {
/// Half spectra of the Bf * Cf filter planes on an H x W grid, and their plan cache.
template <class T>
class FilterSpectra {
 public:
  using Complex = kernels::Complex<T>;

  FftPlan2d<T>& plan(Index H, Index W, Index batch, cudaStream_t stream) {
    for (auto& p : plans_)
      if (p->matches(H, W, batch)) return *p;
    plans_.push_back(std::make_unique<FftPlan2d<T>>(H, W, batch, stream));
    return *plans_.back();
  }

  /// Spectra of `filter` ((Bf, Cf, kh, kw)) as circular kernels on H x W, computed once.
  Complex const* get(DeviceTensor<T, 4> const& filter, Index H, Index W, cudaStream_t stream) {
    for (auto const& e : spectra_)
      if (e.H == H && e.W == W) return e.K.data();
    Index const q = filter.dimension(0) * filter.dimension(1), kh = filter.dimension(2), kw = filter.dimension(3);
    DeviceBuffer<T> grid(std::size_t(q * H * W));
    for_each(q * H * W, kernels::CircularFilter<T>{H, W, kh, kw, filter.data(), grid.data()}, stream);
    auto& p = plan(H, W, q, stream);
    DeviceBuffer<Complex> K(std::size_t(p.spectrum_size()));
    p.forward(grid.data(), K.data());
    synchronize(stream);  // `grid` is freed on return
    spectra_.push_back({H, W, std::move(K)});
    return spectra_.back().K.data();
  }

 private:
  struct Entry {
    Index H, W;
    DeviceBuffer<Complex> K;
  };
  std::vector<std::unique_ptr<FftPlan2d<T>>> plans_;
  std::vector<Entry> spectra_;
};
}  // namespace detail

/// y = k * x per plane, filter (Bf, Cf, kh, kw) broadcast over (B, C) with Bf in {1, B},
/// Cf in {1, C}. Work is queued on the stream given at construction; results are ready when
/// that stream is synchronised (to_host does it).
template <class T>
class Blur {
 public:
  using Complex = kernels::Complex<T>;
  using scalar_type = T;
  using tensor_type = DeviceTensor<T, 4>;

  Blur(DeviceTensor<T, 4> filter, Padding padding = Padding::circular, cudaStream_t stream = nullptr,
       BlurMethod method = BlurMethod::automatic)
      : filter_(std::move(filter)), padding_(padding), method_(method), stream_(stream) {
    for (int i = 0; i < 4; ++i)
      DISTINV_REQUIRE(filter_.dimension(i) > 0, "cuda::Blur: expected a filter (Bf, Cf, kh, kw) with positive sizes, got ",
                      to_string(filter_.shape()));
    DISTINV_REQUIRE(method != BlurMethod::fft || padding == Padding::circular,
                    "cuda::Blur: the fft method needs circular padding, got ", kernels::padding_name(padding));
  }
  Blur(Tensor4<T> const& filter, Padding padding = Padding::circular, cudaStream_t stream = nullptr,
       BlurMethod method = BlurMethod::automatic)
      : Blur(to_device(filter, stream), padding, stream, method) {}
  /// The device copy of a host blur: its kernel as a (1, 1, kh, kw) filter, its padding and its
  /// noise model.
  explicit Blur(physics::Blur<T> const& host, cudaStream_t stream = nullptr)
      : Blur(host_filter(host.kernel()), host.padding(), stream) {
    noise_ = host.noise();
  }
  Blur(Blur&&) noexcept = default;
  Blur& operator=(Blur&&) noexcept = default;
  /// A copy shares nothing: same filter (copied), padding, method, stream and noise; empty caches.
  Blur(Blur const& o)
      : filter_(o.filter_), padding_(o.padding_), method_(o.method_), stream_(o.stream_), noise_(o.noise_) {}
  Blur& operator=(Blur const& o) {
    if (this != &o) *this = Blur(o);
    return *this;
  }

  void set_noise(physics::NoiseModel<T> noise) { noise_ = std::move(noise); }
  physics::NoiseModel<T> const& noise() const noexcept { return noise_; }

  Padding padding() const noexcept { return padding_; }
  BlurMethod method() const noexcept { return method_; }
  bool uses_fft() const noexcept { return padding_ == Padding::circular && method_ != BlurMethod::direct; }
  cudaStream_t stream() const noexcept { return stream_; }
  DeviceTensor<T, 4> const& filter() const noexcept { return filter_; }

  /// Shape of A x for x of shape `in`.
  Shape<4> output_shape(Shape<4> const& in) const {
    auto const g = geometry(in, "cuda::Blur::A");
    return {in[0], in[1], g.Ho, g.Wo};
  }
  /// Shape of A^T y for y of shape `out`.
  Shape<4> input_shape(Shape<4> const& out) const {
    Shape<4> in = out;
    if (padding_ == Padding::valid) {
      in[2] += filter_.dimension(2) - 1;
      in[3] += filter_.dimension(3) - 1;
    }
    return in;
  }

  /// y = A x into a preallocated y of shape output_shape(x.shape()).
  void A(DeviceTensor<T, 4> const& x, DeviceTensor<T, 4>& y) const {
    auto const g = geometry(x.shape(), "cuda::Blur::A");
    require_shape(y.shape(), {x.dimension(0), x.dimension(1), g.Ho, g.Wo}, "cuda::Blur::A output");
    if (uses_fft()) spectral(g, x, y, kernels::SpectralMultiply<T>::forward);
    else for_each(y.size(), kernels::Conv2d<T>{g, x.data(), filter_.data(), y.data()}, stream_);
  }
  DeviceTensor<T, 4> A(DeviceTensor<T, 4> const& x) const {
    DeviceTensor<T, 4> y(output_shape(x.shape()));
    A(x, y);
    return y;
  }

  /// x = A^T y into a preallocated x of shape input_shape(y.shape()).
  void A_adjoint(DeviceTensor<T, 4> const& y, DeviceTensor<T, 4>& x) const {
    auto const g = geometry(input_shape(y.shape()), "cuda::Blur::A_adjoint");
    require_shape(x.shape(), input_shape(y.shape()), "cuda::Blur::A_adjoint output");
    if (uses_fft()) spectral(g, y, x, kernels::SpectralMultiply<T>::adjoint);
    else for_each(x.size(), kernels::Conv2dAdjoint<T>{g, y.data(), filter_.data(), x.data()}, stream_);
  }
  DeviceTensor<T, 4> A_adjoint(DeviceTensor<T, 4> const& y) const {
    DeviceTensor<T, 4> x(input_shape(y.shape()));
    A_adjoint(y, x);
    return x;
  }

  /// A^T v: the vector-Jacobian product of a linear operator, at any x.
  DeviceTensor<T, 4> A_vjp(DeviceTensor<T, 4> const&, DeviceTensor<T, 4> const& v) const { return A_adjoint(v); }
  /// A A^T y
  DeviceTensor<T, 4> A_A_adjoint(DeviceTensor<T, 4> const& y) const { return A(A_adjoint(y)); }

  /// y = noise(A x). The noise is drawn on the host from rng, exactly as the host operator draws
  /// it (same values for the same generator state), and copied to the device; for simulating
  /// measurements, not for iterations.
  DeviceTensor<T, 4> forward(DeviceTensor<T, 4> const& x, std::mt19937_64& rng) const {
    DeviceTensor<T, 4> y = A(x);
    if (std::holds_alternative<physics::NoNoise>(noise_)) return y;
    Tensor4<T> h = y.to_host(stream_);
    physics::apply_noise(noise_, h, rng);
    y.copy_from(h, stream_);
    return y;
  }

  /// A^T A x (one FFT pair on the cuFFT path).
  DeviceTensor<T, 4> A_adjoint_A(DeviceTensor<T, 4> const& x) const {
    if (uses_fft()) {
      auto const g = geometry(x.shape(), "cuda::Blur::A_adjoint_A");
      DeviceTensor<T, 4> out(x.shape());
      spectral(g, x, out, kernels::SpectralMultiply<T>::normal);
      return out;
    }
    return A_adjoint(A(x));
  }

  /// Half spectra ((Bf * Cf) planes of H x (W/2 + 1)) of the filter as a circular kernel on an
  /// H x W grid; computed once per grid size, valid while this Blur lives.
  Complex const* filter_spectrum(Index H, Index W) const { return spectra_.get(filter_, H, W, stream_); }

  /// The geometry of a convolution of x of shape `in` (checks the shapes).
  kernels::Conv2dGeometry geometry(Shape<4> const& in, char const* what) const {
    Index const B = in[0], C = in[1], H = in[2], W = in[3];
    Index const Bf = filter_.dimension(0), Cf = filter_.dimension(1), kh = filter_.dimension(2),
                kw = filter_.dimension(3);
    DISTINV_REQUIRE(B > 0 && C > 0 && H > 0 && W > 0, what, ": expected a non-empty (B, C, H, W) signal, got ",
                    to_string(in));
    DISTINV_REQUIRE((Bf == 1 || Bf == B) && (Cf == 1 || Cf == C), what, ": a filter of shape ",
                    to_string(filter_.shape()), " does not broadcast over a signal of shape ", to_string(in));
    DISTINV_REQUIRE(padding_ != Padding::valid || (H >= kh && W >= kw), what,
                    ": valid padding needs a signal at least as large as the filter (", kh, ", ", kw, "), got ",
                    to_string(in));
    return kernels::make_conv2d_geometry(B, C, H, W, Bf, Cf, kh, kw, padding_);
  }

 private:
  static DeviceTensor<T, 4> host_filter(Tensor<T, 2> const& k) {
    Tensor4<T> f(1, 1, k.dimension(0), k.dimension(1));
    std::copy_n(k.data(), k.size(), f.data());
    return to_device(f);
  }
  static void require_shape(Shape<4> const& got, Shape<4> const& want, char const* what) {
    DISTINV_REQUIRE(got == want, what, ": expected shape ", to_string(want), ", got ", to_string(got));
  }

  // out = F^-1 (op(K) F in) / (H W); in and out have the same (circular) shape.
  void spectral(kernels::Conv2dGeometry const& g, DeviceTensor<T, 4> const& in, DeviceTensor<T, 4>& out,
                typename kernels::SpectralMultiply<T>::Op op) const {
    Complex const* K = filter_spectrum(g.H, g.W);
    auto& plan = spectra_.plan(g.H, g.W, g.planes, stream_);
    work_.reserve(std::size_t(plan.spectrum_size()));
    plan.forward(in.data(), work_.data());
    Index const ps = g.H * (g.W / 2 + 1);
    for_each(plan.spectrum_size(),
             kernels::SpectralMultiply<T>{ps, g.filter, K, work_.data(), T(1) / T(g.H * g.W), op}, stream_);
    plan.inverse(work_.data(), out.data());
  }

  DeviceTensor<T, 4> filter_;
  Padding padding_;
  BlurMethod method_;
  cudaStream_t stream_;
  physics::NoiseModel<T> noise_{physics::NoNoise{}};
  mutable detail::FilterSpectra<T> spectra_;
  mutable DeviceBuffer<Complex> work_;
};

/// The normal equations of a stack of circular blurs of one signal shape, in Fourier space:
/// S = sum_i |K_i|^2 and B = sum_i conj(K_i) F y_i (half spectra, one per plane). Each rank
/// adds its own operators, all-reduces weights() and rhs() (device spans), then
/// A_adjoint_A(x) = F^-1 (S F x) = sum_i A_i^T A_i x and
/// grad(x) = F^-1 (S F x - B) = sum_i A_i^T (A_i x - y_i), one FFT pair each.
template <class T>
class CircularNormal {
 public:
  using Complex = kernels::Complex<T>;

  explicit CircularNormal(Shape<4> const& signal_shape, cudaStream_t stream = nullptr)
      : shape_(signal_shape), stream_(stream) {
    for (auto d : shape_)
      DISTINV_REQUIRE(d > 0, "cuda::CircularNormal: expected a non-empty (B, C, H, W) signal shape, got ",
                      to_string(shape_));
    plane_size_ = shape_[2] * (shape_[3] / 2 + 1);
    Index const n = shape_[0] * shape_[1] * plane_size_;
    S_ = DeviceBuffer<T>(std::size_t(n));
    B_ = DeviceBuffer<Complex>(std::size_t(n));
    work_ = DeviceBuffer<Complex>(std::size_t(n));
    reset();
  }

  Shape<4> const& shape() const noexcept { return shape_; }
  cudaStream_t stream() const noexcept { return stream_; }

  /// S = 0, B = 0.
  void reset() {
    S_.set_zero(stream_);
    B_.set_zero(stream_);
  }

  /// S += |K|^2 of a circular blur.
  void add(Blur<T> const& blur) { accumulate(blur, nullptr); }
  /// S += |K|^2 and B += conj(K) F y of a circular blur and its measurement y (signal shape).
  void add(Blur<T> const& blur, DeviceTensor<T, 4> const& y) { accumulate(blur, &y); }

  /// S: planes * H * (W/2 + 1) reals. rhs(): B as 2 * that many reals (re, im interleaved).
  DeviceSpan<T> weights() noexcept { return S_.span(); }
  DeviceSpan<T> rhs() noexcept { return {reinterpret_cast<T*>(B_.data()), 2 * B_.size()}; }

  /// out = sum_i A_i^T A_i x
  void A_adjoint_A(DeviceTensor<T, 4> const& x, DeviceTensor<T, 4>& out) const { apply(x, out, false); }
  DeviceTensor<T, 4> A_adjoint_A(DeviceTensor<T, 4> const& x) const {
    DeviceTensor<T, 4> out(shape_);
    apply(x, out, false);
    return out;
  }
  /// out = sum_i A_i^T (A_i x - y_i)
  void grad(DeviceTensor<T, 4> const& x, DeviceTensor<T, 4>& out) const { apply(x, out, true); }
  DeviceTensor<T, 4> grad(DeviceTensor<T, 4> const& x) const {
    DeviceTensor<T, 4> out(shape_);
    apply(x, out, true);
    return out;
  }
  /// sum_i A_i^T y_i
  DeviceTensor<T, 4> A_adjoint_y() const {
    DeviceTensor<T, 4> out(shape_);
    Index const n = Index(B_.size());
    for_each(2 * n,
             kernels::Map{kernels::Scale<T>{T(1) / T(shape_[2] * shape_[3])},
                          reinterpret_cast<T const*>(B_.data()), reinterpret_cast<T*>(work_.data())},
             stream_);
    plan().inverse(work_.data(), out.data());
    return out;
  }

 private:
  FftPlan2d<T>& plan() const {
    if (!plan_) plan_ = std::make_unique<FftPlan2d<T>>(shape_[2], shape_[3], shape_[0] * shape_[1], stream_);
    return *plan_;
  }
  void require_signal(Shape<4> const& s, char const* what) const {
    DISTINV_REQUIRE(s == shape_, what, ": expected shape ", to_string(shape_), ", got ", to_string(s));
  }

  void accumulate(Blur<T> const& blur, DeviceTensor<T, 4> const* y) {
    DISTINV_REQUIRE(blur.padding() == Padding::circular, "cuda::CircularNormal::add: expected a circular blur, got ",
                    kernels::padding_name(blur.padding()), " padding");
    auto const g = blur.geometry(shape_, "cuda::CircularNormal::add");
    Complex const* K = blur.filter_spectrum(shape_[2], shape_[3]);
    if (blur.stream() != stream_) synchronize(blur.stream());
    Complex const* Y = nullptr;
    if (y) {
      require_signal(y->shape(), "cuda::CircularNormal::add measurement");
      plan().forward(y->data(), work_.data());
      Y = work_.data();
    }
    for_each(Index(S_.size()),
             kernels::AccumulateNormal<T>{plane_size_, g.filter, K, Y, S_.data(), y ? B_.data() : nullptr}, stream_);
  }

  void apply(DeviceTensor<T, 4> const& x, DeviceTensor<T, 4>& out, bool subtract_rhs) const {
    require_signal(x.shape(), "cuda::CircularNormal input");
    require_signal(out.shape(), "cuda::CircularNormal output");
    plan().forward(x.data(), work_.data());
    for_each(Index(S_.size()),
             kernels::NormalResidual<T>{S_.data(), subtract_rhs ? B_.data() : nullptr, work_.data(),
                                        T(1) / T(shape_[2] * shape_[3])},
             stream_);
    plan().inverse(work_.data(), out.data());
  }

  Shape<4> shape_;
  cudaStream_t stream_;
  Index plane_size_ = 0;
  DeviceBuffer<T> S_;
  DeviceBuffer<Complex> B_;
  mutable DeviceBuffer<Complex> work_;
  mutable std::unique_ptr<FftPlan2d<T>> plan_;
};

}  // namespace distinv::cuda

namespace distinv::physics {

/// Circular device blurs fuse through cuFFT; the sums are all-reduced over the rank's backend.
template <class T>
struct fused_normal<cuda::Blur<T>> {
  static constexpr bool available = true;
  using type = cuda::CircularNormal<T>;
  static bool usable(cuda::Blur<T> const& op) { return op.padding() == cuda::Padding::circular; }
  template <class Ctx>
  static void all_reduce(Ctx const& ctx, type& n) {
    cuda::all_reduce(ctx.comm(), n.weights(), ReduceOp::sum);
    cuda::all_reduce(ctx.comm(), n.rhs(), ReduceOp::sum);
  }
};

}  // namespace distinv::physics
