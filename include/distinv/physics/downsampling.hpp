#pragma once
// physics/downsampling.hpp: Downsampling<T>, deepinv's Downsampling with a custom filter (or
// none): y = S(h * x), a Blur by the kernel under a Padding (skipped without a kernel), then
// every factor-th pixel from (0, 0). Models LinearPhysics with the exact adjoint
// Aᵀ y = Blurᵀ(Sᵀ y), Sᵀ the zero-filling upsampling. The input size, which decimation loses,
// is fixed by `image_hw` or else taken as factor * (output size) (+ kernel - 1 for valid).
// Declares its row footprint (the blur's, stride factor) for the slab layout.
#include <array>
#include <optional>
#include <utility>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"

namespace distinv::physics {

/// deepinv's Downsampling with a kernel of the user's (or none): y = S(h * x), a Blur then every factor-th
/// pixel from (0, 0), with the exact adjoint Blurᵀ(Sᵀ y). Models LinearPhysics.
template <class T>
class Downsampling : public WithNoise<Downsampling<T>, T> {
 public:
  /// Element type.
  using scalar_type = T;
  /// The signal type, Tensor4<T>.
  using tensor_type = Tensor4<T>;
  /// A (kh, kw) kernel.
  using kernel_type = Tensor<T, 2>;

  /// Decimation by `factor` (>= 1) after the blur by `kernel` under `padding` (no blur without a kernel);
  /// `image_hw` fixes the input size, else it is factor · output (+ kernel − 1 for valid). Throws Error for
  /// factor < 1 or a non-positive image size.
  explicit Downsampling(Index factor, std::optional<kernel_type> kernel = std::nullopt,
                        Padding padding = Padding::circular, std::optional<std::array<Index, 2>> image_hw = std::nullopt,
                        BlurMethod method = BlurMethod::automatic)
      : factor_(factor), image_hw_(image_hw) {
    DISTINV_REQUIRE(factor >= 1, "Downsampling: expected a factor >= 1, got ", factor);
    if (image_hw)
      DISTINV_REQUIRE((*image_hw)[0] > 0 && (*image_hw)[1] > 0, "Downsampling: expected a positive image size, got ",
                      (*image_hw)[0], " x ", (*image_hw)[1]);
    if (kernel) blur_.emplace(std::move(*kernel), padding, method);
  }

  /// The decimation factor.
  Index factor() const noexcept { return factor_; }
  /// The blur before decimation, if any.
  std::optional<Blur<T>> const& blur() const noexcept { return blur_; }

  /// (B, C, ceil(H'/factor), ceil(W'/factor)), H' x W' the blur's output; throws Error for a non-positive shape
  /// or one other than image_hw.
  Shape<4> output_shape(Shape<4> const& in) const {
    DISTINV_REQUIRE(in[0] > 0 && in[1] > 0 && in[2] > 0 && in[3] > 0,
                    "Downsampling: expected a non-empty (B, C, H, W) image, got ", distinv::to_string(in));
    if (image_hw_)
      DISTINV_REQUIRE(in[2] == (*image_hw_)[0] && in[3] == (*image_hw_)[1], "Downsampling: expected an image of ",
                      (*image_hw_)[0], " x ", (*image_hw_)[1], ", got ", in[2], " x ", in[3]);
    Shape<4> b = blur_ ? blur_->output_shape(in) : in;
    return {b[0], b[1], (b[2] + factor_ - 1) / factor_, (b[3] + factor_ - 1) / factor_};
  }

  /// S(h * x).
  tensor_type A(tensor_type const& x) const {
    Shape<4> const out = output_shape(shape_of(x));
    if (!blur_) return decimate(x, out);
    return decimate(blur_->A(x), out);
  }

  /// Blurᵀ(Sᵀ y), Sᵀ the zero-filling upsampling; throws Error for a y of another shape than an input gives.
  tensor_type A_adjoint(tensor_type const& y) const {
    Shape<4> const ys = shape_of(y);
    Shape<4> const in = input_shape(ys);
    DISTINV_REQUIRE(output_shape(in) == ys, "Downsampling adjoint: expected a measurement of shape ",
                    distinv::to_string(output_shape(in)), ", got ", distinv::to_string(ys));
    tensor_type up = zero_fill(y, blur_ ? blur_->output_shape(in) : in);
    return blur_ ? blur_->A_adjoint(up) : up;
  }

  /// A_adjoint(v) (A is linear).
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return A_adjoint(v); }
  /// Aᵀ(A x).
  tensor_type A_adjoint_A(tensor_type const& x) const { return A_adjoint(A(x)); }
  /// A(Aᵀ y).
  tensor_type A_A_adjoint(tensor_type const& y) const { return A(A_adjoint(y)); }

  /// Its footprint on row blocks (the slab layout): its blur's, outputs `factor` rows apart.
  /// Throws Error for a blur of BlurMethod::fft.
  RowFootprint row_footprint() const {
    if (!blur_) return {factor_, 0, 0, Padding::zeros};
    RowFootprint f = blur_->row_footprint();
    f.stride = factor_;
    return f;
  }
  /// A on one row block (RowLocalPhysics): the block's blur (rows valid), then decimation.
  tensor_type A_rows(tensor_type const& block, RowBlock const& b) const {
    return decimate(blur_ ? blur_->convolve_rows(block) : block, b.out);
  }
  /// Its exact adjoint: zero filling, then the blur's adjoint into the block's shape.
  tensor_type A_adjoint_rows(tensor_type const& y, RowBlock const& b) const {
    if (!blur_) return zero_fill(y, b.block);
    return blur_->convolve_rows_adjoint(zero_fill(y, blur_->rows_output_shape(b.block)), b.block);
  }

  /// The input shape of a measurement of shape `out` (see the header comment).
  Shape<4> input_shape(Shape<4> const& out) const {
    if (image_hw_) return {out[0], out[1], (*image_hw_)[0], (*image_hw_)[1]};
    Shape<4> b{out[0], out[1], out[2] * factor_, out[3] * factor_};
    return blur_ ? blur_->input_shape(b) : b;
  }

  /// Every factor-th pixel of b from (0, 0), into shape `out` (planes of b, rows and columns
  /// ceil(b's / factor)); the decimation S of A, on whole images or on a slab's block.
  tensor_type decimate(tensor_type const& b, Shape<4> const& out) const {
    if (factor_ == 1) return b;
    tensor_type y(out);
    Index const h = b.dimension(2), w = b.dimension(3), planes = out[0] * out[1];
    tbb::parallel_for(Index(0), planes, [&](Index p) {
      for (Index i = 0; i < out[2]; ++i)
        for (Index j = 0; j < out[3]; ++j)
          y.data()[(p * out[2] + i) * out[3] + j] = b.data()[(p * h + i * factor_) * w + j * factor_];
    });
    return y;
  }
  /// Sᵀ: y's pixels at every factor-th position from (0, 0) of a zero tensor of shape `bs`.
  tensor_type zero_fill(tensor_type const& y, Shape<4> const& bs) const {
    Shape<4> const ys = shape_of(y);
    tensor_type up = zeros<T>(bs);
    tbb::parallel_for(Index(0), bs[0] * bs[1], [&](Index p) {
      for (Index i = 0; i < ys[2]; ++i)
        for (Index j = 0; j < ys[3]; ++j)
          up.data()[(p * bs[2] + i * factor_) * bs[3] + j * factor_] = y.data()[(p * ys[2] + i) * ys[3] + j];
    });
    return up;
  }

 private:
  Index factor_;
  std::optional<std::array<Index, 2>> image_hw_;
  std::optional<Blur<T>> blur_;
};

static_assert(RowLocalPhysics<Downsampling<float>>);
static_assert(RowLocalPhysics<Downsampling<double>>);

}  // namespace distinv::physics
