#pragma once
// distributed/detail/agreed_sum.hpp: the one pattern behind every reduced operation of a
// distributed stack: compute this rank's local sum (or nothing, on a rank that owns no
// operator), agree across ranks on failure and on the result's shape with one all-reduce of
// 2R+1 integers, then all-reduce the data once. A failure on any rank becomes the same Error
// on every rank; a rank that owns nothing contributes zeros of the agreed shape.
#include <array>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>

#include "distinv/core/error.hpp"
#include "distinv/core/concepts.hpp"
#include "distinv/core/signal.hpp"

namespace distinv::detail {

template <class TensorT, class Ctx, class F>
TensorT agreed_sum(Ctx const& ctx, char const* what, F&& local_sum) {
  constexpr int R = rank_v<TensorT>;
  constexpr auto none = std::numeric_limits<std::int64_t>::min();
  std::optional<TensorT> local;
  std::string message;
  try {
    local = local_sum();
  } catch (std::exception const& e) {
    message = *e.what() ? e.what() : "unknown error";
  } catch (...) {
    message = "unknown exception";
  }
  // [failure: P - rank of the failing rank, or 0] [extents] [negated extents], all max-reduced
  std::array<std::int64_t, 2 * R + 1> agree;
  agree.fill(none);
  agree[0] = message.empty() ? 0 : ctx.world_size() - ctx.rank();
  if (local)
    for (int d = 0; d < R; ++d) {
      agree[std::size_t(1 + d)] = local->dimension(d);
      agree[std::size_t(1 + R + d)] = -local->dimension(d);
    }
  ctx.all_reduce(std::span<std::int64_t>(agree), ReduceOp::max);
  if (agree[0] > 0) ctx.fail_from(int(ctx.world_size() - agree[0]), what, message);
  Shape<R> shape;
  for (int d = 0; d < R; ++d) {
    shape[std::size_t(d)] = agree[std::size_t(1 + d)];
    DISTINV_REQUIRE(shape[std::size_t(d)] != none, what, ": no rank produced a result (no operators)");
    DISTINV_REQUIRE(-agree[std::size_t(1 + R + d)] == shape[std::size_t(d)], what,
                    ": ranks produced results of different shapes (extent ", d, " ranges from ",
                    -agree[std::size_t(1 + R + d)], " to ", shape[std::size_t(d)], ")");
  }
  TensorT result = local ? std::move(*local) : zeros_of<TensorT>(shape);
  ctx.all_reduce(result);
  return result;
}

/// gather: the agreed sum over the ranks divided by `divisor` (1 for a plain sum, N for a
/// mean over N operators); otherwise this rank's own part (an empty tensor if it has none).
template <class TensorT, class Ctx, class F>
TensorT reduce_local(Ctx const& ctx, char const* what, F&& local_sum, bool gather, double divisor) {
  if (!gather) return local_sum().value_or(TensorT());
  TensorT r = agreed_sum<TensorT>(ctx, what, local_sum);
  if (divisor != 1) r = r * scalar_t<TensorT>(1.0 / divisor);
  return r;
}

}  // namespace distinv::detail
