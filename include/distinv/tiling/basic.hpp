#pragma once
// tiling/basic.hpp: BasicStrategy<Rank> (runtime name "basic"): the chosen dims split into a
// given number of pieces each, as equal as possible (the first pieces one larger), no halo,
// no padding; each piece is pasted back whole (patch_size {auto_patch}: the cost model's,
// without halo). Computes a TileLayout; models SignalStrategy. core/ only.
#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/layout.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/patch_size.hpp"

namespace distinv::tiling {

/// deepinv's BasicStrategy (runtime name "basic"): the tiled dims split into num_splits nearly equal pieces, no
/// halo, no overlap; each piece is processed as it is. Models SignalStrategy.
template <int Rank = 4>
class BasicStrategy {
 public:
  /// Tensor rank (4: (B, C, H, W), 5: (B, C, D, H, W)).
  static constexpr int rank = Rank;

  /// One piece: its start and size in the signal.
  struct Box {
    /// Start of the piece.
    Shape<Rank> start;
    /// Size of the piece.
    Shape<Rank> size;
  };

  /// `dims`: tensor dims to split (empty = spatial dims); `num_splits`: pieces per dim (one
  /// value for all, or one per dim), each in [1, size of that dim].
  BasicStrategy(Shape<Rank> const& shape, std::vector<int> const& dims, std::vector<Index> const& num_splits)
      : shape_(shape) {
    static_assert(Rank == 4 || Rank == 5, "BasicStrategy: rank must be 4 (B,C,H,W) or 5 (B,C,D,H,W)");
    constexpr char const* who = "BasicStrategy";
    for (int d = 0; d < Rank; ++d)
      DISTINV_REQUIRE(shape[d] > 0, who, ": signal shape must be positive, got ", to_string(shape));
    dims_ = detail::resolve_tiled_dims<Rank>(dims, who);
    splits_ = detail::per_dim(num_splits, dims_.size(), who, "num_splits");
    build();
  }

  /// From the tiling options (what the name "basic" stands for): `options.tiled_dims` split
  /// into `options.num_splits` pieces (default: ceil(size / patch_size) per dim).
  BasicStrategy(Shape<Rank> const& shape, TilingOptions const& options)
      : BasicStrategy(shape, options.tiled_dims, splits_of(shape, options)) {}

  /// "basic".
  static constexpr std::string_view name() { return "basic"; }
  /// The shape it was built for.
  Shape<Rank> signal_shape() const { return shape_; }
  /// Number of pieces.
  Index num_patches() const { return Index(boxes_.size()); }
  /// Its layout (each window is its piece, added back whole).
  TileLayout<Rank> const& tile_layout() const noexcept { return tiles_; }
  /// The pieces, in patch order.
  std::vector<Box> const& boxes() const { return boxes_; }
  /// The dims it splits.
  std::vector<int> const& tiled_dims() const { return dims_; }

 private:
  static std::vector<Index> splits_of(Shape<Rank> const& shape, TilingOptions const& options) {
    constexpr char const* who = "BasicStrategy";
    if (!options.num_splits.empty()) return options.num_splits;
    auto const dims = detail::resolve_tiled_dims<Rank>(options.tiled_dims, who);
    auto p = detail::per_dim(options.patch_size, dims.size(), who, "patch_size");
    if (options.patch_size == std::vector<Index>{auto_patch})
      std::fill(p.begin(), p.end(), auto_patch_size(shape, dims, Index(0), options));  // pieces have no halo
    std::vector<Index> splits;
    for (std::size_t k = 0; k < dims.size(); ++k) {
      DISTINV_REQUIRE(p[k] > 0, who, ": patch_size must be > 0, got ", p[k]);
      DISTINV_REQUIRE(shape[dims[k]] > 0, who, ": signal shape must be positive, got ", to_string(shape));
      splits.push_back((shape[dims[k]] + p[k] - 1) / p[k]);
    }
    return splits;
  }

  void build() {
    constexpr char const* who = "BasicStrategy";
    std::vector<std::vector<std::pair<Index, Index>>> ranges;  // (start, size) per dim
    for (std::size_t k = 0; k < dims_.size(); ++k) {
      Index const n = shape_[dims_[k]], s = splits_[k];
      DISTINV_REQUIRE(s >= 1 && s <= n, who, ": num_splits must be in [1, ", n, "] for dim ", dims_[k], ", got ", s);
      std::vector<std::pair<Index, Index>> r;
      Index start = 0;
      for (Index j = 0; j < s; ++j) {
        Index const len = n / s + (j < n % s ? 1 : 0);
        r.emplace_back(start, len);
        start += len;
      }
      ranges.push_back(std::move(r));
    }
    Index total = 1;
    for (auto const& r : ranges) total *= Index(r.size());
    tiles_ = TileLayout<Rank>(shape_);
    for (Index i = 0; i < total; ++i) {
      Box b{Shape<Rank>{}, shape_};
      Index q = i;
      for (std::size_t k = dims_.size(); k-- > 0;) {
        Index const n = Index(ranges[k].size());
        auto [st, len] = ranges[k][std::size_t(q % n)];
        q /= n;
        b.start[dims_[k]] = st;
        b.size[dims_[k]] = len;
      }
      boxes_.push_back(b);
      // The window is the piece itself, read and pasted back unweighted.
      std::array<std::vector<Index>, Rank> maps;
      for (int d = 0; d < Rank; ++d)
        for (Index q2 = 0; q2 < b.size[d]; ++q2) maps[d].push_back(b.start[d] + q2);
      tiles_.add(b.size, ReduceBox<Rank>{Shape<Rank>{}, b.start, b.size}, maps);
    }
  }

  Shape<Rank> shape_;
  std::vector<int> dims_;
  std::vector<Index> splits_;
  std::vector<Box> boxes_;
  TileLayout<Rank> tiles_;
};

static_assert(SignalStrategy<BasicStrategy<4>>);
static_assert(SignalStrategy<BasicStrategy<5>>);
static_assert(StrategyFromOptions<BasicStrategy<4>>);

}  // namespace distinv::tiling
