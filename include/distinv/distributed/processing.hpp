#pragma once
// distributed/processing.hpp: DistributedProcessing applies a processor (a denoiser,
// `p(batch, sigma)`) tile by tile over the ranks: the strategy cuts the signal into patches,
// the context's sharding gives each rank its patches, each rank processes them in batches of
// at most max_batch_size and adds their contributions into a zero buffer, then ONE
// all-reduce assembles the result (exactly, with reduce::Exact, where tiles overlap).
// DistributedPrior does the same for a prior's prox.
// The strategy is rebuilt only when the signal's shape changes.
#include <functional>
#include <optional>
#include <span>
#include <utility>

#include "distinv/distributed/detail/tiled_sum.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/process.hpp"

namespace distinv {

template <class Ctx, class Processor, tiling::SignalStrategy Strategy, ReductionPolicy Reduce = reduce::Exact>
class DistributedProcessing {
 public:
  using strategy_type = Strategy;
  using reduction_policy = Reduce;
  using tensor_type = tiling::strategy_tensor_t<Strategy>;
  using builder_type = std::function<Strategy(Shape<Strategy::rank> const&)>;

  /// Builds the strategy from the signal shape and `options` (OverlapTilingStrategy, ...).
  DistributedProcessing(Ctx& ctx, Processor processor, tiling::TilingOptions options, Index max_batch_size = 0)
    requires std::constructible_from<Strategy, Shape<Strategy::rank> const&, tiling::TilingOptions const&>
      : DistributedProcessing(ctx, std::move(processor),
                              [options](Shape<Strategy::rank> const& s) { return Strategy(s, options); },
                              max_batch_size) {}

  /// Builds the strategy with `builder(shape)` (a user's own strategy, for instance).
  DistributedProcessing(Ctx& ctx, Processor processor, builder_type builder, Index max_batch_size = 0)
      : ctx_(&ctx), processor_(std::move(processor)), builder_(std::move(builder)), max_batch_(max_batch_size) {
    DISTINV_REQUIRE(max_batch_size >= 0, "DistributedProcessing: expected max_batch_size >= 0 (0 = unlimited), got ",
                    max_batch_size);
  }

  Ctx& context() const noexcept { return *ctx_; }
  Processor const& processor() const noexcept { return processor_; }
  /// The strategy of the last call's shape (built on the first call).
  Strategy const& strategy() const {
    DISTINV_REQUIRE(strategy_.has_value(), "DistributedProcessing::strategy: no signal processed yet");
    return *strategy_;
  }

  /// The processed signal on every rank (summed over the ranks with the ReductionPolicy:
  /// distributed/detail/tiled_sum.hpp), or (`local`) this rank's contribution (zeros outside
  /// its patches), which summed over the ranks gives the result.
  template <ResultScope W = Global>
  tensor_type operator()(tensor_type const& x, double sigma, W = W{}) {
    auto mine = [&] {  // this rank's patches, the strategy (re)built for x's shape
      if (!strategy_ || strategy_->signal_shape() != shape_of(x)) {
        strategy_.reset();
        strategy_.emplace(builder_(shape_of(x)));
      }
      return ctx_->local_indices(strategy_->num_patches());
    };
    auto unary = [&](tensor_type const& batch) -> tensor_type { return processor_(batch, sigma); };
    auto add = [&](std::span<Index const> patches, tensor_type& out) {
      tiling::process_patches(*strategy_, x, patches, unary, max_batch_, out);
    };
    if constexpr (is_local_v<W>) {
      auto const patches = mine();
      tensor_type out = zeros_of<tensor_type>(shape_of(x));
      add(std::span<Index const>(patches), out);
      return out;
    } else {
      auto const patches = ctx_->collectively("distributed processing", mine);
      return detail::tiled_sum<Reduce, tensor_type>(*ctx_, "distributed processing", *strategy_, patches, add);
    }
  }

 private:
  Ctx* ctx_;
  Processor processor_;
  builder_type builder_;
  Index max_batch_;
  std::optional<Strategy> strategy_;
};

/// A prior spread over the ranks by tiling: prox(x, sigma) runs the prior's prox (a PnP
/// denoiser, TV, ...) tile by tile; grad(x) likewise where the prior has a gradient (exact when
/// the halo covers the gradient's receptive field); fn(x) is evaluated on the whole signal.
template <class Ctx, class Prior, tiling::SignalStrategy Strategy, ReductionPolicy Reduce = reduce::Exact>
class DistributedPrior {
  struct Prox {
    Prior const* prior;
    template <class X>
    X operator()(X const& batch, double sigma) const { return prior->prox(batch, sigma); }
  };
  struct Grad {
    Prior const* prior;
    template <class X>
    X operator()(X const& batch, double) const { return prior->grad(batch); }
  };

 public:
  using tensor_type = tiling::strategy_tensor_t<Strategy>;

  DistributedPrior(Ctx& ctx, Prior prior, tiling::TilingOptions options, Index max_batch_size = 0)
      : prior_(std::make_unique<Prior>(std::move(prior))),
        prox_(ctx, Prox{prior_.get()}, options, max_batch_size),
        grad_(ctx, Grad{prior_.get()}, options, max_batch_size) {}

  DistributedPrior(Ctx& ctx, Prior prior, typename DistributedProcessing<Ctx, Prox, Strategy, Reduce>::builder_type builder,
                   Index max_batch_size = 0)
      : prior_(std::make_unique<Prior>(std::move(prior))),
        prox_(ctx, Prox{prior_.get()}, builder, max_batch_size),
        grad_(ctx, Grad{prior_.get()}, builder, max_batch_size) {}

  Prior const& prior() const noexcept { return *prior_; }
  Strategy const& strategy() const { return prox_.strategy(); }

  template <ResultScope W = Global>
  tensor_type prox(tensor_type const& x, double sigma, W where = W{}) {
    return prox_(x, sigma, where);
  }

  template <ResultScope W = Global>
  tensor_type grad(tensor_type const& x, W where = W{})
    requires requires(Prior const& p, tensor_type const& t) { p.grad(t); }
  {
    return grad_(x, 0.0, where);
  }

  double fn(tensor_type const& x) const
    requires requires(Prior const& p, tensor_type const& t) { p.fn(t); }
  {
    return prior_->fn(x);
  }

 private:
  std::unique_ptr<Prior> prior_;  // stable address for the processors
  DistributedProcessing<Ctx, Prox, Strategy, Reduce> prox_;
  DistributedProcessing<Ctx, Grad, Strategy, Reduce> grad_;
};

}  // namespace distinv
