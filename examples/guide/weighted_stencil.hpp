#pragma once
// examples/guide/weighted_stencil.hpp: the local operator of the guide page "Your operator on
// slabs", one class for both layouts: y = w ⊙ (3 x 3 stencil of x), zero padding, w a per-pixel
// weight image. It declares its row footprint (one row above, one below) and its kernel on a block
// of rows (physics::RowLocalPhysics); its whole-image A runs the same kernel on the image padded by
// a zero row. on_rows keeps only the weight rows of one block (physics::PixelRows).
#include <algorithm>
#include <array>
#include <cstddef>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/row_footprint.hpp"

namespace guide_ops {

using namespace distinv;

//! [stencil]
/// y[i, j] = w[i, j] · Σ_{a, b ∈ {-1, 0, 1}} t[a + 1][b + 1] · x[i + a, j + b] on every (b, c) plane,
/// x zero outside the image; w the (1, 1, H, W) weight image, or its rows [first_row, ...).
class WeightedStencil : public physics::WithNoise<WeightedStencil, float> {
 public:
  using scalar_type = float;
  using tensor_type = Tensor4<float>;

  WeightedStencil(std::array<float, 9> taps, tensor_type weight, Index first_row = 0, Index rows = 0)
      : taps_(taps), w_(std::move(weight)), first_(first_row), rows_(rows > 0 ? rows : w_.dimension(2)) {
    DISTINV_REQUIRE(w_.dimension(0) == 1 && w_.dimension(1) == 1 && first_ >= 0 && first_ + w_.dimension(2) <= rows_,
                    "WeightedStencil: expected rows of a (1, 1, H, W) weight image, got ", to_string(shape_of(w_)));
  }
  Shape<4> output_shape(Shape<4> const& in) const {
    DISTINV_REQUIRE(in[2] == rows_ && in[3] == w_.dimension(3), "WeightedStencil: expected ", rows_, " x ",
                    w_.dimension(3), " images, got ", to_string(in));
    return in;
  }
  /// The bytes of per-pixel data it holds (its rows of the weight image).
  std::size_t weight_bytes() const { return std::size_t(w_.size()) * sizeof(float); }

  // The slab layout's part: which rows an output row reads, the kernel on a block of rows, its
  // exact adjoint, and the operator keeping only the weight rows of one block.
  physics::RowFootprint row_footprint() const { return {1, 1, 1, physics::Padding::zeros}; }
  tensor_type A_rows(tensor_type const& block, physics::RowBlock const& b) const {
    tensor_type y = zeros<float>(b.out);
    for_each_tap(b, [&](Index out, Index in, float t) { y.data()[out] += t * block.data()[in]; });
    weigh(y, b);
    return y;
  }
  tensor_type A_adjoint_rows(tensor_type const& y, physics::RowBlock const& b) const {
    tensor_type wy = y;  // w ⊙ y, then the stencil's transpose
    weigh(wy, b);
    tensor_type x = zeros<float>(b.block);
    for_each_tap(b, [&](Index out, Index in, float t) { x.data()[in] += t * wy.data()[out]; });
    return x;
  }
  WeightedStencil on_rows(physics::RowSpan const& s) const {
    Index const W = w_.dimension(3);
    tensor_type rows(1, 1, s.out_hi - s.out_lo, W);
    std::copy_n(weight(s.out_lo, s.out_hi), rows.size(), rows.data());
    WeightedStencil out(taps_, std::move(rows), s.out_lo, rows_);
    out.set_noise(noise());
    return out;
  }

  // Whole images: the kernel on the image with a zero row above and below.
  tensor_type A(tensor_type const& x) const { return A_rows(padded(x), whole(shape_of(x))); }
  tensor_type A_adjoint(tensor_type const& y) const {
    tensor_type const xb = A_adjoint_rows(y, whole(shape_of(y)));  // the padded rows are dropped
    Shape<4> const s = shape_of(y);
    tensor_type x(s);
    for (Index p = 0; p < s[0] * s[1]; ++p)
      std::copy_n(xb.data() + (p * (s[2] + 2) + 1) * s[3], s[2] * s[3], x.data() + p * s[2] * s[3]);
    return x;
  }
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }
  tensor_type A_adjoint_A(tensor_type const& x) const { return A_adjoint(A(x)); }
  tensor_type A_A_adjoint(tensor_type const& y) const { return A(A_adjoint(y)); }

 private:
  /// The weight rows [lo, hi), which this operator must hold.
  float const* weight(Index lo, Index hi) const {
    DISTINV_REQUIRE(lo >= first_ && hi <= first_ + w_.dimension(2), "WeightedStencil: holds the weight rows [",
                    first_, ", ", first_ + w_.dimension(2), "), not [", lo, ", ", hi, ")");
    return w_.data() + (lo - first_) * w_.dimension(3);
  }
  /// y ⊙= w on the output rows of block b.
  void weigh(tensor_type& y, physics::RowBlock const& b) const {
    float const* w = weight(b.out_lo, b.out_hi);
    Index const plane = b.out[2] * b.out[3];
    for (Index p = 0; p < b.out[0] * b.out[1]; ++p)
      for (Index i = 0; i < plane; ++i) y.data()[p * plane + i] *= w[i];
  }
  /// f(output index, block index, tap) for every tap of every output of block b inside the block.
  template <class F>
  void for_each_tap(physics::RowBlock const& b, F&& f) const {
    Index const n = b.out[2], nb = b.block[2], W = b.out[3];
    for (Index p = 0; p < b.out[0] * b.out[1]; ++p)
      for (Index i = 0; i < n; ++i)
        for (Index a = -1; a <= 1; ++a)
          for (Index j = 0; j < W; ++j)
            for (Index c = -1; c <= 1; ++c) {
              Index const r = b.out_lo + i + a - b.in_lo, col = j + c;  // the block's row, the column
              if (col >= 0 && col < W)
                f((p * n + i) * W + j, (p * nb + r) * W + col, taps_[std::size_t((a + 1) * 3 + c + 1)]);
            }
  }
  /// The block of a whole image of shape s: its H outputs read the rows [-1, H + 1).
  physics::RowBlock whole(Shape<4> const& s) const {
    return physics::RowBlock::whole(row_footprint(), s, output_shape(s));
  }
  static tensor_type padded(tensor_type const& x) {
    Shape<4> const s = shape_of(x);
    tensor_type b = zeros<float>(Shape<4>{s[0], s[1], s[2] + 2, s[3]});
    for (Index p = 0; p < s[0] * s[1]; ++p)
      std::copy_n(x.data() + p * s[2] * s[3], s[2] * s[3], b.data() + (p * (s[2] + 2) + 1) * s[3]);
    return b;
  }

  std::array<float, 9> taps_;
  tensor_type w_;
  Index first_, rows_;
};
static_assert(physics::PixelRows<WeightedStencil>);
//! [stencil]

}  // namespace guide_ops
