#pragma once
// tests/backends.hpp: the only file that knows which backends a test binary runs.
// for_each_backend(f) runs the SPMD body f(ctx) on every backend of this binary:
//   distinv_tests      SingleProcess, then Threads with 1, 2, 3 and 4 ranks;
//   distinv_mpi_tests  the MPI world of the mpiexec that started it (2 or 3 ranks in CTest).
// A suite in tests/suites/ is compiled into both, so each collective test is written once.
#include <doctest/doctest.h>

#include <initializer_list>
#include <random>

#include "distinv/distinv.hpp"
#ifdef DISTINV_TESTING_MPI
#include "distinv/mpi.hpp"
#endif

namespace distinv::testing {

inline constexpr std::initializer_list<int> all_thread_counts = {1, 2, 3, 4};

#ifdef DISTINV_TESTING_MPI
template <ShardingPolicy S = shard::RoundRobin, class F>
void for_each_backend(F&& f, std::initializer_list<int> = all_thread_counts, ContextOptions opt = {}) {
  DistributedContext<comm::Mpi, S> ctx(comm::Mpi(MPI_COMM_WORLD), opt);
  f(ctx);
}
#else
template <ShardingPolicy S = shard::RoundRobin, class F>
void for_each_backend(F&& f, std::initializer_list<int> thread_counts = all_thread_counts, ContextOptions opt = {}) {
  launch<comm::SingleProcess, S>(f, opt);
  for (int n : thread_counts) launch<comm::Threads, S>(n, f, opt);
}
#endif

/// Tolerance tied to the scalar type (relative, on values of order one).
template <class T>
constexpr double tol() {
  return sizeof(T) == 4 ? 1e-5 : 1e-12;
}

/// A tensor of shape `s` with values uniform in [0, 1), the same for a given seed on every rank.
template <class T>
Tensor4<T> random_tensor(Shape<4> s, unsigned seed) {
  Tensor4<T> x(s);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(u(gen));
  return x;
}

}  // namespace distinv::testing
