#pragma once
// optim/denoisers/planes.hpp: how the plane-wise drivers of core/kernels/ (TV, wavelets, ...)
// are run over the (B, C) planes of a batch in a space (core/space.hpp). On the host each
// plane is run on its own, planes in parallel (oneTBB): with the serial launcher when there
// are many planes (a tiled batch: the plane's work arrays stay in one core's cache across the
// iterations) or one thread, with the parallel one when there are few (a whole image: its rows
// go parallel too); on a device the whole batch is one sequence of launches. The space's work
// buffers come from space_traits<Space>::allocate. core/, host/ and oneTBB only.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "distinv/core/signal.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/host/space.hpp"

namespace distinv::optim::detail {

/// Calls f(launch, first_plane, count) over `planes` planes: on the host once per plane, in
/// parallel (launch: host::Serial or host::Launch); on a device once, for all of them. f may
/// allocate its work buffers per call.
template <class Space, class F>
void for_plane_batches(Space const& space, Index planes, F const& f) {
  auto const launch = space_traits<Space>::launcher(space);
  if constexpr (space_traits<Space>::on_device) {
    if (planes > 0) f(launch, Index(0), planes);
  } else if (Index const threads = tbb::this_task_arena::max_concurrency(); threads == 1 || planes >= 4 * threads) {
    // one thread, or enough planes to keep every thread busy: each runs on one thread, in its cache
    tbb::parallel_for(Index(0), planes, [&](Index p) { f(host::Serial{}, p, Index(1)); });
  } else {
    // a few (large) planes: their rows go parallel too
    tbb::parallel_for(Index(0), planes, [&](Index p) { f(launch, p, Index(1)); });
  }
}

/// An uninitialised buffer of n values of T in the space, ordered like its launches.
template <class T, class Space>
space_buffer_t<Space, T> allocate(Index n, Space const& space) {
  return space_traits<Space>::template allocate<T>(n, space);
}

}  // namespace distinv::optim::detail
