#pragma once
// distinv.hpp: everything in distinv that needs no optional dependency (Eigen and oneTBB
// only). Add distinv/mpi.hpp for the MPI backend, distinv/cuda.hpp for CUDA buffers.
#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/comm/single_process.hpp"
#include "distinv/comm/threads.hpp"
#include "distinv/sharding.hpp"
#include "distinv/device.hpp"
#include "distinv/context.hpp"
#include "distinv/launch.hpp"
