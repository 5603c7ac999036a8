#pragma once
// tiling/process.hpp: the single-rank core of tiled processing. process_patches extracts the
// given patches of a signal, batches them, runs a processor on each batch and ADDS the
// results into `out` through the strategy's reduce; the distributed layer calls it with its
// local indices and all-reduces `out`. process_tiled is the one-process, all-patches wrapper.
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/concepts.hpp"

namespace distinv::tiling {

/// A processor maps a batch to a tensor of the same shape: `f(batch)`.
template <class F, class S>
concept PatchProcessor = SignalStrategy<S> && requires(F& f, strategy_tensor_t<S> const& b) {
  { f(b) } -> std::convertible_to<strategy_tensor_t<S>>;
};

namespace detail {
/// How many patches each batch holds, recovered from the dim-0 extents (batches keep order).
template <class TensorT>
std::vector<Index> batch_counts(std::vector<TensorT> const& patches, std::vector<TensorT> const& batches) {
  std::vector<Index> counts;
  std::size_t p = 0;
  for (auto const& b : batches) {
    Index rows = 0, n = 0;
    while (rows < b.dimension(0) && p < patches.size()) rows += patches[p++].dimension(0), ++n;
    DISTINV_REQUIRE(rows == b.dimension(0) && n > 0, "process_patches: the strategy's batches do not concatenate ",
                    "its patches in order along dim 0 (batch of ", b.dimension(0), " rows)");
    counts.push_back(n);
  }
  DISTINV_REQUIRE(p == patches.size(), "process_patches: the strategy's batches hold ", p, " patches, expected ",
                  patches.size());
  return counts;
}
}  // namespace detail

/// Adds into `out` (signal shape) the contribution of the patches `indices` of `x`, each
/// batch of at most `max_batch_size` patches (0 = unlimited) run through `processor(batch)`.
/// Throws Error if the processor changes a batch's shape.
template <SignalStrategy S, class F>
  requires PatchProcessor<F, S>
void process_patches(S const& strategy, strategy_tensor_t<S> const& x, std::span<Index const> indices, F&& processor,
                     Index max_batch_size, strategy_tensor_t<S>& out) {
  using TensorT = strategy_tensor_t<S>;
  DISTINV_REQUIRE(shape_of(out) == strategy.signal_shape(), "process_patches: expected an output of shape ",
                  to_string(strategy.signal_shape()), ", got ", to_string(shape_of(out)));
  std::vector<TensorT> batches;
  std::vector<Index> counts;
  {
    auto patches = strategy.local_patches(x, indices);
    DISTINV_REQUIRE(patches.size() == indices.size(), "process_patches: strategy returned ", patches.size(),
                    " patches for ", indices.size(), " indices");
    batches = strategy.batch(patches, max_batch_size);
    counts = detail::batch_counts(patches, batches);
  }  // patches freed: only the batches stay alive
  std::size_t next = 0;
  for (std::size_t k = 0; k < batches.size(); ++k) {
    std::vector<TensorT> processed;
    processed.emplace_back(processor(std::as_const(batches[k])));
    DISTINV_REQUIRE(shape_of(processed[0]) == shape_of(batches[k]), "process_patches: the processor returned shape ",
                    to_string(shape_of(processed[0])), " for a batch of shape ", to_string(shape_of(batches[k])),
                    " (it must keep the shape)");
    batches[k] = TensorT();  // release the batch early
    Index const c[1] = {counts[k]};
    auto parts = strategy.unbatch(processed, std::span<Index const>(c, 1));
    std::vector<patch_pair_t<S>> pairs;
    pairs.reserve(parts.size());
    for (auto& t : parts) pairs.emplace_back(indices[next++], std::move(t));
    strategy.reduce(out, std::span<patch_pair_t<S> const>(pairs));
  }
}

/// One process, every patch: returns the processed signal. `processor(batch, sigma)`.
template <SignalStrategy S, class F>
strategy_tensor_t<S> process_tiled(S const& strategy, strategy_tensor_t<S> const& x, F&& processor, double sigma,
                                   Index max_batch_size = 0) {
  std::vector<Index> idx(static_cast<std::size_t>(strategy.num_patches()));
  std::iota(idx.begin(), idx.end(), Index(0));
  auto out = zeros_of<strategy_tensor_t<S>>(strategy.signal_shape());
  auto unary = [&](strategy_tensor_t<S> const& b) -> strategy_tensor_t<S> { return processor(b, sigma); };
  process_patches(strategy, x, std::span<Index const>(idx), unary, max_batch_size, out);
  return out;
}

}  // namespace distinv::tiling
