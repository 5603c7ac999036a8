// Threads backend: an exception on one rank reaches the caller of launch and releases the
// ranks blocked in collectives.
#include <doctest/doctest.h>

#include "distinv/distinv.hpp"

using namespace distinv;

TEST_CASE("threads: one failing rank releases the others blocked in a collective") {
  for (int n : {2, 3, 4}) {
    std::atomic<int> reached_end = 0;
    auto body = [&](auto& ctx) {
      if (ctx.rank() == 1) throw std::runtime_error("rank 1 fails before the all-reduce");
      std::vector<double> v(1000, 1.0);
      ctx.all_reduce(std::span<double>(v));
      ctx.barrier();
      ++reached_end;
    };
    CHECK_THROWS_WITH_AS(launch<comm::Threads>(n, body), "rank 1 fails before the all-reduce", std::runtime_error);
    CHECK(reached_end == 0);
  }
}

TEST_CASE("threads: mismatched all_reduce sizes are an Error on every rank") {
  std::atomic<int> errors = 0;
  launch<comm::Threads>(3, [&](auto& ctx) {
    std::vector<double> v(std::size_t(10 + ctx.rank()), 1.0);
    try {
      ctx.all_reduce(std::span<double>(v));
    } catch (Error const&) {
      ++errors;
    }
    ctx.barrier();
  });
  CHECK(errors == 3);
}

TEST_CASE("threads: bad world sizes and ranks") {
  CHECK_THROWS_AS(launch<comm::Threads>(0, [](auto&) {}), Error);
  CHECK_THROWS_AS(comm::Threads(comm::Threads::make_world(2), 2), Error);
}
