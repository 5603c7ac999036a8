#pragma once
// distributed/detail/exact_sum.hpp: the host side of reduce::Exact. magnitude(x) gives the
// exponent E with max|x| < 2^E (and whether x is finite), which the ranks max-reduce in the
// agreement they already hold; FixedSum then sums a rank's terms as integer digits at the
// agreed scale (core/kernels/fixed_point.hpp), its digits are all-reduced (sums of integers
// below 2^51: exact in any order) and turned back into T. ordered_sum sums one double per
// operator in operator order. Host memory; oneTBB.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/fixed_point.hpp"
#include "distinv/host/for_each.hpp"

namespace distinv::detail {

/// Exponent of a set of values that are all zero (or of no values).
inline constexpr std::int64_t no_exponent = std::numeric_limits<std::int64_t>::min();

/// What the ranks agree on before an exact sum: the largest exponent (max-reduced) and
/// whether some term is not finite.
struct Magnitude {
  std::int64_t exponent = no_exponent;  ///< every |term| < 2^exponent
  bool finite = true;
  void merge(Magnitude const& o) {
    exponent = std::max(exponent, o.exponent);
    finite = finite && o.finite;
  }
};

/// The magnitude of x (NaN and ±Inf make it not finite). On the IEEE bit patterns of |x|,
/// unsigned order is magnitude order and every non-finite value is above +Inf's.
template <class T>
Magnitude magnitude(std::span<T const> x) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits abs_mask = std::numeric_limits<Bits>::max() >> 1;
  constexpr Bits inf = std::bit_cast<Bits>(std::numeric_limits<T>::infinity());
  Index const n = Index(x.size());
  std::vector<Bits> part(std::size_t((n + host::chunk - 1) / host::chunk));
  tbb::parallel_for(Index(0), Index(part.size()), [&](Index k) {
    Bits m = 0;
    for (Index e = k * host::chunk, end = std::min(n, (k + 1) * host::chunk); e < end; ++e)
      m = std::max(m, Bits(std::bit_cast<Bits>(x[std::size_t(e)]) & abs_mask));
    part[std::size_t(k)] = m;
  });
  Bits const m = part.empty() ? 0 : *std::max_element(part.begin(), part.end());
  if (m >= inf) return {no_exponent, false};
  if (m == 0) return {};
  int e = 0;
  std::frexp(double(std::bit_cast<T>(m)), &e);  // max = f·2^e, f in [0.5, 1)
  return {e, true};
}

/// The exact sum of terms of T: the digits of this rank's terms at the agreed scale, to
/// all-reduce (a plain double sum, exact on these integers) over the ranks, then read back with
/// result(). `max_terms` bounds how many terms meet at one element over all ranks (the number
/// of operators, say).
template <class T>
class FixedSum {
 public:
  static constexpr int digits_per_value = kernels::fixed_digits<T>;

  /// The digits of Σ terms (each of n values; no term: zero digits).
  FixedSum(std::span<T const* const> terms, std::size_t n, std::int64_t exponent, Index max_terms)
      : n_(n), digits_(std::make_unique_for_overwrite<double[]>(n * digits_per_value)) {
    DISTINV_REQUIRE(exponent != no_exponent, "FixedSum: expected the exponent of a nonzero term");
    DISTINV_REQUIRE(max_terms >= 1 && max_terms <= (Index(1) << 20), "FixedSum: expected 1 to 2^20 terms, got ",
                    max_terms);
    int const headroom = int(std::bit_width(std::uint64_t(max_terms - 1)));  // ceil(log2 max_terms)
    int const P = 51 - headroom;
    auto const k = std::int64_t(P) - exponent;  // into digits: times 2^k
    scale_.to[0] = std::ldexp(1.0, int(k / 2));
    scale_.to[1] = std::ldexp(1.0, int(k - k / 2));
    scale_.from[0] = std::ldexp(1.0, int(-(k / 2)));
    scale_.from[1] = std::ldexp(1.0, int(-(k - k / 2)));
    scale_.unit = std::ldexp(1.0, P);
    scale_.inv_unit = std::ldexp(1.0, -P);
    kernels::SumFixed<T> const f{terms.data(), int(terms.size()), Index(n), digits_.get(), scale_};
    tbb::parallel_for(Index(0), (Index(n) + kernels::fixed_block - 1) / kernels::fixed_block, [&](Index b) { f(b); });
  }

  /// The digits, to all-reduce (sum) in place over the ranks.
  std::span<double> digits() noexcept { return {digits_.get(), n_ * digits_per_value}; }
  /// The sum, rounded to T.
  void result(std::span<T> out) const {
    DISTINV_REQUIRE(out.size() == n_, "FixedSum::result: expected ", n_, " values, got ", out.size());
    host::Launch{}(Index(n_), kernels::FromFixed<T>{digits_.get(), out.data(), scale_});
  }

 private:
  std::size_t n_;
  std::unique_ptr<double[]> digits_;
  kernels::FixedScale scale_;
};

/// Σ_i v_i over the n operators, each rank giving the values of its own operators `mine`
/// (increasing): every rank receives all n values and adds them in operator order, so the
/// sum is the same on every backend and rank count. One all-gatherv of n doubles.
template <class Ctx>
double ordered_sum(Ctx const& ctx, Index n, std::vector<Index> const& mine, std::vector<double> const& values) {
  DISTINV_REQUIRE(values.size() == mine.size(), "ordered_sum: expected one value per local operator (",
                  mine.size(), "), got ", values.size());
  std::vector<Index> counts(std::size_t(ctx.world_size()), 0);
  std::vector<Index> order;  // operator of each gathered value: ranks in order, then local order
  for (int r = 0; r < ctx.world_size(); ++r)
    for (Index i = 0; i < n; ++i)
      if (ctx.owner(i, n) == r) {
        order.push_back(i);
        ++counts[std::size_t(r)];
      }
  std::vector<double> all(static_cast<std::size_t>(n));
  ctx.comm().all_gatherv(std::span<double const>(values), std::span<double>(all), std::span<Index const>(counts));
  std::vector<double> by_index(static_cast<std::size_t>(n));
  for (std::size_t k = 0; k < order.size(); ++k) by_index[std::size_t(order[k])] = all[k];
  double s = 0;
  for (double v : by_index) s += v;
  return s;
}

}  // namespace distinv::detail
