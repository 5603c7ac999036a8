#pragma once
// distributed/detail/tiled_prior.hpp: what the tiled priors share (DistributedPrior on the
// replicated signal, layout::SlabPrior on slabs): the prior kept at a stable address and two
// tiled processings of it, Processing<ProxProcessor<Prior>> and Processing<GradProcessor<Prior>>,
// built alike from the tiling options or a strategy builder. The derived class adds prox / grad
// for its own signals. optim/prior.hpp and tiling/ only.
#include <memory>
#include <utility>

#include "distinv/optim/prior.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv::detail {

template <class Ctx, class Prior, template <class> class Processing>
class TiledPrior {
 protected:
  using Prox = optim::ProxProcessor<Prior>;
  using Grad = optim::GradProcessor<Prior>;

 public:
  /// The tiling strategy.
  using strategy_type = typename Processing<Prox>::strategy_type;
  /// Builds the strategy for a signal shape.
  using builder_type = typename Processing<Prox>::builder_type;

  /// Tiles with a strategy built from `options`; at most `limit` patches per call. Throws Error for bad
  /// options.
  TiledPrior(Ctx& ctx, Prior prior, tiling::TilingOptions options, tiling::BatchLimit limit = {})
    requires tiling::StrategyFromOptions<strategy_type>
      : prior_(std::make_unique<Prior>(std::move(prior))),
        prox_(ctx, Prox{prior_.get()}, options, limit),
        grad_(ctx, Grad{prior_.get()}, options, limit) {}

  /// Tiles with the strategy `builder(shape)` returns; at most `limit` patches per call.
  TiledPrior(Ctx& ctx, Prior prior, builder_type builder, tiling::BatchLimit limit = {})
      : prior_(std::make_unique<Prior>(std::move(prior))),
        prox_(ctx, Prox{prior_.get()}, builder, limit),
        grad_(ctx, Grad{prior_.get()}, builder, limit) {}

  /// The prior.
  Prior const& prior() const noexcept { return *prior_; }
  /// The strategy of the last call's shape; throws Error before the first call.
  strategy_type const& strategy() const { return prox_.strategy(); }

 protected:
  std::unique_ptr<Prior> prior_;  // stable address for the processors
  Processing<Prox> prox_;
  Processing<Grad> grad_;
};

}  // namespace distinv::detail
