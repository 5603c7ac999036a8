#pragma once
// physics/noise.hpp: noise models of deepinv (GaussianNoise, PoissonNoise, none), drawn from
// the std::mt19937_64 the caller passes (so a seed reproduces a measurement), and WithNoise,
// the mixin that gives an operator its NoiseModel and forward(x, rng) = noise(A(x)) (host or
// device signals; the noise is always drawn on the host).
// Draws run in row-major element order, independent of the thread count. STL + core only.
#include <cmath>
#include <random>
#include <type_traits>
#include <utility>
#include <variant>

#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::physics {

/// No noise: y = A(x).
struct NoNoise {
  /// Leaves y as it is.
  template <class T>
  void apply(Tensor4<T>&, std::mt19937_64&) const {}
};

/// y = A(x) + sigma * n, n ~ N(0, 1) per element. sigma >= 0.
template <class T>
struct GaussianNoise {
  /// Standard deviation, in the signal's units (>= 0).
  T sigma;
  /// Throws Error unless sigma is finite and >= 0.
  explicit GaussianNoise(T sigma_) : sigma(sigma_) {
    DISTINV_REQUIRE(std::isfinite(double(sigma_)) && sigma_ >= T(0),
                    "GaussianNoise: expected sigma >= 0, got ", sigma_);
  }
  /// Adds sigma · N(0, 1) to every element of y, drawn from rng in element order.
  void apply(Tensor4<T>& y, std::mt19937_64& rng) const {
    if (sigma == T(0)) return;
    std::normal_distribution<T> n(T(0), sigma);
    for (auto& v : flat(y)) v += n(rng);
  }
};

/// deepinv's PoissonNoise: y = gain * Poisson(A(x) / gain) (normalize = true, the default) or
/// Poisson(A(x) / gain) (normalize = false). gain > 0. A negative rate throws Error unless
/// clip_positive, which clamps the rate at 0 first (as deepinv's clip_positive).
template <class T>
struct PoissonNoise {
  /// Photon gain (> 0).
  T gain;
  /// True: y = gain · Poisson(A(x) / gain); false: Poisson(A(x) / gain).
  bool normalize = true;
  /// Clamp a negative rate at 0 instead of throwing.
  bool clip_positive = false;
  /// Throws Error unless gain is finite and > 0.
  explicit PoissonNoise(T gain_, bool normalize_ = true, bool clip_positive_ = false)
      : gain(gain_), normalize(normalize_), clip_positive(clip_positive_) {
    DISTINV_REQUIRE(std::isfinite(double(gain_)) && gain_ > T(0), "PoissonNoise: expected gain > 0, got ", gain_);
  }
  /// Replaces every element by its Poisson draw; throws Error for a negative rate unless clip_positive.
  void apply(Tensor4<T>& y, std::mt19937_64& rng) const {
    for (auto& v : flat(y)) {
      double rate = double(v) / double(gain);
      if (rate < 0) {
        DISTINV_REQUIRE(clip_positive, "PoissonNoise: expected a non-negative rate A(x)/gain, got ", rate,
                        " (set clip_positive to clamp it at 0)");
        rate = 0;
      }
      double const k = rate == 0 ? 0.0 : double(std::poisson_distribution<long long>(rate)(rng));
      v = static_cast<T>(normalize ? k * double(gain) : k);
    }
  }
};

/// The noise model of an operator: none, Gaussian or Poisson.
template <class T>
using NoiseModel = std::variant<NoNoise, GaussianNoise<T>, PoissonNoise<T>>;

/// Applies `noise` to y in place, drawing from rng.
template <class T>
void apply_noise(NoiseModel<T> const& noise, Tensor4<T>& y, std::mt19937_64& rng) {
  std::visit([&](auto const& n) { n.apply(y, rng); }, noise);
}

/// Mixin (CRTP) of every operator: holds its noise model and defines forward from A.
template <class Derived, class T>
class WithNoise {
 public:
  /// Sets the noise model of forward (default: NoNoise).
  void set_noise(NoiseModel<T> noise) { noise_ = std::move(noise); }
  /// The noise model of forward.
  NoiseModel<T> const& noise() const noexcept { return noise_; }

  /// y = noise(A(x)), the noise drawn from rng. For a device signal the noise is drawn on the
  /// host from the same generator (the same values as the host operator draws) and copied over;
  /// that is for simulating measurements, not for iterations.
  template <Signal X>
  X forward(X const& x, std::mt19937_64& rng) const {
    X y = static_cast<Derived const&>(*this).A(x);
    if (std::holds_alternative<NoNoise>(noise_)) return y;
    if constexpr (DeviceSignal<X>) {
      auto h = to_host(y);
      apply_noise(noise_, h, rng);
      return from_host<X>(std::move(h));
    } else {
      apply_noise(noise_, y, rng);
      return y;
    }
  }

 private:
  NoiseModel<T> noise_{NoNoise{}};
};

}  // namespace distinv::physics
