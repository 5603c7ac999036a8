#pragma once
// distributed/detail/tiled_sum.hpp: the all-reduce of a tiled prior (DistributedProcessing)
// with a ReductionPolicy. Each rank adds its patches' processed windows into a zero signal.
// Where the boxes the patches write are disjoint (crop-and-paste), every sample gets one
// nonzero value, so the plain all-reduce is already exact. Where they overlap (blended tiles)
// and the policy is reduce::Exact, the patches are coloured so that the boxes of one colour are
// disjoint (greedily, in patch order: the same colours on every rank); each rank adds each
// colour's patches into a zero signal of their own, one value per sample, and those signals
// are summed exactly (agreed_sum, at most `colours` nonzero terms per sample): the result does
// not depend on which rank processed which patch. The boxes come from the strategy's
// TileLayout, so this holds for any strategy, a user's own included.
#include <algorithm>
#include <span>
#include <vector>

#include "distinv/core/tensor.hpp"
#include "distinv/distributed/detail/agreed_sum.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/tiling/layout.hpp"

namespace distinv::detail {

/// The box of the signal that one patch's processed window is added into.
template <int Rank>
struct WriteBox {
  Shape<Rank> start{};
  Shape<Rank> size{};
  bool overlaps(WriteBox const& o) const {
    for (int d = 0; d < Rank; ++d)
      if (start[d] + size[d] <= o.start[d] || o.start[d] + o.size[d] <= start[d]) return false;
    return true;
  }
};

/// The box of the signal each patch of `layout` adds into.
template <int Rank>
std::vector<WriteBox<Rank>> write_boxes(tiling::TileLayout<Rank> const& layout) {
  std::vector<WriteBox<Rank>> out;
  for (Index i = 0; i < layout.num_patches(); ++i) out.push_back({layout.box(i).dst_start, layout.box(i).size});
  return out;
}

/// Colour of each patch such that the boxes of one colour are pairwise disjoint, and the number
/// of colours: patch i takes the first colour none of whose boxes it overlaps.
template <int Rank>
std::vector<int> colour_patches(std::vector<WriteBox<Rank>> const& boxes, int& colours) {
  std::vector<int> colour(boxes.size());
  colours = 0;
  std::vector<std::vector<Index>> members;
  for (Index i = 0; i < Index(boxes.size()); ++i) {
    auto const& b = boxes[std::size_t(i)];
    int c = 0;
    while (c < colours && std::any_of(members[std::size_t(c)].begin(), members[std::size_t(c)].end(),
                                      [&](Index j) { return b.overlaps(boxes[std::size_t(j)]); }))
      ++c;
    if (c == colours) {
      members.emplace_back();
      ++colours;
    }
    members[std::size_t(c)].push_back(i);
    colour[std::size_t(i)] = c;
  }
  return colour;
}

/// The processed signal on every rank: `add(patches, out)` adds the contribution of the given
/// patches of `layout` (this rank's `mine`, or a part of them) into `out`.
template <ReductionPolicy R, class TensorT, class Ctx, int Rank, class Add>
TensorT tiled_sum(Ctx const& ctx, char const* what, tiling::TileLayout<Rank> const& layout,
                  std::vector<Index> const& mine, Add&& add) {
  int colours = 1;
  std::vector<int> colour;
  if constexpr (R::exact) colour = colour_patches(write_boxes(layout), colours);
  if (colours <= 1) {  // disjoint boxes (or reduce::Plain): one all-reduce of the rank's contributions
    auto out = ctx.collectively(what, [&] {
      auto o = zeros_of<TensorT>(layout.signal_shape());
      add(std::span<Index const>(mine), o);
      return o;
    });
    ctx.all_reduce(out);
    return out;
  }
  return agreed_sum<R, TensorT>(ctx, what, colours, [&](auto& sink) {
    for (int c = 0; c < colours; ++c) {
      std::vector<Index> part;
      for (Index i : mine)
        if (colour[std::size_t(i)] == c) part.push_back(i);
      if (part.empty()) continue;
      auto o = zeros_of<TensorT>(layout.signal_shape());
      add(std::span<Index const>(part), o);
      sink(std::move(o));
    }
  });
}

}  // namespace distinv::detail
