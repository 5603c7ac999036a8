#pragma once
// distinv/cuda.hpp: the CUDA backend of distinv (link distinv::cuda). From any translation
// unit: device buffers and tensors, cuFFT plans, device collectives (HostStaged over a host
// backend; comm::Nccl where NCCL was found, DISTINV_HAS_NCCL). From .cu files (nvcc) also the
// kernel launchers, reductions, DeviceTensor as a Signal of the generic templates
// (cuda/signal.cuh) with its space (cuda/space.cuh: the denoisers and priors of optim/ and the
// generic tiling of tiling/process.hpp run on device tensors through it) and the device Blur /
// CircularNormal.
#include "distinv/config.hpp"
#include "distinv/core/host_device.hpp"
#include "distinv/cuda/comm.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/error.hpp"
#include "distinv/cuda/fft.hpp"
#if DISTINV_HAS_NCCL
#include "distinv/cuda/nccl.hpp"
#endif
#if defined(__CUDACC__)
#include "distinv/cuda/fft.cuh"
#include "distinv/cuda/kernels.cuh"
#include "distinv/cuda/signal.cuh"
#include "distinv/cuda/space.cuh"
#endif
