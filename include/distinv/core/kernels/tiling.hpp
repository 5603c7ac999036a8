#pragma once
// core/kernels/tiling.hpp: the window extraction and window reduction of tiled processing
// (tiling/process.hpp), written once for host and device over row-major tensors of any rank.
// TileExtract reads a batch of windows of one shape through one source index map per patch
// and dim (-1 = zero); TileAdd adds a box of one processed window into the signal, optionally
// weighted by one blend-weight vector per dim. Both are grid functors f(row, col): `col` runs
// along the last dim (the inner loop of the host launcher), `row` over the others; f(e) is
// the same work for element e. No CUDA header here.
#include <cstddef>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// windows[k, i_0, .., i_{R-1}] = src[m_0[i_0], .., m_{R-1}[i_{R-1}]] (zero if any m_d is -1)
/// for the k-th patch of the batch, patch p = patches[k], m_d = maps + map_offset[p * R + d].
/// The windows lie back to back (a batch concatenated along dim 0): `rows` = size[0] * ..
/// * size[R-2] rows of size[R-1] samples per window.
template <class T, int Rank>
struct TileExtract {
  /// The signal.
  T const* src;
  /// The batch of windows, back to back.
  T* windows;
  Index const* maps;        ///< every source map, back to back
  Index const* map_offset;  ///< per patch and dim (p * Rank + d): start of its map in `maps`
  Index const* patches;     ///< the patch of each window of the batch
  Index size[Rank];         ///< window shape
  /// Row-major strides of the signal.
  Index src_stride[Rank];
  Index rows;               ///< rows of one window: size[0] * .. * size[Rank-2]

  /// Row `row` (of the batch's rows), sample `col` along the last dim.
  DISTINV_HOST_DEVICE void operator()(Index row, Index col) const noexcept {
    Index const k = row / rows;
    Index q = row - k * rows;
    Index const* off = map_offset + patches[k] * Rank;
    Index src_row = 0;
    bool zero = false;
    for (int d = Rank - 2; d >= 0; --d) {
      Index const m = maps[off[d] + q % size[d]];
      q /= size[d];
      zero = zero || m < 0;
      src_row += m * src_stride[d];
    }
    Index const m = maps[off[Rank - 1] + col];
    windows[row * size[Rank - 1] + col] = zero || m < 0 ? T(0) : src[src_row + m];
  }
  /// Element e of the batch.
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { (*this)(e / size[Rank - 1], e % size[Rank - 1]); }
};

/// out[dst_start + i] += T(w_0[i_0]) * .. * T(w_{R-1}[i_{R-1}]) * patch[src_start + i] for i in
/// the box `size`; a null weight vector counts as 1. The weights are kept in double and
/// converted where they are used; the product is formed dim 0 first. Targets are distinct
/// within one launch; overlapping boxes are added by successive launches.
template <class T, int Rank>
struct TileAdd {
  /// The processed window.
  T const* patch;
  /// The signal it is added into.
  T* out;
  double const* weight[Rank];  ///< per dim, `size[d]` weights, or nullptr
  Index size[Rank];            ///< box shape
  Index src_start[Rank];       ///< box start in the patch
  Index dst_start[Rank];       ///< box start in out
  /// Row-major strides of the window.
  Index patch_stride[Rank];
  /// Row-major strides of out.
  Index out_stride[Rank];

  /// `row` over dims 0 .. R-2 of the box, `col` along the last.
  DISTINV_HOST_DEVICE void operator()(Index row, Index col) const noexcept {
    Index idx[Rank];
    idx[Rank - 1] = col;
    Index q = row;
    for (int d = Rank - 2; d >= 0; --d) {
      idx[d] = q % size[d];
      q /= size[d];
    }
    Index so = 0, doff = 0;
    T f = T(1);
    for (int d = 0; d < Rank; ++d) {
      so += (src_start[d] + idx[d]) * patch_stride[d];
      doff += (dst_start[d] + idx[d]) * out_stride[d];
      if (weight[d]) f *= T(weight[d][idx[d]]);
    }
    out[doff] += f * patch[so];
  }
  /// Element e of the box.
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { (*this)(e / size[Rank - 1], e % size[Rank - 1]); }
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
