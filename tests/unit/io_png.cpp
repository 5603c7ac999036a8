// PNG input/output of io/png.hpp: round trips, 16-bit / palette / grey+alpha inputs written
// here through libpng directly (png_shape: the shape read_png returns, from the header), and the errors (missing, not a PNG, truncated, corrupt,
// unwritable), with no file left behind after a failed write. Built only when libpng is there.
#include "distinv/config.hpp"
#if DISTINV_HAS_PNG
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include "distinv/io/png.hpp"
#include "io_temp_dir.hpp"

using namespace distinv;
using distinv::testing::TempDir;

namespace {

// Writes a PNG through libpng's own API (default error handling). `rows` holds height rows of
// packed samples; palette / trns are optional. setjmp frame with trivial locals only.
bool write_raw_png(char const* path, png_uint_32 width, png_uint_32 height, int depth, int color,
                   png_bytepp rows, png_colorp palette, int num_palette, png_bytep trns, int num_trns,
                   png_color_16p trns_colour, int interlace = PNG_INTERLACE_NONE) {
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, width, height, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 9);
  if (palette) png_set_PLTE(png, info, palette, num_palette);
  if (trns || trns_colour) png_set_tRNS(png, info, trns, num_trns, trns_colour);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return std::fclose(f) == 0;
}

std::vector<png_bytep> row_pointers(std::vector<unsigned char>& bytes, std::size_t height) {
  std::vector<png_bytep> rows(height);
  std::size_t const stride = bytes.size() / height;
  for (std::size_t y = 0; y < height; ++y) rows[y] = bytes.data() + y * stride;
  return rows;
}

std::vector<unsigned char> file_bytes(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_bytes(std::filesystem::path const& p, std::vector<unsigned char> const& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<char const*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST_CASE_TEMPLATE("png: grey and RGB round trips are exact to 8-bit quantisation", T, float, double) {
  TempDir dir("png_rt");
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-0.2, 1.2);  // outside [0, 1] too: clamped
  for (Index C : {Index(1), Index(3)}) {
    Tensor4<T> img(1, C, 5, 7);  // not square: a transposition would show
    for (Index i = 0; i < img.size(); ++i) img.data()[i] = T(u(rng));
    img(0, 0, 0, 0) = T(std::nan(""));  // NaN is written as 0
    auto const path = dir / ("img" + std::to_string(C) + ".png");
    io::write_png(path, img);
    Tensor4<T> const back = io::read_png<T>(path);
    REQUIRE(shape_of(back) == shape_of(img));
    for (Index c = 0; c < C; ++c)
      for (Index y = 0; y < 5; ++y)
        for (Index x = 0; x < 7; ++x) {
          double v = double(img(0, c, y, x));
          v = std::isnan(v) ? 0.0 : std::min(1.0, std::max(0.0, v));
          double const level = std::round(v * 255.0);
          double const got = double(back(0, c, y, x));
          CHECK(std::abs(got * 255.0 - level) < 1e-4);  // exactly one of the 256 levels
          CHECK(std::abs(got - v) <= 0.5 / 255 + 1e-6);
        }
    // Writing the read image again gives the same values (the quantisation is idempotent).
    io::write_png(path, back);
    CHECK(max_abs_diff(io::read_png<T>(path), back) == 0);
  }
  CHECK(dir.count() == 2);  // no temporaries left
}

TEST_CASE_TEMPLATE("png: 16-bit RGB and grey+alpha inputs keep full precision, alpha dropped", T, float, double) {
  TempDir dir("png_16");
  png_uint_32 const W = 3, H = 2;
  // 16-bit RGB, big-endian samples v = 1000 * (3 * (y * W + x) + c) + 17.
  std::vector<unsigned char> rgb(W * H * 3 * 2);
  for (png_uint_32 k = 0; k < W * H * 3; ++k) {
    unsigned const v = 1000 * k + 17;
    rgb[2 * k] = static_cast<unsigned char>(v >> 8);
    rgb[2 * k + 1] = static_cast<unsigned char>(v & 0xff);
  }
  auto rows = row_pointers(rgb, H);
  auto const p16 = dir / "rgb16.png";
  REQUIRE(write_raw_png(p16.string().c_str(), W, H, 16, PNG_COLOR_TYPE_RGB, rows.data(), nullptr, 0, nullptr, 0,
                        nullptr));
  Tensor4<T> const a = io::read_png<T>(p16);
  REQUIRE(shape_of(a) == Shape<4>{1, 3, H, W});
  CHECK(io::png_shape(p16) == shape_of(a));  // from the header alone
  double const tol = std::is_same_v<T, float> ? 1e-7 : 1e-15;
  for (Index y = 0; y < Index(H); ++y)
    for (Index x = 0; x < Index(W); ++x)
      for (Index c = 0; c < 3; ++c)
        CHECK(double(a(0, c, y, x)) == doctest::Approx((1000.0 * double(3 * (y * W + x) + c) + 17) / 65535).epsilon(tol));

  // Grey + alpha, 8 bits: one channel, alpha ignored.
  std::vector<unsigned char> ga(W * H * 2);
  for (png_uint_32 k = 0; k < W * H; ++k) {
    ga[2 * k] = static_cast<unsigned char>(40 * k + 5);
    ga[2 * k + 1] = static_cast<unsigned char>(k % 2 ? 0 : 255);
  }
  auto grows = row_pointers(ga, H);
  auto const pga = dir / "grey_alpha.png";
  REQUIRE(write_raw_png(pga.string().c_str(), W, H, 8, PNG_COLOR_TYPE_GRAY_ALPHA, grows.data(), nullptr, 0, nullptr,
                        0, nullptr));
  Tensor4<T> const b = io::read_png<T>(pga);
  REQUIRE(shape_of(b) == Shape<4>{1, 1, H, W});
  CHECK(io::png_shape(pga) == shape_of(b));
  for (Index k = 0; k < Index(W * H); ++k)
    CHECK(double(b(0, 0, k / W, k % W)) == doctest::Approx((40.0 * double(k) + 5) / 255).epsilon(tol));
}

TEST_CASE_TEMPLATE("png: palette (with tRNS) and 1-bit grey inputs are expanded", T, float, double) {
  TempDir dir("png_pal");
  png_color palette[4] = {{255, 0, 0}, {0, 128, 0}, {10, 20, 250}, {7, 7, 7}};
  png_byte trns[4] = {255, 128, 0, 255};
  png_uint_32 const W = 5, H = 3;
  std::vector<unsigned char> idx(W * H);
  for (png_uint_32 k = 0; k < W * H; ++k) idx[k] = static_cast<unsigned char>((k * 7) % 4);
  auto rows = row_pointers(idx, H);
  auto const pp = dir / "palette.png";
  REQUIRE(write_raw_png(pp.string().c_str(), W, H, 8, PNG_COLOR_TYPE_PALETTE, rows.data(), palette, 4, trns, 4,
                        nullptr));
  Tensor4<T> const a = io::read_png<T>(pp);
  REQUIRE(shape_of(a) == Shape<4>{1, 3, H, W});
  CHECK(io::png_shape(pp) == shape_of(a));
  for (png_uint_32 k = 0; k < W * H; ++k) {
    png_color const& col = palette[idx[k]];
    CHECK(double(a(0, 0, k / W, k % W)) == doctest::Approx(col.red / 255.0));
    CHECK(double(a(0, 1, k / W, k % W)) == doctest::Approx(col.green / 255.0));
    CHECK(double(a(0, 2, k / W, k % W)) == doctest::Approx(col.blue / 255.0));
  }

  // 1-bit grey, 10 x 2, bits 1010110000 / 0101001111 (MSB first), with a tRNS grey value.
  std::vector<unsigned char> bits = {0b10101100, 0b00000000, 0b01010011, 0b11000000};
  auto brows = row_pointers(bits, 2);
  png_color_16 tcol{};
  tcol.gray = 1;
  auto const pb = dir / "bits.png";
  REQUIRE(write_raw_png(pb.string().c_str(), 10, 2, 1, PNG_COLOR_TYPE_GRAY, brows.data(), nullptr, 0, nullptr, 1,
                        &tcol));
  Tensor4<T> const b = io::read_png<T>(pb);
  REQUIRE(shape_of(b) == Shape<4>{1, 1, 2, 10});
  CHECK(io::png_shape(pb) == shape_of(b));
  char const* expect[2] = {"1010110000", "0101001111"};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 10; ++x) CHECK(double(b(0, 0, y, x)) == (expect[y][x] == '1' ? 1.0 : 0.0));
}

TEST_CASE("png: read errors name the file and the problem") {
  TempDir dir("png_err");
  auto const missing = dir / "missing.png";
  CHECK_THROWS_WITH_AS(io::read_png<float>(missing),
                       ("distinv: read_png: cannot read '" + missing.string() + "': no such file").c_str(), Error);
  CHECK_THROWS_AS(io::read_png<float>(dir.path()), Error);  // a folder
  CHECK_THROWS_WITH_AS(io::png_shape(missing),
                       ("distinv: read_png: cannot read '" + missing.string() + "': no such file").c_str(), Error);

  auto const text = dir / "text.png";
  { std::ofstream(text) << "hello, I am not a picture\n"; }
  CHECK_THROWS_WITH_AS(io::read_png<float>(text),
                       ("distinv: read_png: '" + text.string() +
                        "' is not a PNG file (expected the 8-byte PNG signature)").c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(io::png_shape(text),
                       ("distinv: read_png: '" + text.string() +
                        "' is not a PNG file (expected the 8-byte PNG signature)").c_str(),
                       Error);

  Tensor4<float> img(1, 3, 16, 16);
  for (Index i = 0; i < img.size(); ++i) img.data()[i] = float((i * 37) % 101) / 100.0f;
  auto const good = dir / "good.png";
  io::write_png(good, img);
  auto const bytes = file_bytes(good);
  REQUIRE(bytes.size() > 60);
  CHECK(io::png_shape(good) == shape_of(img));

  for (std::size_t cut : {std::size_t(12), std::size_t(40), bytes.size() / 2, bytes.size() - 13}) {
    auto const part = dir / ("cut" + std::to_string(cut) + ".png");
    put_bytes(part, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
    CAPTURE(cut);
    try {
      (void)io::read_png<float>(part);
      FAIL("a truncated PNG was read without error");
    } catch (Error const& e) {
      std::string const msg = e.what();
      CHECK(msg.find(part.string()) != std::string::npos);
      CHECK(msg.find("corrupt") != std::string::npos);
    }
    if (cut < 33) CHECK_THROWS_WITH_AS(io::png_shape(part), doctest::Contains("expected its IHDR chunk first"), Error);
    else CHECK(io::png_shape(part) == shape_of(img));  // (the header alone is whole)
  }
  // A flipped byte inside the image data fails its CRC.
  auto bad = bytes;
  bad[bytes.size() / 2] ^= 0x5a;
  auto const flipped = dir / "flipped.png";
  put_bytes(flipped, bad);
  CHECK_THROWS_AS(io::read_png<float>(flipped), Error);
  // The good file still reads after all that.
  CHECK(max_abs_diff(io::read_png<float>(good), img) <= 0.5 / 255 + 1e-6);
}

TEST_CASE("png: write errors leave no file behind") {
  TempDir dir("png_werr");
  Tensor4<float> img(2, 3, 4, 4);
  img.setConstant(0.5f);
  auto const batch = dir / "batch.png";
  CHECK_THROWS_WITH_AS(io::write_png(batch, img),
                       ("distinv: write_png: '" + batch.string() + "': expected batch size 1, got shape (2, 3, 4, 4)")
                           .c_str(),
                       Error);
  Tensor4<float> two(1, 2, 4, 4);
  two.setZero();
  CHECK_THROWS_AS(io::write_png(dir / "two.png", two), Error);
  Tensor4<float> empty(1, 1, 0, 4);
  CHECK_THROWS_AS(io::write_png(dir / "empty.png", empty), Error);
  CHECK(dir.count() == 0);

  Tensor4<double> ok(1, 1, 4, 4);
  ok.setConstant(0.25);
  // A folder that does not exist, a "folder" that is a file, a target that is a folder.
  CHECK_THROWS_AS(io::write_png(dir / "nowhere" / "x.png", ok), Error);
  { std::ofstream(dir / "plain_file") << "x"; }
  CHECK_THROWS_AS(io::write_png(dir / "plain_file" / "x.png", ok), Error);
  std::filesystem::create_directory(dir / "a_folder.png");
  try {
    io::write_png(dir / "a_folder.png", ok);
    FAIL("writing over a folder succeeded");
  } catch (Error const& e) {
    CHECK(std::string(e.what()).find("a_folder.png") != std::string::npos);
  }
  CHECK(dir.count() == 2);  // plain_file and a_folder.png: no temporary left
  CHECK(std::filesystem::is_empty(dir / "a_folder.png"));

  // Overwriting an existing PNG replaces it whole.
  auto const p = dir / "over.png";
  io::write_png(p, ok);
  ok.setConstant(1.0);
  io::write_png(p, ok);
  CHECK(max_abs(io::read_png<double>(p)) == 1.0);
  CHECK(dir.count() == 3);
}
TEST_CASE("png: interlaced (Adam7) images read the same as plain ones") {
  TempDir dir("png_adam7");
  png_uint_32 const W = 13, H = 11;
  std::vector<unsigned char> rgb(W * H * 3);
  for (std::size_t k = 0; k < rgb.size(); ++k) rgb[k] = static_cast<unsigned char>((k * 53 + 7) % 256);
  auto rows = row_pointers(rgb, H);
  auto const plain = dir / "plain.png", adam7 = dir / "adam7.png";
  REQUIRE(write_raw_png(plain.string().c_str(), W, H, 8, PNG_COLOR_TYPE_RGB, rows.data(), nullptr, 0, nullptr, 0,
                        nullptr));
  REQUIRE(write_raw_png(adam7.string().c_str(), W, H, 8, PNG_COLOR_TYPE_RGB, rows.data(), nullptr, 0, nullptr, 0,
                        nullptr, PNG_INTERLACE_ADAM7));
  Tensor4<float> const a = io::read_png<float>(plain), b = io::read_png<float>(adam7);
  REQUIRE(shape_of(a) == Shape<4>{1, 3, Index(H), Index(W)});
  CHECK(max_abs_diff(a, b) == 0);
  CHECK(double(a(0, 2, 10, 12)) == doctest::Approx(rgb[(10 * W + 12) * 3 + 2] / 255.0));
}

TEST_CASE("png: headers are checked against the data and the limits before any pixel buffer") {
  TempDir dir("png_bounds");
  // A valid image that compresses about as far as deflate goes (all zeros: ~1000:1) reads.
  png_uint_32 const W = 2048, H = 2048;
  std::vector<unsigned char> zero(std::size_t(W) * H, 0);
  auto rows = row_pointers(zero, H);
  auto const flat = dir / "flat.png";
  REQUIRE(write_raw_png(flat.string().c_str(), W, H, 8, PNG_COLOR_TYPE_GRAY, rows.data(), nullptr, 0, nullptr, 0,
                        nullptr));
  auto const bytes = file_bytes(flat);
  MESSAGE("2048² zeros: " << bytes.size() << " bytes, ratio " << double(W) * H / double(bytes.size()) << ":1");
  CHECK(double(W) * H / double(bytes.size()) > 500);
  CHECK(io::read_png<float>(flat).dimension(2) == 2048);
  CHECK(max_abs_diff(io::decode_png<float>(bytes, "flat"), io::read_png<float>(flat)) == 0);

  // The same file with a height 64 times larger (IHDR and its CRC rewritten) claims more
  // pixel data than its bytes can hold: refused before 256 MB are allocated.
  auto forged = bytes;
  png_uint_32 const big = H * 64;
  for (int k = 0; k < 4; ++k) forged[20 + std::size_t(k)] = static_cast<unsigned char>(big >> (24 - 8 * k));
  std::uint32_t crc = 0xffffffffu;  // CRC-32 of the chunk type and data, as PNG stores it
  for (std::size_t i = 12; i < 29; ++i) {
    crc ^= forged[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  for (int k = 0; k < 4; ++k) forged[29 + std::size_t(k)] = static_cast<unsigned char>(crc >> (24 - 8 * k));
  CHECK_THROWS_WITH_AS(io::decode_png<float>(forged, "forged"),
                       doctest::Contains("'forged' claims 2048 x 131072 pixels (268435456 bytes of pixel data), more "
                                         "than its"),
                       Error);
  // The limits: on the decoded tensor (2048² floats = 16 MiB) and on the file.
  CHECK_THROWS_WITH_AS(io::read_png<float>(flat, {.max_bytes = std::size_t(16) << 20 >> 1}),
                       doctest::Contains("needs 16777216 bytes decoded, more than the limit of 8388608 bytes"), Error);
  CHECK_THROWS_WITH_AS(io::read_png<float>(flat, {.max_bytes = 100}), doctest::Contains("bytes, more than the limit of 100"),
                       Error);
  CHECK(io::read_png<float>(flat, {.max_bytes = std::size_t(16) << 20}).size() == Index(W) * H);
}
#endif  // DISTINV_HAS_PNG
