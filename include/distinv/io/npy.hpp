#pragma once
// io/npy.hpp: tensors as NumPy .npy files (format 1.0 written; 1.0, 2.0 and 3.0 read),
// little-endian '<f4' (float) or '<f8' (double), C order, the shape of the tensor. numpy.load
// reads what write_npy writes, and read_npy reads what numpy.save writes for a C-contiguous
// float32/float64 array. Writing is atomic (io/files.hpp). STL only.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "distinv/core/checked.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/io/files.hpp"

namespace distinv::io {

namespace detail {

template <class T>
constexpr char const* npy_descr() {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

/// Reverses the bytes of every element (only on big-endian hosts).
template <class T>
void npy_swap_bytes(T* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto* b = reinterpret_cast<unsigned char*>(data + i);
    for (std::size_t j = 0; j < sizeof(T) / 2; ++j) std::swap(b[j], b[sizeof(T) - 1 - j]);
  }
}

/// The header of a .npy 1.0 file: magic, version, length and the dict padded with spaces and
/// a newline so that the data starts at a multiple of 64 bytes.
template <class T, std::size_t R>
std::string npy_header(std::array<Index, R> const& shape) {
  std::string dict = "{'descr': '" + std::string(npy_descr<T>()) + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < R; ++i) dict += std::to_string(shape[i]) + (R == 1 ? "," : i + 1 < R ? ", " : "");
  dict += "), }";
  std::size_t const total = ((10 + dict.size() + 1 + 63) / 64) * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::size_t const len = dict.size();
  DISTINV_REQUIRE(len <= 0xffff, "write_npy: header too long (", len, " bytes) for format 1.0");
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  h += static_cast<char>(len & 0xff);
  h += static_cast<char>((len >> 8) & 0xff);
  return h + dict;
}

/// A minimal reader of the header dict: the value text of `key` ("'<f4'", "False", "(2, 3)").
inline std::string_view npy_dict_value(std::string_view dict, std::string_view key, std::string const& file) {
  std::string const quoted1 = "'" + std::string(key) + "'";
  std::string const quoted2 = "\"" + std::string(key) + "\"";
  std::size_t k = dict.find(quoted1);
  if (k == std::string_view::npos) k = dict.find(quoted2);
  DISTINV_REQUIRE(k != std::string_view::npos, "read_npy: '", file, "': bad header, no '", key, "' in ", dict);
  std::size_t p = dict.find(':', k + key.size() + 2);
  DISTINV_REQUIRE(p != std::string_view::npos, "read_npy: '", file, "': bad header near '", key, "'");
  ++p;
  while (p < dict.size() && dict[p] == ' ') ++p;
  std::size_t e = p;
  if (p < dict.size() && dict[p] == '(') {
    e = dict.find(')', p);
    DISTINV_REQUIRE(e != std::string_view::npos, "read_npy: '", file, "': bad header, unclosed shape");
    ++e;
  } else if (p < dict.size() && (dict[p] == '\'' || dict[p] == '"')) {
    e = dict.find(dict[p], p + 1);
    DISTINV_REQUIRE(e != std::string_view::npos, "read_npy: '", file, "': bad header, unclosed string");
    ++e;
  } else {
    while (e < dict.size() && dict[e] != ',' && dict[e] != '}' && dict[e] != ' ') ++e;
  }
  return dict.substr(p, e - p);
}

/// Parses "(2, 3)", "(5,)" or "()" into dimensions.
inline std::vector<Index> npy_parse_shape(std::string_view text, std::string const& file) {
  std::vector<Index> dims;
  std::size_t p = 1;  // after '('
  while (p < text.size()) {
    while (p < text.size() && (text[p] == ' ' || text[p] == ',')) ++p;
    if (p >= text.size() || text[p] == ')') break;
    DISTINV_REQUIRE(text[p] >= '0' && text[p] <= '9', "read_npy: '", file, "': bad shape ", text);
    Index v = 0;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
      DISTINV_REQUIRE(v < (Index(1) << 56), "read_npy: '", file, "': shape too large ", text);
      v = v * 10 + (text[p] - '0');
      ++p;
    }
    if (p < text.size() && text[p] == 'L') ++p;  // Python 2 longs
    dims.push_back(v);
  }
  return dims;
}

/// Hands `n` elements at `data` to `put(bytes, count)` as little-endian bytes: directly on a
/// little-endian host, through byte-swapped copies otherwise.
template <class T, class Put>
void npy_put_data(T const* data, std::size_t n, Put&& put) {
  if constexpr (std::endian::native == std::endian::little) {
    put(static_cast<void const*>(data), n * sizeof(T));
  } else {
    std::vector<T> tmp(data, data + n);
    npy_swap_bytes(tmp.data(), n);
    put(static_cast<void const*>(tmp.data()), n * sizeof(T));
  }
}

/// The shape of `x` as the array the .npy header names.
template <HostTensor X>
std::array<Index, static_cast<std::size_t>(rank_v<X>)> npy_shape_of(X const& x) {
  std::array<Index, static_cast<std::size_t>(rank_v<X>)> shape{};
  for (std::size_t i = 0; i < shape.size(); ++i) shape[i] = x.dimension(static_cast<int>(i));
  return shape;
}

}  // namespace detail

/// Writes `x` to `path` as a .npy 1.0 file ('<f4' or '<f8', C order, shape of `x`).
template <HostTensor X>
void write_npy(std::filesystem::path const& path, X const& x) {
  using T = scalar_t<X>;
  std::string const header = detail::npy_header<T>(detail::npy_shape_of(x));
  AtomicFile file(path);
  file.write(header);
  detail::npy_put_data(x.data(), static_cast<std::size_t>(x.size()),
                       [&](void const* bytes, std::size_t n) { file.write(bytes, n); });
  file.commit();
}

/// Bounds on what a .npy reader allocates: the tensor it returns (or a rank's slab of it) may
/// not exceed max_bytes. The data is also bounded by the file: the header's shape must match
/// the file's size before anything is allocated.
struct NpyLimits {
  /// Largest tensor (or slab) allocated, in bytes (default: no bound beyond the file's size).
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
  /// Refuse NaN and infinite values: Error naming the first one's index (default: read them).
  bool finite_only = false;
};

namespace detail {

/// Where the data of a .npy file starts and the shape it holds, from the file's first bytes.
template <int R>
struct NpyHeader {
  std::size_t data_offset = 0;
  std::array<Index, static_cast<std::size_t>(R)> shape{};
  std::size_t count = 0;  ///< number of elements
};

/// The first non-finite value of data[0, n) as its flat index times 3 plus its kind (0 NaN,
/// 1 +inf, 2 -inf): the order of flat indices, and one integer to reduce over ranks. -1: none.
template <class T>
std::int64_t npy_first_non_finite(T const* data, std::size_t n, std::int64_t flat0 = 0) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(data[i]))
      return (flat0 + std::int64_t(i)) * 3 + (std::isnan(data[i]) ? 0 : data[i] > 0 ? 1 : 2);
  return -1;
}

/// Throws the Error of a non-finite value `found` (as npy_first_non_finite codes it) of a .npy
/// array of `shape`: its kind and its index, as a tuple and as a flat C-order index.
template <std::size_t R>
[[noreturn]] void npy_fail_non_finite(std::int64_t found, std::array<Index, R> const& shape, std::string const& file,
                                      char const* what) {
  std::int64_t flat = found / 3;
  std::array<Index, R> at{};
  for (std::size_t d = R; d-- > 0;) {
    at[d] = shape[d] > 0 ? flat % shape[d] : 0;
    flat = shape[d] > 0 ? flat / shape[d] : 0;
  }
  std::string index;
  for (std::size_t d = 0; d < R; ++d) index += (d ? ", " : "") + std::to_string(at[d]);
  char const* const kind[] = {"NaN", "inf", "-inf"};
  fail(what, ": '", file, "': expected finite values, got ", kind[found % 3], " at index (", index, ") (element ",
       found / 3, ")");
}

/// The length of magic, version, length field and header dict of a .npy file of `size` bytes
/// whose first min(size, 12) bytes are `head`; throws Error naming `file` for a bad magic, an
/// unknown version or a header longer than the file.
inline std::size_t npy_header_length(std::span<unsigned char const> head, std::size_t size, std::string const& file) {
  DISTINV_REQUIRE(size >= 10 && head.size() >= 10 && std::memcmp(head.data(), "\x93NUMPY", 6) == 0, "read_npy: '",
                  file, "' is not a .npy file (expected the magic \\x93NUMPY)");
  int const major = head[6];
  DISTINV_REQUIRE(major >= 1 && major <= 3, "read_npy: '", file, "': expected format version 1, 2 or 3, got ",
                  major, ".", int(head[7]));
  std::size_t len = 0, start = 0;
  if (major == 1) {
    len = std::size_t(head[8]) | (std::size_t(head[9]) << 8);
    start = 10;
  } else {
    DISTINV_REQUIRE(size >= 12 && head.size() >= 12, "read_npy: '", file, "': truncated header");
    len = std::size_t(head[8]) | (std::size_t(head[9]) << 8) | (std::size_t(head[10]) << 16) |
          (std::size_t(head[11]) << 24);
    start = 12;
  }
  DISTINV_REQUIRE(len <= size - start, "read_npy: '", file, "': truncated header (", len, " bytes announced, ",
                  size - start, " present)");
  return start + len;
}

/// The header (its first npy_header_length(...) bytes in `head`) of a .npy file of `size`
/// bytes holding T with R dimensions: checks dtype, order, rank and that the data size matches.
template <class T, int R>
NpyHeader<R> npy_parse_header(std::span<unsigned char const> head, std::size_t size, std::string const& file) {
  std::size_t const end = npy_header_length(head, size, file);
  DISTINV_REQUIRE(head.size() >= end, "read_npy: '", file, "': header not read in full");
  std::size_t const start = head[6] == 1 ? 10 : 12;
  std::string_view const dict(reinterpret_cast<char const*>(head.data()) + start, end - start);
  DISTINV_REQUIRE(dict.find('{') != std::string_view::npos && dict.find('}') != std::string_view::npos,
                  "read_npy: '", file, "': bad header, expected a dict, got ", dict);

  std::string_view descr = npy_dict_value(dict, "descr", file);
  DISTINV_REQUIRE(descr.size() >= 2, "read_npy: '", file, "': bad descr ", descr);
  descr = descr.substr(1, descr.size() - 2);
  std::string const want = npy_descr<T>();
  bool const same = descr == want || (std::endian::native == std::endian::little && descr == "=" + want.substr(1));
  DISTINV_REQUIRE(same, "read_npy: '", file, "': expected dtype '", want, "', got '", descr, "'");

  std::string_view const order = npy_dict_value(dict, "fortran_order", file);
  DISTINV_REQUIRE(order == "False", "read_npy: '", file, "': expected fortran_order False (C order), got ", order);

  std::string_view const shape_text = npy_dict_value(dict, "shape", file);
  DISTINV_REQUIRE(shape_text.size() >= 2 && shape_text.front() == '(', "read_npy: '", file, "': bad shape ",
                  shape_text);
  std::vector<Index> const dims = npy_parse_shape(shape_text, file);
  DISTINV_REQUIRE(dims.size() == static_cast<std::size_t>(R), "read_npy: '", file, "': expected rank ", R,
                  ", got shape ", shape_text, " (rank ", dims.size(), ")");

  NpyHeader<R> h;
  h.data_offset = end;
  bool const empty = std::find(dims.begin(), dims.end(), Index(0)) != dims.end();
  // The product of the non-zero extents must fit too, even for an empty array: the tensor's
  // strides are products of trailing extents (fuzzing found (2^52, 9704, 0, 1) wrapping round).
  std::size_t bytes = sizeof(T);
  for (int i = 0; i < R; ++i) {
    Index const d = dims[static_cast<std::size_t>(i)];
    h.shape[static_cast<std::size_t>(i)] = d;
    bytes = checked_mul(bytes, static_cast<std::size_t>(std::max<Index>(d, 1)), "read_npy");
  }
  DISTINV_REQUIRE(bytes <= std::size_t(std::numeric_limits<Index>::max()), "read_npy: '", file, "': shape ",
                  shape_text, " is too large");
  h.count = empty ? 0 : bytes / sizeof(T);
  std::size_t const data_bytes = size - end;
  DISTINV_REQUIRE(data_bytes == h.count * sizeof(T), "read_npy: '", file, "': expected ", h.count * sizeof(T),
                  " data bytes for shape ", shape_text, ", got ", data_bytes);
  return h;
}

}  // namespace detail

/// Decodes the .npy file held in `bytes` (`name` labels the messages), as read_npy.
template <class T, int R>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8)
Tensor<T, R> decode_npy(std::span<unsigned char const> bytes, std::string const& name) {
  auto const h = detail::npy_parse_header<T, R>(bytes, bytes.size(), name);
  Tensor<T, R> x(h.shape);
  if (h.count) std::memcpy(x.data(), bytes.data() + h.data_offset, h.count * sizeof(T));
  if constexpr (std::endian::native != std::endian::little) detail::npy_swap_bytes(x.data(), h.count);
  return x;
}

namespace detail {

/// Reads and checks the header of the .npy file `file` of `size` bytes from `in` (at its
/// start), as npy_parse_header; leaves `in` at the first data byte. Reads no more than the
/// header announces (and the file holds).
template <class T, int R>
NpyHeader<R> npy_read_header(std::istream& in, std::size_t size, std::string const& file) {
  auto read_into = [&](unsigned char* dst, std::size_t n) {
    in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
    DISTINV_REQUIRE(std::size_t(in.gcount()) == n, "read_npy: '", file, "': read error in the header");
  };
  std::vector<unsigned char> head(std::min<std::size_t>(size, 12));
  read_into(head.data(), head.size());
  std::size_t const have = head.size(), end = npy_header_length(head, size, file);
  if (end > have) {
    head.resize(end);
    read_into(head.data() + have, end - have);
  }
  auto const h = npy_parse_header<T, R>(head, size, file);
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  DISTINV_REQUIRE(in.good(), "read_npy: '", file, "': cannot seek to the data");
  return h;
}

/// The header of the .npy file `path`, read and checked as read_npy does (before any data).
template <class T, int R>
NpyHeader<R> npy_read_header(std::filesystem::path const& path) {
  std::string const file = path.string();
  std::size_t const size = readable_file_size(path, "read_npy");
  std::ifstream in(path, std::ios::binary);
  DISTINV_REQUIRE(in.good(), "read_npy: cannot read '", file, "'");
  return npy_read_header<T, R>(in, size, file);
}

/// Throws Error naming `file` unless `bytes` (what a reader is about to allocate) is within `limits`.
inline void npy_require_within(std::size_t bytes, NpyLimits limits, std::string const& file, char const* what) {
  DISTINV_REQUIRE(bytes <= limits.max_bytes, what, ": '", file, "': ", bytes, " bytes to read, more than the limit of ",
                  limits.max_bytes, " bytes");
}

}  // namespace detail

/// Reads a .npy file holding a C-order array of T ('<f4' for float, '<f8' for double) with R
/// dimensions. Throws Error naming the file for a missing file, a bad magic or header, another
/// dtype, Fortran order, another rank, a data size that does not match the shape, a tensor
/// larger than `limits` allow, or (`limits.finite_only`) a NaN or infinite value. Nothing is
/// allocated for the data before the header and the file
/// size agree.
template <class T, int R>
  requires std::floating_point<T> && (sizeof(T) == 4 || sizeof(T) == 8)
Tensor<T, R> read_npy(std::filesystem::path const& path, NpyLimits limits = {}) {
  std::string const file = path.string();
  std::size_t const size = readable_file_size(path, "read_npy");
  std::ifstream in(path, std::ios::binary);
  DISTINV_REQUIRE(in.good(), "read_npy: cannot read '", file, "'");
  auto const h = detail::npy_read_header<T, R>(in, size, file);
  detail::npy_require_within(h.count * sizeof(T), limits, file, "read_npy");
  Tensor<T, R> x(h.shape);
  if (h.count) {
    in.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(h.count * sizeof(T)));
    DISTINV_REQUIRE(in.good(), "read_npy: '", file, "': read error in the data");
  }
  if constexpr (std::endian::native != std::endian::little) detail::npy_swap_bytes(x.data(), h.count);
  if (limits.finite_only)
    if (std::int64_t const bad = detail::npy_first_non_finite(x.data(), h.count); bad >= 0)
      detail::npy_fail_non_finite(bad, h.shape, file, "read_npy");
  return x;
}

}  // namespace distinv::io
