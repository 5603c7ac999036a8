// Consumer of the installed package: a threads run summing rank numbers.
#include <distinv/distinv.hpp>

#include <cstdio>

int main() {
  distinv::launch<distinv::comm::Threads>(3, [](auto& ctx) {
    double v = ctx.rank() + 1;
    ctx.all_reduce(std::span<double>(&v, 1));
    if (ctx.rank() == 0) std::printf("consumer: sum over %d ranks = %g\n", ctx.world_size(), v);
    if (v != 6) throw distinv::Error("wrong sum");
  });
}
