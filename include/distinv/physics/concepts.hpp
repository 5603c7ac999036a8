#pragma once
// physics/concepts.hpp: what a forward operator is. Physics<P>: y = A(x) and a noisy
// forward(x, rng), plus the measurement shape for an input shape. LinearPhysics<P> adds the
// adjoint and the normal operators. Tensors are rank-4 signals (B, C, H, W), host Tensor4<T>
// or device tensors. STL + core only.
#include <concepts>
#include <random>

#include "distinv/core/signal.hpp"

namespace distinv::physics {

/// A forward operator on (B, C, H, W) tensors: `A(x)`, `forward(x, rng)` (A(x) with its
/// noise model drawn from rng) and `output_shape(in)` (throws Error for an unacceptable input).
template <class P>
concept Physics = requires(P const& p, typename P::tensor_type const& x, std::mt19937_64& rng, Shape<4> const& s) {
  typename P::scalar_type;
  typename P::tensor_type;
  requires Signal<typename P::tensor_type> && rank_v<typename P::tensor_type> == 4 &&
               std::same_as<scalar_t<typename P::tensor_type>, typename P::scalar_type>;
  { p.A(x) } -> std::convertible_to<typename P::tensor_type>;
  { p.forward(x, rng) } -> std::convertible_to<typename P::tensor_type>;
  { p.output_shape(s) } -> std::convertible_to<Shape<4>>;
};

/// A linear operator with its exact adjoint: A_vjp(x, v) = A_adjoint(v), A_adjoint_A(x) =
/// Aᵀ(A x), A_A_adjoint(y) = A(Aᵀ y).
template <class P>
concept LinearPhysics =
    Physics<P> && requires(P const& p, typename P::tensor_type const& x, typename P::tensor_type const& y) {
      { p.A_adjoint(y) } -> std::convertible_to<typename P::tensor_type>;
      { p.A_vjp(x, y) } -> std::convertible_to<typename P::tensor_type>;
      { p.A_adjoint_A(x) } -> std::convertible_to<typename P::tensor_type>;
      { p.A_A_adjoint(y) } -> std::convertible_to<typename P::tensor_type>;
    };

}  // namespace distinv::physics
