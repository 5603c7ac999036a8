#pragma once
// physics/padding.hpp: the boundary conditions of a convolution (deepinv's `padding`) and how
// an index outside [0, n) maps back inside; the enum and its names are core's, shared with the
// device kernels. Names are parsed once, at the edge, by parse_padding. STL + core only.
#include <array>
#include <string>
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::physics {

/// One definition for host and device code: core/kernels/padding.hpp.
using kernels::kernel_centre;
using kernels::kernel_pads;
using kernels::Padding;
using kernels::padding_name;
using kernels::padding_names;
using kernels::parse_padding;

namespace detail {
/// Where index j (possibly outside [0, n)) reads from under padding p, or -1 for a zero.
inline Index padded_source(Index j, Index n, Padding p) { return kernels::pad_index(p, j, n); }
}  // namespace detail
}  // namespace distinv::physics
