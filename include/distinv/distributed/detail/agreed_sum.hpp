#pragma once
// distributed/detail/agreed_sum.hpp: the one pattern behind every reduced operation of a
// distributed stack: this rank produces its terms (none, on a rank that owns no operator),
// the ranks agree on failure, on the result's shape and (reduce::Exact) on the terms' largest
// exponent with one all-reduce of 2R+3 integers, then the data is all-reduced once:
//   reduce::Plain  the local floating-point sum of the terms;
//   reduce::Exact  the terms' integer digits at the agreed scale (exact_sum.hpp), so that the
//                  result does not depend on which rank holds which term. A term that is not
//                  finite (NaN, Inf) makes this one sum a plain one (its result is not finite).
// A failure on any rank becomes the same Error on every rank; a rank with no term contributes
// zeros of the agreed shape. Device terms are summed exactly through host memory.
#include <array>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/distributed/detail/exact_sum.hpp"
#include "distinv/distributed/reduction.hpp"

namespace distinv::detail {

/// This rank's terms, kept as a plain running sum (Plain) or one by one (Exact, on the host).
template <ReductionPolicy R, class TensorT>
class LocalTerms {
 public:
  /// Adds one term (every term must have the first one's shape).
  void operator()(TensorT term) {
    if (auto const* first = first_term())
      DISTINV_REQUIRE(shape_of(*first) == shape_of(term), "distributed sum: the operators' results have shapes ",
                      to_string(shape_of(*first)), " and ", to_string(shape_of(term)));
    if constexpr (R::exact) {
      if constexpr (DeviceSignal<TensorT>) terms_.push_back(to_host(term));
      else terms_.push_back(std::move(term));
      magnitude_.merge(detail::magnitude(flat(std::as_const(terms_.back()))));  // while the term is in cache
    } else if (sum_) {
      *sum_ += term;
    } else {
      sum_.emplace(std::move(term));
    }
  }
  bool empty() const { return first_term() == nullptr; }
  auto shape() const { return shape_of(*first_term()); }
  /// The terms' magnitude (Exact; Plain: none).
  Magnitude const& magnitude() const { return magnitude_; }
  /// The floating-point sum of the terms (local order), or zeros of `shape`.
  TensorT plain_sum(Shape<rank_v<TensorT>> const& shape) && {
    if constexpr (R::exact) {
      if (terms_.empty()) return zeros_of<TensorT>(shape);
      auto s = std::move(terms_[0]);
      for (std::size_t k = 1; k < terms_.size(); ++k) s += terms_[k];
      return from_host<TensorT>(std::move(s));
    } else {
      return sum_ ? std::move(*sum_) : zeros_of<TensorT>(shape);
    }
  }
  /// The digits of the terms' sum at the scale of `exponent` (Exact).
  FixedSum<scalar_t<TensorT>> digits(std::size_t n, std::int64_t exponent, Index max_terms) const {
    std::vector<scalar_t<TensorT> const*> data;
    for (auto const& t : terms_) data.push_back(t.data());
    return FixedSum<scalar_t<TensorT>>(data, n, exponent, max_terms);
  }

 private:
  auto const* first_term() const {
    if constexpr (R::exact) return terms_.empty() ? nullptr : &terms_[0];
    else return sum_ ? &*sum_ : nullptr;
  }
  std::vector<host_tensor_t<TensorT>> terms_;  // Exact
  Magnitude magnitude_;                        // Exact
  std::optional<TensorT> sum_;                 // Plain
};

/// This rank's terms and what the ranks agreed on: the result's shape, the terms' largest
/// exponent and whether every term is finite.
template <ReductionPolicy R, class TensorT>
struct AgreedTerms {
  LocalTerms<R, TensorT> local;
  Shape<rank_v<TensorT>> shape{};
  Magnitude magnitude;
};

/// Runs `produce(sink)` (it hands this rank's terms to `sink`, in local order) and agrees with
/// the other ranks (one all-reduce of 2R+3 integers). A failure on any rank throws the same
/// Error on every rank, as does a disagreement on the shape.
template <ReductionPolicy R, class TensorT, class Ctx, class Produce>
AgreedTerms<R, TensorT> agree_on_terms(Ctx const& ctx, char const* what, Produce&& produce) {
  constexpr int Rk = rank_v<TensorT>;
  constexpr auto none = std::numeric_limits<std::int64_t>::min();
  AgreedTerms<R, TensorT> out;
  Magnitude mag;
  std::string message;
  try {
    produce(out.local);
    mag = out.local.magnitude();
  } catch (std::exception const& e) {
    message = *e.what() ? e.what() : "unknown error";
  } catch (...) {
    message = "unknown exception";
  }
  // [failure: P - rank of the failing rank, or 0] [some term not finite] [largest exponent]
  // [extents] [negated extents], all max-reduced
  std::array<std::int64_t, 2 * Rk + 3> agree;
  agree.fill(none);
  agree[0] = message.empty() ? 0 : ctx.world_size() - ctx.rank();
  agree[1] = mag.finite ? 0 : 1;
  agree[2] = mag.exponent;
  if (message.empty() && !out.local.empty()) {
    auto const s = out.local.shape();
    for (int d = 0; d < Rk; ++d) {
      agree[std::size_t(3 + d)] = s[std::size_t(d)];
      agree[std::size_t(3 + Rk + d)] = -s[std::size_t(d)];
    }
  }
  ctx.all_reduce(std::span<std::int64_t>(agree), ReduceOp::max);
  if (agree[0] > 0) ctx.fail_from(int(ctx.world_size() - agree[0]), what, message);
  for (int d = 0; d < Rk; ++d) {
    out.shape[std::size_t(d)] = agree[std::size_t(3 + d)];
    DISTINV_REQUIRE(out.shape[std::size_t(d)] != none, what, ": no rank produced a result (no operators)");
    DISTINV_REQUIRE(-agree[std::size_t(3 + Rk + d)] == out.shape[std::size_t(d)], what,
                    ": ranks produced results of different shapes (extent ", d, " ranges from ",
                    -agree[std::size_t(3 + Rk + d)], " to ", out.shape[std::size_t(d)], ")");
  }
  out.magnitude = {agree[2], agree[1] == 0};
  return out;
}

/// Σ of the terms that `produce(sink)` hands to `sink` on each rank, the same on every rank.
/// `max_terms` bounds the number of terms over all ranks (the scale of reduce::Exact).
template <ReductionPolicy R, class TensorT, class Ctx, class Produce>
TensorT agreed_sum(Ctx const& ctx, char const* what, Index max_terms, Produce&& produce) {
  auto agreed = agree_on_terms<R, TensorT>(ctx, what, produce);
  if constexpr (R::exact) {
    if (agreed.magnitude.finite) {
      if (agreed.magnitude.exponent == no_exponent) return zeros_of<TensorT>(agreed.shape);  // every term zero
      auto acc = agreed.local.digits(std::size_t(numel(agreed.shape)), agreed.magnitude.exponent, max_terms);
      ctx.all_reduce(acc.digits());
      auto out = zeros_of<host_tensor_t<TensorT>>(agreed.shape);
      acc.result(flat(out));
      return from_host<TensorT>(std::move(out));
    }
  }
  TensorT result = std::move(agreed.local).plain_sum(agreed.shape);
  ctx.all_reduce(result);
  return result;
}

/// This rank's part of the sum (its terms' floating-point sum), zeros of the agreed shape on a
/// rank with no term: the agreement of agreed_sum (errors, shape), no data communication.
template <class TensorT, class Ctx, class Produce>
TensorT agreed_local_sum(Ctx const& ctx, char const* what, Produce&& produce) {
  auto agreed = agree_on_terms<reduce::Plain, TensorT>(ctx, what, produce);
  return std::move(agreed.local).plain_sum(agreed.shape);
}

}  // namespace distinv::detail
