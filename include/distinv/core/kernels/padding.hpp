#pragma once
// core/kernels/padding.hpp: boundary conditions as index maps, for host and device alike.
// pad_index(mode, i, n) maps a possibly out-of-range index i of a length-n axis to the source
// index it reads, or -1 ("none": the padded value is zero). reflect is numpy/torch 'reflect'
// (mirror without repeating the edge: [c b | a b c d | c b]), replicate repeats the edge.
// No CUDA header here; the string names are for the command-line edge only.
#include <array>
#include <cstddef>
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// Boundary of a convolution (deepinv's `padding`). valid: no padding (output H-h+1 x W-w+1;
/// as an index map it behaves like zeros but is never asked out of range); the others keep
/// the size: circular (periodic), reflect (mirror without repeating the edge), replicate
/// (edge value), zeros.
enum class Padding { circular, valid, reflect, replicate, zeros };

inline constexpr std::array<std::string_view, 5> padding_names = {"circular", "valid", "reflect", "replicate",
                                                                   "zeros"};
inline constexpr std::string_view padding_name(Padding p) noexcept { return padding_names[static_cast<std::size_t>(p)]; }

/// "circular", "valid", "reflect", "replicate", "zeros" (deepinv's "constant" is accepted for
/// zeros). Anything else throws Error naming the valid names. For the command-line edge.
inline Padding parse_padding(std::string_view name) {
  for (std::size_t i = 0; i < padding_names.size(); ++i)
    if (name == padding_names[i]) return static_cast<Padding>(i);
  if (name == "constant") return Padding::zeros;
  fail("unknown padding '", name, "': expected one of circular, valid, reflect, replicate, zeros (or constant)");
}

/// Pad widths of one axis of a same-size convolution by a kernel of length k >= 1.
struct AxisPads {
  /// Pad widths before the first and after the last index.
  ///@{
  Index before = 0, after = 0;
  ///@}
};

/// deepinv's kernel centre on an axis of length k (deepinv 0.5, physics/functional/
/// convolution.py: conv2d pads (k//2 - (k-1)%2, k//2), filter_fft rolls the taps by -(k//2)):
/// tap k/2 lands on the output pixel, y[i] = sum_m f[m] x[i - m + k/2]. For odd k, the middle;
/// for even k, the tap right of the middle.
DISTINV_HOST_DEVICE constexpr Index kernel_centre(Index k) noexcept { return k / 2; }
/// The padding of a same-size convolution (flipped kernel, then a valid correlation) with that
/// centre: k - 1 - k/2 = (k-1)/2 before the first index, k/2 after the last.
DISTINV_HOST_DEVICE constexpr AxisPads kernel_pads(Index k) noexcept {
  return {k - 1 - kernel_centre(k), kernel_centre(k)};
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
