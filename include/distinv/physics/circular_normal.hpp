#pragma once
// physics/circular_normal.hpp: CircularNormal<T, Engine>, the fused normal operator and L2
// gradient of a stack of circular blurs on (B, C, H, W) signals, in Fourier space:
//   S = Σ_i |K_i|²  (weight planes of spectra, real),  B = Σ_i conj(K_i) · F y_i  (B·C planes),
//   normal(x) = F⁻¹(S · F x) = Σ_i A_iᵀA_i x,   grad(x) = F⁻¹(S · F x − B) = Σ_i A_iᵀ(A_i x − y_i),
// one FFT pair whatever the number of operators. S has one plane when every filter is a
// single (kh, kw) kernel (the default), else Bs x Cs planes broadcast like a filter
// (weight_planes). The Engine is the transform, and says where S, B and the signals live
// (circular_engine<Engine>): LocalFft<T, Space, Fft> (one batched plan of a space's FFT engine;
// a space names it: CircularNormal<T, device::Cuda>), or the slab layout's distributed
// transforms layout::SlabFft and layout::FftwMpiSlabFft (S and B sharded by spectral columns,
// signals SlabTensors; layout/slab_fft.hpp). S and B are exposed as spans of the space
// (spectrum_sum, data_term) so that a distributed caller all-reduces them in place.
#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/fft/engine.hpp"
#include "distinv/physics/blur.hpp"

namespace distinv::physics {

namespace detail {
/// The signal shape and weight planes of a fused normal operator (here and in the slab layout's).
inline void check_normal_shape(Shape<4> const& shape, std::array<Index, 2> weights, char const* what) {
  DISTINV_REQUIRE(shape[0] > 0 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0, what,
                  ": expected a non-empty (B, C, H, W) shape, got ", distinv::to_string(shape));
  DISTINV_REQUIRE((weights[0] == 1 || weights[0] == shape[0]) && (weights[1] == 1 || weights[1] == shape[1]), what,
                  ": expected weight planes (1 or B, 1 or C) for signals ", distinv::to_string(shape), ", got (",
                  weights[0], ", ", weights[1], ")");
}
/// One operator of a fused normal operator: a circular blur on `shape` whose filter planes the
/// weight planes hold. Returns its geometry on the signal.
template <class BlurT>
kernels::Conv2dGeometry check_normal_operand(BlurT const& op, Shape<4> const& shape, std::array<Index, 2> weights,
                                             char const* what) {
  DISTINV_REQUIRE(op.padding() == Padding::circular, what, ": expected a circular Blur, got padding ",
                  padding_name(op.padding()));
  auto const g = op.geometry(shape);
  Index const Bf = op.filter().dimension(0), Cf = op.filter().dimension(1);
  DISTINV_REQUIRE((Bf == 1 || Bf == weights[0]) && (Cf == 1 || Cf == weights[1]), what, ": a filter of ", Bf, " x ",
                  Cf, " planes needs weight planes (", Bf, ", ", Cf, "), this one was built with (", weights[0], ", ",
                  weights[1], ")");
  return g;
}
}  // namespace detail

/// The local plan engine of CircularNormal: the batched plan of the FFT engine `Fft` in `Space`
/// for the (B, C, H, W) signals of one shape, with the interface of fft/engine.hpp on tensors.
/// Copies share the plan.
template <class T, class Space = device::Host, class Fft = fft::default_engine_t<Space>>
  requires(Fft::available)
class LocalFft {
 public:
  using scalar_type = T;                                    ///< float or double
  using space_type = Space;                                 ///< where the signals and spectra live
  using fft_type = Fft;                                     ///< the FFT engine
  using tensor_type = typename Blur<T, Space, Fft>::tensor_type;  ///< the signals

  /// The plan of signals of shape (B, C, H, W) in `space`.
  explicit LocalFft(Shape<4> const& shape, Space space = {})
      : space_(std::move(space)),
        rows_(shape[2]),
        cols_(shape[3]),
        plan_(std::make_shared<fft::plan_t<Fft, T> const>(shape[2], shape[3], shape[0] * shape[1], space_)) {}

  Space const& space() const noexcept { return space_; }  ///< the space
  Index rows() const noexcept { return rows_; }           ///< H
  Index cols() const noexcept { return cols_; }           ///< W
  /// Coefficients of one plane's half spectrum: H (W/2 + 1).
  Index plane_spectrum() const noexcept { return rows_ * (cols_ / 2 + 1); }

  /// out = F⁻¹(f(F in)) plane by plane (unnormalised).
  template <class F>
  void filter(tensor_type const& in, tensor_type& out, F const& f) const {
    plan_->filter(in.data(), out.data(), f);
  }
  /// f(e, v) for every coefficient of F in.
  template <class F>
  void analyse(tensor_type const& in, F const& f) const {
    plan_->analyse(in.data(), f);
  }
  /// out = F⁻¹(g) (unnormalised).
  template <class G>
  void synthesise(G const& g, tensor_type& out) const {
    plan_->synthesise(g, out.data());
  }

 private:
  Space space_;
  Index rows_, cols_;
  std::shared_ptr<fft::plan_t<Fft, T> const> plan_;
};

/// What CircularNormal needs of its engine besides the transforms (plane_spectrum, filter,
/// analyse, synthesise): space_type, blur_type (the operators fused), space(e), signal(e, shape)
/// (an uninitialised signal of the engine's layout), zeros(e, shape), check(e, x, shape, what)
/// (throws Error unless x is a signal of that shape and layout), filter_spectrum(e, op, shape)
/// (the engine's share of a blur's filter spectra, an owner of them with data()) and
/// eager_data_term (B allocated at construction, so that every rank can all-reduce it; else at
/// the first add). Specialised for LocalFft here, for the slab FFTs in layout/slab_fft.hpp.
template <class Engine>
struct circular_engine;

/// LocalFft: host or device tensors of the whole signal.
template <class T, class Space, class Fft>
struct circular_engine<LocalFft<T, Space, Fft>> {
  using engine_type = LocalFft<T, Space, Fft>;          ///< the engine
  using space_type = Space;                             ///< where everything lives
  using blur_type = Blur<T, Space, Fft>;                ///< the operators fused
  using tensor_type = typename engine_type::tensor_type;  ///< the signals
  static constexpr bool eager_data_term = true;           ///< B always there (all-reduced by DistributedDataFidelity)

  /// The engine's space.
  static Space const& space(engine_type const& e) noexcept { return e.space(); }
  /// An uninitialised signal of `shape`.
  static tensor_type signal(engine_type const&, Shape<4> const& shape) { return tensor_type(shape); }
  /// A zero signal of `shape`.
  static tensor_type zeros(engine_type const& e, Shape<4> const& shape) {
    tensor_type t(shape);
    space_traits<Space>::launcher(e.space())(Index(t.size()), kernels::Fill<T>{T(0), t.data()});
    return t;
  }
  /// Throws Error (`what` names the caller) unless x has `shape`.
  static void check(engine_type const&, tensor_type const& x, Shape<4> const& shape, char const* what) {
    DISTINV_REQUIRE(shape_of(x) == shape, what, ": expected a signal of shape ", distinv::to_string(shape), ", got ",
                    distinv::to_string(shape_of(x)));
  }
  /// The blur's cached spectra of an H x W grid (a shared pointer to them).
  static auto filter_spectrum(engine_type const& e, blur_type const& op, Shape<4> const&) {
    return op.spectrum(e.rows(), e.cols());
  }
};

namespace detail {
/// A space stands for the local plan engine of its FFT engine; an engine for itself.
template <class T, class E>
struct engine_of {
  using type = E;
};
template <class T, class E>
  requires requires { typename space_buffer_t<E, char>; }
struct engine_of<T, E> {
  using type = LocalFft<T, E>;
};
/// The backend and row partition of a distributed engine (the arguments of its constructor; void for a local one).
template <class E>
struct layout_of {
  using comm_type = void;
  using partition_type = void;
};
template <class E>
  requires requires(E const& e) {
    e.comm();
    e.partition();
  }
struct layout_of<E> {
  using comm_type = std::remove_cvref_t<decltype(std::declval<E const&>().comm())>;
  using partition_type = std::remove_cvref_t<decltype(std::declval<E const&>().partition())>;
};
/// The coefficients a filter_spectrum holds (through a pointer or in place).
template <class K>
auto const* spectrum_data(K const& k) {
  if constexpr (requires { k->data(); }) return k->data();
  else return k.data();
}
}  // namespace detail

/// The fused normal equations of a set of circular blurs on one signal shape: S = Σ_i |K_i|² and B = Σ_i
/// conj(K_i) F y_i accumulated in Fourier space, so that Σ_i A_iᵀ(A_i x − y_i) costs one FFT pair whatever the
/// number of operators. `Engine`: LocalFft (a space stands for it: CircularNormal<T>, CircularNormal<T,
/// device::Cuda>), layout::SlabFft or layout::FftwMpiSlabFft (then every call that transforms is a collective).
/// On slabs B (a signal's worth of coefficients) is allocated by the first add, so that the normal operator
/// alone holds S only. Move-only (owns two buffers).
template <class T, class Engine = device::Host>
class CircularNormal {
 public:
  /// The transform (LocalFft for a space).
  using engine_type = typename detail::engine_of<T, Engine>::type;

 private:
  using traits = circular_engine<engine_type>;

 public:
  /// Element type.
  using scalar_type = T;
  /// Where S, B and the signals live.
  using space_type = typename traits::space_type;
  /// The blur type it fuses.
  using blur_type = typename traits::blur_type;
  /// The signal type.
  using tensor_type = typename traits::tensor_type;
  /// Complex element type of B.
  using complex_type = kernels::Complex<T>;
  /// A view of elements in the space.
  template <class E>
  using span_type = typename space_traits<space_type>::template span<E>;

  /// For signals of shape (B, C, H, W) (the local plan engine); S has weight_planes = (Bs, Cs)
  /// planes, Bs in {1, B}, Cs in {1, C} (one plane unless some filter differs per batch entry or
  /// channel). S and B start at zero.
  explicit CircularNormal(Shape<4> signal_shape, std::array<Index, 2> weight_planes = {1, 1}, space_type space = {})
    requires std::constructible_from<engine_type, Shape<4>, space_type>
      : CircularNormal(engine_type(checked(signal_shape, weight_planes), std::move(space)), signal_shape,
                       weight_planes) {}
  /// For signals of shape (B, C, H, W) laid out by `part` over `comm`'s ranks (a slab engine).
  template <class Comm = typename detail::layout_of<engine_type>::comm_type,
            class Partition = typename detail::layout_of<engine_type>::partition_type>
    requires std::constructible_from<engine_type, Comm, Index, Index, Partition>
  CircularNormal(Comm comm, Shape<4> signal_shape, Partition part, std::array<Index, 2> weight_planes = {1, 1})
      : CircularNormal(engine_type(std::move(comm), checked(signal_shape, weight_planes)[2], signal_shape[3],
                                   std::move(part)),
                       signal_shape, weight_planes) {}
  /// Over a transform made for signal_shape's planes.
  CircularNormal(engine_type engine, Shape<4> signal_shape, std::array<Index, 2> weight_planes)
      : shape_(checked(signal_shape, weight_planes)), weights_(weight_planes), fft_(std::move(engine)) {
    S_ = space_buffer_t<space_type, T>(std::size_t(weights_[0] * weights_[1] * fft_.plane_spectrum()));
    reset();
    if constexpr (traits::eager_data_term) data_term_buffer();
  }
  /// Moves.
  CircularNormal(CircularNormal&&) noexcept = default;
  /// Moves.
  CircularNormal& operator=(CircularNormal&&) noexcept = default;

  /// The (B, C, H, W) shape it was made for.
  Shape<4> signal_shape() const noexcept { return shape_; }
  /// The (Bs, Cs) planes of S.
  std::array<Index, 2> weight_planes() const noexcept { return weights_; }
  /// The transform (the shard layout of S and B).
  engine_type const& fft() const noexcept { return fft_; }
  /// Operators accumulated since the last reset().
  std::size_t operator_count() const noexcept { return count_; }

  /// S += |K|² (the normal operator only; y_i not known or not needed).
  void add_operator(blur_type const& op) {
    operand(op);
    accumulate_weight(op, traits::filter_spectrum(fft_, op, shape_));
    ++count_;
  }
  /// S += |K|², and K kept for adjoint(): the normal operator and the adjoint of a stack whose
  /// filters are transformed once.
  void add_kept(blur_type const& op) {
    auto const g = operand(op);
    auto K = traits::filter_spectrum(fft_, op, shape_);
    accumulate_weight(op, K);
    kept_.push_back({g.filter, std::move(K)});
    ++count_;
  }
  /// S += |K|², B += conj(K) · F y: one operator and its measurement y (laid out as x).
  void add(blur_type const& op, tensor_type const& y) {
    traits::check(fft_, y, shape_, "CircularNormal::add (measurement)");
    auto const g = operand(op);
    auto const K = traits::filter_spectrum(fft_, op, shape_);
    accumulate_weight(op, K);
    fft_.analyse(y, kernels::AccumulateNormal<T>{fft_.plane_spectrum(), g.filter, detail::spectrum_data(K),
                                                 data_term_buffer()});
    ++count_;
  }
  /// Sets S and B back to zero (on slabs B is released: the next add allocates it again); kept
  /// filters are dropped.
  void reset() {
    launcher()(Index(S_.size()), kernels::Fill<T>{T(0), S_.data()});
    if constexpr (traits::eager_data_term) {
      if (has_B_) launcher()(Index(2 * B_.size()), kernels::Fill<T>{T(0), reinterpret_cast<T*>(B_.data())});
    } else {
      B_ = space_buffer_t<space_type, complex_type>();
      has_B_ = false;
    }
    kept_.clear();
    count_ = 0;
  }

  /// S, (Bs · Cs) · fft().plane_spectrum() reals (this rank's shard on slabs), to all-reduce in place.
  span_type<T> spectrum_sum() noexcept { return {S_.data(), S_.size()}; }
  /// S as reals, read-only.
  span_type<T const> spectrum_sum() const noexcept { return {S_.data(), S_.size()}; }
  /// B as 2 · B · C · fft().plane_spectrum() reals (interleaved re, im; on slabs empty until an
  /// add: B = 0), to all-reduce in place.
  span_type<T> data_term() noexcept { return {reinterpret_cast<T*>(B_.data()), 2 * B_.size()}; }
  /// B as interleaved reals, read-only.
  span_type<T const> data_term() const noexcept { return {reinterpret_cast<T const*>(B_.data()), 2 * B_.size()}; }

  /// Σ_i A_iᵀA_i x.
  tensor_type normal(tensor_type const& x) const { return apply(x, false); }
  /// Σ_i A_iᵀ(A_i x − y_i).
  tensor_type grad(tensor_type const& x) const { return apply(x, true); }
  /// Σ_i A_iᵀ y_i.
  tensor_type A_adjoint_y() const {
    if (!has_B_) return traits::zeros(fft_, shape_);  // no measurement: B = 0
    tensor_type out = traits::signal(fft_, shape_);
    fft_.synthesise(kernels::ScaledSpectrum<T>{B_.data(), scale()}, out);
    return out;
  }
  /// Σ_i A_iᵀ y_i over the operators added by add_kept, y_i in their order: one transform per
  /// y_i and one inverse (the filters' spectra are kept); the bits of A_adjoint_y() after
  /// add(op_i, y_i).
  tensor_type adjoint(std::vector<tensor_type> const& y) const {
    DISTINV_REQUIRE(y.size() == kept_.size(), "CircularNormal::adjoint: expected ", kept_.size(),
                    " measurements (one per operator kept), got ", y.size());
    space_buffer_t<space_type, complex_type> B(std::size_t(planes() * fft_.plane_spectrum()));
    launcher()(Index(2 * B.size()), kernels::Fill<T>{T(0), reinterpret_cast<T*>(B.data())});
    for (std::size_t i = 0; i < y.size(); ++i) {
      traits::check(fft_, y[i], shape_, "CircularNormal::adjoint (measurement)");
      fft_.analyse(y[i], kernels::AccumulateNormal<T>{fft_.plane_spectrum(), kept_[i].filter,
                                                      detail::spectrum_data(kept_[i].K), B.data()});
    }
    tensor_type out = traits::signal(fft_, shape_);
    fft_.synthesise(kernels::ScaledSpectrum<T>{B.data(), scale()}, out);
    return out;
  }

 private:
  static Shape<4> const& checked(Shape<4> const& shape, std::array<Index, 2> weights) {
    detail::check_normal_shape(shape, weights, "CircularNormal");
    return shape;
  }
  Index planes() const noexcept { return shape_[0] * shape_[1]; }
  T scale() const noexcept { return T(1) / T(shape_[2] * shape_[3]); }
  auto launcher() const { return space_traits<space_type>::launcher(traits::space(fft_)); }
  /// B, allocated (zeros) at the first use.
  complex_type* data_term_buffer() {
    if (!has_B_) {
      B_ = space_buffer_t<space_type, complex_type>(std::size_t(planes() * fft_.plane_spectrum()));
      launcher()(Index(2 * B_.size()), kernels::Fill<T>{T(0), reinterpret_cast<T*>(B_.data())});
      has_B_ = true;
    }
    return B_.data();
  }

  /// A circular blur whose filter planes S holds (else Error, before any transform): its geometry.
  kernels::Conv2dGeometry operand(blur_type const& op) const {
    return detail::check_normal_operand(op, shape_, weights_, "CircularNormal");
  }
  /// S += |K|² of a circular blur (K its filter spectra).
  template <class K>
  void accumulate_weight(blur_type const& op, K const& spectra) {
    Index const Bf = op.filter().dimension(0), Cf = op.filter().dimension(1);
    // S plane q = (bs, cs) takes filter plane (bs or 0, cs or 0).
    launcher()(Index(S_.size()), kernels::AccumulateWeight<T>{fft_.plane_spectrum(), kernels::FilterBroadcast{weights_[1], Bf, Cf},
                                                              detail::spectrum_data(spectra), S_.data()});
  }

  tensor_type apply(tensor_type const& x, bool with_data) const {
    traits::check(fft_, x, shape_, "CircularNormal");
    tensor_type out = traits::signal(fft_, shape_);
    kernels::FilterBroadcast const weights{shape_[1], weights_[0], weights_[1]};  // which S plane serves plane p
    fft_.filter(x, out,
                kernels::NormalResidual<T>{fft_.plane_spectrum(), weights, S_.data(),
                                           with_data && has_B_ ? B_.data() : nullptr, scale()});
    return out;
  }

  using filter_spectrum_type =
      decltype(traits::filter_spectrum(std::declval<engine_type const&>(), std::declval<blur_type const&>(), Shape<4>{}));
  struct Kept {
    kernels::FilterBroadcast filter;  ///< which filter plane serves which signal plane
    filter_spectrum_type K;           ///< the engine's share of the filter spectra
  };

  Shape<4> shape_;
  std::array<Index, 2> weights_;
  engine_type fft_;
  space_buffer_t<space_type, T> S_;
  space_buffer_t<space_type, complex_type> B_;  ///< empty until the first add (on slabs)
  bool has_B_ = false;                          ///< B allocated (on every rank alike: a shard may be empty)
  std::vector<Kept> kept_;                      ///< the filters of add_kept
  std::size_t count_ = 0;
};

}  // namespace distinv::physics
