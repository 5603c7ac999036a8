#pragma once
// core/kernels/fixed_point.hpp: the arithmetic of exact sums (reduce::Exact), as index
// functors for a launcher. A term t (float or double) becomes `limbs` int64 digits at a
// scale 2^(P - E) shared by every term of a sum: |t| < 2^E, P = 62 - ceil(log2 max_terms),
// so that up to max_terms terms add up in int64 without overflow, exactly and in any order.
// Digit 0 is t·2^(P−E) truncated, digit 1 (double only) the remaining fraction times 2^P:
// float keeps P bits below 2^E, double 2P. STL only; no CUDA header.
#include <cstdint>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// Digits per value: 1 for float (P ≥ 32 bits > 24-bit mantissa plus range), 2 for double.
template <class T>
inline constexpr int fixed_limbs = sizeof(T) <= 4 ? 1 : 2;

/// The scale of one sum: multiply by to[0]·to[1] = 2^(P−E) into fixed point, by
/// from[0]·from[1] = 2^(E−P) back (two factors: either power alone may leave double's range;
/// each product is exact), `unit` = 2^P, `inv_unit` = 2^−P.
struct FixedScale {
  double to[2] = {1, 1};
  double from[2] = {1, 1};
  double unit = 1;
  double inv_unit = 1;
};

/// acc[e·L + l] += digit l of term[e] (L = fixed_limbs<T>).
template <class T>
struct AddFixed {
  T const* term;
  std::int64_t* acc;
  FixedScale scale;
  DISTINV_HOST_DEVICE void operator()(Index e) const {
    constexpr int L = fixed_limbs<T>;
    double const v = double(term[e]) * scale.to[0] * scale.to[1];  // |v| < 2^P: exact scaling
    auto const hi = static_cast<std::int64_t>(v);                   // truncation: exact value kept in v - hi
    acc[e * L] += hi;
    if constexpr (L == 2) acc[e * L + 1] += static_cast<std::int64_t>((v - double(hi)) * scale.unit);
  }
};

/// out[e] = the value of the digits acc[e·L ..] (deterministic rounding to T).
template <class T>
struct FromFixed {
  std::int64_t const* acc;
  T* out;
  FixedScale scale;
  DISTINV_HOST_DEVICE void operator()(Index e) const {
    constexpr int L = fixed_limbs<T>;
    std::int64_t const hi = acc[e * L];
    double v = double(hi);
    if constexpr (L == 2) {
      std::int64_t const rest = hi - static_cast<std::int64_t>(v);  // what double(hi) rounded off
      v += double(rest) + double(acc[e * L + 1]) * scale.inv_unit;
    }
    out[e] = T(v * scale.from[0] * scale.from[1]);
  }
};

}  // namespace distinv::kernels
