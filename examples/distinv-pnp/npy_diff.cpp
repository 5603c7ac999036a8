// examples/distinv-pnp/npy_diff.cpp: npy_diff A.npy B.npy TOL — exit code 0 when the two float
// (1, C, H, W) arrays have one shape and differ by at most TOL anywhere, 1 otherwise (the largest
// difference on stdout), 2 for unreadable input. For the CTests that compare distinv-pnp's
// result.npy across layouts (expect_close_result.cmake).
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "distinv/core/tensor.hpp"
#include "distinv/io/npy.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: npy_diff A.npy B.npy TOL\n");
    return 2;
  }
  try {
    auto const a = distinv::io::read_npy<float, 4>(argv[1]);
    auto const b = distinv::io::read_npy<float, 4>(argv[2]);
    if (distinv::shape_of(a) != distinv::shape_of(b)) {
      std::printf("shapes differ: %s vs %s\n", distinv::to_string(distinv::shape_of(a)).c_str(),
                  distinv::to_string(distinv::shape_of(b)).c_str());
      return 1;
    }
    double const d = distinv::max_abs_diff(a, b);
    std::printf("max abs diff %.3g\n", d);
    return d <= std::atof(argv[3]) ? 0 : 1;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "npy_diff: %s\n", e.what());
    return 2;
  }
}
