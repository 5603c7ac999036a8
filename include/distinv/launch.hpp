#pragma once
// launch.hpp: run one SPMD body under a backend chosen at compile time; each backend's launch
// is in launch/ beside the others:
//   launch<comm::SingleProcess>(fn);     launch<comm::Threads>(4, fn);
//   launch<comm::Mpi>(argc, argv, fn);   (distinv/mpi.hpp: launch/mpi.hpp, needs MPI)
// `fn(ctx)` receives this rank's DistributedContext.
#include "distinv/launch/single_process.hpp"
#include "distinv/launch/threads.hpp"
