#pragma once
// physics/noise.hpp: noise models of deepinv (GaussianNoise, PoissonNoise, none), drawn from
// the std::mt19937_64 the caller passes (so a seed reproduces a measurement), and WithNoise,
// the mixin that gives an operator its NoiseModel and forward(x, rng) = noise(A(x)) (host or
// device signals; the noise is always drawn on the host).
// Draws run in row-major element order, independent of the thread count; each model's Stream
// draws the same sequence over elements handed in runs (a slab's rows, rank after rank), its
// state between runs written and read as text. STL + core only.
#include <cmath>
#include <istream>
#include <ostream>
#include <random>
#include <span>
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

  /// apply's draws over elements handed in runs: each call continues the sequence where the
  /// last one stopped, so runs that together make y's elements in order draw what apply draws.
  /// Between runs its state (the normal distribution's cached second draw) is written by << and
  /// read back by >> exactly, so that the next run may happen elsewhere (on another rank).
  class Stream {
   public:
    /// A stream of sigma · N(0, 1) draws (none when sigma is 0).
    explicit Stream(T sigma) : sigma_(sigma), n_(T(0), sigma > T(0) ? sigma : T(1)) {}
    /// Adds the next draws to `run`, in order.
    void operator()(std::span<T> run, std::mt19937_64& rng) {
      if (sigma_ == T(0)) return;
      for (auto& v : run) v += n_(rng);
    }
    /// Writes the stream's state.
    friend std::ostream& operator<<(std::ostream& os, Stream const& s) { return os << s.n_; }
    /// Reads back a state written by <<.
    friend std::istream& operator>>(std::istream& is, Stream& s) { return is >> s.n_; }

   private:
    T sigma_;
    std::normal_distribution<T> n_;
  };
  /// The stream of apply's draws.
  Stream stream() const { return Stream(sigma); }

  /// Adds sigma · N(0, 1) to every element of y, drawn from rng in element order.
  void apply(Tensor4<T>& y, std::mt19937_64& rng) const {
    Stream s = stream();
    s(flat(y), rng);
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

  /// apply's draws over elements handed in runs (as GaussianNoise::Stream); each draw uses a
  /// distribution of its own, so the state between runs is the generator's alone (<< and >>
  /// write and read nothing).
  class Stream {
   public:
    /// The stream of `model`'s draws.
    explicit Stream(PoissonNoise const& model)
        : gain_(model.gain), normalize_(model.normalize), clip_positive_(model.clip_positive) {}
    /// Replaces each element of `run`, in order, by its draw; throws Error for a negative rate
    /// unless clip_positive.
    void operator()(std::span<T> run, std::mt19937_64& rng) const {
      for (auto& v : run) {
        double rate = double(v) / double(gain_);
        if (rate < 0) {
          DISTINV_REQUIRE(clip_positive_, "PoissonNoise: expected a non-negative rate A(x)/gain, got ", rate,
                          " (set clip_positive to clamp it at 0)");
          rate = 0;
        }
        double const k = rate == 0 ? 0.0 : double(std::poisson_distribution<long long>(rate)(rng));
        v = static_cast<T>(normalize_ ? k * double(gain_) : k);
      }
    }
    /// Writes nothing: no state beyond the generator's.
    friend std::ostream& operator<<(std::ostream& os, Stream const&) { return os; }
    /// Reads nothing.
    friend std::istream& operator>>(std::istream& is, Stream&) { return is; }

   private:
    T gain_;
    bool normalize_, clip_positive_;
  };
  /// The stream of apply's draws.
  Stream stream() const { return Stream(*this); }

  /// Replaces every element by its Poisson draw; throws Error for a negative rate unless clip_positive.
  void apply(Tensor4<T>& y, std::mt19937_64& rng) const { stream()(flat(y), rng); }
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
