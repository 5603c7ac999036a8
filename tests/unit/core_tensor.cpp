// Tensors, TensorList and errors of core/.
#include <doctest/doctest.h>

#include "distinv/distinv.hpp"

using namespace distinv;

TEST_CASE_TEMPLATE("tensor helpers: shape, dot, norm, checks", T, float, double) {
  Tensor4<T> a(1, 2, 3, 4), b(1, 2, 3, 4);
  a.setConstant(T(2));
  b.setConstant(T(3));
  CHECK(shape_of(a) == Shape<4>{1, 2, 3, 4});
  CHECK(to_string(shape_of(a)) == "(1, 2, 3, 4)");
  CHECK(dot(a, b) == doctest::Approx(24 * 6));
  CHECK(norm(a) == doctest::Approx(std::sqrt(24.0 * 4)));
  CHECK(max_abs_diff(a, b) == doctest::Approx(1));
  Tensor4<T> c(1, 2, 3, 5);
  CHECK_THROWS_WITH_AS(dot(a, c), "distinv: dot: expected shape (1, 2, 3, 4), got (1, 2, 3, 5)", Error);
  Tensor5<T> v = zeros<T>(Shape<5>{1, 1, 2, 2, 2});
  CHECK(v.size() == 8);
  CHECK(max_abs(v) == 0);
}

TEST_CASE_TEMPLATE("TensorList arithmetic with tensors of different shapes", T, float, double) {
  using L = TensorList<Tensor4<T>>;
  Tensor4<T> x(1, 1, 2, 2), y(1, 3, 4, 4);
  x.setConstant(T(1));
  y.setConstant(T(2));
  L a{x, y};
  L b = a * T(2);
  CHECK(a.size() == 2);
  CHECK(b[1](0, 2, 3, 3) == T(4));
  L c = b - a;
  CHECK(max_abs_diff(c[0], x) == 0);
  CHECK((a + a).dot(a) == doctest::Approx(2 * (4 * 1 + 48 * 4)));
  CHECK(a.norm() == doctest::Approx(std::sqrt(4.0 + 48 * 4)));
  CHECK((T(3) * a)[0](0, 0, 1, 1) == T(3));
  L shorter{x};
  CHECK_THROWS_AS(a + shorter, Error);
  CHECK_THROWS_WITH_AS(a[2], "distinv: TensorList index: expected < 2, got 2", Error);
  L swapped{y, x};
  CHECK_THROWS_AS(a.dot(swapped), Error);
}

TEST_CASE("sharding policies own every index exactly once") {
  for (int p = 1; p <= 5; ++p)
    for (Index n = 0; n <= 13; ++n) {
      std::vector<int> rr(static_cast<std::size_t>(n)), bl(static_cast<std::size_t>(n));
      for (Index i = 0; i < n; ++i) {
        rr[std::size_t(i)] = shard::RoundRobin::owner(i, n, p);
        bl[std::size_t(i)] = shard::Block::owner(i, n, p);
        CHECK(rr[std::size_t(i)] == int(i % p));
        CHECK((bl[std::size_t(i)] >= 0 && bl[std::size_t(i)] < p));
        if (i > 0) CHECK(bl[std::size_t(i)] >= bl[std::size_t(i - 1)]);  // contiguous blocks
      }
      // Block sizes differ by at most one and the larger ones come first.
      std::vector<Index> sizes(static_cast<std::size_t>(p));
      for (int o : bl) ++sizes[std::size_t(o)];
      for (int r = 0; r < p; ++r) CHECK(sizes[std::size_t(r)] == n / p + (r < n % p ? 1 : 0));
    }
}
