#pragma once
// tiling/with_strategy.hpp: the runtime names of the strategies, mapped once, at the
// application edge, onto their types (as with_gather does for gather policies):
// "basic" -> BasicStrategy, "overlap_tiling" and "smart_tiling" (the reference's name) ->
// OverlapTilingStrategy. The library itself is typed by the strategy. core/ only.
#include <string_view>

#include "distinv/core/error.hpp"
#include "distinv/tiling/basic.hpp"
#include "distinv/tiling/overlap_tiling.hpp"

namespace distinv::tiling {

/// Every name with_strategy knows, for help texts and error messages.
inline constexpr std::string_view strategy_names = "basic, overlap_tiling, smart_tiling";

/// Calls `fn.template operator()<S>()` with the strategy S of rank `Rank` named `name`;
/// an unknown name is an Error listing the known ones.
template <int Rank = 4, class F>
decltype(auto) with_strategy(std::string_view name, F&& fn) {
  if (name == "basic") return fn.template operator()<BasicStrategy<Rank>>();
  if (name == "overlap_tiling" || name == "smart_tiling") return fn.template operator()<OverlapTilingStrategy<Rank>>();
  fail("unknown tiling strategy \"", name, "\": expected one of ", strategy_names);
}

namespace detail {
struct AnyStrategy {
  template <class S>
  void operator()() const noexcept {}
};
}  // namespace detail

/// Throws the Error of with_strategy unless `name` is a strategy name (to check options at
/// the edge, before any rank starts).
inline void check_strategy_name(std::string_view name) { with_strategy(name, detail::AnyStrategy{}); }

}  // namespace distinv::tiling
