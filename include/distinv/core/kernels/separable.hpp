#pragma once
// core/kernels/separable.hpp: one pass of a separable filter over every H x W plane, for
// every launcher: SeparablePass convolves along the rows or along the columns with 2r + 1
// taps, the border replicated, the sum in double. GaussianDenoiser
// (optim/denoisers/gaussian.hpp) is two such passes. No CUDA header here.
#include <cstddef>

#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/padding.hpp"

namespace distinv::kernels {

/// out[p, i, j] = sum_{m = -r..r} k[m + r] in[p, i, rep(j + m)] (columns: in[p, rep(i + m), j]),
/// rep = the replicated border, summed in double, m ascending. Launched over (planes * H, W);
/// k: 2r + 1 taps in the launcher's memory. in != out.
template <class In, class Out>
struct SeparablePass {
  /// Source, planes * H * W values.
  In const* in;
  /// Destination (not in).
  Out* out;
  /// The 2r + 1 taps.
  double const* k;
  /// Kernel radius.
  Index r;
  /// Rows and columns of a plane.
  ///@{
  Index H, W;
  ///@}
  /// True: along columns; false: along rows.
  bool columns;
  /// out at (row `row` of planes * H, column c).
  DISTINV_HOST_DEVICE void operator()(Index row, Index c) const noexcept {
    Index const p = row / H, i = row % H;
    double a = 0;
    for (Index m = -r; m <= r; ++m) {
      Index const ii = columns ? pad_index(Padding::replicate, i + m, H) : i;
      Index const jj = columns ? c : pad_index(Padding::replicate, c + m, W);
      a += k[m + r] * double(in[(p * H + ii) * W + jj]);
    }
    out[row * W + c] = Out(a);
  }
};

}  // namespace distinv::kernels
