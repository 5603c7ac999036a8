// Checked size arithmetic (core/checked.hpp): products and sums that would wrap round throw
// Error naming the caller; narrowing keeps a value only when it fits.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "distinv/core/checked.hpp"
#include "distinv/core/tensor.hpp"

using namespace distinv;

TEST_CASE("checked: multiply, add, product, narrow") {
  constexpr Index big = std::numeric_limits<Index>::max();
  CHECK(checked_mul<Index>(3, 4, "t") == 12);
  CHECK(checked_mul<Index>(0, big, "t") == 0);
  CHECK(checked_mul<Index>(big, 1, "t") == big);
  CHECK_THROWS_WITH_AS(checked_mul<Index>(Index(1) << 32, Index(1) << 31, "test_image"),
                       "distinv: test_image: the size 4294967296 x 2147483648 overflows (more than 9223372036854775807)",
                       Error);
  CHECK_THROWS_AS(checked_mul<Index>(-1, 2, "t"), Error);
  CHECK(checked_mul<std::uint64_t>(std::uint64_t(1) << 32, (std::uint64_t(1) << 32) - 1, "t") ==
        (std::uint64_t(1) << 32) * ((std::uint64_t(1) << 32) - 1));
  CHECK_THROWS_AS(checked_mul<std::uint64_t>(std::uint64_t(1) << 32, std::uint64_t(1) << 32, "t"), Error);
  CHECK(checked_add<Index>(big - 1, 1, "t") == big);
  CHECK_THROWS_AS(checked_add<Index>(big, 1, "t"), Error);
  // 9223372036854775807 x 9223372036854775807 x 3: the --size that wrote past a 12-byte buffer.
  CHECK_THROWS_AS(checked_product<Index>({3, big, big}, "t"), Error);
  CHECK(checked_product<Index>({1, 3, 512, 512}, "t") == 786432);
  CHECK(narrow<int>(std::int64_t(42), "t") == 42);
  CHECK_THROWS_WITH_AS(narrow<int>(std::int64_t(4294967297), "operators"),
                       "distinv: operators: the value 4294967297 is out of range [-2147483648, 2147483647]", Error);
  CHECK_THROWS_AS(narrow<std::uint32_t>(-1, "t"), Error);
}
