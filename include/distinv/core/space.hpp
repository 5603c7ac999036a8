#pragma once
// core/space.hpp: where a signal's memory lives and where its kernels run, as a type (a
// "space"): device::Host (host memory, Eigen tensors, oneTBB) or device::Cuda (GPU memory,
// CUDA kernels). space_traits<Space> says, for a space: `tensor<T, R>` (its Signal type),
// `buffer<E>` (an owning, uninitialised array of E; `allocate<E>(n, space)` makes one that
// follows the space's launch order), `span<E>` (a view of n elements), `launcher(space)`
// (runs the index functors of core/kernels/, see host/for_each.hpp), `upload` / `download`
// (copies of n elements between host memory and the space) and `all_reduce(comm, span, op)`
// (in place, over a host CommBackend's ranks). Specialised in host/space.hpp and
// cuda/space.cuh; a signal type names its space in signal_traits<X>::space_type.
// STL only.

namespace distinv {

/// Specialised for each space; the primary template marks "not a space".
template <class Space>
struct space_traits;

/// The Signal type of rank R over T in a space: Tensor<T, R> on the host.
template <class Space, class T, int R>
using space_tensor_t = typename space_traits<Space>::template tensor<T, R>;

/// An owning array of E in a space.
template <class Space, class E>
using space_buffer_t = typename space_traits<Space>::template buffer<E>;

}  // namespace distinv
