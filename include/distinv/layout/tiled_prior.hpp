#pragma once
// layout/tiled_prior.hpp: the tiled prior on a signal in the slab layout, with no image-sized
// all-reduce. The tiles are the replicated strategy's (one global TileLayout, so the result is
// DistributedProcessing's); rank r processes the patches whose reduce box STARTS in its rows.
// SlabTiles: the rows one rank's windows read and its boxes write, and its patches re-laid out
// on that block of rows; SlabProcessing: one RowExchange gathers the rows read, process_patches
// runs on the block, a second one's scatter_add sends the rows written back to their owners
// (blended tiles: per colour, summed exactly as reduce::Exact does). SlabPrior: a prior's prox /
// grad so. tiling/, layout/, the context and the exact sum of distributed/detail; host only.
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/context.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/core/warn_once.hpp"
#include "distinv/device.hpp"
#include "distinv/distributed/detail/exact_sum.hpp"
#include "distinv/distributed/detail/tiled_prior.hpp"
#include "distinv/distributed/detail/tiled_sum.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/rows.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/layout.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/process.hpp"
#include "distinv/tiling/tile_tables.hpp"

namespace distinv::layout {

/// What rank `rank` of a slab layout does with a global TileLayout: its patches (those whose
/// reduce box is non-empty and starts, along dim 2, in the rank's rows; every patch goes to
/// exactly one rank), the global rows of its block — every row its windows read through the
/// source maps (rows of the boundary rule's padding included, wherever they lie) and every row
/// its boxes write, in increasing order — and its patches laid out on that block (source maps
/// and box starts of dim 2 renumbered to block rows; everything else as in the global layout).
///
/// Size of the block: with H tiled by patch p, halo h (OverlapTilingStrategy), at most the rank's
/// rows + 2 (p + h), whatever the number of ranks (rows held by ranks further away than a neighbour
/// are fetched too); a strategy that does not tile H (or one tile spanning H) gives every patch
/// to the rank holding row 0 and a block of all H rows: correct, but neither memory nor work
/// falls with the ranks (`rows().size()` says what a rank holds; SlabProcessing warns once).
template <int Rank>
class SlabTiles {
 public:
  /// The dimension split into slabs (SlabTensor::row_dim).
  static constexpr int row_dim = 2;

  /// Rank `rank`'s share of `global` for a signal split by `part`; throws Error unless `part` splits
  /// the layout's rows and `rank` is one of its ranks.
  SlabTiles(tiling::TileLayout<Rank> const& global, RowPartition part, int rank) : part_(std::move(part)) {
    Index const n = global.signal_shape()[row_dim];
    DISTINV_REQUIRE(part_.rows() == n, "SlabTiles: expected a partition of the tiled signal's ", n, " rows, got ",
                    part_.to_string());
    DISTINV_REQUIRE(rank >= 0 && rank < part_.ranks(), "SlabTiles: expected a rank in [0, ", part_.ranks(), "), got ",
                    rank);
    std::vector<char> read(std::size_t(n), 0), written(std::size_t(n), 0);
    for (Index p = 0; p < global.num_patches(); ++p) {
      auto const& b = global.box(p);
      if (std::any_of(b.size.begin(), b.size.end(), [](Index s) { return s == 0; })) continue;  // adds nothing
      if (part_.owner(b.dst_start[row_dim]) != rank) continue;
      patches_.push_back(p);
      for (Index g : global.source_map(p, row_dim))
        if (g >= 0) read[std::size_t(g)] = 1;
      std::fill_n(written.begin() + b.dst_start[row_dim], b.size[row_dim], char(1));
    }
    std::vector<Index> at(std::size_t(n), -1);  // global row -> block row
    for (Index g = 0; g < n; ++g) {
      if (!read[std::size_t(g)] && !written[std::size_t(g)]) continue;
      at[std::size_t(g)] = Index(rows_.size());
      rows_.push_back(g);
      read_rows_.push_back(read[std::size_t(g)] ? g : -1);
      write_rows_.push_back(written[std::size_t(g)] ? g : -1);
    }
    if (patches_.empty()) return;
    Shape<Rank> block = global.signal_shape();
    block[row_dim] = Index(rows_.size());
    local_.emplace(block);
    for (Index p : patches_) {
      std::array<std::vector<Index>, Rank> maps;
      std::array<std::span<double const>, Rank> weights;
      for (int d = 0; d < Rank; ++d) {
        auto const m = global.source_map(p, d);
        maps[std::size_t(d)].assign(m.begin(), m.end());
        weights[std::size_t(d)] = global.weights(p, d);
      }
      for (Index& g : maps[row_dim])
        if (g >= 0) g = at[std::size_t(g)];
      auto box = global.box(p);  // its rows are consecutive rows of the block (all of them are in it)
      box.dst_start[row_dim] = at[std::size_t(box.dst_start[row_dim])];
      local_->add(global.window_shape(p), box, maps, weights);
    }
  }

  /// The row partition it was built for.
  RowPartition const& partition() const noexcept { return part_; }
  /// The global indices of this rank's patches, increasing.
  std::vector<Index> const& patches() const noexcept { return patches_; }
  /// The global rows of the block, increasing.
  std::vector<Index> const& rows() const noexcept { return rows_; }
  /// rows() with -1 where the windows read nothing (the list the input RowExchange gathers).
  std::vector<Index> const& read_rows() const noexcept { return read_rows_; }
  /// rows() with -1 where no box writes (the list whose scatter_add returns the result).
  std::vector<Index> const& write_rows() const noexcept { return write_rows_; }
  /// The patches on the block (signal shape: dim 2 = rows().size()); none if no patches.
  tiling::TileLayout<Rank> const* layout() const noexcept { return local_ ? &*local_ : nullptr; }

 private:
  RowPartition part_;
  std::vector<Index> patches_, rows_, read_rows_, write_rows_;
  std::optional<tiling::TileLayout<Rank>> local_;
};

/// Applies a processor (`p(batch, sigma)`, a denoiser) tile by tile to a SlabTensor laid out over
/// the context's ranks. Each rank gathers the rows its patches read (one all_to_allv), processes
/// its patches a bounded batch at a time (the BatchLimit, as DistributedProcessing) into a zero
/// block of the rows they write, and scatter_adds that block (one all_to_allv): each rank ends
/// with its rows of the result. Crop-and-paste writes one value per sample: the result is
/// DistributedProcessing's, bit for bit. Blended tiles overlap: with reduce::Exact (the default)
/// the patches are coloured as DistributedProcessing colours them (boxes of one colour
/// disjoint), each colour is added into a block of its own, the blocks stacked along dim 0 go
/// back in the one scatter_add, and each rank sums its rows' colour terms exactly at the scale
/// the ranks agree on (one all-reduce of 2 integers): again DistributedProcessing's result bit
/// for bit, on any partition. reduce::Plain adds the blended contributions in floating point
/// (per rank, then in rank order): equal to rounding, and the last bits depend on the partition.
/// Per call: an error agreement and the two exchanges. When the signal's shape or partition is
/// not the last call's (the first call), the ranks first check that they agree on it (one
/// all_gatherv of P + R + 2 integers per rank), then the strategy, the blocks' layout and the
/// exchanges are rebuilt; so every rank must change its signal's layout together (a signal laid
/// out as the last one on some ranks and otherwise on others is not detected).
/// Memory per rank: the gathered block and the result block (C blocks stacked, C = 4 colours
/// for 2-D blends with reduce::Exact), a batch, and for the exact blend C slabs of the rank's
/// rows plus their digits.
template <class Ctx, class Processor, tiling::SignalStrategy Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact>
class SlabProcessing
    : public distinv::detail::TiledProcessing<SlabProcessing<Ctx, Processor, Strategy, Reduce>, Ctx, Processor, Strategy> {
  using Base = distinv::detail::TiledProcessing<SlabProcessing, Ctx, Processor, Strategy>;
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
  static constexpr char const* name = "SlabProcessing";
  /// How blended contributions are summed (reduce::Exact or reduce::Plain).
  using reduction_policy = Reduce;
  /// The backend of the context and of the slab tensors.
  using comm_type = typename Ctx::comm_type;
  static_assert(std::is_same_v<typename Ctx::device_type, device::Host>,
                "SlabProcessing: slab tensors live in host memory (a host context)");

  /// The strategy of the last call's shape; throws Error before the first call.
  Strategy const& strategy() const { return plan("strategy").strategy; }
  /// This rank's share of the last call's tiles; throws Error before the first call.
  SlabTiles<rank> const& tiles() const { return plan("tiles").tiles; }

  /// This rank's rows of the processed signal. `x` must be laid out over the context's ranks; ranks
  /// that disagree on its shape or partition, a failing processor: the same Error on every rank.
  template <class T>
  SlabTensor<T, rank, comm_type> operator()(SlabTensor<T, rank, comm_type> const& x, double sigma) {
    return process(x, nullptr, sigma);
  }
  /// The same, taking `x`: its slab is released once its rows are gathered, so that the
  /// signal, the rows read and the result are not all held at once (one slab less at the peak).
  template <class T>
  SlabTensor<T, rank, comm_type> operator()(SlabTensor<T, rank, comm_type>&& x, double sigma) {
    std::optional<SlabTensor<T, rank, comm_type>> owned(std::move(x));
    return process(*owned, &owned, sigma);
  }

 private:
  /// operator(): `owned`, when given, holds x and is emptied once x's rows are gathered (x is
  /// not used after that).
  template <class T>
  SlabTensor<T, rank, comm_type> process(SlabTensor<T, rank, comm_type> const& x,
                                         std::type_identity_t<std::optional<SlabTensor<T, rank, comm_type>>>* owned,
                                         double sigma) {
    using Slab = SlabTensor<T, rank, comm_type>;
    constexpr char const* what = "slab processing";
    if (!plan_ || plan_->strategy.signal_shape() != x.shape() || plan_->tiles.partition() != x.partition()) {
      plan_.reset();
      agree_on_layout(x);
      auto tiled = ctx_->collectively(what, [&] {
        Strategy s = builder_(x.shape());
        DISTINV_REQUIRE(s.signal_shape() == x.shape(), "SlabProcessing: the strategy was built for shape ",
                        to_string(s.signal_shape()), ", the signal has ", to_string(x.shape()));
        return std::make_shared<Plan>(std::move(s), x.partition(), ctx_->rank());
      });
      tiled->connect(ctx_->comm());  // two RowExchanges: collectives, their errors alike on every rank
      plan_ = std::move(tiled);
      warn_if_rows_unsplit();
    }
    Plan const& p = *plan_;
    int const colours = int(p.ids.size());
    Shape<rank> const shape = x.shape();
    RowPartition const part = x.partition();
    Tensor<T, rank> out;  // colour c's contributions in planes [c B, (c + 1) B) (dim 0 stacked)
    {
      Tensor<T, rank> const in = p.read->gather(x);
      if (owned) owned->reset();  // x is gone from here on
      Shape<rank> stacked = distinv::shape_of(in);
      stacked[0] *= colours;
      out = Tensor<T, rank>(stacked);
      out.setZero();
      auto unary = [&](Tensor<T, rank> const& batch) -> Tensor<T, rank> { return processor_(batch, sigma); };
      auto reported = this->reporting(unary, in.dimension(0), Index(p.tiles.patches().size()));
      ctx_->collectively(what, [&] {
        if (!p.tables) return;
        auto add = [&](int c, Tensor<T, rank>& into) {
          tiling::process_patches(*p.tables, in, std::span<Index const>(p.ids[std::size_t(c)]), reported, limit_, into);
        };
        if (colours == 1) return add(0, out);
        Tensor<T, rank> part(distinv::shape_of(in));
        for (int c = 0; c < colours; ++c) {
          if (p.ids[std::size_t(c)].empty()) continue;
          part.setZero();
          add(c, part);
          std::copy_n(part.data(), part.size(), out.data() + c * part.size());
        }
      });
    }  // the gathered rows are released before the result is assembled
    if (colours == 1) {
      auto y = Slab::zeros(ctx_->comm(), shape, part);
      p.write->scatter_add(out, y);
      return y;
    }
    Shape<rank> stacked = shape;
    stacked[0] *= colours;
    auto terms = Slab::zeros(ctx_->comm(), stacked, part);
    p.write->scatter_add(out, terms);
    out = Tensor<T, rank>();
    return exact_colour_sum(terms, Slab::zeros(ctx_->comm(), shape, part), colours);
  }

  /// The strategy, this rank's tiles, their tables and exchanges (the tables refer to the
  /// tiles' layout, hence never moved once built).
  struct Plan {
    Plan(Strategy s, RowPartition const& part, int r) : strategy(std::move(s)), tiles(strategy.tile_layout(), part, r) {
      int colours = 1;
      std::vector<int> colour;
      if constexpr (Reduce::exact)
        colour = distinv::detail::colour_patches(distinv::detail::write_boxes(strategy.tile_layout()), colours);
      ids.resize(std::size_t(std::max(colours, 1)));
      for (std::size_t k = 0; k < tiles.patches().size(); ++k)
        ids[colour.empty() ? 0 : std::size_t(colour[std::size_t(tiles.patches()[k])])].push_back(Index(k));
      if (tiles.layout()) tables.emplace(*tiles.layout());
    }
    void connect(comm_type const& comm) {
      read.emplace(comm, tiles.partition(), tiles.read_rows());
      write.emplace(comm, tiles.partition(), tiles.write_rows());
    }
    Strategy strategy;
    SlabTiles<rank> tiles;
    std::vector<std::vector<Index>> ids;  ///< per colour, the patches of the block's layout (one colour: all)
    std::optional<tiling::TileTables<device::Host, rank>> tables;
    std::optional<RowExchange<comm_type>> read, write;
  };

  /// Σ_c of the colour terms (planes [c B, (c + 1) B) of `terms`) into `y` (zeros laid out as the
  /// result): as agreed_sum sums the replicated colour signals (the same terms, the same agreed
  /// scale), or in colour order where some term is not finite.
  template <class T>
  SlabTensor<T, rank, comm_type> exact_colour_sum(SlabTensor<T, rank, comm_type> const& terms,
                                                  SlabTensor<T, rank, comm_type> y, int colours) const {
    auto const m = distinv::detail::magnitude(flat(terms.local()));
    std::array<std::int64_t, 2> agree{m.exponent, m.finite ? 0 : 1};
    ctx_->all_reduce(std::span<std::int64_t>(agree), ReduceOp::max);
    std::size_t const n = std::size_t(y.local().size());
    std::vector<T const*> parts;
    for (int c = 0; c < colours; ++c) parts.push_back(terms.local().data() + std::size_t(c) * n);
    if (agree[1] != 0) {  // not finite: a plain sum (its result is not finite either)
      for (T const* t : parts)
        for (std::size_t e = 0; e < n; ++e) y.local().data()[e] += t[e];
    } else if (agree[0] != distinv::detail::no_exponent) {
      distinv::detail::FixedSum<T> const sum(std::span<T const* const>(parts), n, agree[0], colours);
      sum.result(flat(y.local()));
    }
    return y;
  }

  /// Says so (once) when no patch splits dim 2 on more than one rank: rank 0 then does it all.
  void warn_if_rows_unsplit() const {
    auto const& layout = plan_->strategy.tile_layout();
    Index const n = layout.signal_shape()[SlabTiles<rank>::row_dim];
    if (ctx_->world_size() == 1 || layout.num_patches() == 0) return;
    for (Index i = 0; i < layout.num_patches(); ++i)
      if (layout.box(i).size[SlabTiles<rank>::row_dim] != n) return;
    warn_once(distinv::detail::cat("SlabProcessing: every tile spans all ", n, " rows of dim 2, so the rank of row 0 ",
                                   "processes every patch and holds every row (tile dim 2, or use the replicated layout)"));
  }

  Plan const& plan(char const* what) const {
    DISTINV_REQUIRE(plan_ != nullptr, "SlabProcessing::", what, ": no signal processed yet");
    return *plan_;
  }

  /// Throws the same Error on every rank unless all ranks hold slabs of one shape under one
  /// partition over the context's ranks (one all_gatherv of a fixed size, whatever the input).
  template <class T>
  void agree_on_layout(SlabTensor<T, rank, comm_type> const& x) const {
    int const P = ctx_->world_size();
    std::size_t const len = std::size_t(rank) + std::size_t(P) + 2;  // ranks of the partition, shape, offsets
    std::vector<std::int64_t> mine(len, -1);
    mine[0] = x.partition().ranks();
    std::copy(x.shape().begin(), x.shape().end(), mine.begin() + 1);
    if (x.partition().ranks() == P) std::copy(x.partition().offsets().begin(), x.partition().offsets().end(),
                                              mine.begin() + 1 + rank);
    std::vector<std::int64_t> all(len * std::size_t(P));
    std::vector<Index> const counts(static_cast<std::size_t>(P), Index(len));
    ctx_->comm().all_gatherv(std::span<std::int64_t const>(mine), std::span<std::int64_t>(all),
                             std::span<Index const>(counts));
    auto of = [&](int q) { return std::span<std::int64_t const>(all.data() + std::size_t(q) * len, len); };
    auto describe = [&](int q) {
      auto const v = of(q);
      std::string s = "rank " + std::to_string(q) + " has shape (";
      for (int d = 0; d < rank; ++d) s += (d ? ", " : "") + std::to_string(v[std::size_t(d) + 1]);
      s += ") and rows [";
      for (int k = 0; k <= P; ++k) s += (k ? ", " : "") + std::to_string(v[std::size_t(rank + 1 + k)]);
      return s + "]";
    };
    for (int q = 0; q < P; ++q) {
      if (of(q)[0] != P)
        fail("SlabProcessing: rank ", q, "'s signal is split over ", of(q)[0], " ranks, expected the context's ", P);
      if (!std::equal(of(q).begin(), of(q).end(), of(0).begin()))
        fail("SlabProcessing: the ranks disagree on the signal's layout: ", describe(0), ", ", describe(q));
    }
  }

  std::shared_ptr<Plan> plan_;
};

namespace detail {
template <class Ctx, class Strategy, class Reduce>
struct SlabProcessingOf {
  template <class Processor>
  using type = SlabProcessing<Ctx, Processor, Strategy, Reduce>;
};
}  // namespace detail

/// A prior applied tile by tile to a SlabTensor (as DistributedPrior to a replicated signal):
/// prox(x, sigma) runs the prior's prox; grad(x) its gradient where it has one (exact where the
/// halo covers the gradient's receptive field).
template <class Ctx, class Prior, tiling::SignalStrategy Strategy = tiling::OverlapTilingStrategy<4>,
          ReductionPolicy Reduce = reduce::Exact>
class SlabPrior
    : public distinv::detail::TiledPrior<Ctx, Prior, detail::SlabProcessingOf<Ctx, Strategy, Reduce>::template type> {
  using Base = distinv::detail::TiledPrior<Ctx, Prior, detail::SlabProcessingOf<Ctx, Strategy, Reduce>::template type>;
  using Comm = typename Ctx::comm_type;

 public:
  using Base::Base;

  /// The prior's prox at strength sigma, tile by tile: this rank's rows of the result.
  template <class T>
  SlabTensor<T, Strategy::rank, Comm> prox(SlabTensor<T, Strategy::rank, Comm> const& x, double sigma) {
    return this->prox_(x, sigma);
  }
  /// The same, taking `x` (released once its rows are gathered: one slab less at the peak).
  template <class T>
  SlabTensor<T, Strategy::rank, Comm> prox(SlabTensor<T, Strategy::rank, Comm>&& x, double sigma) {
    return this->prox_(std::move(x), sigma);
  }

  /// The prior's gradient, tile by tile (where the prior has one): this rank's rows of it.
  template <class T>
    requires requires(Prior const& p, Tensor<T, Strategy::rank> const& t) { p.grad(t); }
  SlabTensor<T, Strategy::rank, Comm> grad(SlabTensor<T, Strategy::rank, Comm> const& x) {
    return this->grad_(x, 0.0);
  }
};

}  // namespace distinv::layout
