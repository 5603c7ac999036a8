# DistinvTorch.cmake: the optional learned-denoiser component, target distinv::torch (export name
# torch): distinv's headers under include/distinv/torch/ with LibTorch's CPU libraries (torch_cpu,
# c10) taken from PyPI's torch wheel. Option DISTINV_ENABLE_TORCH (default ON: used when found).
# Where LibTorch is: DISTINV_TORCH_PREFIX (the wheel's torch/ folder, with include/ and lib/), else
# the torch package of DISTINV_TORCH_PYTHON (default .venv-torch/bin/python, which
# scripts/install-torch.sh makes). Not find_package(Torch): its Caffe2 config enables CUDA (nvcc
# flags for eleven architectures) and links torch_cuda, whose cuDNN / NCCL a CPU denoiser needs not.
# Sets DISTINV_HAVE_TORCH and DISTINV_TORCH_PYTHON (the Python of the tests' fixture, or empty).
# Included by the top-level CMakeLists.txt after the other optional targets, before install.
option(DISTINV_ENABLE_TORCH "Build the learned denoisers (distinv::torch) when LibTorch is found" ON)
set(DISTINV_TORCH_PREFIX "" CACHE PATH "torch package folder (with include/ and lib/); empty: ask DISTINV_TORCH_PYTHON")
set(DISTINV_TORCH_PYTHON "${PROJECT_SOURCE_DIR}/.venv-torch/bin/python" CACHE FILEPATH
    "Python whose torch package gives LibTorch (and runs the tests' fixture)")

set(DISTINV_HAVE_TORCH OFF)
set(_distinv_torch_prefix "${DISTINV_TORCH_PREFIX}")
if(DISTINV_ENABLE_TORCH AND NOT _distinv_torch_prefix AND EXISTS "${DISTINV_TORCH_PYTHON}")
  # find_spec locates the package without importing it (no CUDA library is loaded here)
  execute_process(COMMAND "${DISTINV_TORCH_PYTHON}" -c
                  "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')"
                  OUTPUT_VARIABLE _distinv_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(DISTINV_ENABLE_TORCH AND _distinv_torch_prefix)
  set(DISTINV_TORCH_PREFIX_FOUND "${_distinv_torch_prefix}")
  configure_file(${CMAKE_CURRENT_LIST_DIR}/DistinvTorchDependencies.cmake.in
                 ${PROJECT_BINARY_DIR}/DistinvTorchDependencies.cmake @ONLY)
  include(${PROJECT_BINARY_DIR}/DistinvTorchDependencies.cmake)
endif()
unset(_distinv_torch_prefix)

if(DISTINV_HAVE_TORCH)
  add_library(distinv_torch INTERFACE)
  add_library(distinv::torch ALIAS distinv_torch)
  set_target_properties(distinv_torch PROPERTIES EXPORT_NAME torch)
  target_link_libraries(distinv_torch INTERFACE distinv DistinvTorch::torch_cpu DistinvTorch::c10)
  list(APPEND DISTINV_EXPORTED distinv_torch)
  install(FILES ${PROJECT_BINARY_DIR}/DistinvTorchDependencies.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/distinv)
  message(STATUS "distinv: LibTorch ON (torch ${DISTINV_TORCH_VERSION} in ${DISTINV_TORCH_PREFIX_FOUND})")
elseif(DISTINV_ENABLE_TORCH)
  message(STATUS "distinv: LibTorch not found (run scripts/install-torch.sh, or set DISTINV_TORCH_PREFIX)")
endif()
