// Consumer of the installed package's FFTW-MPI component: the slab FFT by FFTW's MPI interface.
#include <distinv/layout/fftw_mpi_slab_fft.hpp>
#include <distinv/mpi.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  static_assert(distinv::config::has_fftw_mpi);
  distinv::comm::MpiSession session(&argc, &argv);
  distinv::comm::Mpi const comm(MPI_COMM_WORLD);
  auto const part = distinv::layout::RowPartition::balanced(8, comm.size());
  distinv::layout::FftwMpiSlabFft<float> const fft(comm, 8, 8, part);
  auto const x = distinv::layout::SlabTensor<float, 4, distinv::comm::Mpi>::zeros(comm, {1, 1, 8, 8}, part);
  if (fft.forward(x).size() != std::size_t(fft.plane_spectrum())) return 1;
  if (comm.rank() == 0) std::printf("consumer_fftw_mpi: %d of 5 spectral columns on rank 0\n", int(fft.local_cols()));
}
