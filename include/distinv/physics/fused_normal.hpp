#pragma once
// physics/fused_normal.hpp: the trait fused_normal<Op>, which tells generic code (the
// distributed data fidelity) whether an operator type has fused normal equations — one
// Fourier multiplier for the whole stack, see physics/circular_normal.hpp — and how to build
// and all-reduce them. Blur of any space with an FFT engine has them (for circular padding);
// a user's operator plugs in by specialising the trait.
#include <array>

#include "distinv/core/space.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"

namespace distinv::physics {

/// No fused normal equations (the primary template). A specialisation has `available = true`,
/// `type` (built by make(signal_shape, weight_planes, space), with add(op, y), grad(x), reset()
/// and its accumulated terms as spans of the space, spectrum_sum() and data_term()),
/// `usable(op)` (this operator can join), `weight_planes(op)` (the (Bf, Cf) planes its
/// weight needs; the caller takes the largest over all operators) and `all_reduce(comm, n)`
/// (sums the accumulated terms over the ranks).
template <class Op>
struct fused_normal {
  /// False: this operator has no fused normal equations.
  static constexpr bool available = false;
};

/// fused_normal<Op>::type where Op has fused normal equations, else void: the type of a member
/// that holds them when they exist (a std::shared_ptr<fused_normal_t<Op> const>, null otherwise).
template <class Op>
struct fused_normal_type {
  /// No fused normal equations.
  using type = void;
};
/// Op's fused normal equations.
template <class Op>
  requires(fused_normal<Op>::available)
struct fused_normal_type<Op> {
  /// fused_normal<Op>::type.
  using type = typename fused_normal<Op>::type;
};
/// fused_normal<Op>::type, or void where Op has none.
template <class Op>
using fused_normal_t = typename fused_normal_type<Op>::type;

/// Circular Blurs fuse into a CircularNormal (where there is an FFT engine).
template <class T, class Space, class Fft>
  requires(Fft::available)
struct fused_normal<Blur<T, Space, Fft>> {
  /// True.
  static constexpr bool available = true;
  /// CircularNormal over the local plan of (Space, Fft).
  using type = CircularNormal<T, LocalFft<T, Space, Fft>>;
  /// True for circular padding.
  static bool usable(Blur<T, Space, Fft> const& op) { return op.padding() == Padding::circular; }
  /// The (Bf, Cf) planes of its filter.
  static std::array<Index, 2> weight_planes(Blur<T, Space, Fft> const& op) {
    return {op.filter().dimension(0), op.filter().dimension(1)};
  }
  /// The fused normal equations of one signal shape.
  static type make(Shape<4> const& signal_shape, std::array<Index, 2> weight_planes, Space const& space) {
    return type(signal_shape, weight_planes, space);
  }
  /// Sums S and B over the ranks (in place).
  template <class Comm>
  static void all_reduce(Comm const& comm, type& n) {
    space_traits<Space>::all_reduce(comm, n.spectrum_sum(), ReduceOp::sum);
    space_traits<Space>::all_reduce(comm, n.data_term(), ReduceOp::sum);
  }
};

}  // namespace distinv::physics
