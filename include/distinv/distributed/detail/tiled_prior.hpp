#pragma once
// distributed/detail/tiled_prior.hpp: what the tiled processings and priors share
// (DistributedProcessing / DistributedPrior on the replicated signal, layout::SlabProcessing /
// SlabPrior on slabs). TiledProcessing: the context, the processor, the strategy builder and the
// batch bound (and an optional progress callback), built alike from the tiling options or a
// builder. TiledPrior: the prior kept at a
// stable address and two tiled processings of it, Processing<ProxProcessor<Prior>> and
// Processing<GradProcessor<Prior>>. The derived classes add the calls for their own signals.
// optim/prior.hpp and tiling/ only.
#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "distinv/core/tensor.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv::detail {

/// What a tiled processing holds: the context, the processor, how the strategy is built for a
/// signal shape and the batch bound. `Derived::name` names it in errors.
template <class Derived, class Ctx, class Processor, class Strategy>
class TiledProcessing {
 public:
  /// The tiling strategy.
  using strategy_type = Strategy;
  /// Tensor rank of the signals (4 or 5), the strategy's.
  static constexpr int rank = Strategy::rank;
  /// Builds the strategy for a signal shape.
  using builder_type = std::function<Strategy(Shape<rank> const&)>;

  /// Builds the strategy from the signal shape and `options`; at most `limit` patches (and bytes
  /// of windows) per processor call.
  TiledProcessing(Ctx& ctx, Processor processor, tiling::TilingOptions options, tiling::BatchLimit limit = {})
    requires tiling::StrategyFromOptions<Strategy>
      : TiledProcessing(ctx, std::move(processor), [options](Shape<rank> const& s) { return Strategy(s, options); },
                        limit) {}

  /// Builds the strategy with `builder(shape)` (a strategy built from more than the options);
  /// throws Error for a bad `limit`.
  TiledProcessing(Ctx& ctx, Processor processor, builder_type builder, tiling::BatchLimit limit = {})
      : ctx_(&ctx), processor_(std::move(processor)), builder_(std::move(builder)), limit_(limit) {
    limit.check(Derived::name);
  }

  /// The context it was made with.
  Ctx& context() const noexcept { return *ctx_; }
  /// The processor (denoiser).
  Processor const& processor() const noexcept { return processor_; }
  /// At most how many patches (and bytes of windows) go to one processor call.
  tiling::BatchLimit const& batch_limit() const noexcept { return limit_; }

  /// Called on each rank after each batch of its tiles: (tiles done, this rank's tiles in the
  /// call), from the thread that makes the call. For a progress line: the library prints nothing.
  using progress_type = std::function<void(Index done, Index total)>;
  /// Sets (or, empty, removes) the progress callback.
  void set_progress(progress_type f) { progress_ = std::move(f); }

 protected:
  /// `unary` (batch -> processed batch), reporting after each batch its tiles (its dimension 0
  /// over `per_tile`, the signal's) to the progress callback, out of `total`.
  template <class Unary>
  auto reporting(Unary& unary, Index per_tile, Index total) const {
    return [this, &unary, per_tile, total, done = Index(0)](auto const& batch) mutable {
      auto out = unary(batch);
      if (progress_) {
        done += shape_of(batch)[0] / std::max<Index>(per_tile, 1);
        progress_(done, total);
      }
      return out;
    };
  }

  Ctx* ctx_;
  Processor processor_;
  builder_type builder_;
  tiling::BatchLimit limit_;
  progress_type progress_;
};

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
  /// Sets the progress callback of the tiled prox and gradient (TiledProcessing::set_progress).
  void set_progress(typename Processing<Prox>::progress_type f) {
    prox_.set_progress(f);
    grad_.set_progress(std::move(f));
  }

 protected:
  std::unique_ptr<Prior> prior_;  // stable address for the processors
  Processing<Prox> prox_;
  Processing<Grad> grad_;
};

}  // namespace distinv::detail
