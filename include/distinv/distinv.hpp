#pragma once
// distinv.hpp: everything in distinv that needs no optional dependency (Eigen and oneTBB
// only). Add distinv/mpi.hpp for the MPI backend, distinv/io/png.hpp for PNG files (libpng),
// distinv/cuda.hpp for CUDA buffers. With FFTW (target distinv::fftw) circular blurs use
// FFTs and the fused L2 gradient is available; without it they run directly.
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
// physics
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/physics/fused_normal.hpp"
#include "distinv/physics/denoising.hpp"
#include "distinv/physics/downsampling.hpp"
#include "distinv/physics/filters.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/inpainting.hpp"
#include "distinv/physics/pseudo_inverse.hpp"
#include "distinv/physics/stacked.hpp"
// tiling, denoisers, priors, data fidelities, solvers
#include "distinv/tiling/basic.hpp"
#include "distinv/tiling/overlap_tiling.hpp"
#include "distinv/tiling/process.hpp"
#include "distinv/tiling/with_strategy.hpp"
#include "distinv/optim/data_fidelity.hpp"
#include "distinv/optim/denoisers/gaussian.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/optim/threshold.hpp"
// the distributed layer and the factory API
#include "distinv/distributed/data_fidelity.hpp"
#include "distinv/distributed/measurements.hpp"
#include "distinv/distributed/processing.hpp"
#include "distinv/distributed/signal.hpp"
#include "distinv/distributed/stacked_physics.hpp"
#include "distinv/factory.hpp"
// images that need no library
#include "distinv/io/image_ops.hpp"
#include "distinv/io/npy.hpp"
#include "distinv/io/test_image.hpp"
