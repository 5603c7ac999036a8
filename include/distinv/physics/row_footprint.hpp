#pragma once
// physics/row_footprint.hpp: how a local (stencil) operator declares the rows it reads, so that
// the slab layout can run it on any row partition (layout/sharded_physics.hpp), like PETSc's
// stencil width. RowFootprint: output row i reads input rows [i·stride − above, i·stride + below]
// through a padding rule. RowBlock: a block of consecutive output rows and the input rows they
// read. RowLocalPhysics: a LinearPhysics with row_footprint(), A_rows and A_adjoint_rows (its
// kernel on one block). PixelRows: one that can keep only the per-pixel data of one block.
// STL + core + physics concepts only.
#include <concepts>

#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/concepts.hpp"

namespace distinv::physics {

/// The rows a local operator reads (PETSc's stencil width): output row i reads input rows
/// [i·stride − above, i·stride + below], rows outside [0, H) through `padding` (circular,
/// reflect, replicate: rows inside; zeros: a zero row; valid: the outputs never read outside).
struct RowFootprint {
  Index stride = 1;  ///< input rows between two output rows (a decimation's factor)
  Index above = 0;   ///< input rows read above row i·stride
  Index below = 0;   ///< input rows read below row i·stride
  kernels::Padding padding = kernels::Padding::zeros;  ///< how rows outside the input read

  /// The number of output rows of an input of `in_rows` rows: (in_rows − above − below − 1) /
  /// stride + 1 for valid padding, ceil(in_rows / stride) otherwise.
  Index output_rows(Index in_rows) const noexcept {
    if (padding == kernels::Padding::valid) return in_rows > above + below ? (in_rows - above - below - 1) / stride + 1 : 0;
    return (in_rows + stride - 1) / stride;
  }
  /// True for an operator that acts row by row (stride 1, no halo).
  bool pointwise() const noexcept { return stride == 1 && above == 0 && below == 0; }
};

/// Output rows [out_lo, out_hi) and the input rows [in_lo, in_hi) they read (rows outside [0, H)
/// come through the footprint's padding), in global row numbers.
struct RowSpan {
  Index out_lo = 0;  ///< first output row
  Index out_hi = 0;  ///< one past the last output row
  Index in_lo = 0;   ///< first input row read, out_lo·stride − above (may be negative)
  Index in_hi = 0;   ///< one past the last input row read, (out_hi − 1)·stride + below + 1

  /// The span of outputs [lo, hi) under footprint `f`.
  static RowSpan of(RowFootprint const& f, Index lo, Index hi) noexcept {
    return {lo, hi, lo * f.stride - f.above, (hi - 1) * f.stride + f.below + 1};
  }
};

/// A RowSpan with the shapes of the block it is computed on: the gathered input rows (B, C,
/// in_hi − in_lo, W) and the outputs (B, C, out_hi − out_lo, Wo).
struct RowBlock : RowSpan {
  Shape<4> block{};  ///< the shape of the gathered input rows
  Shape<4> out{};    ///< the shape of the output rows

  /// The block of a whole image: every output row (shape `out`) of an input of shape `in`, read
  /// from the input with `f.above` rows before it and the rows after it that `f` reads, so that an
  /// operator's whole-image A can run its A_rows on the input padded by those rows.
  static RowBlock whole(RowFootprint const& f, Shape<4> const& in, Shape<4> const& out) noexcept {
    RowBlock b;
    static_cast<RowSpan&>(b) = RowSpan::of(f, 0, out[2]);
    b.block = {in[0], in[1], b.in_hi - b.in_lo, in[3]};
    b.out = out;
    return b;
  }
};

/// A local operator that the slab layout runs on any row partition: row_footprint() declares
/// the rows it reads; A_rows(block, b) computes output rows [b.out_lo, b.out_hi) from the input
/// rows [b.in_lo, b.in_hi) (a tensor of shape b.block), A_adjoint_rows(y, b) is its exact
/// adjoint (a tensor of shape b.block from output rows of shape b.out). See the guide page
/// "Your operator on slabs".
template <class P>
concept RowLocalPhysics = LinearPhysics<P> && requires(P const& p, typename P::tensor_type const& t, RowBlock const& b) {
  { p.row_footprint() } -> std::convertible_to<RowFootprint>;
  { p.A_rows(t, b) } -> std::convertible_to<typename P::tensor_type>;
  { p.A_adjoint_rows(t, b) } -> std::convertible_to<typename P::tensor_type>;
};

/// A RowLocalPhysics with per-pixel data (a mask, a weight image, coil maps) that can keep only
/// the rows of it that one span reads: on_rows(span) is the same operator holding just those
/// rows, whose A_rows / A_adjoint_rows accept blocks of that span. On slabs each rank keeps
/// only its rows (layout::Sharded(op, comm, partition)).
template <class P>
concept PixelRows = RowLocalPhysics<P> && requires(P const& p, RowSpan const& s) {
  { p.on_rows(s) } -> std::convertible_to<P>;
};

}  // namespace distinv::physics
