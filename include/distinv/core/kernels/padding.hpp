#pragma once
// core/kernels/padding.hpp: boundary conditions as index maps, for host and device alike.
// pad_index(mode, i, n) maps a possibly out-of-range index i of a length-n axis to the source
// index it reads, or -1 ("none": the padded value is zero). reflect is numpy/torch 'reflect'
// (mirror without repeating the edge: [c b | a b c d | c b]), replicate repeats the edge.
// No CUDA header here; the string names are for the command-line edge only.
#include <cstddef>
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// Boundary of a convolution. `valid` keeps only the outputs whose window lies inside the
/// input (as an index map it behaves like `zeros`, but is never asked out of range).
enum class Padding { valid, circular, reflect, replicate, zeros };

inline constexpr std::string_view to_string(Padding p) noexcept {
  switch (p) {
    case Padding::valid: return "valid";
    case Padding::circular: return "circular";
    case Padding::reflect: return "reflect";
    case Padding::replicate: return "replicate";
    case Padding::zeros: return "zeros";
  }
  return "?";
}

/// "valid", "circular", "reflect", "replicate", "zeros" (or "constant") -> Padding.
inline Padding padding_from_string(std::string_view s) {
  if (s == "valid") return Padding::valid;
  if (s == "circular") return Padding::circular;
  if (s == "reflect") return Padding::reflect;
  if (s == "replicate") return Padding::replicate;
  if (s == "zeros" || s == "constant") return Padding::zeros;
  fail("padding: expected one of valid, circular, reflect, replicate, zeros; got '", std::string(s), "'");
}

/// Source index of index i on an axis of length n >= 1 under `mode`, or -1 for none.
DISTINV_HOST_DEVICE inline Index pad_index(Padding mode, Index i, Index n) noexcept {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case Padding::circular: {
      Index r = i % n;
      return r < 0 ? r + n : r;
    }
    case Padding::reflect: {
      if (n == 1) return 0;
      Index const period = 2 * (n - 1);
      Index r = i % period;
      if (r < 0) r += period;
      return r < n ? r : period - r;
    }
    case Padding::replicate: return i < 0 ? 0 : n - 1;
    default: return -1;  // zeros, valid
  }
}

}  // namespace distinv::kernels
