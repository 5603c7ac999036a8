#pragma once
// core/tensor.hpp: host tensors. A signal is an Eigen row-major tensor of layout (B, C, H, W)
// (Rank 4) or (B, C, D, H, W) (Rank 5), in float or double. This header adds the few free
// functions every layer needs (shape, flat spans, dot, checks; norm and psnr, written once
// for every signal, are in core/signal.hpp). Eigen only.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <span>
#include <string>
#include <type_traits>

#include <unsupported/Eigen/CXX11/Tensor>

#include "distinv/core/error.hpp"

namespace distinv {

using Index = Eigen::Index;

/// distinv's host tensor: a row-major Eigen tensor (the layout (B, C, H, W) or (B, C, D, H, W)).
template <class T, int Rank>
using Tensor = Eigen::Tensor<T, Rank, Eigen::RowMajor, Index>;
template <class T>
using Tensor4 = Tensor<T, 4>;  ///< (B, C, H, W)
template <class T>
using Tensor5 = Tensor<T, 5>;  ///< (B, C, D, H, W)

/// A tensor shape, one extent per dimension.
template <int Rank>
using Shape = std::array<Index, Rank>;

namespace detail {
template <class X>
struct is_host_tensor : std::false_type {};
template <class T, int R>
struct is_host_tensor<Eigen::Tensor<T, R, Eigen::RowMajor, Index>> : std::true_type {};
}  // namespace detail

/// A host tensor of distinv: an owning row-major Eigen tensor of float or double.
template <class X>
concept HostTensor = detail::is_host_tensor<std::remove_cvref_t<X>>::value &&
                     std::floating_point<typename std::remove_cvref_t<X>::Scalar>;

/// The element type of a tensor (float or double).
template <class X>
using scalar_t = typename std::remove_cvref_t<X>::Scalar;
/// The rank (number of dimensions) of a tensor.
template <class X>
inline constexpr int rank_v = std::remove_cvref_t<X>::NumDimensions;

template <HostTensor X>
Shape<rank_v<X>> shape_of(X const& x) {
  Shape<rank_v<X>> s{};
  for (int i = 0; i < rank_v<X>; ++i) s[i] = x.dimension(i);
  return s;
}

/// "(d0, d1, ...)", for messages.
template <std::size_t R>
std::string to_string(std::array<Index, R> const& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < R; ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

/// The number of elements of a shape.
template <std::size_t R>
Index numel(std::array<Index, R> const& s) {
  Index n = 1;
  for (auto d : s) n *= d;
  return n;
}

/// Flat view of a tensor's elements (row-major order).
template <HostTensor X>
std::span<scalar_t<X>> flat(X& x) {
  return {x.data(), static_cast<std::size_t>(x.size())};
}
/// Read-only flat view of a tensor's elements (row-major order).
template <HostTensor X>
std::span<scalar_t<X> const> flat(X const& x) {
  return {x.data(), static_cast<std::size_t>(x.size())};
}

/// A zero tensor of the given shape.
template <class T, std::size_t R>
Tensor<T, static_cast<int>(R)> zeros(std::array<Index, R> const& s) {
  Tensor<T, static_cast<int>(R)> t(s);
  t.setZero();
  return t;
}

template <HostTensor X>
std::remove_cvref_t<X> zeros_like(X const& x) {
  return zeros<scalar_t<X>>(shape_of(x));
}

template <HostTensor X, HostTensor Y>
void require_same_shape(X const& a, Y const& b, char const* what) {
  DISTINV_REQUIRE(shape_of(a) == shape_of(b), what, ": expected shape ", to_string(shape_of(a)),
                  ", got ", to_string(shape_of(b)));
}

/// Inner product, accumulated in double so that float results do not depend on size.
template <HostTensor X>
double dot(X const& a, X const& b) {
  require_same_shape(a, b, "dot");
  double s = 0;
  auto const* pa = a.data();
  auto const* pb = b.data();
  for (Index i = 0; i < a.size(); ++i) s += double(pa[i]) * double(pb[i]);
  return s;
}

/// max |a - b| over all elements.
template <HostTensor X>
double max_abs_diff(X const& a, X const& b) {
  require_same_shape(a, b, "max_abs_diff");
  double m = 0;
  for (Index i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return m;
}

/// max |a_i| in double (0 for an empty tensor).
template <HostTensor X>
double max_abs(X const& a) {
  double m = 0;
  for (Index i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a.data()[i])));
  return m;
}

}  // namespace distinv
