#pragma once
// fft/engine.hpp: the FFT as a policy. An engine is a tag type with `available`, `name()` and
// `plan<T>`, the batched unnormalised real 2-D transform of `planes` H x W planes with half
// spectra H x (W/2 + 1) per plane (spectrum index e = plane * H * (W/2 + 1) + k):
//   plan<T>(H, W, planes, space)
//   filter(in, out, f)      out = F⁻¹(f(F in)): f(e, Complex<T>& v) changes every coefficient
//   analyse(in, f)          f(e, Complex<T> const& v) sees every coefficient of F in
//   synthesise(g, out)      out = F⁻¹(g): g(e) returns coefficient e
// (f and g are index functors of core/kernels/, host and device alike; inverse transforms are
// unnormalised: F⁻¹F = H W.) Engines: fft::Fftw (host, fft/fftw.hpp, when the build has FFTW),
// cuda::Cufft (device, cuda/fft.cuh), fft::None (no FFT: callers take their direct paths,
// chosen with `if constexpr (Engine::available)`). default_engine_t<Space> is the engine of a
// space: FFTW on the host when distinv/config.hpp has it, else None.
#include <string_view>

namespace distinv::fft {

/// No FFT engine: nothing can be planned; operators use their direct paths.
struct None {
  /// False: no plans.
  static constexpr bool available = false;
  /// "none".
  static constexpr std::string_view name() { return "none"; }
};

/// The FFT engine of a space (specialised for device::Host in fft/default_engine.hpp and for
/// device::Cuda in cuda/fft.cuh).
template <class Space>
struct default_engine {
  /// fft::None unless specialised.
  using type = None;
};
/// The FFT engine of a space.
template <class Space>
using default_engine_t = typename default_engine<Space>::type;

/// What a class holds for an engine that has no plans (fft::None).
struct NoPlan {};

/// The plan type of an engine, NoPlan when it has none.
template <class Engine, class T>
struct plan_of {
  /// NoPlan.
  using type = NoPlan;
};
/// The plan type of an engine that has plans: Engine::plan<T>.
template <class Engine, class T>
  requires Engine::available
struct plan_of<Engine, T> {
  /// Engine::plan<T>.
  using type = typename Engine::template plan<T>;
};
/// The plan type of an engine (NoPlan when it has none).
template <class Engine, class T>
using plan_t = typename plan_of<Engine, T>::type;

}  // namespace distinv::fft
