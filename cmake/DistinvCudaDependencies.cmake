# DistinvCudaDependencies.cmake: finds what distinv::cuda links (CUDA Toolkit: cudart, cuFFT;
# NCCL when present), for the build and for the installed package alike. Defines the imported
# target DistinvNccl::nccl and sets DISTINV_HAVE_NCCL. Never fatal: a consumer that does not
# link distinv::cuda needs none of it.
if(NOT CUDAToolkit_FOUND)
  find_package(CUDAToolkit QUIET)
endif()

if(NOT TARGET DistinvNccl::nccl)
  set(_distinv_cuda_roots "")
  if(CUDAToolkit_FOUND)
    list(APPEND _distinv_cuda_roots ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR})
  endif()
  find_path(DISTINV_NCCL_INCLUDE_DIR nccl.h
    HINTS ENV NCCL_ROOT ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(DISTINV_NCCL_LIBRARY nccl
    HINTS ENV NCCL_ROOT ${CUDAToolkit_LIBRARY_DIR} ${_distinv_cuda_roots} PATH_SUFFIXES lib lib64)
  if(DISTINV_NCCL_INCLUDE_DIR AND DISTINV_NCCL_LIBRARY)
    add_library(DistinvNccl::nccl UNKNOWN IMPORTED)
    set_target_properties(DistinvNccl::nccl PROPERTIES
      IMPORTED_LOCATION "${DISTINV_NCCL_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${DISTINV_NCCL_INCLUDE_DIR}")
  endif()
  unset(_distinv_cuda_roots)
endif()

if(TARGET DistinvNccl::nccl)
  set(DISTINV_HAVE_NCCL ON)
else()
  set(DISTINV_HAVE_NCCL OFF)
endif()
