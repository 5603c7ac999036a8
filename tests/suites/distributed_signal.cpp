// DistributedSignal: the same data on every rank; one shared buffer with Threads.
#include "backends.hpp"
#include "distinv/distributed/signal.hpp"

using namespace distinv;

TEST_CASE("DistributedSignal: updates reach every rank; Threads share one buffer") {
  distinv::testing::for_each_backend([](auto& ctx) {
    DistributedSignal<std::remove_reference_t<decltype(ctx)>, Tensor4<float>> s(ctx, {1, 3, 5, 7});
    CHECK(max_abs(s.data()) == 0);
    Tensor4<float> x(1, 3, 5, 7);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(i);
    s.update_(x);
    CHECK(max_abs_diff(s.data(), x) == 0);
    // Same address on every rank when the backend shares memory.
    double addr = double(reinterpret_cast<std::uintptr_t>(s.data().data()) % 1000003);
    bool const same = ctx.all_reduce_value(addr, ReduceOp::min) == ctx.all_reduce_value(addr, ReduceOp::max);
    if (s.is_shared()) CHECK(same);
    // sync: rank 0's copy wins.
    Tensor4<float> mine = x * float(ctx.rank() + 1);
    s.update_(mine, true);
    CHECK(max_abs_diff(s.data(), x) == 0);
    CHECK_THROWS_AS(s.update_(Tensor4<float>(1, 3, 5, 6)), Error);
  });
}
