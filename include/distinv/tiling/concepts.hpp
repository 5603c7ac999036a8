#pragma once
// tiling/concepts.hpp: the SignalStrategy concept — how a signal of one fixed shape is cut
// into patches, how patches are batched for a processor and unbatched, and how processed
// patches are ADDED into a zero output so that per-rank contributions sum (all-reduce) to the
// final result. BasicStrategy, OverlapTilingStrategy and AnySignalStrategy model it over host
// tensors, cuda::OverlapTiling over device tensors; a user's strategy plugs in by modelling it
// too. core/ only.
#include <concepts>
#include <span>
#include <utility>
#include <vector>

#include "distinv/core/signal.hpp"

namespace distinv::tiling {

/// A processed host patch and the index of the patch it came from.
template <class T, int Rank>
using PatchPair = std::pair<Index, Tensor<T, Rank>>;

/// A strategy built for ONE signal shape (`signal_shape()`), with nested `scalar_type`,
/// `static constexpr int rank` and `tensor_type` (the Signal it cuts: host or device).
///  - `num_patches()`: how many patches cover the signal; patch indices are 0..n-1.
///  - `local_patches(x, indices)`: the (padded) windows of the given patches, in that order.
///  - `batch(patches, max_batch_size)`: consecutive patches concatenated along dim 0, order
///    kept; 0 = unlimited; patches of different shapes never share a batch.
///  - `unbatch(batches, counts)`: inverse of `batch`; `counts[k]` = patches in batch k.
///  - `reduce(out, pairs)`: ADDS the contribution of each (index, processed patch) into `out`
///    (signal shape). Summing `reduce` over a partition of all indices gives the result.
template <class S>
concept SignalStrategy =
    std::floating_point<typename S::scalar_type> && (S::rank == 4 || S::rank == 5) &&
    Signal<typename S::tensor_type> &&
    requires(S const& s, typename S::tensor_type const& x, std::span<Index const> indices,
             std::vector<typename S::tensor_type> const& tensors, Index max_batch_size, std::span<Index const> counts,
             std::span<std::pair<Index, typename S::tensor_type> const> pairs, typename S::tensor_type& out) {
      { s.signal_shape() } -> std::convertible_to<Shape<S::rank>>;
      { s.num_patches() } -> std::convertible_to<Index>;
      { s.local_patches(x, indices) } -> std::same_as<std::vector<typename S::tensor_type>>;
      { s.batch(tensors, max_batch_size) } -> std::same_as<std::vector<typename S::tensor_type>>;
      { s.unbatch(tensors, counts) } -> std::same_as<std::vector<typename S::tensor_type>>;
      s.reduce(out, pairs);
    };

template <class S>
using strategy_tensor_t = typename S::tensor_type;
/// A processed patch of strategy S and the index of the patch it came from.
template <class S>
using patch_pair_t = std::pair<Index, typename S::tensor_type>;

}  // namespace distinv::tiling
