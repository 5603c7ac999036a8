#pragma once
// io/hdf5.hpp: HDF5 datasets of float32 or float64 values, rank 4 (B, C, H, W) or 5 (B, C, D, H,
// W), addressed as "file.h5:/path/to/dataset": the address parser, owning handles over the HDF5 C
// library, the checks a reader makes before it allocates anything (file, dataset, type, rank,
// filters, a shape the file holds), the attributes distinv writes (its version, the axes, an
// optional iteration), and whole-array read_hdf5 / write_hdf5 on one process. Needs
// distinv::hdf5. By slabs on every backend (MPI-IO under comm::Mpi): io/hdf5_slab.hpp.
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "distinv/config.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/io/files.hpp"

namespace distinv::io {

/// Where a dataset lives: "file.h5:/path/to/dataset" split at its last ":/".
struct Hdf5Location {
  std::filesystem::path file;  ///< the HDF5 file
  std::string dataset;         ///< absolute path inside the file, starting with '/'
  /// "file:/path/to/dataset", as given.
  [[nodiscard]] std::string to_string() const { return file.string() + ":" + dataset; }
};

/// Parses "file.h5:/path/to/dataset" (split at the last ":/"); throws Error naming the expected form.
inline Hdf5Location parse_hdf5_location(std::string_view spec) {
  auto const at = spec.rfind(":/");
  DISTINV_REQUIRE(at != std::string_view::npos && at > 0 && at + 2 < spec.size(), "expected an HDF5 dataset as ",
                  "'file.h5:/path/to/dataset', got '", spec, "'");
  return {std::filesystem::path(std::string(spec.substr(0, at))), std::string(spec.substr(at + 1))};
}

/// What a reader of HDF5 accepts.
struct Hdf5ReadOptions {
  /// Largest tensor (or slab) allocated, in bytes (default: no bound beyond what the file holds).
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
};

/// What a writer of HDF5 records beside the data.
struct Hdf5WriteOptions {
  std::optional<std::int64_t> iteration;  ///< the attribute "iteration" (checkpoints), if set
};

/// The attributes distinv writes on a dataset.
struct Hdf5Attributes {
  std::string distinv_version;            ///< "distinv_version": the version of the writer
  std::string axes;                       ///< "axes": "B,C,H,W" or "B,C,D,H,W"
  std::optional<std::int64_t> iteration;  ///< "iteration", when the writer gave one
};

namespace detail {

/// The HDF5 library is one state per process, and not thread-safe unless built so: every call
/// into it holds this lock (the ranks of comm::Threads share a process).
inline std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}

/// Holds the lock and silences HDF5's own error printing while a distinv call uses the library
/// (failures become distinv::Error instead).
class Hdf5Session {
 public:
  Hdf5Session() : lock_(hdf5_mutex()) {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  Hdf5Session(Hdf5Session const&) = delete;
  Hdf5Session& operator=(Hdf5Session const&) = delete;
  ~Hdf5Session() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  std::lock_guard<std::recursive_mutex> lock_;
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// An owned HDF5 identifier, closed by `close` (H5Fclose, H5Dclose, ...).
class Hdf5Id {
 public:
  Hdf5Id() = default;
  Hdf5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Hdf5Id(Hdf5Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Hdf5Id& operator=(Hdf5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  ~Hdf5Id() { reset(); }
  [[nodiscard]] hid_t get() const noexcept { return id_; }
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }
  /// Closes now; false if the library reports a failure (a write that did not reach the file).
  bool close() noexcept {
    bool ok = true;
    if (id_ >= 0 && close_) ok = close_(id_) >= 0;
    id_ = H5I_INVALID_HID;
    return ok;
  }

 private:
  void reset() noexcept { (void)close(); }
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

/// `id`, owned, or an Error naming `what` if the call failed.
template <class... Parts>
Hdf5Id hdf5_checked(hid_t id, herr_t (*close)(hid_t), Parts const&... what) {
  DISTINV_REQUIRE(id >= 0, what...);
  return {id, close};
}

template <class T>
hid_t hdf5_native_type() {
  return sizeof(T) == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

template <int R>
constexpr char const* hdf5_axes() {
  return R == 4 ? "B,C,H,W" : "B,C,D,H,W";
}

/// A dataset open for reading, checked, with its shape.
template <int R>
struct Hdf5Dataset {
  Hdf5Id file;
  Hdf5Id dataset;
  Shape<R> shape{};
  bool filtered = false;  ///< stored with filters (compressed): decoded chunk by chunk
};

/// Opens `loc` for reading with the file access list `fapl` and checks, before anything is
/// allocated for the data: the file exists and is HDF5, the dataset exists, holds float32 or
/// float64 values in R non-empty dimensions, its filters can be decoded, and its stored bytes
/// are in the file (uncompressed data: all of them; compressed: no more than the file's size).
/// Throws Error naming `loc` otherwise. The caller holds an Hdf5Session.
template <int R>
Hdf5Dataset<R> hdf5_open_dataset(Hdf5Location const& loc, hid_t fapl, char const* what) {
  std::string const name = loc.to_string();
  std::size_t const file_size = readable_file_size(loc.file, what);
  DISTINV_REQUIRE(H5Fis_hdf5(loc.file.string().c_str()) > 0, what, ": '", loc.file.string(), "': not an HDF5 file");
  Hdf5Dataset<R> d;
  d.file = hdf5_checked(H5Fopen(loc.file.string().c_str(), H5F_ACC_RDONLY, fapl), H5Fclose, what, ": cannot open '",
                        loc.file.string(), "' (a truncated or damaged HDF5 file?)");
  // every link on the way, so that a missing group is named like a missing dataset
  for (std::size_t at = 1; at <= loc.dataset.size(); ++at) {
    if (at != loc.dataset.size() && loc.dataset[at] != '/') continue;
    std::string const prefix = loc.dataset.substr(0, at);
    DISTINV_REQUIRE(H5Lexists(d.file.get(), prefix.c_str(), H5P_DEFAULT) > 0, what, ": '", name, "': no dataset '",
                    loc.dataset, "' in the file ('", prefix, "' does not exist)");
  }
  d.dataset = hdf5_checked(H5Dopen2(d.file.get(), loc.dataset.c_str(), H5P_DEFAULT), H5Dclose, what, ": '", name,
                           "': cannot open '", loc.dataset, "' as a dataset (a group? or damaged)");
  Hdf5Id const type = hdf5_checked(H5Dget_type(d.dataset.get()), H5Tclose, what, ": '", name, "': no data type");
  H5T_class_t const cls = H5Tget_class(type.get());
  std::size_t const type_size = H5Tget_size(type.get());
  DISTINV_REQUIRE(cls == H5T_FLOAT && (type_size == 4 || type_size == 8), what, ": '", name,
                  "': expected float32 or float64 values, got ",
                  cls == H5T_INTEGER ? "integers" : cls == H5T_FLOAT ? "floating point" : "a non-numeric type", " of ",
                  type_size, " bytes");
  Hdf5Id const space =
      hdf5_checked(H5Dget_space(d.dataset.get()), H5Sclose, what, ": '", name, "': no data space");
  int const rank = H5Sget_simple_extent_ndims(space.get());
  DISTINV_REQUIRE(rank == R, what, ": '", name, "': expected rank ", R, " (", hdf5_axes<R>(), "), got rank ", rank);
  std::array<hsize_t, R> dims{};
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::uint64_t count = 1;
  for (int k = 0; k < R; ++k) {
    d.shape[std::size_t(k)] = Index(dims[std::size_t(k)]);
    DISTINV_REQUIRE(dims[std::size_t(k)] > 0 && dims[std::size_t(k)] < (hsize_t(1) << 40), what, ": '", name,
                    "': expected a non-empty array, got shape ", to_string(d.shape));
    DISTINV_REQUIRE(count <= std::numeric_limits<std::uint64_t>::max() / 8 / dims[std::size_t(k)], what, ": '", name,
                    "': shape too large");
    count *= dims[std::size_t(k)];
  }
  std::uint64_t const bytes = count * type_size;
  Hdf5Id const dcpl = hdf5_checked(H5Dget_create_plist(d.dataset.get()), H5Pclose, what, ": '", name,
                                   "': no creation properties");
  int const filters = H5Pget_nfilters(dcpl.get());
  for (int k = 0; k < filters; ++k) {
    unsigned flags = 0;
    std::size_t n_values = 0;
    std::array<char, 64> filter_name{};
    H5Z_filter_t const id = H5Pget_filter2(dcpl.get(), unsigned(k), &flags, &n_values, nullptr, filter_name.size(),
                                           filter_name.data(), nullptr);
    DISTINV_REQUIRE(id >= 0 && H5Zfilter_avail(id) > 0, what, ": '", name, "': compressed with filter '",
                    filter_name.data(), "' (id ", int(id), "), which this HDF5 library cannot decode; rewrite it ",
                    "uncompressed or with gzip (h5repack -f NONE)");
  }
  d.filtered = filters > 0;
  hsize_t const stored = H5Dget_storage_size(d.dataset.get());
  DISTINV_REQUIRE(stored <= file_size, what, ": '", name, "': the dataset claims ", stored,
                  " stored bytes, more than the file's ", file_size);
  if (!d.filtered && H5Pget_layout(dcpl.get()) != H5D_COMPACT) {
    DISTINV_REQUIRE(stored >= bytes, what, ": '", name, "': shape ", to_string(d.shape), " needs ", bytes,
                    " bytes, the file holds ", stored, " of them (a shape larger than the data, or never written)");
    if (H5Pget_layout(dcpl.get()) == H5D_CONTIGUOUS) {
      haddr_t const offset = H5Dget_offset(d.dataset.get());
      DISTINV_REQUIRE(offset != HADDR_UNDEF && offset + bytes <= file_size, what, ": '", name, "': shape ",
                      to_string(d.shape), " needs ", bytes, " bytes from offset ", offset, ", past the end of the ",
                      file_size, "-byte file");
    }
  }
  return d;
}

/// Selects rows [lo, lo + rows) of dimension 2 of every (B, C) plane of a dataset of `shape`
/// in `file_space`, and returns the matching memory space (nothing selected when rows is 0).
template <int R>
Hdf5Id hdf5_select_rows(hid_t file_space, Shape<R> const& shape, Index lo, Index rows, char const* what) {
  std::array<hsize_t, R> start{}, count{};
  for (int k = 0; k < R; ++k) count[std::size_t(k)] = hsize_t(shape[std::size_t(k)]);
  start[2] = hsize_t(lo);
  count[2] = hsize_t(rows);
  if (rows == 0) {
    H5Sselect_none(file_space);
    hsize_t const one = 1;
    Hdf5Id mem = hdf5_checked(H5Screate_simple(1, &one, nullptr), H5Sclose, what, ": cannot make a data space");
    H5Sselect_none(mem.get());
    return mem;
  }
  DISTINV_REQUIRE(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) >= 0,
                  what, ": cannot select rows [", lo, ", ", lo + rows, ")");
  return hdf5_checked(H5Screate_simple(R, count.data(), nullptr), H5Sclose, what, ": cannot make a data space");
}

/// Reads rows [lo, lo + rows) of every plane of `d` into `dst` (planes × rows × row size
/// values of T, converted by HDF5 from the file's type) with the transfer list `dxpl`.
template <class T, int R>
void hdf5_read_rows(Hdf5Dataset<R> const& d, T* dst, Index lo, Index rows, hid_t dxpl, std::string const& name,
                    char const* what) {
  Hdf5Id const space = hdf5_checked(H5Dget_space(d.dataset.get()), H5Sclose, what, ": '", name, "': no data space");
  Hdf5Id const mem = hdf5_select_rows<R>(space.get(), d.shape, lo, rows, what);
  DISTINV_REQUIRE(H5Dread(d.dataset.get(), hdf5_native_type<T>(), mem.get(), space.get(), dxpl, dst) >= 0, what, ": '",
                  name, "': cannot read rows [", lo, ", ", lo + rows, ") (a damaged file?)");
}

/// Creates, in `file`, the dataset loc.dataset (its groups too) of `shape` and type T,
/// contiguous, with distinv's attributes; throws Error naming `target`.
template <class T, int R>
Hdf5Id hdf5_create_dataset(hid_t file, Hdf5Location const& loc, Shape<R> const& shape, Hdf5WriteOptions const& opt,
                           std::string const& target, char const* what) {
  std::array<hsize_t, R> dims{};
  for (int k = 0; k < R; ++k) dims[std::size_t(k)] = hsize_t(shape[std::size_t(k)]);
  Hdf5Id const space = hdf5_checked(H5Screate_simple(R, dims.data(), nullptr), H5Sclose, what, ": cannot write '",
                                    target, "': bad shape ", to_string(shape));
  Hdf5Id const lcpl = hdf5_checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, what, ": no property list");
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Hdf5Id const dcpl = hdf5_checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what, ": no property list");
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);  // every value is written
  hid_t const file_type = sizeof(T) == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
  Hdf5Id dset = hdf5_checked(H5Dcreate2(file, loc.dataset.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(),
                                        H5P_DEFAULT),
                             H5Dclose, what, ": cannot write '", target, "': cannot create the dataset '", loc.dataset,
                             "'");
  auto string_attribute = [&](char const* key, std::string const& value) {
    Hdf5Id const type = hdf5_checked(H5Tcopy(H5T_C_S1), H5Tclose, what, ": no string type");
    H5Tset_size(type.get(), value.size() + 1);
    H5Tset_strpad(type.get(), H5T_STR_NULLTERM);
    Hdf5Id const scalar = hdf5_checked(H5Screate(H5S_SCALAR), H5Sclose, what, ": no data space");
    Hdf5Id const a = hdf5_checked(H5Acreate2(dset.get(), key, type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
                                  H5Aclose, what, ": cannot write '", target, "': attribute '", key, "'");
    DISTINV_REQUIRE(H5Awrite(a.get(), type.get(), value.c_str()) >= 0, what, ": cannot write '", target,
                    "': attribute '", key, "'");
  };
  string_attribute("distinv_version", DISTINV_VERSION);
  string_attribute("axes", hdf5_axes<R>());
  if (opt.iteration) {
    Hdf5Id const scalar = hdf5_checked(H5Screate(H5S_SCALAR), H5Sclose, what, ": no data space");
    Hdf5Id const a = hdf5_checked(
        H5Acreate2(dset.get(), "iteration", H5T_STD_I64LE, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, what,
        ": cannot write '", target, "': attribute 'iteration'");
    std::int64_t const it = *opt.iteration;
    DISTINV_REQUIRE(H5Awrite(a.get(), H5T_NATIVE_INT64, &it) >= 0, what, ": cannot write '", target,
                    "': attribute 'iteration'");
  }
  return dset;
}

/// Writes rows [lo, lo + rows) of every plane from `src` into `dset` of `shape` with `dxpl`.
template <class T, int R>
void hdf5_write_rows(hid_t dset, Shape<R> const& shape, T const* src, Index lo, Index rows, hid_t dxpl,
                     std::string const& target, char const* what) {
  Hdf5Id const space = hdf5_checked(H5Dget_space(dset), H5Sclose, what, ": no data space");
  Hdf5Id const mem = hdf5_select_rows<R>(space.get(), shape, lo, rows, what);
  DISTINV_REQUIRE(H5Dwrite(dset, hdf5_native_type<T>(), mem.get(), space.get(), dxpl, src) >= 0, what,
                  ": cannot write '", target, "': writing rows [", lo, ", ", lo + rows, ") failed");
}

/// The index in C order, in the whole array of `shape`, of the first value of `data` that is
/// not finite, `data` being rows [lo, lo + rows) of every plane; -1 if all are finite.
template <class T, int R>
std::int64_t hdf5_first_nonfinite(T const* data, Shape<R> const& shape, Index lo, Index rows) {
  Index row_size = 1;
  for (int k = 3; k < R; ++k) row_size *= shape[std::size_t(k)];
  Index const planes = shape[0] * shape[1], run = rows * row_size;
  for (Index pl = 0; pl < planes; ++pl)
    for (Index i = 0; i < run; ++i)
      if (!std::isfinite(data[pl * run + i])) return std::int64_t((pl * shape[2] + lo) * row_size + i);
  return -1;
}

/// The Error for the non-finite value at C-order index `at` of the array of `shape`.
template <int R>
[[noreturn]] void hdf5_fail_nonfinite(std::int64_t at, Shape<R> const& shape, std::string const& name,
                                      char const* what) {
  Shape<R> pos{};
  for (int k = R - 1; k >= 0; --k) {
    pos[std::size_t(k)] = Index(at % shape[std::size_t(k)]);
    at /= shape[std::size_t(k)];
  }
  fail(what, ": '", name, "': expected finite values, got a NaN or infinity at ", to_string(pos), " of (",
       hdf5_axes<R>(), ")");
}

}  // namespace detail

/// Reads the dataset at `location` ("file.h5:/path/to/dataset"), float32 or float64 with R
/// dimensions, as a Tensor<T, R> (converted to T), on one process. Throws Error for a missing
/// file or dataset, another type or rank, a filter this HDF5 cannot decode, a shape larger than
/// the file holds, a tensor over `opt.max_bytes` (nothing allocated before these checks), or a
/// value that is not finite (naming its position).
template <class T, int R>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8) && (R == 4 || R == 5)
Tensor<T, R> read_hdf5(std::string_view location, Hdf5ReadOptions opt = {}) {
  constexpr char const* what = "read_hdf5";
  Hdf5Location const loc = parse_hdf5_location(location);
  detail::Hdf5Session const session;
  auto const d = detail::hdf5_open_dataset<R>(loc, H5P_DEFAULT, what);
  DISTINV_REQUIRE(std::size_t(numel(d.shape)) <= opt.max_bytes / sizeof(T), what, ": '", loc.to_string(), "': ",
                  numel(d.shape) * Index(sizeof(T)), " bytes to read, more than the limit of ", opt.max_bytes, " bytes");
  Tensor<T, R> x(d.shape);
  detail::hdf5_read_rows<T, R>(d, x.data(), 0, d.shape[2], H5P_DEFAULT, loc.to_string(), what);
  if (auto const at = detail::hdf5_first_nonfinite<T, R>(x.data(), d.shape, 0, d.shape[2]); at >= 0)
    detail::hdf5_fail_nonfinite<R>(at, d.shape, loc.to_string(), what);
  return x;
}

/// Writes x to `location` ("file.h5:/path/to/dataset") as a new file holding one contiguous
/// dataset (little-endian float32 or float64, intermediate groups created) with the attributes
/// "distinv_version", "axes" and, if given, "iteration". The file is written beside the target
/// and renamed over it, so it appears complete or not at all. Throws Error for a folder that
/// does not exist or a write that fails (nothing left behind).
template <class T, int R>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8) && (R == 4 || R == 5)
void write_hdf5(std::string_view location, Tensor<T, R> const& x, Hdf5WriteOptions const& opt = {}) {
  constexpr char const* what = "write_hdf5";
  Hdf5Location const loc = parse_hdf5_location(location);
  Shape<R> const shape = shape_of(x);
  DISTINV_REQUIRE(numel(shape) > 0, what, ": expected a non-empty tensor, got shape ", to_string(shape));
  AtomicFile out(loc.file);
  {
    detail::Hdf5Session const session;
    detail::Hdf5Id file = detail::hdf5_checked(
        H5Fcreate(out.temp_path().string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, what,
        ": cannot write '", loc.file.string(), "'");
    detail::Hdf5Id dset = detail::hdf5_create_dataset<T, R>(file.get(), loc, shape, opt, loc.file.string(), what);
    detail::hdf5_write_rows<T, R>(dset.get(), shape, x.data(), 0, shape[2], H5P_DEFAULT, loc.file.string(), what);
    DISTINV_REQUIRE(dset.close() && file.close(), what, ": cannot write '", loc.file.string(), "': closing failed");
  }
  out.commit();
}

/// The attributes distinv wrote on the dataset at `location` (empty strings and no iteration
/// where they are missing). Throws Error as read_hdf5 does for a missing file or dataset.
inline Hdf5Attributes read_hdf5_attributes(std::string_view location) {
  constexpr char const* what = "read_hdf5_attributes";
  Hdf5Location const loc = parse_hdf5_location(location);
  detail::Hdf5Session const session;
  readable_file_size(loc.file, what);
  detail::Hdf5Id const file = detail::hdf5_checked(H5Fopen(loc.file.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                                                   H5Fclose, what, ": cannot open '", loc.file.string(), "'");
  detail::Hdf5Id const dset = detail::hdf5_checked(H5Dopen2(file.get(), loc.dataset.c_str(), H5P_DEFAULT), H5Dclose,
                                                   what, ": '", loc.to_string(), "': no such dataset");
  Hdf5Attributes out;
  auto string_attribute = [&](char const* key) {
    std::string value;
    if (H5Aexists(dset.get(), key) <= 0) return value;
    detail::Hdf5Id const a = detail::hdf5_checked(H5Aopen(dset.get(), key, H5P_DEFAULT), H5Aclose, what, ": '",
                                                  loc.to_string(), "': attribute '", key, "'");
    detail::Hdf5Id const type = detail::hdf5_checked(H5Aget_type(a.get()), H5Tclose, what, ": attribute type");
    if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) return value;
    std::size_t const n = H5Tget_size(type.get());
    DISTINV_REQUIRE(n < 4096, what, ": '", loc.to_string(), "': attribute '", key, "' of ", n, " bytes");
    value.assign(n, '\0');
    DISTINV_REQUIRE(H5Aread(a.get(), type.get(), value.data()) >= 0, what, ": '", loc.to_string(),
                    "': cannot read attribute '", key, "'");
    value.resize(std::min(value.find('\0'), value.size()));
    return value;
  };
  out.distinv_version = string_attribute("distinv_version");
  out.axes = string_attribute("axes");
  if (H5Aexists(dset.get(), "iteration") > 0) {
    detail::Hdf5Id const a = detail::hdf5_checked(H5Aopen(dset.get(), "iteration", H5P_DEFAULT), H5Aclose, what,
                                                  ": '", loc.to_string(), "': attribute 'iteration'");
    std::int64_t it = 0;
    DISTINV_REQUIRE(H5Aread(a.get(), H5T_NATIVE_INT64, &it) >= 0, what, ": '", loc.to_string(),
                    "': cannot read attribute 'iteration'");
    out.iteration = it;
  }
  return out;
}

}  // namespace distinv::io
