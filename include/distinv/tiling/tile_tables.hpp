#pragma once
// tiling/tile_tables.hpp: TileTables<Space, Rank>, a TileLayout's flat tables (source maps,
// their per-patch offsets, blend weights) where the signal lives, with the space they run in:
// a device space gets one copy of each, made once per strategy; the host reads the layout's
// own vectors in place. The generic extraction and reduction (tiling/process.hpp) launch the
// functors of core/kernels/tiling.hpp on them. core/ and host/space.hpp only.
#include <span>
#include <utility>

#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/host/space.hpp"
#include "distinv/tiling/layout.hpp"

namespace distinv::tiling {

namespace detail {
/// A host array seen from a space: read in place on the host, copied once to a device.
template <class Space, class E>
class InSpace {
 public:
  InSpace() = default;
  InSpace(std::span<E const> host, Space const& space) {
    if constexpr (space_traits<Space>::on_device) {
      buffer_ = space_buffer_t<Space, E>(host.size());
      space_traits<Space>::upload(host.data(), buffer_.data(), Index(host.size()), space);
      data_ = buffer_.data();
    } else {
      data_ = host.data();
    }
  }
  E const* data() const noexcept { return data_; }

 private:
  space_buffer_t<Space, E> buffer_{};  // empty on the host
  E const* data_ = nullptr;
};
}  // namespace detail

/// The tables of `layout` in `space`. Refers to the layout, which must outlive it (the host
/// reads its vectors in place). Immutable once built.
template <class Space, int Rank>
class TileTables {
 public:
  /// The space the tables live in.
  using space_type = Space;

  /// Copies the layout's tables into `space` (on the host: refers to them in place).
  explicit TileTables(TileLayout<Rank> const& layout, Space space = {})
      : layout_(&layout),
        space_(std::move(space)),
        maps_(std::span<Index const>(layout.maps()), space_),
        map_offsets_(std::span<Index const>(layout.map_offsets()), space_),
        weights_(std::span<double const>(layout.weights()), space_) {}

  /// The layout.
  TileLayout<Rank> const& layout() const noexcept { return *layout_; }
  /// The space.
  Space const& space() const noexcept { return space_; }
  /// Where the tables live in the space: every map, the per-patch map offsets
  /// ([i * Rank + d]), every weight vector (offsets: layout().weight_offsets()).
  Index const* maps() const noexcept { return maps_.data(); }
  /// The per-patch map offsets, in the space.
  Index const* map_offsets() const noexcept { return map_offsets_.data(); }
  /// Every weight vector, in the space.
  double const* weights() const noexcept { return weights_.data(); }

 private:
  TileLayout<Rank> const* layout_;
  Space space_;
  detail::InSpace<Space, Index> maps_, map_offsets_;
  detail::InSpace<Space, double> weights_;
};

}  // namespace distinv::tiling
