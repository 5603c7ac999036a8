#pragma once
// core/kernels/for_each.hpp: the host launcher of the index functors of core/kernels/.
// A functor `f` does the work of element `e` in `f(e)`; for_each_index runs e = 0 .. n-1 in
// order. The CUDA launcher (distinv/cuda/kernels.cuh) runs the very same functor on a device.
// STL only (core/ includes no TBB: callers parallelise over planes themselves).
#include <cstddef>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// Runs f(0), f(1), ..., f(n - 1) on the calling thread.
template <class F>
void for_each_index(Index n, F const& f) {
  for (Index e = 0; e < n; ++e) f(e);
}

/// Sum of f(e) over e = 0 .. n-1, accumulated in double (same order on every call).
template <class F>
double sum_index(Index n, F const& f) {
  double s = 0;
  for (Index e = 0; e < n; ++e) s += f(e);
  return s;
}

}  // namespace distinv::kernels
