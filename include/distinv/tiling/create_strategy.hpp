#pragma once
// tiling/create_strategy.hpp: runtime names of the strategies, for configuration files and
// the command line: "basic" -> BasicStrategy, "overlap_tiling" / "smart_tiling" ->
// OverlapTilingStrategy, returned type-erased as AnySignalStrategy. Unknown names throw an
// Error listing the valid ones. Also re-exports parse_pad_mode / parse_blend (options.hpp).
#include <string>
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/tiling/any_strategy.hpp"
#include "distinv/tiling/basic.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/overlap_tiling.hpp"

namespace distinv::tiling {

inline constexpr std::string_view strategy_names = "basic, overlap_tiling, smart_tiling";

namespace detail {
/// The BasicStrategy that the name "basic" stands for: `options.tiled_dims` split into
/// `options.num_splits` pieces (default: ceil(size / patch_size) per dim).
template <class T, int Rank>
BasicStrategy<T, Rank> make_basic_strategy(Shape<Rank> const& shape, TilingOptions const& options) {
  auto dims = resolve_tiled_dims<Rank>(options.tiled_dims, "create_strategy(basic)");
  std::vector<Index> splits = options.num_splits;
  if (splits.empty()) {
    auto p = per_dim(options.patch_size, dims.size(), "create_strategy(basic)", "patch_size");
    for (std::size_t k = 0; k < dims.size(); ++k) {
      DISTINV_REQUIRE(p[k] > 0, "create_strategy(basic): patch_size must be > 0, got ", p[k]);
      splits.push_back((shape[dims[k]] + p[k] - 1) / p[k]);
    }
  }
  return BasicStrategy<T, Rank>(shape, dims, splits);
}
}  // namespace detail

/// "basic": splits `options.tiled_dims` into `options.num_splits` pieces (default:
/// ceil(size / patch_size) per dim); "overlap_tiling" / "smart_tiling": OverlapTilingStrategy.
template <class T, int Rank>
AnySignalStrategy<T, Rank> create_strategy(std::string_view name, Shape<Rank> const& shape,
                                           TilingOptions const& options = {}) {
  if (name == "overlap_tiling" || name == "smart_tiling")
    return AnySignalStrategy<T, Rank>(OverlapTilingStrategy<T, Rank>(shape, options), std::string(name));
  if (name == "basic") return AnySignalStrategy<T, Rank>(detail::make_basic_strategy<T, Rank>(shape, options), "basic");
  fail("unknown tiling strategy \"", std::string(name), "\": expected one of ", strategy_names);
}

/// How generic code (the factory) builds a named strategy for TensorT signals: `type` and
/// `make(name, shape, options)`. Host tensors here; device tensors in distinv/cuda/tiling.cuh.
template <class TensorT>
struct strategy_maker;
template <class T, int Rank>
struct strategy_maker<Tensor<T, Rank>> {
  using type = AnySignalStrategy<T, Rank>;
  static type make(std::string_view name, Shape<Rank> const& shape, TilingOptions const& options) {
    return create_strategy<T, Rank>(name, shape, options);
  }
};

}  // namespace distinv::tiling
