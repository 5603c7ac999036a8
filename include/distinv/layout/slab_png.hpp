#pragma once
// layout/slab_png.hpp: PNG files from signals in the slab layout, without any rank holding the
// whole image: write_png_slabs and write_montage_png_slabs (clean | measurement | result side
// by side, as io::montage lays them out) stream the picture to rank 0 in bands of rows (each
// rank quantises its rows of a band to 8 bits, one all_to_allv per band), and rank 0 writes
// them row by row through io/png.hpp's writer: the bytes of io::write_png of the gathered
// image (of io::montage of the gathered images). Needs libpng: link distinv::png.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distinv/context.hpp"
#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/io/files.hpp"
#include "distinv/io/png.hpp"
#include "distinv/layout/slab_tensor.hpp"

namespace distinv::layout {

/// How the slab PNG writers stream: rank 0 receives and holds one band of rows of 8-bit samples
/// at a time, at most max_bytes (and at least one row).
struct PngBands {
  /// Largest band, in bytes of 8-bit samples (default 8 MiB).
  std::size_t max_bytes = std::size_t(8) << 20;
};

namespace detail {

/// Image k of a picture on a canvas: its slabs and the canvas position of its top-left pixel.
template <class T, class Comm>
struct CanvasPiece {
  SlabTensor<T, 4, Comm> const* image = nullptr;  ///< (1, 1 or 3, H, W) slabs
  Index x0 = 0, y0 = 0;                           ///< canvas column and row of its pixel (0, 0)
};

/// Rows of `piece` that fall in canvas rows [Y0, Y1) and in the image rows [lo, hi).
template <class T, class Comm>
std::pair<Index, Index> piece_rows(CanvasPiece<T, Comm> const& piece, Index Y0, Index Y1, Index lo, Index hi) {
  Index const H = piece.image->shape()[2];
  Index const a = std::max({Index(0), Y0 - piece.y0, lo}), b = std::min({H, Y1 - piece.y0, hi});
  return {a, std::max(a, b)};
}

/// Writes the C x Hc x Wc canvas (white, 8-bit samples of 255, where no piece lies) holding
/// `pieces` (grey pieces repeated into C = 3 channels) as a PNG at `path`: rank 0 opens it, then
/// for each band of canvas rows every rank quantises its rows of every piece in the band
/// (io::detail::png_sample) and sends them to rank 0 (one all_to_allv), which writes the band's
/// rows. A write error on rank 0 is held until the bands are through, then thrown on every rank.
template <class T, class Comm>
void write_canvas_png(char const* what, std::filesystem::path const& path, std::vector<CanvasPiece<T, Comm>> const& pieces,
                      Index C, Index Hc, Index Wc, PngBands bands) {
  Comm const& comm = pieces.front().image->comm();
  DistributedContext<Comm> const ctx(comm);
  int const ranks = comm.size(), me = comm.rank();
  bool const root = me == 0;
  Index const row_bytes = Wc * C;
  Index const band = std::max<Index>(1, Index(bands.max_bytes / std::size_t(row_bytes)));

  std::optional<io::AtomicFile> file;
  std::optional<io::detail::PngRowWriter> writer;
  ctx.collectively(what, [&] {
    if (!root) return;
    file.emplace(path);
    writer.emplace(file->handle(), C, Hc, Wc, path.string());
  });

  std::string failure;  // rank 0: the first write error
  std::vector<std::byte> send, recv;
  std::vector<unsigned char> canvas;  // rank 0: the band's rows
  std::vector<Index> send_counts(std::size_t(ranks), 0), recv_counts(std::size_t(ranks), 0);
  for (Index Y0 = 0; Y0 < Hc; Y0 += band) {
    Index const Y1 = std::min(Hc, Y0 + band);
    send.clear();
    for (auto const& piece : pieces) {  // this rank's rows of each piece in the band, channels interleaved
      auto const& img = *piece.image;
      Index const W = img.shape()[3], Ci = img.shape()[1];
      auto const [a, b] = piece_rows(piece, Y0, Y1, img.lo(), img.hi());
      Index const plane = img.local_rows() * W;  // the local block is (1, Ci, rows, W)
      for (Index y = a; y < b; ++y) {
        T const* row = img.local().data() + (y - img.lo()) * W;
        for (Index x = 0; x < W; ++x)
          for (Index c = 0; c < C; ++c)
            send.push_back(std::byte(io::detail::png_sample(double(row[(Ci == 1 ? 0 : c) * plane + x]))));
      }
    }
    send_counts[0] = Index(send.size());
    Index total = 0;
    if (root)
      for (int q = 0; q < ranks; ++q) {
        Index n = 0;
        for (auto const& piece : pieces) {
          auto const& part = piece.image->partition();
          auto const [a, b] = piece_rows(piece, Y0, Y1, part.lo(q), part.hi(q));
          n += (b - a) * piece.image->shape()[3] * C;
        }
        recv_counts[std::size_t(q)] = n;
        total += n;
      }
    recv.resize(std::size_t(total));
    comm.all_to_allv(std::span<std::byte const>(send), std::span<Index const>(send_counts), std::span<std::byte>(recv),
                     std::span<Index const>(recv_counts));
    if (!root || !failure.empty()) continue;
    canvas.assign(std::size_t((Y1 - Y0) * row_bytes), 255);
    std::size_t off = 0;
    for (int q = 0; q < ranks; ++q)  // rank q's block: its rows of each piece, pieces in order
      for (auto const& piece : pieces) {
        auto const& part = piece.image->partition();
        auto const [a, b] = piece_rows(piece, Y0, Y1, part.lo(q), part.hi(q));
        std::size_t const n = std::size_t(piece.image->shape()[3] * C);
        for (Index y = a; y < b; ++y, off += n)
          std::copy_n(reinterpret_cast<unsigned char const*>(recv.data()) + off, n,
                      canvas.data() + (piece.y0 + y - Y0) * row_bytes + piece.x0 * C);
      }
    try {
      for (Index y = Y0; y < Y1; ++y) writer->write_row(canvas.data() + (y - Y0) * row_bytes);
    } catch (std::exception const& e) {
      failure = e.what();
    }
  }
  ctx.collectively(what, [&] {
    if (!root) return;
    if (!failure.empty()) throw Error(failure);
    writer->finish();
    writer.reset();
    file->commit();
  });
}

}  // namespace detail

/// Writes the slab tensor x, (1, C, H, W) with C = 1 (grey) or 3 (RGB), as an 8-bit PNG at
/// `path`: byte for byte what io::write_png writes for x.gather(), while rank 0 holds one band
/// of rows (`bands`) and no rank more than its slab. The file appears complete or not at all.
/// Throws the same Error on every rank for another shape (as write_png), a folder that does
/// not exist or a failed write. Collective: one all_to_allv per band, two error agreements.
template <class T, CommBackend Comm>
void write_png_slabs(std::filesystem::path const& path, SlabTensor<T, 4, Comm> const& x, PngBands bands = {}) {
  io::detail::png_require_writable(x.shape(), "write_png_slabs", path.string());
  detail::write_canvas_png<T, Comm>("write_png_slabs", path, {{&x, 0, 0}}, x.shape()[1], x.shape()[2], x.shape()[3],
                                    bands);
}

/// Writes the images side by side as io::montage lays them out (left to right on a white
/// canvas, `pad` pixels around and between them, shorter ones centred vertically, grey ones
/// repeated into 3 channels if any is RGB) as an 8-bit PNG at `path`: byte for byte what
/// io::write_png writes for io::montage of the gathered images, streamed to rank 0 by bands as
/// write_png_slabs. Each image is (1, 1 or 3, H, W) slabs over the same ranks, each in its own
/// partition. Throws the same Error on every rank for an empty list, a null image, pad < 0, a
/// bad shape, a folder that does not exist or a failed write.
template <class T, CommBackend Comm>
void write_montage_png_slabs(std::filesystem::path const& path, std::vector<SlabTensor<T, 4, Comm> const*> const& images,
                             int pad = 4, PngBands bands = {}) {
  DISTINV_REQUIRE(!images.empty(), "write_montage_png_slabs: expected at least one image, got none");
  DISTINV_REQUIRE(pad >= 0, "write_montage_png_slabs: expected pad >= 0, got ", pad);
  Index C = 1, Hmax = 0, Wsum = 0;
  for (std::size_t k = 0; k < images.size(); ++k) {
    DISTINV_REQUIRE(images[k] != nullptr, "write_montage_png_slabs: image ", k, " is null");
    auto const s = images[k]->shape();
    DISTINV_REQUIRE(s[0] == 1 && (s[1] == 1 || s[1] == 3), "write_montage_png_slabs: image ", k,
                    ": expected shape (1, 1 or 3, H > 0, W > 0), got ", to_string(s));
    DISTINV_REQUIRE(images[k]->comm().size() == images[0]->comm().size(), "write_montage_png_slabs: image ", k,
                    " lies on ", images[k]->comm().size(), " ranks, image 0 on ", images[0]->comm().size());
    C = std::max(C, s[1]);
    Hmax = std::max(Hmax, s[2]);
    Wsum += s[3];
  }
  Index const n = Index(images.size());
  Shape<4> const canvas{1, C, Hmax + 2 * pad, Wsum + (n + 1) * pad};
  io::detail::png_require_writable(canvas, "write_montage_png_slabs", path.string());
  std::vector<detail::CanvasPiece<T, Comm>> pieces;
  Index x0 = pad;
  for (auto const* img : images) {
    pieces.push_back({img, x0, pad + (Hmax - img->shape()[2]) / 2});
    x0 += img->shape()[3] + pad;
  }
  detail::write_canvas_png<T, Comm>("write_montage_png_slabs", path, pieces, C, canvas[2], canvas[3], bands);
}

/// write_montage_png_slabs of a braced list of images: `write_montage_png_slabs(path, {&clean, &y, &x})`.
template <class T, CommBackend Comm>
void write_montage_png_slabs(std::filesystem::path const& path, std::initializer_list<SlabTensor<T, 4, Comm> const*> images,
                             int pad = 4, PngBands bands = {}) {
  write_montage_png_slabs(path, std::vector<SlabTensor<T, 4, Comm> const*>(images), pad, bands);
}

}  // namespace distinv::layout
