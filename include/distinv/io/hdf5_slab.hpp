#pragma once
// io/hdf5_slab.hpp: HDF5 datasets read and written by slabs (layout::SlabTensor), no rank
// holding the whole array, mirroring layout/slab_io.hpp's .npy functions: read_hdf5_slab (each
// rank reads its rows of every (B, C) plane), write_hdf5_slabs (each rank writes its rows).
// Under comm::Mpi with parallel HDF5, one file opened by every rank through MPI-IO, collective
// transfers of hyperslabs; one process and comm::Threads use the library in turn (io/hdf5.hpp's
// lock). Errors are one distinv::Error on every rank, agreed before any collective transfer.
#include <array>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "distinv/context.hpp"
#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/warn_once.hpp"
#include "distinv/io/files.hpp"
#include "distinv/io/hdf5.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_tensor.hpp"

namespace distinv::io {

namespace detail {

/// A backend whose ranks are separate processes (comm::Mpi: it has a native communicator).
template <class Comm>
concept Hdf5ProcessComm = requires(Comm const& c) { c.native(); };

#ifdef H5_HAVE_PARALLEL
/// A backend whose ranks open one file together through MPI-IO (parallel HDF5 and comm::Mpi).
template <class Comm>
concept Hdf5MpiIoComm = requires(Comm const& c) {
  { c.native() } -> std::same_as<MPI_Comm>;
};
#else
template <class Comm>
concept Hdf5MpiIoComm = false;
#endif

template <class Comm>
constexpr void hdf5_check_backend() {
  static_assert(!Hdf5ProcessComm<Comm> || Hdf5MpiIoComm<Comm>,
                "io/hdf5_slab.hpp: ranks in separate processes share a file through parallel HDF5 "
                "(libhdf5-openmpi-dev); this build's distinv::hdf5 is serial HDF5");
}

/// The file access list of `comm`'s ranks: MPI-IO over its communicator, or the default driver.
template <class Comm>
Hdf5Id hdf5_file_access([[maybe_unused]] Comm const& comm, char const* what) {
  Hdf5Id fapl = hdf5_checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, what, ": no property list");
#ifdef H5_HAVE_PARALLEL
  if constexpr (Hdf5MpiIoComm<Comm>) {
    DISTINV_REQUIRE(H5Pset_fapl_mpio(fapl.get(), comm.native(), MPI_INFO_NULL) >= 0, what, ": cannot use MPI-IO");
    H5Pset_all_coll_metadata_ops(fapl.get(), true);
    H5Pset_coll_metadata_write(fapl.get(), true);
  }
#endif
  return fapl;
}

/// The transfer list: collective MPI-IO, or the default.
template <class Comm>
Hdf5Id hdf5_transfer(char const* what) {
  Hdf5Id dxpl = hdf5_checked(H5Pcreate(H5P_DATASET_XFER), H5Pclose, what, ": no property list");
#ifdef H5_HAVE_PARALLEL
  if constexpr (Hdf5MpiIoComm<Comm>)
    DISTINV_REQUIRE(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE) >= 0, what, ": cannot use collective MPI-IO");
#endif
  return dxpl;
}

}  // namespace detail

/// Reads rank r's rows [lo_r, hi_r) of dimension 2 of every (B, C) plane of the dataset at
/// `location` ("file.h5:/path/to/dataset", float32 or float64, R = 4 or 5 dimensions) into a slab
/// tensor of T laid out as `part` (default: the balanced partition of the dataset's rows). Rank 0
/// opens and checks the dataset as io::read_hdf5 does (nothing allocated before) and broadcasts
/// its shape; each rank checks its slab against `opt.max_bytes`, then reads its rows: under
/// comm::Mpi one collective MPI-IO read of a hyperslab per rank (compressed datasets too, which
/// parallel HDF5 decodes chunk by chunk), otherwise the ranks take turns. Throws the same Error
/// on every rank for a missing file or dataset, another type or rank, a filter that cannot be
/// decoded, a shape larger than the file holds, a partition of other rows or ranks, a slab over
/// the limit, a failed read, or a value that is not finite (the first in C order, by position).
/// Collective: error agreements, a broadcast of R + 1 integers, an all-reduce of one integer.
template <class T, int R, CommBackend Comm>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8) && (R == 4 || R == 5)
layout::SlabTensor<T, R, Comm> read_hdf5_slab(Comm const& comm, std::string_view location,
                                              std::optional<layout::RowPartition> const& part = std::nullopt,
                                              Hdf5ReadOptions opt = {}) {
  detail::hdf5_check_backend<Comm>();
  constexpr char const* what = "read_hdf5_slab";
  DistributedContext<Comm> const ctx(comm);
  Hdf5Location const loc = ctx.collectively(what, [&] { return parse_hdf5_location(location); });
  std::string const name = loc.to_string();
  // Rank 0 checks the dataset with the default driver, then closes it for the ranks to open.
  auto const checked = ctx.collectively(what, [&] {
    std::array<std::int64_t, R + 1> meta{};
    if (comm.rank() == 0) {
      detail::Hdf5Session const session;
      auto const d = detail::hdf5_open_dataset<R>(loc, H5P_DEFAULT, what);
      for (int k = 0; k < R; ++k) meta[std::size_t(k)] = d.shape[std::size_t(k)];
      meta[R] = d.filtered ? 1 : 0;
    }
    return meta;
  });
  std::array<std::int64_t, R + 1> meta = checked;
  comm.broadcast(std::span<std::int64_t>(meta), 0);
  Shape<R> shape{};
  for (int k = 0; k < R; ++k) shape[std::size_t(k)] = meta[std::size_t(k)];

  auto x = ctx.collectively(what, [&] {
    layout::RowPartition const p = part ? *part : layout::RowPartition::balanced(shape[2], comm.size());
    DISTINV_REQUIRE(p.ranks() == comm.size() && p.rows() == shape[2], what, ": '", name, "': expected a partition of ",
                    shape[2], " rows over ", comm.size(), " ranks, got ", p.to_string());
    Index slab = shape[0] * shape[1] * p.count(comm.rank());
    for (int k = 3; k < R; ++k) slab *= shape[std::size_t(k)];
    DISTINV_REQUIRE(std::size_t(slab) <= opt.max_bytes / sizeof(T), what, ": '", name, "': ", slab * Index(sizeof(T)),
                    " bytes to read, more than the limit of ", opt.max_bytes, " bytes");
    return layout::SlabTensor<T, R, Comm>(comm, shape, p);
  });
  auto read_own_rows = [&] {
    detail::Hdf5Session const session;
    detail::Hdf5Id const fapl = detail::hdf5_file_access(comm, what);
    auto const d = detail::hdf5_open_dataset<R>(loc, fapl.get(), what);
    DISTINV_REQUIRE(d.shape == shape, what, ": '", name, "': the dataset changed while it was read");
    detail::Hdf5Id const dxpl = detail::hdf5_transfer<Comm>(what);
    detail::hdf5_read_rows<T, R>(d, x.local().data(), x.lo(), x.local_rows(), dxpl.get(), name, what);
  };
  ctx.collectively(what, read_own_rows);
  std::int64_t const local_bad = detail::hdf5_first_nonfinite<T, R>(x.local().data(), shape, x.lo(), x.local_rows());
  std::int64_t const first_bad =
      ctx.all_reduce_value(local_bad < 0 ? std::numeric_limits<std::int64_t>::max() : local_bad, ReduceOp::min);
  if (first_bad != std::numeric_limits<std::int64_t>::max()) detail::hdf5_fail_nonfinite<R>(first_bad, shape, name, what);
  return x;
}

/// Writes the slab tensor x to `location` ("file.h5:/path/to/dataset") as io::write_hdf5 writes
/// x.gather(), without gathering: a new file beside the target holding one contiguous dataset
/// (little-endian float32 or float64) with the attributes "distinv_version", "axes" and, if
/// given, "iteration"; each rank writes its rows of every plane (under comm::Mpi: one collective
/// MPI-IO write of a hyperslab per rank; otherwise in turn); rank 0 then renames the file over
/// the target, which appears complete or not at all. Throws the same Error on every rank for a
/// folder that does not exist or a write that fails (the temporary removed). Collective: error
/// agreements and a broadcast of the temporary's name.
template <class T, int R, CommBackend Comm>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8) && (R == 4 || R == 5)
void write_hdf5_slabs(std::string_view location, layout::SlabTensor<T, R, Comm> const& x,
                      Hdf5WriteOptions const& opt = {}) {
  detail::hdf5_check_backend<Comm>();
  constexpr char const* what = "write_hdf5_slabs";
  Comm const& comm = x.comm();
  DistributedContext<Comm> const ctx(comm);
  Hdf5Location const loc = ctx.collectively(what, [&] { return parse_hdf5_location(location); });
  std::string const target = loc.file.string();
  Shape<R> const shape = x.shape();
  // Rank 0: the temporary file beside the target, its name sent to every rank.
  std::optional<AtomicFile> file;
  std::vector<std::byte> temp;
  ctx.collectively(what, [&] {
    if (comm.rank() != 0) return;
    file.emplace(loc.file);
    std::string const n = file->temp_path().string();
    temp.assign(reinterpret_cast<std::byte const*>(n.data()), reinterpret_cast<std::byte const*>(n.data()) + n.size());
  });
  comm.broadcast_bytes(temp, 0);
  std::string const temp_path(reinterpret_cast<char const*>(temp.data()), temp.size());
  auto create = [&](hid_t fapl) {
    return detail::hdf5_checked(H5Fcreate(temp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose, what,
                                ": cannot write '", target, "'");
  };
  auto write_rows = [&](hid_t dset, hid_t dxpl) {
    detail::hdf5_write_rows<T, R>(dset, shape, x.local().data(), x.lo(), x.local_rows(), dxpl, target, what);
  };
  if constexpr (detail::Hdf5MpiIoComm<Comm>) {
    // Every rank: the file and the dataset created together, then one collective write.
    ctx.collectively(what, [&] {
      detail::Hdf5Session const session;
      detail::Hdf5Id const fapl = detail::hdf5_file_access(comm, what);
      detail::Hdf5Id f = create(fapl.get());
      detail::Hdf5Id dset = detail::hdf5_create_dataset<T, R>(f.get(), loc, shape, opt, target, what);
      detail::Hdf5Id const dxpl = detail::hdf5_transfer<Comm>(what);
      write_rows(dset.get(), dxpl.get());
      DISTINV_REQUIRE(dset.close() && f.close(), what, ": cannot write '", target, "': closing failed");
    });
  } else {
    // Rank 0 creates the file and the dataset; then each rank opens it in turn and writes its rows.
    ctx.collectively(what, [&] {
      if (comm.rank() != 0) return;
      detail::Hdf5Session const session;
      detail::Hdf5Id f = create(H5P_DEFAULT);
      detail::Hdf5Id dset = detail::hdf5_create_dataset<T, R>(f.get(), loc, shape, opt, target, what);
      DISTINV_REQUIRE(dset.close() && f.close(), what, ": cannot write '", target, "': closing failed");
    });
    ctx.collectively(what, [&] {
      detail::Hdf5Session const session;
      detail::Hdf5Id f = detail::hdf5_checked(H5Fopen(temp_path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, what,
                                              ": cannot write '", target, "': cannot open the new file");
      detail::Hdf5Id dset = detail::hdf5_checked(H5Dopen2(f.get(), loc.dataset.c_str(), H5P_DEFAULT), H5Dclose, what,
                                                 ": cannot write '", target, "': cannot open the new dataset");
      write_rows(dset.get(), H5P_DEFAULT);
      DISTINV_REQUIRE(dset.close() && f.close(), what, ": cannot write '", target, "': closing failed");
    });
  }
  ctx.collectively(what, [&] {
    if (comm.rank() == 0) file->commit();
  });
}

}  // namespace distinv::io
