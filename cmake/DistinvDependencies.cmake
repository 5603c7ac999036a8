# DistinvDependencies.cmake: how distinv finds what its targets link, shared by the build and
# by the installed package (distinvConfig.cmake calls the same macros for the parts the build
# had, recorded at install time). Each distinv_find_<part>(<var>) sets <var> to ON or OFF and,
# when ON, defines the imported target the part links:
#   core  Eigen3::Eigen (3.4), TBB::tbb, Threads::Threads (required)
#   fftw  PkgConfig::DISTINV_FFTW (fftw3 and fftw3f)
#   mpi   MPI::MPI_CXX
#   fftw_mpi  DistinvDeps::fftw_mpi (FFTW's MPI interface: fftw3-mpi.h, fftw3_mpi and fftw3f_mpi,
#         Debian libfftw3-mpi-dev, which has no pkg-config file; needs fftw and mpi)
#   png   PNG::PNG
#   hdf5  PkgConfig::DISTINV_HDF5 (the HDF5 C library through pkg-config; with <parallel> ON the
#         MPI build first: Debian libhdf5-openmpi-dev's hdf5-openmpi, then hdf5-mpi, then hdf5;
#         else libhdf5-dev's hdf5-serial, then hdf5). distinv_find_hdf5 also sets <var>_PARALLEL
#         to whether the library found is parallel HDF5 (H5_HAVE_PARALLEL in its H5pubconf.h).
include(CMakeFindDependencyMacro)

macro(distinv_find_core)
  find_dependency(Eigen3 3.4 NO_MODULE)
  find_dependency(TBB)
  find_dependency(Threads)
endmacro()

macro(distinv_find_fftw var)
  set(${var} OFF)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(DISTINV_FFTW QUIET IMPORTED_TARGET GLOBAL fftw3 fftw3f)
    if(DISTINV_FFTW_FOUND)
      set(${var} ON)
    endif()
  endif()
endmacro()

macro(distinv_find_mpi var)
  find_package(MPI COMPONENTS CXX QUIET)
  set(${var} ${MPI_CXX_FOUND})
endmacro()

macro(distinv_find_fftw_mpi var)
  set(${var} OFF)
  find_path(DISTINV_FFTW_MPI_INCLUDE_DIR fftw3-mpi.h)
  find_library(DISTINV_FFTW_MPI_LIBRARY fftw3_mpi)
  find_library(DISTINV_FFTWF_MPI_LIBRARY fftw3f_mpi)
  if(DISTINV_FFTW_MPI_INCLUDE_DIR AND DISTINV_FFTW_MPI_LIBRARY AND DISTINV_FFTWF_MPI_LIBRARY)
    if(NOT TARGET DistinvDeps::fftw_mpi)
      add_library(DistinvDeps::fftw_mpi INTERFACE IMPORTED GLOBAL)
      set_target_properties(DistinvDeps::fftw_mpi PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${DISTINV_FFTW_MPI_INCLUDE_DIR}"
        INTERFACE_LINK_LIBRARIES "${DISTINV_FFTWF_MPI_LIBRARY};${DISTINV_FFTW_MPI_LIBRARY}")
    endif()
    set(${var} ON)
  endif()
endmacro()

macro(distinv_find_png var)
  find_package(PNG QUIET)
  set(${var} ${PNG_FOUND})
endmacro()

macro(distinv_find_hdf5 var parallel)
  set(${var} OFF)
  set(${var}_PARALLEL OFF)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    if(${parallel})
      pkg_search_module(DISTINV_HDF5 QUIET IMPORTED_TARGET GLOBAL hdf5-openmpi hdf5-mpi hdf5)
    else()
      pkg_search_module(DISTINV_HDF5 QUIET IMPORTED_TARGET GLOBAL hdf5-serial hdf5)
    endif()
    if(DISTINV_HDF5_FOUND)
      set(${var} ON)
      find_file(DISTINV_HDF5_PUBCONF H5pubconf.h HINTS ${DISTINV_HDF5_INCLUDE_DIRS} NO_DEFAULT_PATH)
      if(DISTINV_HDF5_PUBCONF)
        file(STRINGS "${DISTINV_HDF5_PUBCONF}" _distinv_hdf5_parallel REGEX "^#define H5_HAVE_PARALLEL 1")
        if(_distinv_hdf5_parallel)
          set(${var}_PARALLEL ON)
        endif()
        unset(_distinv_hdf5_parallel)
      endif()
    endif()
  endif()
endmacro()
