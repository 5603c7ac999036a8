#pragma once
// physics/padding.hpp: the boundary conditions of a convolution (deepinv's `padding`) and how
// an index outside [0, n) maps back inside. Names are parsed once, at the edge, by
// parse_padding. STL + core only.
#include <array>
#include <string>
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::physics {

/// valid: no padding (output H-h+1 x W-w+1); the others keep the size: circular (periodic),
/// reflect (mirror without repeating the edge: x[-1] = x[1]), replicate (edge value), zeros.
enum class Padding { circular, valid, reflect, replicate, zeros };

inline constexpr std::array<std::string_view, 5> padding_names = {"circular", "valid", "reflect", "replicate",
                                                                   "zeros"};

inline std::string_view padding_name(Padding p) { return padding_names[static_cast<std::size_t>(p)]; }

/// "circular", "valid", "reflect", "replicate", "zeros" (deepinv's "constant" is accepted for
/// zeros). Anything else throws Error naming the valid names.
inline Padding parse_padding(std::string_view name) {
  for (std::size_t i = 0; i < padding_names.size(); ++i)
    if (name == padding_names[i]) return static_cast<Padding>(i);
  if (name == "constant") return Padding::zeros;
  fail("unknown padding '", name, "': expected one of circular, valid, reflect, replicate, zeros (or constant)");
}

namespace detail {
/// Where index j (possibly outside [0, n)) reads from under padding p, or -1 for a zero.
/// reflect assumes -n < j < 2n - 1 (callers check the pad widths).
inline Index padded_source(Index j, Index n, Padding p) {
  if (j >= 0 && j < n) return j;
  switch (p) {
    case Padding::circular: return ((j % n) + n) % n;
    case Padding::reflect: return j < 0 ? -j : 2 * (n - 1) - j;
    case Padding::replicate: return j < 0 ? 0 : n - 1;
    default: return -1;
  }
}
}  // namespace detail

}  // namespace distinv::physics
