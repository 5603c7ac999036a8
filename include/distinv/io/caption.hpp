#pragma once
// io/caption.hpp: captions drawn into images, with a built-in 5 x 7 bitmap font (lower-case
// letters, digits, a few capitals and signs; one column of space between glyphs), so that a
// picture can say what it shows without a font library: draw_caption (black text, lines split
// at '\n', on a white box, at an integer scale, into any block of rows of an image: a whole
// image or the rows of a slab) and captioned_montage (io::montage with a caption at the top
// left of each panel). STL and image_ops.hpp only.
#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/io/image_ops.hpp"

namespace distinv::io {

/// Rows of a glyph of the caption font at scale 1 (5 columns wide, one more between glyphs).
inline constexpr Index caption_glyph_rows = 7;

namespace detail {

/// One glyph: 7 rows of 5 bits, the left column in bit 4.
struct CaptionGlyph {
  char ch;
  std::array<std::uint8_t, caption_glyph_rows> rows;
};

inline constexpr CaptionGlyph caption_font[] = {
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}},
    {'b', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}},
    {'c', {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}},
    {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
    {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}},
    {'g', {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
    {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}},
    {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
    {'l', {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}},
    {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}},
    {'p', {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10}},
    {'q', {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'s', {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}},
    {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}},
    {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}},
    {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}},
    {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}},
    {'y', {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
    {'z', {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
};

}  // namespace detail

/// The 7 rows of the glyph of `c` (5 bits each, the left column in bit 4); '?' for a
/// character the font lacks.
inline std::array<std::uint8_t, caption_glyph_rows> const& caption_glyph(char c) noexcept {
  for (auto const& g : detail::caption_font)
    if (g.ch == c) return g.rows;
  return std::end(detail::caption_font)[-1].rows;  // '?'
}

namespace detail {

/// Line `k` of `text` (lines split at '\n'), empty past the last.
inline std::string_view caption_line(std::string_view text, Index k) noexcept {
  for (; k > 0; --k) {
    auto const nl = text.find('\n');
    if (nl == std::string_view::npos) return {};
    text.remove_prefix(nl + 1);
  }
  return text.substr(0, text.find('\n'));
}

}  // namespace detail

/// Width and height in pixels of the caption box of `text` (lines split at '\n') at `scale`:
/// the glyphs (6 columns each, the last of a line without its space; 8 rows a line, the last
/// without its space) and a margin of `scale` pixels all round.
inline std::array<Index, 2> caption_size(std::string_view text, int scale) noexcept {
  Index longest = 0, lines = 1, run = 0;
  for (char const ch : text) {
    if (ch == '\n') {
      ++lines;
      run = 0;
    } else {
      longest = std::max(longest, ++run);
    }
  }
  return {(std::max<Index>(6 * longest - 1, 0) + 2) * scale, ((caption_glyph_rows + 1) * lines + 1) * scale};
}

/// Whether pixel (row, col) of the caption box of `text` at `scale` is ink (a glyph's pixel)
/// rather than the box's white.
inline bool caption_ink(std::string_view text, int scale, Index row, Index col) noexcept {
  Index const r = row / scale - 1, c = col / scale - 1;
  if (r < 0 || c < 0) return false;
  Index const glyph_row = r % (caption_glyph_rows + 1);
  std::string_view const line = detail::caption_line(text, r / (caption_glyph_rows + 1));
  if (glyph_row >= caption_glyph_rows || c >= 6 * Index(line.size())) return false;
  Index const k = c / 6, bit = c % 6;
  return bit < 5 && ((caption_glyph(line[std::size_t(k)])[std::size_t(glyph_row)] >> (4 - bit)) & 1) != 0;
}

/// A caption's scale for a panel `width` pixels wide: 1 up to 383 pixels, then one more for
/// each 256 (2 at 512, 48 at 12288).
inline int caption_scale(Index width) noexcept { return int(std::max<Index>(1, (width + 128) / 256)); }

/// Draws the caption box of `text` at `scale` (caption_ink black on white, every channel) with
/// its top-left corner at pixel (y0, x0) of an image W pixels wide, cut at `max_width` columns
/// from x0 and at the image's right edge, into the rows [row0, row0 + rows) of it that
/// `planes` holds: C planes of rows x W values, `plane_stride` values apart (a whole image:
/// row0 = 0, rows = H; a slab: its own rows). Rows outside the block are left to whoever holds
/// them.
template <class T>
void draw_caption(T* planes, Index C, Index plane_stride, Index row0, Index rows, Index W, Index y0, Index x0,
                  Index max_width, std::string_view text, int scale) {
  DISTINV_REQUIRE(scale >= 1, "draw_caption: expected scale >= 1, got ", scale);
  auto const [bw, bh] = caption_size(text, scale);
  Index const width = std::min({bw, max_width, W - x0});
  Index const lo = std::max(row0, y0), hi = std::min(row0 + rows, y0 + bh);
  for (Index y = lo; y < hi; ++y)
    for (Index x = 0; x < width; ++x) {
      T const v = caption_ink(text, scale, y - y0, x) ? T(0) : T(1);
      for (Index c = 0; c < C; ++c) planes[c * plane_stride + (y - row0) * W + x0 + x] = v;
    }
}

/// io::montage of `images` (pad pixels of white around and between them) with `captions[k]`
/// drawn at the top-left corner of panel k (at caption_scale of the panel's width, cut at its
/// width). Throws Error unless there is one caption per image, and as montage.
template <class T>
Tensor4<T> captioned_montage(std::vector<Tensor4<T>> const& images, std::vector<std::string> const& captions,
                             int pad = 4) {
  DISTINV_REQUIRE(captions.size() == images.size(), "captioned_montage: expected one caption per image (",
                  images.size(), "), got ", captions.size());
  Tensor4<T> out = montage(images, pad);
  Index const C = out.dimension(1), H = out.dimension(2), W = out.dimension(3);
  Index x0 = pad, Hmax = H - 2 * pad;
  for (std::size_t k = 0; k < images.size(); ++k) {
    Index const h = images[k].dimension(2), w = images[k].dimension(3);
    draw_caption(out.data(), C, H * W, 0, H, W, pad + (Hmax - h) / 2, x0, w, captions[k], caption_scale(w));
    x0 += w + pad;
  }
  return out;
}

}  // namespace distinv::io
