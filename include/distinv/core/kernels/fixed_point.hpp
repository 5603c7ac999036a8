#pragma once
// core/kernels/fixed_point.hpp: the arithmetic of exact sums (reduce::Exact), as functors for
// a launcher. A term t (float or double) becomes `fixed_digits` integer digits at a scale
// 2^(P − E) shared by every term of a sum: |t| < 2^E, P = 51 − ceil(log2 max_terms). Digits
// are integers held in doubles: |digit| ≤ 2^P, so up to max_terms of them add up below 2^51,
// where every integer is a double — their sum is exact in any order, also in the backend's
// plain double all-reduce. Digit 0 is t·2^(P−E) rounded to an integer, digit 1 (double only)
// the remainder times 2^P, rounded: float keeps P bits below 2^E, double 2P. Rounding adds
// and subtracts 1.5·2^52 (exact for |x| ≤ 2^51, in the default rounding mode; not under
// -ffast-math). STL only; no CUDA header.
#include <cstddef>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// Digits per value: 1 for float (P ≥ 21 bits more than its 24-bit mantissa), 2 for double.
template <class T>
inline constexpr int fixed_digits = sizeof(T) <= 4 ? 1 : 2;

/// x rounded to the nearest integer (ties to even), for |x| ≤ 2^51.
DISTINV_HOST_DEVICE inline double round_to_integer(double x) noexcept {
  constexpr double magic = 6755399441055744.0;  // 1.5 · 2^52
  return (x + magic) - magic;
}

/// The scale of one sum: multiply by to[0]·to[1] = 2^(P−E) into digits, by from[0]·from[1] =
/// 2^(E−P) back (two factors: either power alone may leave double's range; each product is
/// exact), `unit` = 2^P, `inv_unit` = 2^−P.
struct FixedScale {
  /// 2^(P−E) as two factors.
  double to[2] = {1, 1};
  /// 2^(E−P) as two factors.
  double from[2] = {1, 1};
  /// 2^P.
  double unit = 1;
  /// 2^−P.
  double inv_unit = 1;
};

/// Elements per block of SumFixed: the block's digits stay in cache while every term is added.
inline constexpr Index fixed_block = 4096;

/// For block b: acc[e·L + l] = digit l of Σ_k terms[k][e], e in [b·fixed_block, ...) ∩ [0, n)
/// (L = fixed_digits<T>), the terms added one after the other (any order: the same sum).
template <class T>
struct SumFixed {
  /// The terms: count pointers to n values each.
  T const* const* terms;
  /// Number of terms.
  int count;
  /// Values per term.
  Index n;
  /// The digits, n · fixed_digits<T> doubles.
  double* acc;
  /// The agreed scale.
  FixedScale scale;
  /// Adds every term's digits into block b of acc.
  DISTINV_HOST_DEVICE void operator()(Index b) const {
    constexpr int L = fixed_digits<T>;
    Index const lo = b * fixed_block, hi = lo + fixed_block < n ? lo + fixed_block : n;
    for (Index e = lo * L; e < hi * L; ++e) acc[e] = 0;
    for (int k = 0; k < count; ++k) {
      T const* t = terms[k];
      for (Index e = lo; e < hi; ++e) {
        double const v = double(t[e]) * scale.to[0] * scale.to[1];  // |v| < 2^P: exact scaling
        double const q = round_to_integer(v);
        acc[e * L] += q;
        if constexpr (L == 2) acc[e * L + 1] += round_to_integer((v - q) * scale.unit);  // v - q: exact
      }
    }
  }
};

/// out[e] = the value of the digits acc[e·L ..], rounded once to T.
template <class T>
struct FromFixed {
  /// The digits, fixed_digits<T> per element.
  double const* acc;
  /// The rounded sums.
  T* out;
  /// The agreed scale.
  FixedScale scale;
  /// out[e] from its digits.
  DISTINV_HOST_DEVICE void operator()(Index e) const {
    constexpr int L = fixed_digits<T>;
    double v = acc[e * L];
    if constexpr (L == 2) v += acc[e * L + 1] * scale.inv_unit;
    out[e] = T(v * scale.from[0] * scale.from[1]);
  }
};

}  // namespace distinv::kernels
