#pragma once
// core/kernels/pointwise.hpp: pointwise functors written once for host and device
// (DISTINV_HOST_DEVICE): value maps (scale, soft and hard threshold, squared magnitude),
// complex arithmetic on interleaved (re, im) spectra, and the index functors that apply them
// to raw arrays (y += a x, x *= a, fill, copy, ...) for any launcher (host/for_each.hpp, the
// CUDA one). No CUDA header here.
#include <cstddef>

#include "distinv/core/host_device.hpp"

// DISTINV_SIMD_CLONES: on a host function with a vectorised loop, compiles it also for AVX2
// and picks the version for the CPU at load time (GCC's target_clones, x86-64 ELF). No flag is
// forced on the consumer's build, and as AVX2 alone has no FMA (GCC contracts a * b + c into
// one only with FMA or AVX-512F, which is why there is no AVX-512 clone), every version
// computes the same values lane by lane. Empty elsewhere (nvcc, clang, other CPUs) and
// under ASan / TSan (their runtimes start after the load-time choice).
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && defined(__x86_64__) && defined(__ELF__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define DISTINV_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DISTINV_SIMD_CLONES
#endif

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// A complex number stored as (re, im), layout-compatible with std::complex<T>, cufftComplex
/// (T = float) and cufftDoubleComplex (T = double).
template <class T>
struct alignas(2 * sizeof(T)) Complex {
  /// Real part.
  T re;
  /// Imaginary part.
  T im;
};

template <class T>
DISTINV_HOST_DEVICE inline Complex<T> cmul(Complex<T> a, Complex<T> b) noexcept {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
/// conj(a) * b
template <class T>
DISTINV_HOST_DEVICE inline Complex<T> cmul_conj(Complex<T> a, Complex<T> b) noexcept {
  return {a.re * b.re + a.im * b.im, a.re * b.im - a.im * b.re};
}
template <class T>
DISTINV_HOST_DEVICE inline T squared_magnitude(Complex<T> a) noexcept {
  return a.re * a.re + a.im * a.im;
}

// ---- value maps ---------------------------------------------------------------------------

/// v -> a v
template <class T>
struct Scale {
  /// The factor.
  T a;
  /// a v.
  DISTINV_HOST_DEVICE T operator()(T v) const noexcept { return a * v; }
};

/// Soft threshold (prox of lambda |.|): sign(v) max(|v| - lambda, 0), as v minus v clamped
/// to [-lambda, lambda] (no branch on the data; the same values, +0 inside the band).
template <class T>
struct SoftThreshold {
  /// The threshold (>= 0).
  T lambda;
  /// sign(v) max(|v| − lambda, 0).
  DISTINV_HOST_DEVICE T operator()(T v) const noexcept {
    T const c = v < -lambda ? -lambda : (lambda < v ? lambda : v);
    return v - c;
  }
};

/// Hard threshold: v where |v| >= lambda, else 0.
template <class T>
struct HardThreshold {
  /// The threshold (>= 0).
  T lambda;
  /// v where |v| >= lambda, else 0.
  DISTINV_HOST_DEVICE T operator()(T v) const noexcept {
    T const m = v < T(0) ? -v : v;
    return m < lambda ? T(0) : v;
  }
};

/// z -> |z|^2
template <class T>
struct SquaredMagnitude {
  /// |z|².
  DISTINV_HOST_DEVICE T operator()(Complex<T> z) const noexcept { return squared_magnitude(z); }
};

// ---- index functors over raw arrays (element e) -------------------------------------------

/// y[e] += a x[e]
template <class T>
struct Axpy {
  /// The factor.
  T a;
  /// Input.
  T const* x;
  /// Input and output.
  T* y;
  /// y[e] += a x[e].
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { y[e] += a * x[e]; }
};

/// out[e] = in[e]
template <class T>
struct Copy {
  /// Source.
  T const* in;
  /// Destination.
  T* out;
  /// out[e] = in[e].
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = in[e]; }
};

/// out[e] = f(in[e]) for a value map f (in may equal out).
template <class F, class In, class Out>
struct Map {
  /// The value map.
  F f;
  /// Source.
  In const* in;
  /// Destination (may be in).
  Out* out;
  /// out[e] = f(in[e]).
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = f(in[e]); }
};
template <class F, class In, class Out>
Map(F, In const*, Out*) -> Map<F, In, Out>;

/// Term e of an inner product, in double: a[e] b[e].
template <class T>
struct DotTerm {
  /// First operand.
  T const* a;
  /// Second operand.
  T const* b;
  /// a[e] b[e] in double.
  DISTINV_HOST_DEVICE double operator()(Index e) const noexcept { return double(a[e]) * double(b[e]); }
};

/// Term e of a squared norm, in double: a[e]^2.
template <class T>
struct SquareTerm {
  /// The operand.
  T const* a;
  /// a[e]² in double.
  DISTINV_HOST_DEVICE double operator()(Index e) const noexcept { return double(a[e]) * double(a[e]); }
};

/// out[e] = value
template <class T>
struct Fill {
  /// The value.
  T value;
  /// Destination.
  T* out;
  /// out[e] = value.
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { out[e] = value; }
};

}  // namespace distinv::kernels
