// tests/mpi_main.cpp: doctest runner of distinv_mpi_tests, started by mpiexec. Every rank runs
// the same test cases in the same order; rank 0 reports in full, the others only failures.
// The exit code is the worst of all ranks.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "distinv/mpi.hpp"

int main(int argc, char** argv) {
  distinv::comm::MpiSession session(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  doctest::Context context(argc, argv);
  if (rank != 0) context.setOption("minimal", true);
  int result = context.run();
  int worst = 0;
  MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}
