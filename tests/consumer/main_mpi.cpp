// Consumer of the installed package's MPI component.
#include <distinv/mpi.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  distinv::launch<distinv::comm::Mpi>(argc, argv, [](auto& ctx) {
    double v = 1;
    ctx.all_reduce(std::span<double>(&v, 1));
    if (ctx.rank() == 0) std::printf("consumer_mpi: %g ranks\n", v);
  });
}
