// The arithmetic of reduce::Exact (distributed/detail/exact_sum.hpp, core/kernels/fixed_point.hpp)
// on the host: any grouping and order of the same terms gives the same bits, the result is
// within the documented bound of the exact sum, and extreme magnitudes, zeros and non-finite
// values are handled.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "distinv/distributed/detail/exact_sum.hpp"

using namespace distinv;
using distinv::detail::FixedSum;
using distinv::detail::magnitude;

namespace {

template <class T>
std::vector<std::vector<T>> random_terms(int count, std::size_t n, double spread, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::vector<T>> terms(static_cast<std::size_t>(count), std::vector<T>(n));
  for (auto& t : terms)
    for (auto& v : t) v = T(u(gen) * std::pow(10.0, spread * u(gen)));
  return terms;
}

/// The exact sum of `groups` of terms, each group on its own "rank" (its own accumulator),
/// then the accumulators added (the all-reduce), as the distributed layer does it.
template <class T>
std::vector<T> fixed_sum(std::vector<std::vector<T>> const& terms, std::vector<std::vector<int>> const& groups) {
  detail::Magnitude m;
  for (auto const& t : terms) m.merge(magnitude(std::span<T const>(t)));
  std::size_t const n = terms[0].size();
  std::vector<double> total(n * FixedSum<T>::digits_per_value, 0);
  for (auto const& g : groups) {
    std::vector<T const*> mine;
    for (int k : g) mine.push_back(terms[std::size_t(k)].data());
    FixedSum<T> acc(mine, n, m.exponent, Index(terms.size()));
    auto d = acc.digits();
    for (std::size_t i = 0; i < d.size(); ++i) total[i] += d[i];
  }
  FixedSum<T> acc({}, n, m.exponent, Index(terms.size()));
  std::copy(total.begin(), total.end(), acc.digits().begin());
  std::vector<T> out(n);
  acc.result(std::span<T>(out));
  return out;
}

template <class T>
bool same_bits(std::vector<T> const& a, std::vector<T> const& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("exact sum: every grouping and order of the terms gives the same bits", T, float, double) {
  int const N = 7;
  auto const terms = random_terms<T>(N, 3000, 4.0, 11);  // magnitudes over 8 decades
  std::vector<int> all(N);
  std::iota(all.begin(), all.end(), 0);
  auto const one_rank = fixed_sum(terms, {all});
  std::mt19937 gen(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<int> perm = all;
    std::shuffle(perm.begin(), perm.end(), gen);
    int const ranks = 1 + trial % 5;
    std::vector<std::vector<int>> groups(static_cast<std::size_t>(ranks));
    for (std::size_t k = 0; k < perm.size(); ++k) groups[k % std::size_t(ranks)].push_back(perm[k]);
    CHECK(same_bits(fixed_sum(terms, groups), one_rank));
  }
  // The plain floating-point sum does depend on the order (which is why Exact exists).
  std::vector<T> forward(terms[0].size(), T(0)), backward(terms[0].size(), T(0));
  for (int k = 0; k < N; ++k)
    for (std::size_t i = 0; i < forward.size(); ++i) {
      forward[i] += terms[std::size_t(k)][i];
      backward[i] += terms[std::size_t(N - 1 - k)][i];
    }
  CHECK_FALSE(same_bits(forward, backward));
}

TEST_CASE_TEMPLATE("exact sum: within the documented bound of the true sum", T, float, double) {
  int const N = 9;
  auto const terms = random_terms<T>(N, 2000, 3.0, 3);
  std::vector<int> all(N);
  std::iota(all.begin(), all.end(), 0);
  auto const s = fixed_sum(terms, {all});
  detail::Magnitude m;
  for (auto const& t : terms) m.merge(magnitude(std::span<T const>(t)));
  // Rounding loses at most half a unit of the last digit per term: N · 2^(E − digits·P − 1)
  // with P = 51 − ceil(log2 N); reading the digits back rounds once to T.
  int const P = 51 - 4;
  int const E = int(m.exponent);
  double const digits_error = N * std::ldexp(1.0, E - FixedSum<T>::digits_per_value * P - 1);
  double const eps = double(std::numeric_limits<T>::epsilon());
  for (std::size_t i = 0; i < s.size(); ++i) {
    long double exact = 0;
    for (auto const& t : terms) exact += (long double)t[i];
    double const bound = digits_error + eps * std::abs(double(exact));
    REQUIRE(std::abs(double(s[i]) - double(exact)) <= bound);
  }
}

TEST_CASE("exact sum: extreme magnitudes, zeros and non-finite terms") {
  // Tiny and huge doubles: the two scale factors keep every product in range.
  for (double scale : {1e-300, 1e-310, 1e300, 1.0}) {
    std::vector<std::vector<double>> terms{{scale, -scale / 3, 0.0}, {scale / 7, scale, 0.0}};
    auto const s = fixed_sum(terms, {{0, 1}});
    auto const r = fixed_sum(terms, {{1}, {0}});
    CHECK(same_bits(s, r));
    CHECK(s[0] == doctest::Approx(scale + scale / 7).epsilon(1e-12));
    CHECK(s[1] == doctest::Approx(scale - scale / 3).epsilon(1e-12));
    CHECK(s[2] == 0.0);
  }
  // Float subnormals.
  float const sub = std::numeric_limits<float>::denorm_min() * 8;
  std::vector<std::vector<float>> fterms{{sub, sub}, {sub, -sub}};
  auto const fs = fixed_sum(fterms, {{0, 1}});
  CHECK(fs[0] == 2 * sub);
  CHECK(fs[1] == 0.0f);
  // Magnitude: all zero has no exponent; NaN or Inf is not finite.
  std::vector<float> zeros(5, 0.0f), with_inf{1.0f, std::numeric_limits<float>::infinity()},
      with_nan{std::numeric_limits<float>::quiet_NaN(), 2.0f};
  CHECK(magnitude(std::span<float const>(zeros)).exponent == detail::no_exponent);
  CHECK(magnitude(std::span<float const>(zeros)).finite);
  CHECK_FALSE(magnitude(std::span<float const>(with_inf)).finite);
  CHECK_FALSE(magnitude(std::span<float const>(with_nan)).finite);
  std::vector<double> halfs{0.5, -0.25}, ones{1.0};
  CHECK(magnitude(std::span<double const>(halfs)).exponent == 0);  // 0.5 < 2^0
  CHECK(magnitude(std::span<double const>(ones)).exponent == 1);   // 1 < 2^1
  CHECK_THROWS_AS(FixedSum<float>({}, 4, detail::no_exponent, 2), Error);
  CHECK_THROWS_AS(FixedSum<float>({}, 4, 0, 0), Error);
}
