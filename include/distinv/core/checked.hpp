#pragma once
// core/checked.hpp: overflow-checked arithmetic for sizes that come from user input or file
// headers (image sides, element and byte counts). checked_mul / checked_add / checked_product
// take non-negative integers and throw distinv::Error naming `what` instead of wrapping round;
// narrow<To>(v, what) converts only when the value fits. STL only.
#include <concepts>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <utility>

#include "distinv/core/error.hpp"

namespace distinv {

namespace detail {
template <std::integral T>
constexpr bool non_negative(T v) {
  if constexpr (std::is_signed_v<T>) return v >= 0;
  else return (void)v, true;
}
}  // namespace detail

/// a * b for a, b >= 0; throws Error("<what>: ... overflows") if the product does not fit in T.
template <std::integral T>
T checked_mul(T a, T b, char const* what) {
  DISTINV_REQUIRE(detail::non_negative(a) && detail::non_negative(b), what, ": expected non-negative sizes, got ", a, " and ", b);
  DISTINV_REQUIRE(b == 0 || a <= std::numeric_limits<T>::max() / b, what, ": the size ", a, " x ", b,
                  " overflows (more than ", std::numeric_limits<T>::max(), ")");
  return T(a * b);
}

/// a + b for a, b >= 0; throws Error if the sum does not fit in T.
template <std::integral T>
T checked_add(T a, T b, char const* what) {
  DISTINV_REQUIRE(detail::non_negative(a) && detail::non_negative(b), what, ": expected non-negative sizes, got ", a, " and ", b);
  DISTINV_REQUIRE(a <= std::numeric_limits<T>::max() - b, what, ": the size ", a, " + ", b, " overflows (more than ",
                  std::numeric_limits<T>::max(), ")");
  return T(a + b);
}

/// The product of `factors` (all >= 0), checked: e.g. the element count of a shape.
template <std::integral T>
T checked_product(std::initializer_list<T> factors, char const* what) {
  T p = 1;
  for (T f : factors) p = checked_mul(p, f, what);
  return p;
}

/// `v` as a `To` if it lies in To's range; throws Error naming `what` and the value otherwise.
template <std::integral To, std::integral From>
To narrow(From v, char const* what) {
  DISTINV_REQUIRE(std::in_range<To>(v), what, ": the value ", v, " is out of range [",
                  std::numeric_limits<To>::min(), ", ", std::numeric_limits<To>::max(), "]");
  return To(v);
}

}  // namespace distinv
