// .npy files of io/npy.hpp: round trips, the exact header bytes numpy expects, reading a file
// laid out byte by byte as numpy.save writes it, and the errors.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "distinv/io/npy.hpp"
#include "io_temp_dir.hpp"

using namespace distinv;
using distinv::testing::TempDir;

namespace {

std::string file_text(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_text(std::filesystem::path const& p, std::string const& s) {
  std::ofstream out(p, std::ios::binary);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

// A .npy file as numpy writes it: magic, version, little-endian header length, the dict padded
// with spaces to a 64-byte boundary and a newline, then the raw data.
std::string numpy_file(std::string const& dict, std::string const& data, int major = 1) {
  std::size_t const prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  std::size_t const total = ((prefix + h.size() + 1 + 63) / 64) * 64;
  h.append(total - prefix - h.size() - 1, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  std::size_t const n = h.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) out += std::string(2, '\0');
  return out + h + data;
}

}  // namespace

TEST_CASE_TEMPLATE("npy: round trips of rank 1, 2, 4 and 5 tensors are bit exact", T, float, double) {
  TempDir dir("npy_rt");
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  Tensor<T, 1> a(7);
  Tensor<T, 2> b(3, 4);
  Tensor4<T> c(2, 3, 5, 4);
  Tensor5<T> d(1, 2, 3, 2, 2);
  for (auto& v : flat(a)) v = T(g(rng));
  for (auto& v : flat(b)) v = T(g(rng));
  for (auto& v : flat(c)) v = T(g(rng));
  for (auto& v : flat(d)) v = T(g(rng));
  io::write_npy(dir / "a.npy", a);
  io::write_npy(dir / "b.npy", b);
  io::write_npy(dir / "c.npy", c);
  io::write_npy(dir / "d.npy", d);
  auto const a2 = io::read_npy<T, 1>(dir / "a.npy");
  auto const b2 = io::read_npy<T, 2>(dir / "b.npy");
  auto const c2 = io::read_npy<T, 4>(dir / "c.npy");
  auto const d2 = io::read_npy<T, 5>(dir / "d.npy");
  REQUIRE(shape_of(c2) == shape_of(c));
  REQUIRE(shape_of(d2) == shape_of(d));
  CHECK(std::memcmp(a2.data(), a.data(), sizeof(T) * 7) == 0);
  CHECK(max_abs_diff(b2, b) == 0);
  CHECK(max_abs_diff(c2, c) == 0);
  CHECK(max_abs_diff(d2, d) == 0);
  CHECK(c2(1, 2, 4, 3) == c(1, 2, 4, 3));  // C order
  CHECK(dir.count() == 4);
}

TEST_CASE("npy: header bytes are those numpy writes") {
  TempDir dir("npy_hdr");
  Tensor<float, 2> x(2, 3);
  for (Index i = 0; i < 6; ++i) x.data()[i] = float(i) + 1.0f;  // 1.0f = 00 00 80 3f
  io::write_npy(dir / "x.npy", x);
  std::string const s = file_text(dir / "x.npy");
  std::string const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  REQUIRE(s.size() == 128 + 6 * 4);  // 10 + 58 + 1 bytes padded to 128
  CHECK(s.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(static_cast<unsigned char>(s[8]) == 118);  // 128 - 10, little-endian
  CHECK(s[9] == '\0');
  CHECK(s.substr(10, dict.size()) == dict);
  CHECK(s.substr(10 + dict.size(), 128 - 10 - dict.size() - 1) == std::string(128 - 10 - dict.size() - 1, ' '));
  CHECK(s[127] == '\n');
  CHECK(s.substr(128, 4) == std::string("\x00\x00\x80\x3f", 4));
  CHECK(s.substr(128 + 20, 4) == std::string("\x00\x00\xc0\x40", 4));  // 6.0f
  CHECK(s == numpy_file(dict, s.substr(128)));

  Tensor<double, 1> v(5);
  v.setConstant(2.0);
  io::write_npy(dir / "v.npy", v);
  std::string const t = file_text(dir / "v.npy");
  CHECK(t.find("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }") == 10);
  CHECK(t.size() == 128 + 5 * 8);
}

TEST_CASE("npy: reads files laid out as numpy.save writes them (format 1.0 and 2.0)") {
  TempDir dir("npy_np");
  double const vals[4] = {0.5, -1.25, 3.0e-300, 1.0e300};
  std::string data(reinterpret_cast<char const*>(vals), sizeof vals);
  put_text(dir / "m.npy", numpy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", data));
  auto const m = io::read_npy<double, 2>(dir / "m.npy");
  REQUIRE(shape_of(m) == Shape<2>{2, 2});
  CHECK(m(0, 0) == 0.5);
  CHECK(m(0, 1) == -1.25);
  CHECK(m(1, 0) == 3.0e-300);
  CHECK(m(1, 1) == 1.0e300);
  // Format 2.0, keys in another order, double quotes.
  put_text(dir / "m2.npy", numpy_file("{\"shape\": (1, 4), \"fortran_order\": False, \"descr\": \"<f8\"}", data, 2));
  auto const m2 = io::read_npy<double, 2>(dir / "m2.npy");
  REQUIRE(shape_of(m2) == Shape<2>{1, 4});
  CHECK(m2(0, 3) == 1.0e300);
}

TEST_CASE("npy: errors for dtype, rank, order, magic and size") {
  TempDir dir("npy_err");
  Tensor<float, 2> x(2, 3);
  x.setConstant(1.0f);
  auto const p = dir / "x.npy";
  io::write_npy(p, x);
  CHECK_THROWS_WITH_AS((io::read_npy<double, 2>(p)),
                       ("distinv: read_npy: '" + p.string() + "': expected dtype '<f8', got '<f4'").c_str(), Error);
  CHECK_THROWS_WITH_AS((io::read_npy<float, 3>(p)),
                       ("distinv: read_npy: '" + p.string() + "': expected rank 3, got shape (2, 3) (rank 2)").c_str(),
                       Error);
  CHECK_THROWS_AS((io::read_npy<float, 2>(dir / "missing.npy")), Error);

  std::string const good = file_text(p);
  put_text(dir / "magic.npy", "NUMPY" + good.substr(5));
  CHECK_THROWS_AS((io::read_npy<float, 2>(dir / "magic.npy")), Error);
  put_text(dir / "short.npy", good.substr(0, good.size() - 3));
  CHECK_THROWS_WITH_AS((io::read_npy<float, 2>(dir / "short.npy")),
                       ("distinv: read_npy: '" + (dir / "short.npy").string() +
                        "': expected 24 data bytes for shape (2, 3), got 21")
                           .c_str(),
                       Error);
  put_text(dir / "hdr.npy", good.substr(0, 30));
  CHECK_THROWS_AS((io::read_npy<float, 2>(dir / "hdr.npy")), Error);
  put_text(dir / "fortran.npy",
           numpy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", good.substr(128)));
  CHECK_THROWS_AS((io::read_npy<float, 2>(dir / "fortran.npy")), Error);
  put_text(dir / "big.npy", numpy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", good.substr(128)));
  CHECK_THROWS_AS((io::read_npy<float, 2>(dir / "big.npy")), Error);
  put_text(dir / "huge.npy",
           numpy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", good.substr(128)));
  CHECK_THROWS_AS((io::read_npy<float, 2>(dir / "huge.npy")), Error);
  // A failed write leaves nothing.
  CHECK_THROWS_AS(io::write_npy(dir / "nowhere" / "x.npy", x), Error);
  CHECK(!std::filesystem::exists(dir / "nowhere"));
}

TEST_CASE("npy: NpyLimits bounds the tensor read_npy allocates") {
  TempDir dir("npy_limits");
  Tensor<double, 2> x(2, 3);
  x.setConstant(0.5);
  auto const p = dir / "x.npy";
  io::write_npy(p, x);
  CHECK(io::read_npy<double, 2>(p, io::NpyLimits{48})(1, 2) == 0.5);  // exactly the limit
  CHECK_THROWS_WITH_AS((io::read_npy<double, 2>(p, io::NpyLimits{47})),
                       ("distinv: read_npy: '" + p.string() + "': 48 bytes to read, more than the limit of 47 bytes")
                           .c_str(),
                       Error);
}

TEST_CASE("npy: decoding from memory checks the header against the bytes before allocating") {
  Tensor<float, 2> x(2, 3);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(i) / 7;
  TempDir dir("npy_mem");
  io::write_npy(dir / "x.npy", x);
  std::ifstream in(dir / "x.npy", std::ios::binary);
  std::vector<unsigned char> const bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(max_abs_diff((io::decode_npy<float, 2>(bytes, "x")), x) == 0);
  // A shape of 2^40 x 2^40 elements: refused as too large, not wrapped to a small count.
  std::string const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }";
  std::vector<unsigned char> huge{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(dict.size()), 0};
  huge.insert(huge.end(), dict.begin(), dict.end());
  CHECK_THROWS_WITH_AS((io::decode_npy<float, 2>(huge, "huge")), doctest::Contains("overflows"), Error);
  // A header longer than the data; one cut short.
  std::vector<unsigned char> longer{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0x7f, '{'};
  CHECK_THROWS_WITH_AS((io::decode_npy<double, 1>(longer, "longer")), doctest::Contains("truncated header"), Error);
  CHECK_THROWS_AS((io::decode_npy<float, 2>(std::span(bytes).first(bytes.size() - 1), "cut")), Error);
  CHECK_THROWS_AS((io::decode_npy<float, 2>(std::span(bytes).first(9), "cut9")), Error);
}
