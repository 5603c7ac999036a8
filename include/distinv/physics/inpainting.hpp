#pragma once
// physics/inpainting.hpp: Inpainting<T>, deepinv's Inpainting: y = mask ⊙ x, the mask a
// Tensor4 of shape (1 or B, 1 or C, H, W) broadcast over batch and channels. Self-adjoint;
// models RowLocalPhysics (row by row on slabs) and PixelRows: on_rows keeps only the mask's
// rows of one block, so that on slabs each rank holds its rows of the mask and nothing whole.
// Eigen + oneTBB + core + physics concepts only.
#include <algorithm>
#include <string>
#include <utility>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/row_footprint.hpp"

namespace distinv::physics {

/// deepinv's Inpainting: y = m ⊙ x for a mask m of shape (1 or B, 1 or C, H, W). Models LinearPhysics (Aᵀ = A)
/// and RowLocalPhysics; an operator made by on_rows (or from mask rows) holds only some rows of the mask and
/// computes only those rows (A_rows), not whole images.
template <class T>
class Inpainting : public WithNoise<Inpainting<T>, T> {
 public:
  /// Element type.
  using scalar_type = T;
  /// The signal type, Tensor4<T>.
  using tensor_type = Tensor4<T>;

  /// With mask `mask` (values usually 0 or 1); throws Error for an empty mask.
  explicit Inpainting(tensor_type mask) : mask_(std::move(mask)), shape_(shape_of(mask_)) {
    DISTINV_REQUIRE(mask_.size() > 0, "Inpainting: expected a non-empty mask, got ", distinv::to_string(shape_));
  }
  /// With rows [first_row, first_row + rows of `rows`) of a mask of shape `mask_shape`, and nothing else of it;
  /// throws Error for rows outside the mask or planes and columns other than the mask's.
  Inpainting(tensor_type rows, Index first_row, Shape<4> const& mask_shape)
      : mask_(std::move(rows)), shape_(mask_shape), first_row_(first_row) {
    Shape<4> const r = shape_of(mask_);
    DISTINV_REQUIRE(r[0] == shape_[0] && r[1] == shape_[1] && r[3] == shape_[3] && r[2] > 0 && first_row_ >= 0 &&
                        first_row_ + r[2] <= shape_[2],
                    "Inpainting: expected rows of a mask of shape ", distinv::to_string(shape_), ", got ",
                    distinv::to_string(r), " from row ", first_row_);
  }
  /// The mask rows it holds (the whole mask unless made from rows).
  tensor_type const& mask() const noexcept { return mask_; }
  /// The whole mask's shape.
  Shape<4> const& mask_shape() const noexcept { return shape_; }
  /// The whole mask's row of mask()'s first row.
  Index first_row() const noexcept { return first_row_; }

  /// The input shape; throws Error unless the mask broadcasts to it.
  Shape<4> output_shape(Shape<4> const& in) const { return output_shape(shape_, in); }
  /// The shape of a measurement's input: the same.
  Shape<4> input_shape(Shape<4> const& out) const { return output_shape(out); }
  /// The same for a mask of shape `m`.
  static Shape<4> output_shape(Shape<4> const& m, Shape<4> const& in) {
    DISTINV_REQUIRE(in[2] == m[2] && in[3] == m[3] && (m[1] == 1 || m[1] == in[1]) && (m[0] == 1 || m[0] == in[0]),
                    "Inpainting: expected an image (B, C, ", m[2], ", ", m[3], ") with B ", (m[0] == 1 ? "any" : "= "),
                    (m[0] == 1 ? "" : std::to_string(m[0])), " and C ", (m[1] == 1 ? "any" : "= "),
                    (m[1] == 1 ? "" : std::to_string(m[1])), " for a mask of shape ", distinv::to_string(m), ", got ",
                    distinv::to_string(in));
    return in;
  }

  /// m ⊙ x.
  tensor_type A(tensor_type const& x) const { return whole(x, false); }
  /// m ⊙ y.
  tensor_type A_adjoint(tensor_type const& y) const { return whole(y, false); }
  /// m ⊙ v.
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return whole(v, false); }
  /// m² ⊙ x.
  tensor_type A_adjoint_A(tensor_type const& x) const { return whole(x, true); }
  /// m² ⊙ y.
  tensor_type A_A_adjoint(tensor_type const& y) const { return whole(y, true); }

  /// Its footprint on row blocks (the slab layout): row by row.
  RowFootprint row_footprint() const { return {}; }
  /// m ⊙ x on rows [b.out_lo, b.out_hi) (`block` holds those rows).
  tensor_type A_rows(tensor_type const& block, RowBlock const& b) const { return masked(block, false, b.out_lo); }
  /// The same (Aᵀ = A).
  tensor_type A_adjoint_rows(tensor_type const& y, RowBlock const& b) const { return masked(y, false, b.out_lo); }
  /// The same operator holding only the mask's rows [s.out_lo, s.out_hi) (its noise model too).
  Inpainting on_rows(RowSpan const& s) const {
    DISTINV_REQUIRE(s.out_lo >= first_row_ && s.out_hi <= first_row_ + mask_.dimension(2) && s.out_lo < s.out_hi,
                    "Inpainting::on_rows: expected rows within the mask rows held, [", first_row_, ", ",
                    first_row_ + mask_.dimension(2), "), got [", s.out_lo, ", ", s.out_hi, ")");
    Shape<4> r = shape_of(mask_);
    r[2] = s.out_hi - s.out_lo;
    tensor_type rows(r);
    Index const W = r[3], held = mask_.dimension(2);
    for (Index p = 0; p < r[0] * r[1]; ++p)
      std::copy_n(mask_.data() + (p * held + s.out_lo - first_row_) * W, r[2] * W, rows.data() + p * r[2] * W);
    Inpainting out(std::move(rows), s.out_lo, shape_);
    out.set_noise(this->noise());
    return out;
  }

 private:
  tensor_type whole(tensor_type const& x, bool squared) const {
    DISTINV_REQUIRE(first_row_ == 0 && mask_.dimension(2) == shape_[2], "Inpainting: holds rows [", first_row_, ", ",
                    first_row_ + mask_.dimension(2), ") of the mask only; use A_rows (or the slab layout)");
    output_shape(shape_of(x));
    return masked(x, squared, 0);
  }
  /// m ⊙ x (m² ⊙ x if squared) for x the rows [row, row + x's rows) of an input.
  tensor_type masked(tensor_type const& x, bool squared, Index row) const {
    Shape<4> const s = shape_of(x);
    Shape<4> const m = shape_of(mask_);
    DISTINV_REQUIRE(s[3] == m[3] && (m[1] == 1 || m[1] == s[1]) && (m[0] == 1 || m[0] == s[0]) && row >= first_row_ &&
                        row + s[2] <= first_row_ + m[2],
                    "Inpainting: expected rows [", row, ", ", row + s[2], ") of an image the mask rows [", first_row_,
                    ", ", first_row_ + m[2], ") of shape ", distinv::to_string(m), " cover, got ", distinv::to_string(s));
    tensor_type y(s);
    Index const hw = s[2] * s[3], mhw = m[2] * m[3], skip = (row - first_row_) * m[3];
    tbb::parallel_for(Index(0), s[0] * s[1], [&](Index p) {
      Index const b = p / s[1], c = p % s[1];
      T const* mk = mask_.data() + ((m[0] == 1 ? 0 : b) * m[1] + (m[1] == 1 ? 0 : c)) * mhw + skip;
      T const* src = x.data() + p * hw;
      T* dst = y.data() + p * hw;
      if (squared)
        for (Index i = 0; i < hw; ++i) dst[i] = mk[i] * mk[i] * src[i];
      else
        for (Index i = 0; i < hw; ++i) dst[i] = mk[i] * src[i];
    });
    return y;
  }

  tensor_type mask_;
  Shape<4> shape_;
  Index first_row_ = 0;
};

static_assert(PixelRows<Inpainting<float>>);
static_assert(PixelRows<Inpainting<double>>);

}  // namespace distinv::physics
