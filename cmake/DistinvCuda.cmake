# DistinvCuda.cmake: the optional CUDA backend, target distinv::cuda (export name cuda).
# Option DISTINV_ENABLE_CUDA (default ON when check_language finds nvcc); architectures from
# CMAKE_CUDA_ARCHITECTURES (default 90: H100 / H200). Links CUDA::cudart, CUDA::cufft and, when
# found, NCCL (then distinv/config.hpp has DISTINV_HAS_NCCL 1 and comm::Nccl is available). CUDA translation
# units of users get EIGEN_NO_CUDA: distinv uses Eigen on the host only.
# Included by the top-level CMakeLists.txt after the other optional targets, before install.
include(CheckLanguage)
check_language(CUDA)
if(CMAKE_CUDA_COMPILER)
  set(_distinv_cuda_default ON)
else()
  set(_distinv_cuda_default OFF)
endif()
option(DISTINV_ENABLE_CUDA "Build the CUDA backend (distinv::cuda) when nvcc is found" ${_distinv_cuda_default})
unset(_distinv_cuda_default)

set(DISTINV_HAVE_CUDA OFF)
set(DISTINV_HAVE_NCCL OFF)
if(DISTINV_ENABLE_CUDA AND NOT CMAKE_CUDA_COMPILER)
  message(STATUS "distinv: CUDA backend requested but no CUDA compiler was found; left out")
elseif(DISTINV_ENABLE_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures to build for (90: H100 / H200)")
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  include(DistinvCudaDependencies)

  add_library(distinv_cuda INTERFACE)
  add_library(distinv::cuda ALIAS distinv_cuda)
  set_target_properties(distinv_cuda PROPERTIES EXPORT_NAME cuda)
  target_link_libraries(distinv_cuda INTERFACE distinv CUDA::cudart CUDA::cufft)
  target_compile_definitions(distinv_cuda INTERFACE $<$<COMPILE_LANGUAGE:CUDA>:EIGEN_NO_CUDA>)
  if(DISTINV_HAVE_NCCL)
    target_link_libraries(distinv_cuda INTERFACE DistinvNccl::nccl)
  endif()
  list(APPEND DISTINV_EXPORTED distinv_cuda)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/DistinvCudaDependencies.cmake
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/distinv)
  set(DISTINV_HAVE_CUDA ON)
endif()

if(DISTINV_HAVE_CUDA)
  message(STATUS "distinv: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures "
                 "${CMAKE_CUDA_ARCHITECTURES}, cuFFT ON, NCCL ${DISTINV_HAVE_NCCL})")
  if(NOT DISTINV_HAVE_NCCL)
    message(STATUS "distinv: NCCL not found; distinv::cuda is built without comm::Nccl (HostStaged only)")
  endif()
else()
  message(STATUS "distinv: CUDA backend OFF")
endif()

# distinv_cuda_target(<target>): the compile settings of distinv's own CUDA executables (tests,
# benchmarks, examples): C++20 for nvcc, and no host-compiler warnings on Eigen's nvcc pragmas.
function(distinv_cuda_target target)
  if(DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set_target_properties(${target} PROPERTIES CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON)
  else()  # CMake < 3.26 does not know C++20 for nvcc
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20>)
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wno-unknown-pragmas>)
endfunction()
