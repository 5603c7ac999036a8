#pragma once
// distributed/processing.hpp: DistributedProcessing applies a processor (a denoiser,
// `p(batch, sigma)`) tile by tile over the ranks: the strategy lays the signal out in
// patches, the context's sharding gives each rank its patches, each rank processes them a
// bounded batch at a time and adds their contributions into a zero buffer, then ONE
// all-reduce assembles the result (exactly, with reduce::Exact, where tiles overlap:
// distributed/detail/tiled_sum.hpp). DistributedPrior does the same for a prior's prox.
// The strategy and its tables (in the context's device space) are rebuilt only when the
// signal's shape changes.
#include <functional>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "distinv/core/signal.hpp"
#include "distinv/distributed/detail/tiled_prior.hpp"
#include "distinv/distributed/detail/tiled_sum.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/process.hpp"
#include "distinv/tiling/tile_tables.hpp"

namespace distinv {

/// A processor (a denoiser: `p(batch, sigma)`) applied tile by tile: the patches of a `Strategy` are shared out
/// over the ranks, each rank processes its own in batches (at most batch_limit() per call) and adds their boxes
/// into a zero signal; the ranks' parts are summed with `Reduce`. The strategy is built for the signal's shape
/// on the first call (and rebuilt when the shape changes).
template <class Ctx, class Processor, tiling::SignalStrategy Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact>
class DistributedProcessing
    : public detail::TiledProcessing<DistributedProcessing<Ctx, Processor, Strategy, Reduce>, Ctx, Processor, Strategy> {
  using Base = detail::TiledProcessing<DistributedProcessing, Ctx, Processor, Strategy>;
  using Base::builder_;
  using Base::ctx_;
  using Base::limit_;
  using Base::processor_;

 public:
  using Base::Base;
  using Base::rank;
  using typename Base::builder_type;
  using typename Base::strategy_type;
  /// Its name in errors.
  static constexpr char const* name = "DistributedProcessing";
  /// How the ranks' parts are summed (reduce::Exact by default).
  using reduction_policy = Reduce;
  /// Where the signals live (and the strategy's tables with them): the context's device.
  using space_type = typename Ctx::device_type;

  /// The strategy of the last call's shape (built on the first call).
  Strategy const& strategy() const {
    DISTINV_REQUIRE(tiled_ != nullptr, "DistributedProcessing::strategy: no signal processed yet");
    return tiled_->strategy;
  }

  /// The processed signal on every rank (`global`, summed over the ranks with the
  /// ReductionPolicy), or (`local`) this rank's contribution (zeros outside its patches),
  /// which summed over the ranks gives the result.
  template <Signal X, ResultScope W = Global>
    requires(rank_v<X> == rank)
  std::remove_cvref_t<X> operator()(X const& x, double sigma, W = W{}) {
    using Sig = std::remove_cvref_t<X>;
    static_assert(std::is_same_v<space_of_t<Sig>, space_type>,
                  "DistributedProcessing: the signal must live in the context's device space");
    auto mine = [&] {  // this rank's patches, the strategy (re)built for x's shape
      if (!tiled_ || tiled_->strategy.signal_shape() != shape_of(x)) {
        tiled_.reset();
        tiled_ = std::make_shared<Tiled const>(builder_(shape_of(x)), ctx_->device());
        DISTINV_REQUIRE(tiled_->strategy.signal_shape() == shape_of(x),
                        "DistributedProcessing: the strategy was built for shape ",
                        to_string(tiled_->strategy.signal_shape()), ", the signal has ", to_string(shape_of(x)));
      }
      return ctx_->local_indices(tiled_->strategy.tile_layout().num_patches());
    };
    auto unary = [&](Sig const& batch) -> Sig { return processor_(batch, sigma); };
    // adds patches into out, each batch reported (out of this rank's patches) by `reported`
    auto add_with = [&](auto& reported) {
      return [&](std::span<Index const> patches, Sig& out) {
        tiling::process_patches(tiled_->tables, x, patches, reported, limit_, out);
      };
    };
    if constexpr (is_local_v<W>) {
      auto const patches = mine();
      auto reported = this->reporting(unary, shape_of(x)[0], Index(patches.size()));
      auto out = zeros_of<Sig>(shape_of(x));
      add_with(reported)(std::span<Index const>(patches), out);
      return out;
    } else {
      auto const patches = ctx_->collectively("distributed processing", mine);
      auto reported = this->reporting(unary, shape_of(x)[0], Index(patches.size()));
      return detail::tiled_sum<Reduce, Sig>(*ctx_, "distributed processing", tiled_->strategy.tile_layout(), patches,
                                            add_with(reported));
    }
  }

 private:
  /// A strategy and its tables, which refer to its layout (hence never moved once built).
  struct Tiled {
    Tiled(Strategy s, space_type const& space) : strategy(std::move(s)), tables(strategy.tile_layout(), space) {}
    Strategy strategy;
    tiling::TileTables<space_type, rank> tables;
  };

  std::shared_ptr<Tiled const> tiled_;
};

namespace detail {
template <class Ctx, class Strategy, class Reduce>
struct DistributedProcessingOf {
  template <class Processor>
  using type = DistributedProcessing<Ctx, Processor, Strategy, Reduce>;
};
}  // namespace detail

/// A prior spread over the ranks by tiling: prox(x, sigma) runs the prior's prox (a PnP
/// denoiser, TV, ...) tile by tile; grad(x) likewise where the prior has a gradient (exact when
/// the halo covers the gradient's receptive field); fn(x) is evaluated on the whole signal.
template <class Ctx, class Prior, tiling::SignalStrategy Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact>
class DistributedPrior
    : public detail::TiledPrior<Ctx, Prior, detail::DistributedProcessingOf<Ctx, Strategy, Reduce>::template type> {
  using Base = detail::TiledPrior<Ctx, Prior, detail::DistributedProcessingOf<Ctx, Strategy, Reduce>::template type>;

 public:
  using Base::Base;

  /// The prior's prox at strength sigma, tile by tile over the ranks (`local`: this rank's part only).
  template <Signal X, ResultScope W = Global>
  std::remove_cvref_t<X> prox(X const& x, double sigma, W where = W{}) {
    return this->prox_(x, sigma, where);
  }

  /// The prior's gradient, tile by tile over the ranks (where the prior has one).
  template <Signal X, ResultScope W = Global>
    requires requires(Prior const& p, X const& t) { p.grad(t); }
  std::remove_cvref_t<X> grad(X const& x, W where = W{}) {
    return this->grad_(x, 0.0, where);
  }

  /// The prior's value at x (on the whole signal, not tiled; where the prior has one).
  template <Signal X>
    requires requires(Prior const& p, X const& t) { p.fn(t); }
  double fn(X const& x) const {
    return this->prior_->fn(x);
  }
};

}  // namespace distinv
