#pragma once
// examples/guide/projection.hpp: the guide's two-angle projection (pages "Your own linear
// operator" and "Your operator on slabs"), one class for both layouts: the sums of an image along
// its columns (axis 0) or along its rows (axis 1) times a detector gain, with the detector along
// dimension 2. On whole images it models physics::LinearPhysics; its A(x, out) and
// A_adjoint(y, in) on slab tensors model layout::SlabOperator, built from public blocks only.
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/rows.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"

namespace guide_ops {

using namespace distinv;

//! [operator]
/// y = gain · (sums of x along axis 0: one value per column; along axis 1: one per row), the
/// detector along dimension 2: (B, C, H, W) -> (B, C, W, 1) or (B, C, H, 1). WithNoise gives it
/// set_noise and forward.
class Projection : public physics::WithNoise<Projection, float> {
 public:
  using scalar_type = float;
  using tensor_type = Tensor4<float>;

  Projection(int axis, float gain, Index rows, Index cols) : axis_(axis), gain_(gain), rows_(rows), cols_(cols) {
    DISTINV_REQUIRE(axis == 0 || axis == 1, "Projection: expected axis 0 or 1, got ", axis);
  }
  Shape<4> output_shape(Shape<4> const& in) const {
    DISTINV_REQUIRE(in[2] == rows_ && in[3] == cols_, "Projection: expected ", rows_, " x ", cols_, " images, got ",
                    to_string(in));
    return {in[0], in[1], axis_ == 0 ? cols_ : rows_, 1};
  }
  Shape<4> input_shape(Shape<4> const& out) const { return {out[0], out[1], rows_, cols_}; }
  tensor_type A(tensor_type const& x) const {
    tensor_type y = zeros<float>(output_shape(shape_of(x)));
    add_lines(x, 0, y, 0);
    return y;
  }
  tensor_type A_adjoint(tensor_type const& y) const {  // spreads each detector value back along its line
    tensor_type x(input_shape(shape_of(y)));
    spread_lines(y, 0, x, 0);
    return x;
  }
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }
  tensor_type A_adjoint_A(tensor_type const& x) const { return A_adjoint(A(x)); }
  tensor_type A_A_adjoint(tensor_type const& y) const { return A(A_adjoint(y)); }
  //! [operator]

  //! [slabs]
  /// A on slabs, laid out as `out`. Axis 0: every rank sums its own rows into a partial detector,
  /// and sum_over_ranks adds the partials (each rank receives its rows of the sum). Axis 1: each
  /// image row is one detector value, computed where the row lies, then moved to `out`.
  template <class Comm>
  layout::SlabTensor<float, 4, Comm> A(layout::SlabTensor<float, 4, Comm> const& x,
                                       layout::RowPartition const& out) const {
    Shape<4> const s = output_shape(x.shape());
    if (axis_ == 0) {
      tensor_type partial = zeros<float>(s);
      add_lines(x.local(), x.lo(), partial, 0);
      return layout::sum_over_ranks(x.comm(), partial, out);
    }
    layout::SlabTensor<float, 4, Comm> y(x.comm(), s, x.partition());
    y.local().setZero();
    add_lines(x.local(), x.lo(), y.local(), x.lo());
    return layout::relayout(y, out);
  }
  /// Its adjoint, laid out as `in`: axis 0 gathers the whole detector (the adjoint of the sum
  /// over ranks); axis 1 moves the detector to the image's rows first. Each rank fills its rows.
  template <class Comm>
  layout::SlabTensor<float, 4, Comm> A_adjoint(layout::SlabTensor<float, 4, Comm> const& y,
                                               layout::RowPartition const& in) const {
    layout::SlabTensor<float, 4, Comm> x(y.comm(), input_shape(y.shape()), in);
    if (axis_ == 0) {
      spread_lines(y.gather(), 0, x.local(), x.lo());
    } else {
      spread_lines(layout::relayout(y, in).local(), x.lo(), x.local(), x.lo());
    }
    return x;
  }

 private:
  /// y[detector] += gain · x[pixel] for the image rows [row0, row0 + rows of x) that x holds, y
  /// holding the detector values [y0, y0 + rows of y).
  void add_lines(tensor_type const& x, Index row0, tensor_type& y, Index y0) const {
    Index const n = x.dimension(2), m = y.dimension(2);
    for (Index p = 0; p < x.dimension(0) * x.dimension(1); ++p)
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < cols_; ++j)
          y.data()[p * m + (axis_ == 0 ? j : row0 + i - y0)] += gain_ * x.data()[(p * n + i) * cols_ + j];
  }
  /// x[pixel] = gain · y[detector] for the image rows x holds (the same indexing).
  void spread_lines(tensor_type const& y, Index y0, tensor_type& x, Index row0) const {
    Index const n = x.dimension(2), m = y.dimension(2);
    for (Index p = 0; p < x.dimension(0) * x.dimension(1); ++p)
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < cols_; ++j)
          x.data()[(p * n + i) * cols_ + j] = gain_ * y.data()[p * m + (axis_ == 0 ? j : row0 + i - y0)];
  }

  int axis_;
  float gain_;
  Index rows_, cols_;
};
static_assert(physics::LinearPhysics<Projection>);  // a concept failure here names what is missing
//! [slabs]

}  // namespace guide_ops
