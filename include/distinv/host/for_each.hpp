#pragma once
// host/for_each.hpp: the host launcher of the index functors of core/kernels/ (the CUDA one is
// distinv/cuda/launch.cuh). A functor does the work of one index e in `f(e)` (or of one
// (row, column) pair in `f(r, c)`); host::Launch runs them over oneTBB's pool, in chunks whose
// inner loop the compiler inlines (and vectorises where the functor allows), host::Serial on
// the calling thread. Both are launchers: `launch(n, f)`, `launch.grid(rows, cols, f[, work])` and
// `launch.sum(n, f)`, a sum in double that does not depend on the number of threads.
#include <algorithm>
#include <cstddef>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/host_device.hpp"

namespace distinv::host {

/// Index type of the launches (std::ptrdiff_t).
using Index = std::ptrdiff_t;

/// Elements per task of a 1-D launch, and per task of a sum (fixed: the sum's order depends on
/// n only).
inline constexpr Index chunk = 1 << 14;

/// Runs the index functors on the calling thread, in index order.
struct Serial {
  /// f(i) for i in [0, n), in order.
  template <class F>
  void operator()(Index n, F const& f) const {
    for (Index e = 0; e < n; ++e) f(e);
  }
  /// f(r, c) for r < rows, c < cols, rows in order, columns in order inside a row (`work`, the
  /// cost of one call, is Launch's grain hint).
  template <class F>
  void grid(Index rows, Index cols, F const& f, Index /*work*/ = 1) const {
    for (Index r = 0; r < rows; ++r)
      for (Index c = 0; c < cols; ++c) f(r, c);
  }
  /// Σ f(e) in double, in the same chunked order as Launch::sum.
  template <class F>
  double sum(Index n, F const& f) const {
    double total = 0;
    for (Index b = 0; b < n; b += chunk) {
      double s = 0;
      for (Index e = b, end = std::min(n, b + chunk); e < end; ++e) s += f(e);
      total += s;
    }
    return total;
  }
};

/// Runs the index functors over oneTBB's pool.
struct Launch {
  /// f(i) for i in [0, n), chunks in parallel over oneTBB's pool.
  template <class F>
  void operator()(Index n, F const& f) const {
    if (n <= chunk) return Serial{}(n, f);
    tbb::parallel_for(tbb::blocked_range<Index>(0, n, chunk), [&](tbb::blocked_range<Index> const& r) {
      for (Index e = r.begin(); e < r.end(); ++e) f(e);
    });
  }
  /// f(r, c) for r < rows, c < cols: blocks of rows in parallel, each row's columns in order
  /// in one inner loop. `work`: the cost of one call in elements (a call that computes a strip
  /// of outputs of many taps each is worth more than one element), so that a task holds about
  /// `chunk` elements' worth.
  template <class F>
  void grid(Index rows, Index cols, F const& f, Index work = 1) const {
    if (rows <= 0 || cols <= 0) return;
    Index const grain = std::max<Index>(1, chunk / (cols * std::max<Index>(1, work)));
    if (rows <= grain) return Serial{}.grid(rows, cols, f);
    tbb::parallel_for(tbb::blocked_range<Index>(0, rows, grain), [&](tbb::blocked_range<Index> const& r) {
      for (Index i = r.begin(); i < r.end(); ++i)
        for (Index c = 0; c < cols; ++c) f(i, c);
    });
  }
  /// Σ f(e) in double: fixed chunks summed in parallel, then the chunk sums in order, so the
  /// result is the same on every run and for any number of threads (and equals Serial::sum).
  template <class F>
  double sum(Index n, F const& f) const {
    if (n <= chunk) return Serial{}.sum(n, f);
    std::vector<double> part(std::size_t((n + chunk - 1) / chunk));
    tbb::parallel_for(Index(0), Index(part.size()), [&](Index k) {
      double s = 0;
      for (Index e = k * chunk, end = std::min(n, (k + 1) * chunk); e < end; ++e) s += f(e);
      part[std::size_t(k)] = s;
    });
    double total = 0;
    for (double s : part) total += s;
    return total;
  }
};

}  // namespace distinv::host
