#pragma once
// cuda/error.hpp: every CUDA runtime and cuFFT call of distinv goes through check(), which
// throws distinv::Error naming the call and the library's error string. Compiles with the
// host compiler (needs the CUDA include directory, given by the distinv::cuda target).
#include <cuda_runtime.h>
#include <cufft.h>

#include "distinv/core/error.hpp"

namespace distinv::cuda {

/// Throws distinv::Error "distinv: <what> failed: <CUDA error name>: <description>".
inline void check(cudaError_t code, char const* what) {
  if (code != cudaSuccess)
    fail(what, " failed: ", cudaGetErrorName(code), ": ", cudaGetErrorString(code));
}

/// The name of a cuFFT result code.
inline char const* cufft_error_string(cufftResult r) noexcept {
  switch (r) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "unknown cuFFT error";
  }
}

/// Throws distinv::Error "distinv: <what> failed: <cuFFT result name> (<code>)".
inline void check(cufftResult code, char const* what) {
  if (code != CUFFT_SUCCESS) fail(what, " failed: ", cufft_error_string(code), " (", int(code), ")");
}

/// Number of CUDA devices visible; 0 when there is no device or no driver (never throws).
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

}  // namespace distinv::cuda
