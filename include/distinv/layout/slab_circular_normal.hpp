#pragma once
// layout/slab_circular_normal.hpp: SlabCircularNormal<T, Comm, Fft, Engine>, the fused normal operator
// and L2 gradient of a stack of circular blurs (physics/circular_normal.hpp) on signals in the
// slab layout: S = Σ_i |K_i|² and B = Σ_i conj(K_i) · F y_i are sharded as the spectrum of a
// SlabFft (each rank its spectral columns; memory O(N / P)), the filter spectra K_i computed on
// the distributed grid (each rank its rows of the circular kernel, one distributed transform);
// grad(x) = F⁻¹(S · F x − B) is one distributed FFT pair. The spectral functors are the
// replicated operator's (core/kernels/conv2d.hpp). Host, FFTW. The distributed transform is the
// Engine (a SlabFftEngine): SlabFft by default, FftwMpiSlabFft (FFTW's MPI interface) under
// comm::Mpi.
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/conv2d.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/host/space.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_fft.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"

namespace distinv::layout {

/// The fused normal operator and L2 gradient of a stack of circular blurs on signals of the slab
/// layout, S and B sharded by spectral columns (see the file's comment); physics::CircularNormal
/// on slabs. `Fft` is the engine of the blurs, `Engine` the distributed transform (SlabFft on
/// `Fft`'s lines by default; layout::FftwMpiSlabFft<T> under comm::Mpi). Every call that
/// transforms is a collective.
template <class T, CommBackend Comm, class Fft = fft::default_engine_t<device::Host>,
          class Engine = SlabFft<T, Comm, Fft>>
  requires SlabFftEngine<Engine, T, Comm>
class SlabCircularNormal {
 public:
  using scalar_type = T;                                  ///< float or double
  using blur_type = physics::Blur<T, device::Host, Fft>;  ///< the operators (circular padding)
  using tensor_type = SlabTensor<T, 4, Comm>;             ///< signals and measurements
  using complex_type = kernels::Complex<T>;               ///< a coefficient
  using engine_type = Engine;                             ///< the distributed transform

  /// For signals of global shape (B, C, H, W) laid out by `part`; weight planes as
  /// CircularNormal's ((1 or B, 1 or C)). S and B start at zero; B (a signal's worth of
  /// coefficients) is allocated by the first add only, so that an instance of the normal operator
  /// alone (add_operator) holds S only.
  SlabCircularNormal(Comm comm, Shape<4> signal_shape, RowPartition part, std::array<Index, 2> weight_planes = {1, 1})
      : shape_(checked(signal_shape, weight_planes)),
        weights_(weight_planes),
        fft_(std::move(comm), signal_shape[2], signal_shape[3], std::move(part)),
        S_(std::size_t(weights_[0] * weights_[1] * fft_.plane_spectrum())) {
    reset();
  }

  Shape<4> signal_shape() const noexcept { return shape_; }                     ///< (B, C, H, W)
  RowPartition const& partition() const noexcept { return fft_.partition(); }  ///< rows per rank
  Engine const& fft() const noexcept { return fft_; }                          ///< the transform (its shard layout)
  std::size_t operator_count() const noexcept { return count_; }               ///< operators added

  /// S += |K|² (the normal operator only). A collective.
  void add_operator(blur_type const& op) {
    accumulate_weight(op, filter_spectrum(op));
    ++count_;
  }
  /// S += |K|², and K kept for adjoint(): the normal operator and the adjoint of a stack whose
  /// filters are transformed once. A collective.
  void add_kept(blur_type const& op) {
    auto K = filter_spectrum(op);
    auto const g = accumulate_weight(op, K);
    kept_.push_back({g.filter, std::move(K)});
    ++count_;
  }
  /// Σ_i A_iᵀ y_i over the operators added by add_kept, y_i in their order: one transform per
  /// y_i and one inverse (the filters' spectra are kept); the bits of A_adjoint_y() after add(op_i,
  /// y_i). A collective.
  tensor_type adjoint(std::vector<tensor_type> const& y) const {
    DISTINV_REQUIRE(y.size() == kept_.size(), "SlabCircularNormal::adjoint: expected ", kept_.size(),
                    " measurements (one per operator kept), got ", y.size());
    host::Buffer<complex_type> B(std::size_t(planes() * fft_.plane_spectrum()));
    launcher()(Index(2 * B.size()), kernels::Fill<T>{T(0), reinterpret_cast<T*>(B.data())});
    for (std::size_t i = 0; i < y.size(); ++i) {
      check_measurement(y[i], "SlabCircularNormal::adjoint");
      fft_.analyse(y[i], kernels::AccumulateNormal<T>{fft_.plane_spectrum(), kept_[i].filter, kept_[i].K.data(), B.data()});
    }
    tensor_type out(fft_.comm(), shape_, partition());
    fft_.synthesise(kernels::ScaledSpectrum<T>{B.data(), scale()}, out);
    return out;
  }
  /// S += |K|², B += conj(K) · F y: one operator and its measurement's slab y. A collective.
  void add(blur_type const& op, tensor_type const& y) {
    check_measurement(y, "SlabCircularNormal::add");
    auto const K = filter_spectrum(op);
    auto const g = accumulate_weight(op, K);
    if (!measured_) {  // the first measurement: B from zero
      B_ = host::Buffer<complex_type>(std::size_t(planes() * fft_.plane_spectrum()));
      launcher()(Index(2 * B_.size()), kernels::Fill<T>{T(0), reinterpret_cast<T*>(B_.data())});
      measured_ = true;
    }
    fft_.analyse(y, kernels::AccumulateNormal<T>{fft_.plane_spectrum(), g.filter, K.data(), B_.data()});
    ++count_;
  }
  /// Sets S and B back to zero (B released: the next add allocates it again; kept filters dropped).
  void reset() {
    launcher()(Index(S_.size()), kernels::Fill<T>{T(0), S_.data()});
    B_ = host::Buffer<complex_type>();
    kept_.clear();
    measured_ = false;
    count_ = 0;
  }

  /// This rank's shard of S: (Bs · Cs) · fft().plane_spectrum() reals.
  std::span<T const> spectrum_sum() const noexcept { return {S_.data(), S_.size()}; }
  /// This rank's shard of B: 2 · B · C · fft().plane_spectrum() reals (interleaved re, im); empty
  /// until a measurement is added (B = 0).
  std::span<T const> data_term() const noexcept { return {reinterpret_cast<T const*>(B_.data()), 2 * B_.size()}; }

  /// Σ_i A_iᵀA_i x. A collective.
  tensor_type normal(tensor_type const& x) const { return apply(x, false); }
  /// Σ_i A_iᵀ(A_i x − y_i): one distributed FFT pair. A collective.
  tensor_type grad(tensor_type const& x) const { return apply(x, true); }
  /// Σ_i A_iᵀ y_i. A collective.
  tensor_type A_adjoint_y() const {
    if (!measured_) return tensor_type::zeros(fft_.comm(), shape_, partition());  // no measurement: B = 0
    tensor_type out(fft_.comm(), shape_, partition());
    fft_.synthesise(kernels::ScaledSpectrum<T>{B_.data(), scale()}, out);
    return out;
  }

 private:
  static Shape<4> checked(Shape<4> const& shape, std::array<Index, 2> weights) {
    physics::detail::check_normal_shape(shape, weights, "SlabCircularNormal");
    return shape;
  }
  Index planes() const noexcept { return shape_[0] * shape_[1]; }
  void check_measurement(tensor_type const& y, char const* what) const {
    DISTINV_REQUIRE(y.shape() == shape_ && y.partition() == partition(), what, ": expected a measurement of shape ",
                    distinv::to_string(shape_), " laid out as ", partition().to_string(), ", got ",
                    distinv::to_string(y.shape()), " laid out as ", y.partition().to_string());
  }
  T scale() const noexcept { return T(1) / T(shape_[2] * shape_[3]); }
  static auto launcher() { return space_traits<device::Host>::launcher(device::Host{}); }

  /// This rank's shard of the filter spectra of a circular blur (Bf · Cf planes): the circular
  /// kernel's rows of this rank's slab, then one distributed transform.
  host::Buffer<complex_type> filter_spectrum(blur_type const& op) const {
    physics::detail::check_normal_operand(op, shape_, weights_, "SlabCircularNormal");
    auto const& f = op.filter();
    Shape<4> const grid_shape{f.dimension(0), f.dimension(1), shape_[2], shape_[3]};
    tensor_type grid(fft_.comm(), grid_shape, partition());
    kernels::CircularFilter<T> const kernel{shape_[2], shape_[3], op.kh(), op.kw(), f.data(), nullptr};
    Index const h = grid.local_rows(), W = shape_[3], lo = grid.lo();
    launcher()(Index(grid.local().size()), [&, h, W, lo](Index e) {
      Index const n = e % W, i = (e / W) % h, q = e / (W * h);
      grid.local().data()[e] = kernel.value(q, lo + i, n);
    });
    return fft_.forward(grid);
  }
  /// S += |K|²; returns the operator's geometry on the signal.
  kernels::Conv2dGeometry accumulate_weight(blur_type const& op, host::Buffer<complex_type> const& K) {
    auto const g = op.geometry(shape_);
    Index const Bf = op.filter().dimension(0), Cf = op.filter().dimension(1);
    launcher()(Index(S_.size()), kernels::AccumulateWeight<T>{fft_.plane_spectrum(),
                                                              kernels::FilterBroadcast{weights_[1], Bf, Cf}, K.data(),
                                                              S_.data()});
    return g;
  }

  tensor_type apply(tensor_type const& x, bool with_data) const {
    DISTINV_REQUIRE(x.shape() == shape_ && x.partition() == partition(),
                    "SlabCircularNormal: expected a signal of shape ", distinv::to_string(shape_), " laid out as ",
                    partition().to_string(), ", got ", distinv::to_string(x.shape()), " laid out as ",
                    x.partition().to_string());
    tensor_type out(fft_.comm(), shape_, partition());
    kernels::FilterBroadcast const weights{shape_[1], weights_[0], weights_[1]};  // which S plane serves plane p
    fft_.filter(x, out,
                kernels::NormalResidual<T>{fft_.plane_spectrum(), weights, S_.data(), with_data && measured_ ? B_.data() : nullptr,
                                           scale()});
    return out;
  }

  Shape<4> shape_;
  std::array<Index, 2> weights_;
  Engine fft_;
  host::Buffer<T> S_;
  host::Buffer<complex_type> B_;  ///< empty until the first add
  struct Kept {
    kernels::FilterBroadcast filter;  ///< which filter plane serves which signal plane
    host::Buffer<complex_type> K;     ///< this rank's shard of the filter spectra
  };
  std::vector<Kept> kept_;  ///< the filters of add_kept
  bool measured_ = false;         ///< whether a measurement was added (B allocated, on every rank alike)
  std::size_t count_ = 0;
};

}  // namespace distinv::layout
