#pragma once
// physics/inpainting.hpp: Inpainting<T>, deepinv's Inpainting: y = mask ⊙ x, the mask a
// Tensor4 of shape (1 or B, 1 or C, H, W) broadcast over batch and channels. Self-adjoint;
// models LinearPhysics. Eigen + oneTBB + core only.
#include <utility>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/physics/concepts.hpp"
#include "distinv/physics/noise.hpp"

namespace distinv::physics {

/// deepinv's Inpainting: y = m ⊙ x for a mask m of shape (1 or B, 1 or C, H, W). Models LinearPhysics (Aᵀ = A).
template <class T>
class Inpainting : public WithNoise<Inpainting<T>, T> {
 public:
  /// Element type.
  using scalar_type = T;
  /// The signal type, Tensor4<T>.
  using tensor_type = Tensor4<T>;

  /// With mask `mask` (values usually 0 or 1); throws Error for an empty mask.
  explicit Inpainting(tensor_type mask) : mask_(std::move(mask)) {
    DISTINV_REQUIRE(mask_.size() > 0, "Inpainting: expected a non-empty mask, got ", distinv::to_string(shape_of(mask_)));
  }
  /// The mask.
  tensor_type const& mask() const noexcept { return mask_; }

  /// The input shape; throws Error unless the mask broadcasts to it.
  Shape<4> output_shape(Shape<4> const& in) const { return output_shape(shape_of(mask_), in); }
  /// The same for a mask of shape `m` (the slab layout's masks are sharded).
  static Shape<4> output_shape(Shape<4> const& m, Shape<4> const& in) {
    DISTINV_REQUIRE(in[2] == m[2] && in[3] == m[3] && (m[1] == 1 || m[1] == in[1]) && (m[0] == 1 || m[0] == in[0]),
                    "Inpainting: expected an image (B, C, ", m[2], ", ", m[3], ") with B ", (m[0] == 1 ? "any" : "= "),
                    (m[0] == 1 ? "" : std::to_string(m[0])), " and C ", (m[1] == 1 ? "any" : "= "),
                    (m[1] == 1 ? "" : std::to_string(m[1])), " for a mask of shape ", distinv::to_string(m), ", got ",
                    distinv::to_string(in));
    return in;
  }

  /// m ⊙ x.
  tensor_type A(tensor_type const& x) const { return masked(x, false); }
  /// m ⊙ y.
  tensor_type A_adjoint(tensor_type const& y) const { return masked(y, false); }
  /// m ⊙ v.
  tensor_type A_vjp(tensor_type const&, tensor_type const& v) const { return masked(v, false); }
  /// m² ⊙ x.
  tensor_type A_adjoint_A(tensor_type const& x) const { return masked(x, true); }
  /// m² ⊙ y.
  tensor_type A_A_adjoint(tensor_type const& y) const { return masked(y, true); }

 private:
  tensor_type masked(tensor_type const& x, bool squared) const {
    Shape<4> const s = output_shape(shape_of(x));
    Shape<4> const m = shape_of(mask_);
    tensor_type y(s);
    Index const hw = s[2] * s[3];
    tbb::parallel_for(Index(0), s[0] * s[1], [&](Index p) {
      Index const b = p / s[1], c = p % s[1];
      T const* mk = mask_.data() + ((m[0] == 1 ? 0 : b) * m[1] + (m[1] == 1 ? 0 : c)) * hw;
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
};

static_assert(LinearPhysics<Inpainting<float>>);
static_assert(LinearPhysics<Inpainting<double>>);

}  // namespace distinv::physics
