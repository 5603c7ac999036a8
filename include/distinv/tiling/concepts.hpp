#pragma once
// tiling/concepts.hpp: the SignalStrategy concept — how a signal of one fixed shape is cut
// into patches, how patches are batched for a processor and unbatched, and how processed
// patches are ADDED into a zero output so that per-rank contributions sum (all-reduce) to the
// final result. BasicStrategy, OverlapTilingStrategy and AnySignalStrategy model it; a user's
// strategy plugs in by modelling it too. core/ only.
#include <concepts>
#include <span>
#include <utility>
#include <vector>

#include "distinv/core/tensor.hpp"

namespace distinv::tiling {

/// A processed patch and the index of the patch it came from.
template <class T, int Rank>
using PatchPair = std::pair<Index, Tensor<T, Rank>>;

/// A strategy built for ONE signal shape (`signal_shape()`), with nested `scalar_type` and
/// `static constexpr int rank`.
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
    requires(S const& s, Tensor<typename S::scalar_type, S::rank> const& x, std::span<Index const> indices,
             std::vector<Tensor<typename S::scalar_type, S::rank>> const& tensors, Index max_batch_size,
             std::span<Index const> counts, std::span<PatchPair<typename S::scalar_type, S::rank> const> pairs,
             Tensor<typename S::scalar_type, S::rank>& out) {
      { s.signal_shape() } -> std::convertible_to<Shape<S::rank>>;
      { s.num_patches() } -> std::convertible_to<Index>;
      { s.local_patches(x, indices) } -> std::same_as<std::vector<Tensor<typename S::scalar_type, S::rank>>>;
      { s.batch(tensors, max_batch_size) } -> std::same_as<std::vector<Tensor<typename S::scalar_type, S::rank>>>;
      { s.unbatch(tensors, counts) } -> std::same_as<std::vector<Tensor<typename S::scalar_type, S::rank>>>;
      s.reduce(out, pairs);
    };

template <class S>
using strategy_tensor_t = Tensor<typename S::scalar_type, S::rank>;

}  // namespace distinv::tiling
