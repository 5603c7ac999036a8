#pragma once
// distributed/reduction.hpp: how the distributed layer sums over operators (or tiles), and
// which part of a result a call asks for.
//   reduce::Exact  (default) the sum is exact in fixed point: bit-identical on any backend,
//                  any number of ranks, any sharding (distributed/detail/fixed_point.hpp);
//   reduce::Plain  each rank sums its terms in floating point, then one all-reduce.
//   Reduction      per call: sum, or mean (divided by the number of operators);
//   Global/Local   the tags of a call: the whole result on every rank (`global`, the default)
//                  or this rank's part only (`local`), as deepinv's gather=True / False;
//   PerOperator    the tag `per_operator`: the list of per-operator results, not their sum
//                  (deepinv's reduce_op=None). STL only.
#include <concepts>
#include <string_view>

#include "distinv/core/error.hpp"

namespace distinv {

/// How a sum over operators is formed: a type with `name()` and `exact`.
namespace reduce {
/// Terms converted to integer digits at one scale agreed by the ranks, summed exactly.
struct Exact {
  /// "exact".
  static constexpr std::string_view name() { return "exact"; }
  /// True: bit-identical on any number of ranks.
  static constexpr bool exact = true;
};
/// A floating-point sum per rank in local order, then the backend's all-reduce.
struct Plain {
  /// "plain".
  static constexpr std::string_view name() { return "plain"; }
  /// False: the last bits depend on the number of ranks.
  static constexpr bool exact = false;
};
}  // namespace reduce

/// A reduction policy: reduce::Exact or reduce::Plain.
template <class R>
concept ReductionPolicy = std::same_as<R, reduce::Exact> || std::same_as<R, reduce::Plain>;

/// The per-call reduction of the adjoint-side operations: a sum, or the mean over operators.
enum class Reduction { sum, mean };

/// "sum" or "mean" as a Reduction; throws Error for another name.
inline Reduction parse_reduction(std::string_view name) {
  if (name == "sum") return Reduction::sum;
  if (name == "mean") return Reduction::mean;
  fail("unknown reduction '", name, "': expected sum or mean");
}

/// The whole result, the same on every rank (a collective).
struct Global {
  explicit constexpr Global() = default;
};
/// This rank's part only: its operators' results or their sum, its tiles' contribution.
struct Local {
  explicit constexpr Local() = default;
};
/// The tag of a global result: `A(x, global)` (the default).
inline constexpr Global global{};
/// The tag of this rank's part: `A(x, local)`.
inline constexpr Local local{};

/// Global or Local.
template <class W>
concept ResultScope = std::same_as<W, Global> || std::same_as<W, Local>;
/// True for Local.
template <ResultScope W>
inline constexpr bool is_local_v = std::same_as<W, Local>;

/// The per-operator results [A_1ᵀ y_1, ..., A_Nᵀ y_N] instead of their sum.
struct PerOperator {
  explicit constexpr PerOperator() = default;
};
/// The tag of per-operator results: `A_adjoint(y, per_operator)`.
inline constexpr PerOperator per_operator{};

}  // namespace distinv
