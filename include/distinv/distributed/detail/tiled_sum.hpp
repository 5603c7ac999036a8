#pragma once
// distributed/detail/tiled_sum.hpp: the all-reduce of a tiled prior (DistributedProcessing)
// with a ReductionPolicy. Each rank adds its patches' processed windows into a zero signal.
// Where the boxes the patches write are disjoint (crop-and-paste), every sample gets one
// nonzero value, so the plain all-reduce is already exact. Where they overlap (blended tiles)
// and the policy is reduce::Exact, the patches are coloured so that the boxes of one colour are
// disjoint (greedily, in patch order: the same colours on every rank); each rank adds each
// colour's patches into a zero signal of their own, one value per sample, and those signals
// are summed exactly (agreed_sum, at most `colours` nonzero terms per sample): the result does
// not depend on which rank processed which patch. The boxes are those of the strategies
// distinv knows (OverlapTilingStrategy, BasicStrategy, a device tiling over one, or one of
// these type-erased on the host); for any other strategy (a user's own, a type-erased device
// tiling) the sum is the plain one, exact where its writes are disjoint.
#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "distinv/core/tensor.hpp"
#include "distinv/distributed/detail/agreed_sum.hpp"
#include "distinv/distributed/reduction.hpp"
#include "distinv/tiling/any_strategy.hpp"
#include "distinv/tiling/basic.hpp"
#include "distinv/tiling/overlap_tiling.hpp"

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

/// The write boxes of every patch of the strategies distinv knows (nullopt for others).
template <class T, int Rank>
std::optional<std::vector<WriteBox<Rank>>> write_boxes(tiling::OverlapTilingStrategy<T, Rank> const& s) {
  std::vector<WriteBox<Rank>> out;
  for (Index i = 0; i < s.num_patches(); ++i) out.push_back({s.reduce_box(i).dst_start, s.reduce_box(i).size});
  return out;
}
template <class T, int Rank>
std::optional<std::vector<WriteBox<Rank>>> write_boxes(tiling::BasicStrategy<T, Rank> const& s) {
  std::vector<WriteBox<Rank>> out;
  for (auto const& b : s.boxes()) out.push_back({b.start, b.size});
  return out;
}
template <class T, int Rank>
std::optional<std::vector<WriteBox<Rank>>> write_boxes(tiling::AnySignalStrategy<T, Rank, Tensor<T, Rank>> const& s) {
  if (auto const* o = s.template target<tiling::OverlapTilingStrategy<T, Rank>>()) return write_boxes(*o);
  if (auto const* b = s.template target<tiling::BasicStrategy<T, Rank>>()) return write_boxes(*b);
  return std::nullopt;
}
/// A device tiling follows a host strategy.
template <class S>
  requires requires(S const& s) { s.host_strategy(); }
auto write_boxes(S const& s) {
  return write_boxes(s.host_strategy());
}
template <class S>
std::optional<std::vector<WriteBox<S::rank>>> write_boxes(S const&) {
  return std::nullopt;
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
/// patches of `strategy` (this rank's `mine`, or a part of them) into `out`.
template <ReductionPolicy R, class TensorT, class Ctx, class Strategy, class Add>
TensorT tiled_sum(Ctx const& ctx, char const* what, Strategy const& strategy, std::vector<Index> const& mine,
                  Add&& add) {
  int colours = 1;
  std::vector<int> colour;
  if constexpr (R::exact)
    if (auto const boxes = write_boxes(strategy)) colour = colour_patches(*boxes, colours);
  if (colours <= 1) {  // disjoint boxes (or reduce::Plain): one all-reduce of the rank's contributions
    auto out = ctx.collectively(what, [&] {
      auto o = zeros_of<TensorT>(strategy.signal_shape());
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
      auto o = zeros_of<TensorT>(strategy.signal_shape());
      add(std::span<Index const>(part), o);
      sink(std::move(o));
    }
  });
}

}  // namespace distinv::detail
