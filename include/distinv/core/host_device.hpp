#pragma once
// core/host_device.hpp: the one annotation that lets a function body be written once and run
// on the host (g++, plain loops) and on a CUDA device (nvcc, kernels in distinv/cuda/).
// DISTINV_HOST_DEVICE is `__host__ __device__` under nvcc and empty otherwise.
// Includes nothing: no CUDA header is needed to use it.

#if defined(__CUDACC__)
#define DISTINV_HOST_DEVICE __host__ __device__
#else
#define DISTINV_HOST_DEVICE
#endif

// DISTINV_UNROLL(n): asks the compiler to unroll the next loop n times (GCC / nvcc / clang).
#define DISTINV_PRAGMA(x) _Pragma(#x)
#if defined(__CUDACC__) || defined(__clang__)
#define DISTINV_UNROLL(n) DISTINV_PRAGMA(unroll n)
#elif defined(__GNUC__)
#define DISTINV_UNROLL(n) DISTINV_PRAGMA(GCC unroll n)
#else
#define DISTINV_UNROLL(n)
#endif
