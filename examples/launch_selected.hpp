#pragma once
// examples/launch_selected.hpp: runs an SPMD body on the backend a command line chose: MPI
// (started by mpiexec and asked for), `threads` ranks as threads, or one process. Shared by the
// example programs and the guide's examples. DISTINV_DEMO_MPI is defined by
// examples/CMakeLists.txt when the build has the MPI backend.
#include "distinv/core/error.hpp"
#include "distinv/launch.hpp"
#ifdef DISTINV_DEMO_MPI
#include "distinv/mpi.hpp"
#endif

namespace distinv::examples {

template <class F>
void launch_selected(int& argc, char**& argv, bool mpi, int threads, F&& body, ContextOptions options = {}) {
  if (mpi) {
#ifdef DISTINV_DEMO_MPI
    launch<comm::Mpi>(argc, argv, body, options);
#else
    (void)argc, (void)argv;
    fail("this build has no MPI backend");
#endif
  } else if (threads > 0) {
    launch<comm::Threads>(threads, body, options);
  } else {
    launch<comm::SingleProcess>(body, options);
  }
}

}  // namespace distinv::examples
