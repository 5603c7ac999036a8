#pragma once
// layout/slab_io.hpp: input and output of signals in the slab layout without any rank holding
// the whole tensor: read_npy_slab (each rank reads its rows of every (B, C) plane of a .npy
// file, rank 0 having checked the header for all), write_npy_slabs (rank 0 writes the header
// and sizes the file, each rank writes its rows at their offsets; the bytes of io::write_npy)
// and test_image_slab (a rank's rows of io::test_image). Errors are the same distinv::Error on
// every rank (DistributedContext::collectively). PNG from slabs: layout/slab_png.hpp.
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "distinv/context.hpp"
#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/io/files.hpp"
#include "distinv/io/npy.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_tensor.hpp"

namespace distinv::layout {

namespace detail {

/// Byte offset in a .npy file, whose data starts at `data_offset`, of row `row` of plane
/// `plane` of a tensor of `rows` rows per plane and `row_size` elements of T per row.
template <class T>
std::uint64_t npy_row_offset(std::uint64_t data_offset, Index plane, Index rows, Index row, Index row_size) {
  return data_offset + std::uint64_t((plane * rows + row) * row_size) * sizeof(T);
}

}  // namespace detail

/// Reads rank r's rows [lo_r, hi_r) of dimension 2 of every (B, C) plane of the .npy file `path`
/// (a C-order array of T, '<f4' or '<f8', with R = 4 or 5 dimensions) into a slab tensor laid
/// out as `part` (default: the balanced partition of the file's rows). Rank 0 reads and checks
/// the header as io::read_npy does (magic, version, dtype, order, rank, a data size that
/// matches the file, nothing allocated before) and broadcasts the shape; then each rank checks
/// its slab against `limits`, checks the file's size again, and reads its rows of each plane
/// at their offsets. Throws the same Error on every rank (before anything collective is left
/// waiting) for a missing file, a bad or lying header, another dtype or rank, an empty array, a
/// partition of other rows or ranks (or fewer rows than ranks, balanced), a slab over
/// `limits`, a read that fails, or (`limits.finite_only`) a NaN or infinite value (the first
/// in the file's order, its global index named). Collective: two error agreements, a broadcast
/// of R + 1 integers (and with finite_only an all-reduce of one).
template <class T, int R, CommBackend Comm>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8) && (R == 4 || R == 5)
SlabTensor<T, R, Comm> read_npy_slab(Comm const& comm, std::filesystem::path const& path,
                                     std::optional<RowPartition> const& part = std::nullopt,
                                     io::NpyLimits limits = {}) {
  constexpr char const* what = "read_npy_slab";
  std::string const file = path.string();
  DistributedContext<Comm> const ctx(comm);
  // Rank 0 reads the header; its outcome (the data offset and shape, or its Error) is agreed.
  auto const header = ctx.collectively(what, [&] {
    io::detail::NpyHeader<R> h;
    if (comm.rank() == 0) h = io::detail::npy_read_header<T, R>(path);
    return h;
  });
  std::array<std::int64_t, R + 1> meta{};
  meta[0] = std::int64_t(header.data_offset);
  for (int d = 0; d < R; ++d) meta[std::size_t(d) + 1] = header.shape[std::size_t(d)];
  comm.broadcast(std::span<std::int64_t>(meta), 0);
  std::uint64_t const data_offset = std::uint64_t(meta[0]);
  Shape<R> shape{};
  for (int d = 0; d < R; ++d) shape[std::size_t(d)] = meta[std::size_t(d) + 1];

  std::int64_t first_bad = -1;  // this rank's first non-finite value (limits.finite_only), coded as the reader does
  auto x = ctx.collectively(what, [&] {
    DISTINV_REQUIRE(numel(shape) > 0, what, ": '", file, "': expected a non-empty array, got shape ",
                    to_string(shape));
    RowPartition const p = part ? *part : RowPartition::balanced(shape[2], comm.size());
    DISTINV_REQUIRE(p.ranks() == comm.size() && p.rows() == shape[2], what, ": '", file, "': expected a partition of ",
                    shape[2], " rows over ", comm.size(), " ranks, got ", p.to_string());
    Index row_size = 1;
    for (int d = 3; d < R; ++d) row_size *= shape[std::size_t(d)];
    Index const planes = shape[0] * shape[1], rows = p.count(comm.rank()), lo = p.lo(comm.rank());
    std::size_t const run_bytes = std::size_t(rows * row_size) * sizeof(T);
    io::detail::npy_require_within(std::size_t(planes) * run_bytes, limits, file, what);
    std::size_t const size = io::readable_file_size(path, what);
    std::uint64_t const expected = data_offset + std::uint64_t(numel(shape)) * sizeof(T);
    DISTINV_REQUIRE(size == expected, what, ": '", file, "': expected ", expected, " bytes (as its header says), got ",
                    size, " (the file changed while it was read?)");
    SlabTensor<T, R, Comm> x(comm, shape, p);
    io::RandomAccessFile in(path, io::RandomAccessFile::Mode::read, what, file);
    for (Index pl = 0; pl < planes; ++pl) {
      T* dst = x.local().data() + pl * rows * row_size;
      in.read_at(detail::npy_row_offset<T>(data_offset, pl, shape[2], lo, row_size), dst, run_bytes);
      if constexpr (std::endian::native != std::endian::little)
        io::detail::npy_swap_bytes(dst, std::size_t(rows * row_size));
      if (limits.finite_only && first_bad < 0)
        first_bad = io::detail::npy_first_non_finite(dst, std::size_t(rows * row_size), (pl * shape[2] + lo) * row_size);
    }
    return x;
  });
  if (limits.finite_only) {  // the first in the file's order over every rank: the same Error everywhere
    std::int64_t const none = std::numeric_limits<std::int64_t>::max();
    std::int64_t const bad = ctx.all_reduce_value(first_bad < 0 ? none : first_bad, ReduceOp::min);
    if (bad != none) io::detail::npy_fail_non_finite(bad, shape, file, what);
  }
  return x;
}

/// Writes the slab tensor x to `path` as a .npy 1.0 file, byte for byte what io::write_npy
/// writes for x.gather(), without gathering: rank 0 creates a temporary file beside `path`,
/// writes the header and sizes the file; each rank writes its rows of every (B, C) plane at
/// their offsets (ranks may be threads of one process or processes on a shared filesystem);
/// rank 0 then renames the temporary over `path`, so the file appears complete or not at all.
/// Throws the same Error on every rank for a folder that does not exist or a write that fails
/// (the temporary removed). Collective: three error agreements and a broadcast of the
/// temporary's name.
template <class T, int R, CommBackend Comm>
void write_npy_slabs(std::filesystem::path const& path, SlabTensor<T, R, Comm> const& x) {
  constexpr char const* what = "write_npy_slabs";
  Comm const& comm = x.comm();
  DistributedContext<Comm> const ctx(comm);
  std::array<Index, std::size_t(R)> shape{};
  for (int d = 0; d < R; ++d) shape[std::size_t(d)] = x.shape()[std::size_t(d)];
  std::string const header = io::detail::npy_header<T>(shape);
  std::uint64_t const total = header.size() + std::uint64_t(numel(x.shape())) * sizeof(T);  // x exists: it fits
  // Rank 0: the temporary file, its header and its size.
  std::optional<io::AtomicFile> file;
  std::vector<std::byte> temp;
  ctx.collectively(what, [&] {
    if (comm.rank() != 0) return;
    file.emplace(path);
    file->write(header);
    file->flush();
    std::error_code ec;
    std::filesystem::resize_file(file->temp_path(), total, ec);
    DISTINV_REQUIRE(!ec, what, ": cannot write '", path.string(), "': cannot size the file (", ec.message(), ")");
    std::string const name = file->temp_path().string();
    temp.assign(reinterpret_cast<std::byte const*>(name.data()), reinterpret_cast<std::byte const*>(name.data()) + name.size());
  });
  comm.broadcast_bytes(temp, 0);
  std::filesystem::path const temp_path(std::string(reinterpret_cast<char const*>(temp.data()), temp.size()));
  // Every rank: its rows of each plane.
  ctx.collectively(what, [&] {
    io::RandomAccessFile out(temp_path, io::RandomAccessFile::Mode::update, what, path.string());
    Index const run = x.local_rows() * x.row_size();
    for (Index pl = 0; pl < x.planes(); ++pl) {
      std::uint64_t const at = detail::npy_row_offset<T>(header.size(), pl, x.shape()[2], x.lo(), x.row_size());
      io::detail::npy_put_data(x.local().data() + pl * run, std::size_t(run),
                               [&](void const* bytes, std::size_t n) { out.write_at(at, bytes, n); });
    }
    out.close();
  });
  ctx.collectively(what, [&] {
    if (comm.rank() == 0) file->commit();
  });
}

/// Rank r's rows of io::test_image<T>(H, W, C) (the built-in test picture, (1, C, H, W)), laid
/// out as `part` (default: balanced), equal to those rows of the whole picture bit for bit:
/// each pixel is computed on its own. Throws Error (alike on every rank: the checks depend on
/// the arguments only) as test_image does, or for a partition of other rows or ranks. No
/// communication.
template <class T = float, CommBackend Comm>
  requires std::floating_point<T>
SlabTensor<T, 4, Comm> test_image_slab(Comm const& comm, Index H, Index W, Index C = 3,
                                       std::optional<RowPartition> const& part = std::nullopt) {
  io::detail::require_test_image_size<T>(H, W, C);
  SlabTensor<T, 4, Comm> x(comm, Shape<4>{1, C, H, W}, part ? *part : RowPartition::balanced(H, comm.size()));
  io::detail::fill_test_rows(x.local(), x.lo(), H, W);
  return x;
}

}  // namespace distinv::layout
