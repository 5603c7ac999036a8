#pragma once
// examples/guide/guide.hpp: what the guide's examples share. `run(argc, argv, body)` runs the
// SPMD body on the backend of the command line (none: one process; `--threads N`: N ranks as
// threads; `--mpi`: the ranks of mpiexec) and turns any exception, a failed `check` included,
// into a message on stderr and exit code 1, so that CTest sees a wrong result as a failure.
// An example that needs a file takes it as `--model PATH` (run's `model` argument).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "../launch_selected.hpp"
#include "distinv/core/error.hpp"

namespace distinv::guide {

/// Throws Error("<what>: check failed") unless `ok`; every rank checks the same values.
inline void check(bool ok, char const* what) {
  if (!ok) fail(what, ": check failed");
}

template <class F>
int run(int argc, char** argv, F&& body, std::string* model = nullptr) try {
  bool mpi = false;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mpi") == 0) mpi = true;
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (model && std::strcmp(argv[i], "--model") == 0 && i + 1 < argc) *model = argv[++i];
    else fail("expected --threads N", model ? ", --model PATH" : "", " or --mpi, got ", argv[i]);
  }
  examples::launch_selected(argc, argv, mpi, threads, body);
  return 0;
} catch (std::exception const& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}

}  // namespace distinv::guide
