#pragma once
// core/kernels/tiling.hpp: the window extraction and window reduction of the tiling
// strategies (tiling/overlap_tiling.hpp, tiling/basic.hpp), written once for host and device
// over row-major tensors of any rank. TileExtract reads a padded window through one source
// index map per dim (-1 = zero); TileAdd adds a box of a processed window into the signal,
// optionally weighted by one blend-weight vector per dim. No CUDA header here.
#include <cstddef>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// window[i_0, .., i_{R-1}] = src[map_0[i_0], .., map_{R-1}[i_{R-1}]], zero if any map is -1.
/// Element e of the window (row-major over `size`); `src_stride`: row-major strides of src.
template <class T, int Rank>
struct TileExtract {
  T const* src;
  T* window;
  Index const* map[Rank];  ///< per dim, `size[d]` source indices (or -1)
  Index size[Rank];        ///< window shape
  Index src_stride[Rank];
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index off = 0;
    bool zero = false;
    Index q = e;
    for (int d = Rank - 1; d >= 0; --d) {
      Index const m = map[d][q % size[d]];
      q /= size[d];
      zero = zero || m < 0;
      off += m * src_stride[d];
    }
    window[e] = zero ? T(0) : src[off];
  }
};

/// out[dst_start + i] += w_0[i_0] * .. * w_{R-1}[i_{R-1}] * patch[src_start + i] for i in the
/// box `size` (element e, row-major over `size`); a null weight vector counts as 1. The
/// product is formed dim 0 first, as the host strategy does. Targets are distinct within
/// one call; overlapping boxes must be added by successive calls.
template <class T, int Rank>
struct TileAdd {
  T const* patch;
  T* out;
  T const* weight[Rank];  ///< per dim, `size[d]` weights, or nullptr
  Index size[Rank];       ///< box shape
  Index src_start[Rank];  ///< box start in the patch
  Index dst_start[Rank];  ///< box start in out
  Index patch_stride[Rank];
  Index out_stride[Rank];
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index idx[Rank];
    Index q = e;
    for (int d = Rank - 1; d >= 0; --d) {
      idx[d] = q % size[d];
      q /= size[d];
    }
    Index so = 0, doff = 0;
    T f = T(1);
    for (int d = 0; d < Rank; ++d) {
      so += (src_start[d] + idx[d]) * patch_stride[d];
      doff += (dst_start[d] + idx[d]) * out_stride[d];
      if (weight[d]) f *= weight[d][idx[d]];
    }
    out[doff] += f * patch[so];
  }
};

/// Row-major strides of a shape given as `Rank` extents.
template <int Rank, class Extents>
void row_major_strides(Extents const& shape, Index (&stride)[Rank]) {
  Index acc = 1;
  for (int d = Rank - 1; d >= 0; --d) {
    stride[d] = acc;
    acc *= Index(shape[d]);
  }
}

}  // namespace distinv::kernels
