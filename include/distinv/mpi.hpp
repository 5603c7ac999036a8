#pragma once
// mpi.hpp: distinv with the MPI backend and its launch. Needs an MPI library (target
// distinv::mpi).
//   int main(int argc, char** argv) { distinv::launch<distinv::comm::Mpi>(argc, argv, body); }
#include "distinv/comm/mpi.hpp"
#include "distinv/distinv.hpp"
#include "distinv/launch/mpi.hpp"
