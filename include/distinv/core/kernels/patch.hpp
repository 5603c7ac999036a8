#pragma once
// core/kernels/patch.hpp: tiles of a signal, for host and device. PatchCopyIn reads an
// h x w window whose top-left corner (y0, x0) may lie outside the H x W signal (padding
// by pad_index: circular, reflect, replicate or zeros); PatchCopyOut writes (or adds) an
// interior box of a patch back into the signal. Both act on every plane (B * C) alike.
#include <cstddef>

#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/padding.hpp"

namespace distinv::kernels {

/// patch[p, i, j] = signal[p, pad(y0 + i), pad(x0 + j)] (zero where the map gives none).
/// Element e of the patch (planes * h * w elements).
template <class T>
struct PatchCopyIn {
  T const* signal;  // planes * H * W
  T* patch;         // planes * h * w
  Index H, W;
  Index y0, x0;
  Index h, w;
  Padding mode;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const j = e % w, i = (e / w) % h, p = e / (w * h);
    Index const r = pad_index(mode, y0 + i, H), s = pad_index(mode, x0 + j, W);
    patch[e] = (r < 0 || s < 0) ? T(0) : signal[(p * H + r) * W + s];
  }
};

/// signal[p, y0 + iy + i, x0 + ix + j] = (or +=) patch[p, iy + i, ix + j] for the interior box
/// (iy, ix, ih, iw) of an h x w patch placed at (y0, x0). Element e of the box
/// (planes * ih * iw elements); targets outside the signal are skipped.
template <class T>
struct PatchCopyOut {
  T const* patch;  // planes * h * w
  T* signal;       // planes * H * W
  Index H, W;
  Index y0, x0;
  Index h, w;
  Index iy, ix, ih, iw;
  bool accumulate;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const j = e % iw, i = (e / iw) % ih, p = e / (iw * ih);
    Index const r = y0 + iy + i, s = x0 + ix + j;
    if (r < 0 || r >= H || s < 0 || s >= W) return;
    T const v = patch[(p * h + iy + i) * w + ix + j];
    T& t = signal[(p * H + r) * W + s];
    t = accumulate ? t + v : v;
  }
};

}  // namespace distinv::kernels
