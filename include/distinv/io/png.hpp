#pragma once
// io/png.hpp: PNG images as Tensor4<T> (1, C, H, W) with values in [0, 1]; C = 1 (grey) or 3
// (RGB). Reading expands palette, low bit depths, 16 bits and drops alpha, within PngLimits
// (checked against the header before any pixel buffer exists; png_shape reads the header alone);
// writing clamps to [0, 1],
// quantises to 8 bits, streams row by row (detail::PngRowWriter, also what the slab writer of
// layout/slab_png.hpp uses) and is atomic (io/files.hpp). Needs libpng: link distinv::png.
// libpng reports errors by longjmp; every setjmp frame here holds only trivial locals and the
// callbacks never throw, so no C++ destructor is ever skipped.
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "distinv/core/checked.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/io/files.hpp"

namespace distinv::io {

namespace detail {

/// What the libpng callbacks see: the input bytes (reading) or the output file (writing), and
/// the first error message libpng reported.
struct PngIo {
  unsigned char const* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
  std::FILE* out = nullptr;
  char message[256] = {};
};

inline void png_store_message(png_structp png, png_const_charp msg) noexcept {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  if (io && io->message[0] == '\0') {
    std::strncpy(io->message, msg ? msg : "unknown libpng error", sizeof(io->message) - 1);
  }
}

// Error callback: record the message, then jump back to the active setjmp frame.
inline void png_on_error(png_structp png, png_const_charp msg) {
  png_store_message(png, msg);
  png_longjmp(png, 1);
}
inline void png_on_warning(png_structp, png_const_charp) noexcept {}

inline void png_read_from_memory(png_structp png, png_bytep dst, std::size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (n > io->size - io->pos) png_error(png, "unexpected end of file (truncated data)");
  std::memcpy(dst, io->data + io->pos, n);
  io->pos += n;
}

inline void png_write_to_file(png_structp png, png_bytep src, std::size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (std::fwrite(src, 1, n, io->out) != n) png_error(png, "write failed (disk full?)");
}
inline void png_flush_file(png_structp png) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  std::fflush(io->out);
}

/// What the header says (before the transforms) and the layout of a decoded row (after them:
/// 8 or 16 bits, 1 or 3 channels).
struct PngLayout {
  png_uint_32 width = 0, height = 0;
  int file_bits_per_pixel = 0;  ///< as stored: channels x bit depth of the colour type
  bool interlaced = false;
  int channels = 0, bit_depth = 0;
  std::size_t row_bytes = 0;
};

// Phase 1 of reading (setjmp frame, trivial locals only): header and transforms.
inline bool png_read_header(png_structp png, png_infop info, PngLayout* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  int const color = png_get_color_type(png, info);
  int const depth = png_get_bit_depth(png, info);
  out->file_bits_per_pixel = png_get_channels(png, info) * depth;
  out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  // Alpha, and the alpha that palette expansion makes of a tRNS chunk, are dropped.
  png_set_strip_alpha(png);
  if (out->interlaced) png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out->width = png_get_image_width(png, info);
  out->height = png_get_image_height(png, info);
  out->channels = png_get_channels(png, info);
  out->bit_depth = png_get_bit_depth(png, info);
  out->row_bytes = png_get_rowbytes(png, info);
  return true;
}

// Phase 2 of reading a non-interlaced image (setjmp frame, trivial locals only): one row.
inline bool png_read_one_row(png_structp png, png_bytep row) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_row(png, row, nullptr);
  return true;
}

// Phase 2 of reading an interlaced image (setjmp frame, trivial locals only): every pass needs
// the whole image.
inline bool png_read_all_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  return true;
}

// Phase 3 of reading (setjmp frame, trivial locals only): the chunks after the pixels.
inline bool png_read_tail(png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_end(png, info);
  return true;
}

// Writing, in three phases (setjmp frames, trivial locals only): header, one row, the end.
inline bool png_write_header(png_structp png, png_infop info, png_uint_32 width, png_uint_32 height, int color) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, width, height, 8, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  return true;
}
inline bool png_write_one_row(png_structp png, png_const_bytep row) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_write_row(png, row);
  return true;
}
inline bool png_write_tail(png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_write_end(png, info);
  return true;
}

/// Owns a libpng read or write struct pair.
struct PngReadGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReadGuard() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};
struct PngWriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteGuard() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

inline std::string png_message(PngIo const& io) {
  return io.message[0] ? std::string(io.message) : std::string("unknown libpng error");
}

/// An 8-bit sample of the value v: clamped to [0, 1] (NaN as 0), rounded to the nearest of 256
/// levels (what write_png stores).
inline unsigned char png_sample(double v) noexcept {
  v = std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0);
  return static_cast<unsigned char>(std::lround(v * 255.0));
}

/// Throws Error unless a (1, C, H, W) image of shape `s` can be written as a PNG (C = 1 or 3,
/// H, W in [1, 2^31 - 1]); `what` and `file` label the message.
inline void png_require_writable(Shape<4> const& s, char const* what, std::string const& file) {
  DISTINV_REQUIRE(s[0] == 1, what, ": '", file, "': expected batch size 1, got shape ", to_string(s));
  DISTINV_REQUIRE(s[1] == 1 || s[1] == 3, what, ": '", file, "': expected 1 (grey) or 3 (RGB) channels, got shape ",
                  to_string(s));
  DISTINV_REQUIRE(s[2] > 0 && s[3] > 0 && s[2] <= 0x7fffffff && s[3] <= 0x7fffffff, what, ": '", file,
                  "': expected a non-empty image, got shape ", to_string(s));
}

/// An 8-bit grey or RGB PNG written row by row, top to bottom, into `file` (the temporary of
/// an AtomicFile): the header on construction, then write_row H times (W * C interleaved
/// samples each, as png_sample makes them), then finish(). Each step throws Error on a libpng
/// error (a failed write included). Byte for byte what png_write_image writes.
class PngRowWriter {
 public:
  /// Writes the header of a W x H image of C channels (1 or 3) to `out`; `name` labels errors.
  PngRowWriter(std::FILE* out, Index C, Index H, Index W, std::string name) : name_(std::move(name)) {
    io_.out = out;
    g_.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io_, png_on_error, png_on_warning);
    DISTINV_REQUIRE(g_.png != nullptr, "write_png: '", name_, "': cannot create the libpng writer");
    g_.info = png_create_info_struct(g_.png);
    DISTINV_REQUIRE(g_.info != nullptr, "write_png: '", name_, "': cannot create the libpng info");
    png_set_write_fn(g_.png, &io_, png_write_to_file, png_flush_file);
    int const color = C == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
    if (!png_write_header(g_.png, g_.info, static_cast<png_uint_32>(W), static_cast<png_uint_32>(H), color))
      failed();
  }
  PngRowWriter(PngRowWriter const&) = delete;
  PngRowWriter& operator=(PngRowWriter const&) = delete;

  /// Writes the next row (W * C samples).
  void write_row(unsigned char const* row) {
    if (!png_write_one_row(g_.png, row)) failed();
  }
  /// Writes the chunks after the last row.
  void finish() {
    if (!png_write_tail(g_.png, g_.info)) failed();
  }

 private:
  [[noreturn]] void failed() const { fail("write_png: cannot write '", name_, "': ", png_message(io_)); }

  std::string name_;
  PngIo io_;
  PngWriteGuard g_;
};

}  // namespace detail

/// Bounds on what a PNG reader may allocate. The decoded tensor (H·W·C·sizeof(T) bytes) and the
/// file itself may not exceed max_bytes; the reader's other buffers are smaller than the tensor.
struct PngLimits {
  /// Largest decoded image and file, in bytes (default 4 GiB).
  std::size_t max_bytes = std::size_t(4) << 30;
};

/// The most a deflate stream expands: 1032:1 (zlib's "maximum compression factor"). A header
/// whose pixels need more bytes than the file could hold this way is truncated or forged.
inline constexpr std::uint64_t deflate_max_ratio = 1032;

/// Decodes the PNG held in `bytes` (`name` labels the messages) into a (1, C, H, W) tensor, as
/// read_png. Before any pixel buffer is allocated the header is checked against what the data
/// can hold and against `limits`; a non-interlaced image is decoded row by row, its buffer
/// growing with the rows actually decoded.
template <class T>
  requires std::floating_point<T>
Tensor4<T> decode_png(std::span<unsigned char const> bytes, std::string const& name, PngLimits limits = {}) {
  DISTINV_REQUIRE(bytes.size() >= 8 && png_sig_cmp(bytes.data(), 0, 8) == 0, "read_png: '", name,
                  "' is not a PNG file (expected the 8-byte PNG signature)");
  detail::PngIo io;
  io.data = bytes.data();
  io.size = bytes.size();
  detail::PngReadGuard g;
  g.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, detail::png_on_error, detail::png_on_warning);
  DISTINV_REQUIRE(g.png != nullptr, "read_png: '", name, "': cannot create the libpng reader");
  g.info = png_create_info_struct(g.png);
  DISTINV_REQUIRE(g.info != nullptr, "read_png: '", name, "': cannot create the libpng info");
  png_set_read_fn(g.png, &io, detail::png_read_from_memory);
  // libpng allocates an ancillary chunk (or its decompressed text / profile) at the length it
  // declares before reading it (fuzzing found a 103-byte file with a 720 MB sPLT): bound that by
  // what the file can hold, the limit, and 16 MiB; and keep at most 256 such chunks.
  std::size_t const file_can_hold = bytes.size() > SIZE_MAX / 1032 ? SIZE_MAX : 1032 * bytes.size() + 1;
  png_set_chunk_malloc_max(g.png, std::min({file_can_hold, limits.max_bytes, std::size_t(16) << 20}));
  png_set_chunk_cache_max(g.png, 256);

  detail::PngLayout L;
  if (!detail::png_read_header(g.png, g.info, &L)) fail("read_png: '", name, "' is corrupt: ", detail::png_message(io));
  DISTINV_REQUIRE((L.channels == 1 || L.channels == 3) && (L.bit_depth == 8 || L.bit_depth == 16), "read_png: '",
                  name, "': unexpected layout after decoding (", L.channels, " channels, ", L.bit_depth, " bits)");
  using U = std::uint64_t;
  U const W = L.width, H = L.height, C = U(L.channels), sample = U(L.bit_depth / 8);
  DISTINV_REQUIRE(L.row_bytes == checked_product<U>({W, C, sample}, "read_png"), "read_png: '", name,
                  "': unexpected row size ", L.row_bytes);
  // The pixel data as stored holds at least H * W * bits / 8 bytes (more with the filter bytes).
  U const stored = checked_product<U>({H, W, U(L.file_bits_per_pixel)}, "read_png") / 8;
  DISTINV_REQUIRE(stored / deflate_max_ratio <= U(bytes.size()), "read_png: '", name, "' claims ", W, " x ", H,
                  " pixels (", stored, " bytes of pixel data), more than its ", bytes.size(),
                  " bytes can hold (deflate expands at most ", deflate_max_ratio, ":1): truncated or forged header");
  U const tensor_bytes = checked_product<U>({H, W, C, U(sizeof(T))}, "read_png");
  DISTINV_REQUIRE(tensor_bytes <= U(limits.max_bytes), "read_png: '", name, "': a ", W, " x ", H, " x ", C,
                  " image needs ", tensor_bytes, " bytes decoded, more than the limit of ", limits.max_bytes,
                  " bytes");

  std::vector<unsigned char> pixels;
  if (L.interlaced) {
    pixels.resize(L.row_bytes * L.height);
    std::vector<png_bytep> rows(L.height);
    for (png_uint_32 y = 0; y < L.height; ++y) rows[y] = pixels.data() + y * L.row_bytes;
    if (!detail::png_read_all_rows(g.png, rows.data()))
      fail("read_png: '", name, "' is corrupt: ", detail::png_message(io));
  } else {
    std::vector<unsigned char> row(L.row_bytes);
    for (png_uint_32 y = 0; y < L.height; ++y) {
      if (!detail::png_read_one_row(g.png, row.data()))
        fail("read_png: '", name, "' is corrupt: ", detail::png_message(io));
      pixels.insert(pixels.end(), row.begin(), row.end());
    }
  }
  if (!detail::png_read_tail(g.png, g.info)) fail("read_png: '", name, "' is corrupt: ", detail::png_message(io));

  Index const h = Index(H), w = Index(W), c = Index(C);
  Tensor4<T> img(1, c, h, w);
  bool const wide = L.bit_depth == 16;
  T const scale = T(1) / T(wide ? 65535 : 255);
  for (Index y = 0; y < h; ++y) {
    unsigned char const* row = pixels.data() + std::size_t(y) * L.row_bytes;
    for (Index x = 0; x < w; ++x) {
      for (Index k = 0; k < c; ++k) {
        Index const i = x * c + k;
        unsigned const v = wide ? (unsigned(row[2 * i]) << 8) | row[2 * i + 1] : row[i];  // PNG is big-endian
        img(0, k, y, x) = T(v) * scale;
      }
    }
  }
  return img;
}

/// Reads a PNG file into a (1, C, H, W) tensor with values in [0, 1]: C = 1 for grey (and
/// grey + alpha), C = 3 for RGB, RGBA and palette images. Alpha is dropped; 16-bit samples
/// keep their full precision. Throws Error naming the file for a missing file, a file that is
/// not a PNG, corrupt or truncated data, or an image (or file) larger than `limits` allow.
template <class T>
  requires std::floating_point<T>
Tensor4<T> read_png(std::filesystem::path const& path, PngLimits limits = {}) {
  std::size_t const size = readable_file_size(path, "read_png");
  DISTINV_REQUIRE(size <= limits.max_bytes, "read_png: '", path.string(), "' is ", size,
                  " bytes, more than the limit of ", limits.max_bytes, " bytes");
  std::vector<unsigned char> const bytes = read_file_bytes(path, "read_png");
  return decode_png<T>(bytes, path.string(), limits);
}

/// The shape (1, C, H, W) read_png returns for the PNG file `path`, from its signature and IHDR
/// chunk alone (the first 33 bytes; nothing decoded): C = 3 for RGB, RGBA and palette images, 1
/// for grey. Throws Error naming the file for a missing file, a file that is not a PNG, or a
/// header that is truncated or out of the format's range. (read_png may still refuse the file.)
inline Shape<4> png_shape(std::filesystem::path const& path) {
  std::string const name = path.string();
  std::size_t const size = readable_file_size(path, "read_png");
  unsigned char head[33] = {};
  std::size_t got = 0;
  if (std::FILE* f = std::fopen(name.c_str(), "rb")) {
    got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
  }
  DISTINV_REQUIRE(got >= 8 && png_sig_cmp(head, 0, 8) == 0, "read_png: '", name,
                  "' is not a PNG file (expected the 8-byte PNG signature)");
  auto be32 = [&](int at) {
    return (std::uint32_t(head[at]) << 24) | (std::uint32_t(head[at + 1]) << 16) | (std::uint32_t(head[at + 2]) << 8) |
           std::uint32_t(head[at + 3]);
  };
  DISTINV_REQUIRE(got == sizeof head && size >= sizeof head && be32(8) == 13 && std::memcmp(head + 12, "IHDR", 4) == 0,
                  "read_png: '", name, "' is corrupt: expected its IHDR chunk first (truncated file?)");
  std::uint32_t const width = be32(16), height = be32(20);
  int const color = head[25];
  DISTINV_REQUIRE(width >= 1 && height >= 1 && width <= 0x7fffffffu && height <= 0x7fffffffu, "read_png: '", name,
                  "' is corrupt: an image of ", width, " x ", height, " pixels");
  DISTINV_REQUIRE(color == 0 || color == 2 || color == 3 || color == 4 || color == 6, "read_png: '", name,
                  "' is corrupt: unknown colour type ", color);
  return {1, (color & 2) ? 3 : 1, Index(height), Index(width)};
}

/// Writes a (1, C, H, W) tensor, C = 1 (grey) or 3 (RGB), as an 8-bit PNG: values are clamped
/// to [0, 1] (NaN as 0) and rounded to the nearest of 256 levels, one row at a time (no 8-bit
/// copy of the whole image). The file appears complete or not at all. Throws Error for B != 1, another C, an empty image or an unwritable path.
template <HostTensor X>
  requires(rank_v<X> == 4)
void write_png(std::filesystem::path const& path, X const& img) {
  auto const s = shape_of(img);
  detail::png_require_writable(s, "write_png", path.string());
  Index const C = s[1], H = s[2], W = s[3];

  AtomicFile file(path);
  detail::PngRowWriter writer(file.handle(), C, H, W, path.string());
  std::vector<unsigned char> row(static_cast<std::size_t>(W * C));
  for (Index y = 0; y < H; ++y) {
    for (Index x = 0; x < W; ++x)
      for (Index c = 0; c < C; ++c) row[static_cast<std::size_t>(x * C + c)] = detail::png_sample(double(img(0, c, y, x)));
    writer.write_row(row.data());
  }
  writer.finish();
  file.commit();
}

}  // namespace distinv::io
