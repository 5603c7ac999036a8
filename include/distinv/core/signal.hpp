#pragma once
// core/signal.hpp: what the generic layers (distributed physics, data fidelity, tiling,
// solvers) ask of a signal type, so that the same templates run over host Eigen tensors and
// CUDA device tensors. A type is a Signal when signal_traits<X> is specialised for it; the
// traits name its space (space_type, core/space.hpp), create (zeros_of, filled_of), move to
// and from the host, apply element-wise maps (map2, sum2) and all-reduce / broadcast through
// a host CommBackend. Arithmetic (+, -, * by a
// scalar, +=, -=) comes from the type itself. Host tensors are specialised here; device
// tensors in distinv/cuda/signal.cuh; shape_of, dot, norm, ... are forwarded to them here,
// and psnr is written once for both.
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

#include "distinv/core/concepts.hpp"
#include "distinv/core/host_device.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/device.hpp"

namespace distinv {

/// Specialised for every signal family; the primary template marks "not a signal".
template <class X>
struct signal_traits {};

/// The Signal traits of a host tensor: host memory, Eigen arithmetic, oneTBB loops.
template <class T, int R>
struct signal_traits<Tensor<T, R>> {
  /// The tensor itself.
  using tensor_type = Tensor<T, R>;
  /// The tensor itself (already on the host).
  using host_type = Tensor<T, R>;
  /// Host memory (device::Host).
  using space_type = device::Host;
  /// False: host memory.
  static constexpr bool on_device = false;

  /// A zero tensor of shape `s`.
  static tensor_type zeros(Shape<R> const& s) { return distinv::zeros<T>(s); }
  /// A tensor of shape `s` filled with `value`.
  static tensor_type filled(Shape<R> const& s, T value) {
    tensor_type t(s);
    t.setConstant(value);
    return t;
  }
  /// A copy (already on the host).
  static host_type to_host(tensor_type const& x) { return x; }
  /// The host tensor itself.
  static tensor_type from_host(host_type h) { return h; }

  /// out[i] = f(a[i], b[i]); f is a functor of two scalars returning a scalar.
  template <class F>
  static tensor_type map2(tensor_type const& a, tensor_type const& b, F const& f) {
    tensor_type out(shape_of(a));
    T const* pa = a.data();
    T const* pb = b.data();
    T* po = out.data();
    for (Index i = 0; i < a.size(); ++i) po[i] = f(pa[i], pb[i]);
    return out;
  }
  /// Σ_i f(a[i], b[i]) in double; f returns double.
  template <class F>
  static double sum2(tensor_type const& a, tensor_type const& b, F const& f) {
    double s = 0;
    for (Index i = 0; i < a.size(); ++i) s += f(a.data()[i], b.data()[i]);
    return s;
  }

  /// In-place all-reduce of the tensor's elements.
  template <CommBackend Comm>
  static void all_reduce(Comm const& comm, tensor_type& x, ReduceOp op) {
    comm.all_reduce(flat(x), op);
  }
  /// Broadcast of the tensor's elements from `root` (same shape on every rank).
  template <CommBackend Comm>
  static void broadcast(Comm const& comm, tensor_type& x, int root) {
    comm.broadcast(flat(x), root);
  }
};

/// A signal of distinv: host Tensor<T, R> or a device tensor (distinv/cuda/signal.cuh), of
/// float or double, rank 4 (B, C, H, W) or 5 (B, C, D, H, W).
template <class X>
concept Signal = requires {
  signal_traits<std::remove_cvref_t<X>>::on_device;
  typename std::remove_cvref_t<X>::Scalar;
} && std::floating_point<scalar_t<X>>;

/// A signal that lives on an accelerator (not a host tensor).
template <class X>
concept DeviceSignal = Signal<X> && signal_traits<std::remove_cvref_t<X>>::on_device;

/// The host tensor a Signal copies to (itself for a host tensor).
template <Signal X>
using host_tensor_t = typename signal_traits<std::remove_cvref_t<X>>::host_type;

/// The space (core/space.hpp) a signal type lives in: device::Host for host tensors.
template <Signal X>
using space_of_t = typename signal_traits<std::remove_cvref_t<X>>::space_type;

/// A zero signal of type X and the given shape.
template <Signal X>
X zeros_of(Shape<rank_v<X>> const& s) {
  return signal_traits<X>::zeros(s);
}
/// A signal of type X filled with `value`.
template <Signal X>
X filled_of(Shape<rank_v<X>> const& s, scalar_t<X> value) {
  return signal_traits<X>::filled(s, value);
}
/// A host copy (a host tensor is returned as a copy).
template <Signal X>
host_tensor_t<X> to_host(X const& x) {
  return signal_traits<std::remove_cvref_t<X>>::to_host(x);
}
/// A signal of type X holding the host tensor's values.
template <Signal X>
X from_host(host_tensor_t<X> h) {
  return signal_traits<X>::from_host(std::move(h));
}
// ---- the host tensor's free functions, for device signals (forwarded to their traits) ----

/// The shape of a device signal.
template <DeviceSignal X>
Shape<rank_v<X>> shape_of(X const& x) {
  return x.shape();
}
/// A zero device signal of x's shape.
template <DeviceSignal X>
std::remove_cvref_t<X> zeros_like(X const& x) {
  return zeros_of<std::remove_cvref_t<X>>(x.shape());
}
/// Throws Error(what: expected shape ..., got ...) unless a and b have one shape.
template <DeviceSignal X, DeviceSignal Y>
void require_same_shape(X const& a, Y const& b, char const* what) {
  DISTINV_REQUIRE(a.shape() == b.shape(), what, ": expected shape ", to_string(a.shape()), ", got ",
                  to_string(b.shape()));
}
template <DeviceSignal X>
double dot(X const& a, X const& b) {
  require_same_shape(a, b, "dot");
  return signal_traits<std::remove_cvref_t<X>>::dot(a, b);
}
template <DeviceSignal X>
double max_abs_diff(X const& a, X const& b) {
  require_same_shape(a, b, "max_abs_diff");
  return signal_traits<std::remove_cvref_t<X>>::max_abs_diff(a, b);
}
/// out[i] = f(a[i], b[i]), f a functor of two scalars (DISTINV_HOST_DEVICE for device signals).
template <Signal X, class F>
std::remove_cvref_t<X> map2(X const& a, X const& b, F const& f, char const* what = "map2") {
  require_same_shape(a, b, what);
  return signal_traits<std::remove_cvref_t<X>>::map2(a, b, f);
}
/// Σ_i f(a[i], b[i]) accumulated in double.
template <Signal X, class F>
double sum2(X const& a, X const& b, F const& f, char const* what = "sum2") {
  require_same_shape(a, b, what);
  return signal_traits<std::remove_cvref_t<X>>::sum2(a, b, f);
}

/// A signal of x's type and shape filled with `value` (a sharded signal has its own, in x's layout).
template <Signal X>
  requires(!requires { signal_traits<std::remove_cvref_t<X>>::sharded; })
std::remove_cvref_t<X> filled_like(X const& x, scalar_t<X> value) {
  return filled_of<std::remove_cvref_t<X>>(shape_of(x), value);
}

/// x ← x · s in place, without a temporary signal.
template <Signal X>
void scale_(X& x, scalar_t<X> s) {
  if constexpr (HostTensor<X>) x = x * s;  // an Eigen expression, evaluated in place
  else x *= s;
}
/// y ← y + x · s in place, the product rounded to the scalar type first (the bits of
/// y += x * s); without a temporary where the type allows it (host tensors, slab tensors).
template <Signal X>
void add_scaled_(X& y, X const& x, scalar_t<X> s) {
  if constexpr (requires { y.add_scaled_(x, s); }) y.add_scaled_(x, s);
  else y += x * s;
}

namespace detail {
/// (a - b)^2 in double (a namespace-scope functor: nvcc kernels take no local types).
struct SquaredDifference {
  template <class T>
  DISTINV_HOST_DEVICE double operator()(T a, T b) const {
    double const d = double(a) - double(b);
    return d * d;
  }
};
/// double(b)^2 (the terms of dot(b, b)).
struct SecondSquared {
  template <class T>
  DISTINV_HOST_DEVICE double operator()(T, T b) const {
    return double(b) * double(b);
  }
};
/// (a - b)^2 with the difference rounded to T first (the terms of dot(a - b, a - b)).
struct SquaredRoundedDifference {
  template <class T>
  DISTINV_HOST_DEVICE double operator()(T a, T b) const {
    T const d = a - b;
    return double(d) * double(d);
  }
};
}  // namespace detail

// ---- written once for every signal ---------------------------------------------------

/// ||a||_2, from dot (accumulated in double).
template <Signal X>
double norm(X const& a) {
  return std::sqrt(dot(a, a));
}

/// ||a - b||_2 without forming a - b: the same bits as norm(a - b) (the difference rounded to the
/// scalar type, squares summed in double in dot's order: a sharded signal's row order).
template <Signal X>
double norm_of_difference(X const& a, X const& b) {
  return std::sqrt(sum2(a, b, detail::SquaredRoundedDifference{}, "norm_of_difference"));
}

/// (norm_of_difference(a, b), norm(b)), the same bits, with one reduction where the signal's
/// traits sum two functors at once (sum2_pair: a sharded signal gathers its row sums once): the
/// change of a solver's iterate and the norm it is relative to.
template <Signal X>
std::array<double, 2> norms_of_step(X const& a, X const& b) {
  using Traits = signal_traits<std::remove_cvref_t<X>>;
  if constexpr (requires { Traits::sum2_pair(a, b, detail::SquaredRoundedDifference{}, detail::SecondSquared{}); }) {
    require_same_shape(a, b, "norms_of_step");
    auto const s = Traits::sum2_pair(a, b, detail::SquaredRoundedDifference{}, detail::SecondSquared{});
    return {std::sqrt(s[0]), std::sqrt(s[1])};
  } else {
    return {norm_of_difference(a, b), norm(b)};
  }
}

/// Peak signal-to-noise ratio in dB: 10 log10(max_value^2 / mean((x - ref)^2)), the squared
/// error summed in double (in the signal's space); +infinity when x == ref. Throws Error on a
/// shape mismatch, an empty signal or max_value <= 0.
template <Signal X>
double psnr(X const& x, X const& ref, double max_value = 1.0) {
  require_same_shape(ref, x, "psnr");
  DISTINV_REQUIRE(x.size() > 0, "psnr: expected a non-empty tensor, got shape ", to_string(shape_of(x)));
  DISTINV_REQUIRE(max_value > 0, "psnr: expected max_value > 0, got ", max_value);
  double const mse = sum2(x, ref, detail::SquaredDifference{}, "psnr") / double(x.size());
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(max_value * max_value / mse);
}

}  // namespace distinv
