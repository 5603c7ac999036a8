#pragma once
// physics/denoising.hpp: Denoising<T>, deepinv's Denoising: A = identity, so y = noise(x).
// Models RowLocalPhysics (row by row on slabs). Core + physics concepts only.
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"
#include "distinv/physics/row_footprint.hpp"

namespace distinv::physics {

/// deepinv's Denoising: A = identity, so y = noise(x). Models LinearPhysics.
template <class T>
class Denoising : public WithNoise<Denoising<T>, T> {
 public:
  /// Element type.
  using scalar_type = T;
  /// The signal type, Tensor4<T>.
  using tensor_type = Tensor4<T>;

  Denoising() = default;
  /// With the noise model of forward (none by default).
  explicit Denoising(NoiseModel<T> noise) { this->set_noise(std::move(noise)); }

  /// The input shape; throws Error for a negative extent.
  Shape<4> output_shape(Shape<4> const& in) const {
    DISTINV_REQUIRE(in[0] >= 0 && in[1] >= 0 && in[2] >= 0 && in[3] >= 0, "Denoising: expected a (B, C, H, W) shape, got ",
                    distinv::to_string(in));
    return in;
  }
  /// The shape of a measurement's input: the same.
  Shape<4> input_shape(Shape<4> const& out) const { return output_shape(out); }
  /// x.
  tensor_type A(tensor_type const& x) const { return x; }
  /// y.
  tensor_type A_adjoint(tensor_type const& y) const { return y; }
  /// v.
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return v; }
  /// x.
  tensor_type A_adjoint_A(tensor_type const& x) const { return x; }
  /// y.
  tensor_type A_A_adjoint(tensor_type const& y) const { return y; }
  /// Its footprint on row blocks (the slab layout): row by row.
  RowFootprint row_footprint() const { return {}; }
  /// A on one row block: the block.
  tensor_type A_rows(tensor_type const& block, RowBlock const&) const { return block; }
  /// Its adjoint: the rows.
  tensor_type A_adjoint_rows(tensor_type const& y, RowBlock const&) const { return y; }
};

static_assert(RowLocalPhysics<Denoising<float>>);
static_assert(RowLocalPhysics<Denoising<double>>);

}  // namespace distinv::physics
