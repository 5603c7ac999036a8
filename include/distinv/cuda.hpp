#pragma once
// distinv/cuda.hpp: the CUDA backend of distinv (link distinv::cuda). From any translation
// unit: device buffers and tensors, cuFFT plans, device collectives (HostStaged over a host
// backend; comm::Nccl where NCCL was found, DISTINV_HAS_NCCL). From .cu files (nvcc) also the
// kernel launchers, reductions, DeviceTensor as a Signal of the generic templates
// (cuda/signal.cuh), the device Blur / CircularNormal, the device TV / wavelet denoisers and
// the device tiling strategies (cuda/tiling.cuh).
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
#include "distinv/cuda/denoisers.cuh"
#include "distinv/cuda/fft.cuh"
#include "distinv/cuda/kernels.cuh"
#include "distinv/cuda/signal.cuh"
#include "distinv/cuda/space.cuh"
#include "distinv/cuda/tiling.cuh"
#endif
