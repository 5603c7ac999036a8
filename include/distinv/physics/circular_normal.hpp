#pragma once
// physics/circular_normal.hpp: CircularNormal<T, Space, Fft>, the fused normal operator and L2
// gradient of a stack of circular blurs on (B, C, H, W) signals, in Fourier space:
//   S = Σ_i |K_i|²  (weight planes of H x (W/2+1), real),  B = Σ_i conj(K_i) · F y_i  (B·C planes),
//   normal(x) = F⁻¹(S · F x) = Σ_i A_iᵀA_i x,   grad(x) = F⁻¹(S · F x − B) = Σ_i A_iᵀ(A_i x − y_i),
// one FFT pair whatever the number of operators. S has one plane when every filter is a
// single (kh, kw) kernel (the default), else Bs x Cs planes broadcast like a filter
// (weight_planes). S and B are exposed as spans of the space (spectrum_sum, data_term) so that
// a distributed caller all-reduces them in place. Needs an FFT engine (Fft::available).
#include <array>
#include <cstddef>
#include <memory>
#include <utility>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/blur.hpp"

namespace distinv::physics {

/// The fused normal equations of a set of circular blurs on one signal shape: S = Σ_i |K_i|² and B = Σ_i
/// conj(K_i) F y_i accumulated in Fourier space, so that Σ_i A_iᵀ(A_i x − y_i) costs one FFT pair whatever the
/// number of operators. Move-only (owns a plan and two buffers).
template <class T, class Space = device::Host, class Fft = fft::default_engine_t<Space>>
  requires(Fft::available)
class CircularNormal {
 public:
  /// Element type.
  using scalar_type = T;
  /// The blur type it fuses.
  using blur_type = Blur<T, Space, Fft>;
  /// The signal type.
  using tensor_type = typename blur_type::tensor_type;
  /// Complex element type of B.
  using complex_type = kernels::Complex<T>;
  /// A view of elements in the space.
  template <class E>
  using span_type = typename space_traits<Space>::template span<E>;

  /// For signals of shape (B, C, H, W); S has weight_planes = (Bs, Cs) planes, Bs in {1, B},
  /// Cs in {1, C} (one plane unless some filter differs per batch entry or channel). S and B
  /// start at zero.
  explicit CircularNormal(Shape<4> signal_shape, std::array<Index, 2> weight_planes = {1, 1}, Space space = {})
      : shape_(signal_shape), weights_(weight_planes), space_(std::move(space)) {
    DISTINV_REQUIRE(shape_[0] > 0 && shape_[1] > 0 && shape_[2] > 0 && shape_[3] > 0,
                    "CircularNormal: expected a non-empty (B, C, H, W) shape, got ", distinv::to_string(shape_));
    DISTINV_REQUIRE((weights_[0] == 1 || weights_[0] == shape_[0]) && (weights_[1] == 1 || weights_[1] == shape_[1]),
                    "CircularNormal: expected weight planes (1 or B, 1 or C) for signals ", distinv::to_string(shape_),
                    ", got (", weights_[0], ", ", weights_[1], ")");
    plan_ = std::make_unique<fft::plan_t<Fft, T> const>(shape_[2], shape_[3], planes(), space_);
    S_ = space_buffer_t<Space, T>(std::size_t(weight_planes_count() * plane_size()));
    B_ = space_buffer_t<Space, complex_type>(std::size_t(planes() * plane_size()));
    reset();
  }
  /// Moves.
  CircularNormal(CircularNormal&&) noexcept = default;
  /// Moves.
  CircularNormal& operator=(CircularNormal&&) noexcept = default;

  /// The (B, C, H, W) shape it was made for.
  Shape<4> signal_shape() const noexcept { return shape_; }
  /// The (Bs, Cs) planes of S.
  std::array<Index, 2> weight_planes() const noexcept { return weights_; }
  /// Operators accumulated since the last reset().
  std::size_t operator_count() const noexcept { return count_; }

  /// S += |K|² (the normal operator only; y_i not known or not needed).
  void add_operator(blur_type const& op) {
    accumulate_weight(op);
    ++count_;
  }
  /// S += |K|², B += conj(K) · F y: one operator and its measurement y (shape of x).
  void add(blur_type const& op, tensor_type const& y) {
    DISTINV_REQUIRE(shape_of(y) == shape_, "CircularNormal::add: expected a measurement of shape ",
                    distinv::to_string(shape_), ", got ", distinv::to_string(shape_of(y)));
    auto const g = accumulate_weight(op);
    auto const K = op.spectrum(shape_[2], shape_[3]);
    plan_->analyse(y.data(), kernels::AccumulateNormal<T>{plane_size(), g.filter, K->data(), B_.data()});
    ++count_;
  }
  /// Sets S and B back to zero.
  void reset() {
    launcher()(Index(S_.size()), kernels::Fill<T>{T(0), S_.data()});
    launcher()(Index(2 * B_.size()), kernels::Fill<T>{T(0), reinterpret_cast<T*>(B_.data())});
    count_ = 0;
  }

  /// S, (Bs · Cs) · H · (W/2+1) reals (row-major), to all-reduce in place.
  span_type<T> spectrum_sum() noexcept { return {S_.data(), S_.size()}; }
  /// S as reals, read-only.
  span_type<T const> spectrum_sum() const noexcept { return {S_.data(), S_.size()}; }
  /// B as 2 · B · C · H · (W/2+1) reals (interleaved re, im), to all-reduce in place.
  span_type<T> data_term() noexcept { return {reinterpret_cast<T*>(B_.data()), 2 * B_.size()}; }
  /// B as interleaved reals, read-only.
  span_type<T const> data_term() const noexcept { return {reinterpret_cast<T const*>(B_.data()), 2 * B_.size()}; }

  /// Σ_i A_iᵀA_i x.
  tensor_type normal(tensor_type const& x) const { return apply(x, false); }
  /// Σ_i A_iᵀ(A_i x − y_i).
  tensor_type grad(tensor_type const& x) const { return apply(x, true); }
  /// Σ_i A_iᵀ y_i.
  tensor_type A_adjoint_y() const {
    tensor_type out(shape_);
    plan_->synthesise(kernels::ScaledSpectrum<T>{B_.data(), scale()}, out.data());
    return out;
  }

 private:
  Index planes() const noexcept { return shape_[0] * shape_[1]; }
  Index plane_size() const noexcept { return shape_[2] * (shape_[3] / 2 + 1); }
  Index weight_planes_count() const noexcept { return weights_[0] * weights_[1]; }
  T scale() const noexcept { return T(1) / T(shape_[2] * shape_[3]); }
  auto launcher() const { return space_traits<Space>::launcher(space_); }
  /// Which S plane serves signal plane p.
  kernels::FilterBroadcast weight_broadcast() const { return {shape_[1], weights_[0], weights_[1]}; }

  /// S += |K|² of a circular blur; returns its geometry on the signal.
  kernels::Conv2dGeometry accumulate_weight(blur_type const& op) {
    DISTINV_REQUIRE(op.padding() == Padding::circular, "CircularNormal: expected a circular Blur, got padding ",
                    padding_name(op.padding()));
    auto const g = op.geometry(shape_);
    Index const Bf = op.filter().dimension(0), Cf = op.filter().dimension(1);
    DISTINV_REQUIRE((Bf == 1 || Bf == weights_[0]) && (Cf == 1 || Cf == weights_[1]),
                    "CircularNormal: a filter of ", Bf, " x ", Cf, " planes needs weight planes (", Bf, ", ", Cf,
                    "), this one was built with (", weights_[0], ", ", weights_[1], ")");
    auto const K = op.spectrum(shape_[2], shape_[3]);
    // S plane q = (bs, cs) takes filter plane (bs or 0, cs or 0).
    launcher()(Index(S_.size()),
               kernels::AccumulateWeight<T>{plane_size(), kernels::FilterBroadcast{weights_[1], Bf, Cf}, K->data(),
                                            S_.data()});
    return g;
  }

  tensor_type apply(tensor_type const& x, bool with_data) const {
    DISTINV_REQUIRE(shape_of(x) == shape_, "CircularNormal: expected a signal of shape ", distinv::to_string(shape_),
                    ", got ", distinv::to_string(shape_of(x)));
    tensor_type out(shape_);
    plan_->filter(x.data(), out.data(),
                  kernels::NormalResidual<T>{plane_size(), weight_broadcast(), S_.data(),
                                             with_data ? B_.data() : nullptr, scale()});
    return out;
  }

  Shape<4> shape_;
  std::array<Index, 2> weights_;
  Space space_;
  std::unique_ptr<fft::plan_t<Fft, T> const> plan_;
  space_buffer_t<Space, T> S_;
  space_buffer_t<Space, complex_type> B_;
  std::size_t count_ = 0;
};

}  // namespace distinv::physics
