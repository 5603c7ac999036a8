#pragma once
// layout/partition.hpp: how a signal is laid out over the ranks, as a compile-time policy:
// layout::Replicated (every rank holds the whole signal; the default) or layout::Slabs (rank r
// holds rows [lo_r, hi_r) of every (B, C) plane: slabs along dimension 2, H of a (B, C, H, W)
// image, D of a (B, C, D, H, W) volume). RowPartition is the row split of a slab layout: the
// balanced one (the first n % P ranks one row more), or any other split into non-empty ranges
// (an operator's output, e.g. a decimation, may have its own). Core only.
#include <algorithm>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::layout {

/// Every rank holds the whole signal (and reductions make it the same everywhere).
struct Replicated {
  /// "replicated".
  static constexpr std::string_view name() { return "replicated"; }
};

/// Every rank holds its slab of rows of the signal and of every measurement.
struct Slabs {
  /// "slabs".
  static constexpr std::string_view name() { return "slabs"; }
};

/// A layout policy: layout::Replicated or layout::Slabs (make_distrib_bundle<Layout>).
template <class L>
concept LayoutPolicy = std::is_same_v<L, Replicated> || std::is_same_v<L, Slabs>;

/// Rows [offset(r), offset(r + 1)) of n rows belong to rank r of P; every rank has at least one.
class RowPartition {
 public:
  RowPartition() = default;
  /// From the P + 1 offsets 0 = o_0 < o_1 < ... < o_P = n.
  explicit RowPartition(std::vector<Index> offsets) : offsets_(std::move(offsets)) {
    DISTINV_REQUIRE(offsets_.size() >= 2 && offsets_.front() == 0, "RowPartition: expected offsets 0 = o_0 < ... < o_P, ",
                    "got ", offsets_.size(), " offsets");
    for (std::size_t r = 1; r < offsets_.size(); ++r)
      DISTINV_REQUIRE(offsets_[r] > offsets_[r - 1], "RowPartition: every rank needs at least one row; rank ", r - 1,
                      " would hold rows [", offsets_[r - 1], ", ", offsets_[r], ")");
  }

  /// n rows over p ranks, the first n % p ranks one row more. Throws Error if n < p.
  static RowPartition balanced(Index rows, int ranks) {
    DISTINV_REQUIRE(ranks >= 1, "RowPartition: expected at least one rank, got ", ranks);
    DISTINV_REQUIRE(rows >= ranks, "slab layout: expected at least one row per rank, got ", rows, " rows for ", ranks,
                    " ranks (use fewer ranks or the replicated layout)");
    std::vector<Index> o(std::size_t(ranks) + 1, 0);
    for (int r = 0; r < ranks; ++r) o[std::size_t(r) + 1] = o[std::size_t(r)] + rows / ranks + (r < rows % ranks ? 1 : 0);
    return RowPartition(std::move(o));
  }

  /// Number of rows n.
  Index rows() const noexcept { return offsets_.back(); }
  /// Number of ranks P.
  int ranks() const noexcept { return int(offsets_.size()) - 1; }
  /// First row of rank r.
  Index lo(int r) const { return offsets_[std::size_t(r)]; }
  /// One past the last row of rank r.
  Index hi(int r) const { return offsets_[std::size_t(r) + 1]; }
  /// Rows of rank r.
  Index count(int r) const { return hi(r) - lo(r); }
  /// The P + 1 offsets.
  std::vector<Index> const& offsets() const noexcept { return offsets_; }
  /// The rank that holds global row `row` (in [0, rows())).
  int owner(Index row) const {
    DISTINV_REQUIRE(row >= 0 && row < rows(), "RowPartition::owner: expected a row in [0, ", rows(), "), got ", row);
    return int(std::upper_bound(offsets_.begin(), offsets_.end(), row) - offsets_.begin()) - 1;
  }
  /// Same offsets.
  bool operator==(RowPartition const&) const = default;

  /// "[o_0, o_1, ..., o_P]", for messages.
  std::string to_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < offsets_.size(); ++i) s += (i ? ", " : "") + std::to_string(offsets_[i]);
    return s + "]";
  }

 private:
  std::vector<Index> offsets_{0, 1};
};

}  // namespace distinv::layout
