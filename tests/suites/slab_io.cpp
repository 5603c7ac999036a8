// Input and output by slabs (layout/slab_io.hpp, layout/slab_png.hpp) on every backend:
// write_npy_slabs writes io::write_npy's bytes and read_npy_slab reads any partition back (4-D
// and 5-D, heights not divisible by the ranks, one-row slabs); write_png_slabs and
// write_montage_png_slabs write io::write_png's bytes (of io::montage's canvas), whatever the
// bands; test_image_slab holds the rows of io::test_image. Bad input (missing, truncated, not a
// .npy, a header lying about its size, another dtype or rank, a partition of other rows, a slab
// over the limit, an unwritable folder, a bad shape) is the same Error on every rank, no rank
// left waiting, and the ranks go on together.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backends.hpp"
#include "slab_testing.hpp"
#include "distinv/config.hpp"
#include "distinv/io/files.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/npy.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/layout/slab_io.hpp"
#if DISTINV_HAS_PNG
#include "distinv/io/png.hpp"
#include "distinv/layout/slab_png.hpp"
#endif

using namespace distinv;
using distinv::testing::for_each_backend;
using distinv::testing::same_error;
using distinv::testing::SharedDir;
using layout::RowPartition;
using layout::SlabTensor;

namespace {

template <class T, int R>
Tensor<T, R> random_whole(Shape<R> const& s, unsigned seed) {
  Tensor<T, R> x(s);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-0.25, 1.25);  // some values outside [0, 1]: clamped in PNGs
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(u(gen));
  return x;
}

/// The file's bytes.
std::vector<unsigned char> bytes_of(std::filesystem::path const& p) { return io::read_file_bytes(p, "test"); }

/// Writes `bytes` to `p` (rank 0 calls it).
void put_bytes(std::filesystem::path const& p, std::vector<unsigned char> const& bytes) {
  io::write_file_atomic(p, std::string_view(reinterpret_cast<char const*>(bytes.data()), bytes.size()));
}

bool contains(std::string const& s, std::string const& part) { return s.find(part) != std::string::npos; }

template <class T, int R, class Ctx>
void check_npy_round_trip(Ctx& ctx, SharedDir<Ctx> const& dir, Shape<R> const& s, unsigned seed) {
  using Comm = typename Ctx::comm_type;
  int const p = ctx.world_size();
  auto const whole = random_whole<T, R>(s, seed);
  std::string const tag = std::to_string(seed) + "_" + std::to_string(sizeof(T)) + "_" + std::to_string(R);
  if (ctx.rank() == 0) io::write_npy(dir / ("whole" + tag + ".npy"), whole);
  int k = 0;
  for (auto const& part : testing::slab_partitions(s[2], p)) {
    CAPTURE(part.to_string());
    auto const x = SlabTensor<T, R, Comm>::scatter(ctx.comm(), whole, part);
    auto const file = dir / ("slabs" + tag + "_" + std::to_string(k++) + ".npy");
    layout::write_npy_slabs(file, x);
    ctx.barrier();
    CHECK(bytes_of(file) == bytes_of(dir / ("whole" + tag + ".npy")));  // io::write_npy's bytes
    auto const back = layout::read_npy_slab<T, R>(ctx.comm(), file, part);
    CHECK(back.partition() == part);
    CHECK(back.shape() == s);
    CHECK(max_abs_diff(back, x) == 0);
  }
  auto const balanced = layout::read_npy_slab<T, R>(ctx.comm(), dir / ("whole" + tag + ".npy"));
  CHECK(balanced.partition() == RowPartition::balanced(s[2], p));
  CHECK(max_abs_diff(balanced.gather(), whole) == 0);
}

}  // namespace

TEST_CASE_TEMPLATE("slab io: write_npy_slabs writes io::write_npy's bytes, read_npy_slab reads any partition back",
                   T, float, double) {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_cvref_t<decltype(ctx)>;
    SharedDir<Ctx> const dir(ctx, "slab_npy");
    Index const H = 2 * ctx.world_size() + 1;
    check_npy_round_trip<T, 4>(ctx, dir, Shape<4>{2, 3, H, 5}, 1);
    check_npy_round_trip<T, 4>(ctx, dir, Shape<4>{1, 1, Index(ctx.world_size()), 1}, 2);  // one row per rank
    check_npy_round_trip<T, 5>(ctx, dir, Shape<5>{1, 2, H, 3, 4}, 3);                     // volumes: slabs along D
  });
}

TEST_CASE("slab io: bad .npy input is the same Error on every rank, and the ranks go on together") {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_cvref_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    int const p = ctx.world_size();
    SharedDir<Ctx> const dir(ctx, "slab_npy_bad");
    Index const H = 2 * p + 1;
    Shape<4> const s{1, 2, H, 4};
    auto const whole = random_whole<float, 4>(s, 7);
    auto const good = dir / "good.npy";
    if (ctx.rank() == 0) {
      io::write_npy(good, whole);
      auto bytes = bytes_of(good);
      put_bytes(dir / "truncated.npy", std::vector<unsigned char>(bytes.begin(), bytes.end() - 5));
      put_bytes(dir / "header_only.npy", std::vector<unsigned char>(bytes.begin(), bytes.begin() + 10));
      put_bytes(dir / "not_npy.npy", std::vector<unsigned char>(64, 'x'));
      // a header that claims one row more than the data holds
      std::string lying = io::detail::npy_header<float>(std::array<Index, 4>{1, 2, H + 1, 4});
      std::vector<unsigned char> l(lying.begin(), lying.end());
      l.insert(l.end(), bytes.begin() + std::ptrdiff_t(io::detail::npy_header<float>(std::array<Index, 4>{1, 2, H, 4}).size()),
               bytes.end());
      put_bytes(dir / "lying.npy", l);
      io::write_npy(dir / "fortran.npy", whole);
      auto f = bytes_of(dir / "fortran.npy");
      std::string text(f.begin(), f.end());
      auto const at = text.find("False");
      std::copy_n("True ", 5, f.begin() + std::ptrdiff_t(at));
      put_bytes(dir / "fortran.npy", f);
      io::write_npy(dir / "empty.npy", Tensor4<float>(1, 2, 0, 4));
      io::write_npy(dir / "one_row.npy", random_whole<float, 4>(Shape<4>{1, 1, 1, 3}, 8));
    }
    ctx.barrier();
    auto read = [&](std::filesystem::path const& f, std::optional<RowPartition> part = std::nullopt,
                    io::NpyLimits limits = {}) { return layout::read_npy_slab<float, 4>(ctx.comm(), f, part, limits); };
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "missing.npy"); }), "no such file"));
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "truncated.npy"); }), "data bytes"));
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "header_only.npy"); }), "truncated header"));
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "not_npy.npy"); }), "not a .npy file"));
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "lying.npy"); }), "data bytes"));
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "fortran.npy"); }), "fortran_order"));
    CHECK(contains(same_error(ctx, [&] { (void)layout::read_npy_slab<double, 4>(ctx.comm(), good); }), "dtype"));
    CHECK(contains(same_error(ctx, [&] { (void)layout::read_npy_slab<float, 5>(ctx.comm(), good); }), "rank"));
    CHECK(contains(same_error(ctx, [&] { (void)read(dir / "empty.npy"); }), "non-empty"));
    CHECK(contains(same_error(ctx, [&] { (void)read(good, RowPartition::balanced(H + 1, p)); }), "partition"));
    if (p > 1) CHECK(contains(same_error(ctx, [&] { (void)read(dir / "one_row.npy"); }), "at least one row per rank"));
    // the limit bounds each rank's slab: here only the last rank's is over it
    std::vector<Index> lopsided;
    for (int r = 0; r < p; ++r) lopsided.push_back(r);
    lopsided.push_back(H);
    io::NpyLimits const one_row{std::size_t(2 * 4) * sizeof(float)};
    CHECK(contains(same_error(ctx, [&] { (void)read(good, RowPartition(lopsided), one_row); }), "limit"));
    // writing into a folder that does not exist: the same Error, nothing left behind
    auto const x = SlabTensor<float, 4, Comm>::scatter(ctx.comm(), whole, RowPartition::balanced(H, p));
    std::size_t const entries = dir.count();
    CHECK(contains(same_error(ctx, [&] { layout::write_npy_slabs(dir / "no_such_folder" / "x.npy", x); }), "folder"));
    ctx.barrier();
    CHECK(dir.count() == entries);
    ctx.barrier();
    // the ranks still meet in the same collectives
    CHECK(max_abs_diff(read(good), x) == 0);
    CHECK(max_abs_diff(read(good, std::nullopt, io::NpyLimits{std::size_t(numel(s)) * sizeof(float)}), x) == 0);
  });
}

TEST_CASE("slab io: test_image_slab holds the rows of io::test_image") {
  for_each_backend([](auto& ctx) {
    int const p = ctx.world_size();
    Index const H = 16 + 2 * p + 1, W = 19;
    for (Index C : {Index(3), Index(1)}) {
      auto const whole = io::test_image<float>(H, W, C);
      for (auto const& part : testing::slab_partitions(H, p)) {
        auto const x = layout::test_image_slab<float>(ctx.comm(), H, W, C, part);
        CHECK(x.partition() == part);
        CHECK(max_abs_diff(x.gather(), whole) == 0);
      }
      auto const d = layout::test_image_slab<double>(ctx.comm(), H, W, C);
      CHECK(d.partition() == RowPartition::balanced(H, p));
      CHECK(max_abs_diff(d.gather(), io::test_image<double>(H, W, C)) == 0);
    }
    CHECK(contains(same_error(ctx, [&] { (void)layout::test_image_slab<float>(ctx.comm(), 8, W); }), "H, W >= 16"));
    CHECK(contains(same_error(ctx, [&] { (void)layout::test_image_slab<float>(ctx.comm(), H, W, 2); }), "C = 1 or 3"));
    CHECK(contains(same_error(ctx, [&] {
                     (void)layout::test_image_slab<float>(ctx.comm(), H, W, 3, RowPartition::balanced(H + 1, p));
                   }),
                   "partition"));
  });
}

#if DISTINV_HAS_PNG
TEST_CASE("slab io: write_png_slabs and write_montage_png_slabs write io::write_png's bytes, any band") {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_cvref_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    using Slab = SlabTensor<float, 4, Comm>;
    int const p = ctx.world_size();
    SharedDir<Ctx> const dir(ctx, "slab_png");
    Index const H = 3 * p + 2, W = 7;
    int k = 0;
    for (Index C : {Index(3), Index(1)}) {
      auto whole = random_whole<float, 4>(Shape<4>{1, C, H, W}, unsigned(10 + C));
      whole(0, 0, 0, 0) = std::numeric_limits<float>::quiet_NaN();  // written as 0, as write_png does
      auto const want = dir / ("want" + std::to_string(C) + ".png");
      if (ctx.rank() == 0) io::write_png(want, whole);
      for (auto const& part : testing::slab_partitions(H, p))
        for (std::size_t band : {std::size_t(1), std::size_t(3 * W * C), std::size_t(8) << 20}) {  // 1 row, 3, all
          CAPTURE(part.to_string());
          CAPTURE(band);
          auto const file = dir / ("slabs" + std::to_string(k++) + ".png");
          layout::write_png_slabs(file, Slab::scatter(ctx.comm(), whole, part), layout::PngBands{band});
          ctx.barrier();
          CHECK(bytes_of(file) == bytes_of(want));
        }
    }
    // a montage: RGB images on two partitions and a shorter grey one (letterboxed, repeated into RGB)
    auto const a = random_whole<float, 4>(Shape<4>{1, 3, H, W}, 21);
    auto const b = random_whole<float, 4>(Shape<4>{1, 3, H, W + 2}, 22);
    Index const h = std::max<Index>(p, H - 3);
    auto const g = random_whole<float, 4>(Shape<4>{1, 1, h, 5}, 23);
    auto const parts = testing::slab_partitions(H, p);
    Slab const sa = Slab::scatter(ctx.comm(), a, parts.front());
    Slab const sb = Slab::scatter(ctx.comm(), b, parts.back());
    Slab const sg = Slab::scatter(ctx.comm(), g, RowPartition::balanced(h, p));
    for (int pad : {4, 0, 1})
      for (std::size_t band : {std::size_t(1), std::size_t(2000), std::size_t(8) << 20}) {
        CAPTURE(pad);
        CAPTURE(band);
        auto const want = dir / ("montage_want" + std::to_string(k) + ".png");
        if (ctx.rank() == 0) io::write_png(want, io::montage<float>({a, g, b}, pad));
        auto const file = dir / ("montage" + std::to_string(k++) + ".png");
        layout::write_montage_png_slabs(file, {&sa, &sg, &sb}, pad, layout::PngBands{band});
        ctx.barrier();
        CHECK(bytes_of(file) == bytes_of(want));
      }
    // one grey image alone stays grey
    auto const want = dir / "grey_want.png";
    if (ctx.rank() == 0) io::write_png(want, io::montage<float>({g}));
    layout::write_montage_png_slabs(dir / "grey.png", std::vector<Slab const*>{&sg});
    ctx.barrier();
    CHECK(bytes_of(dir / "grey.png") == bytes_of(want));
  });
}

TEST_CASE("slab io: bad PNG output is the same Error on every rank, nothing left behind") {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_cvref_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    using Slab = SlabTensor<float, 4, Comm>;
    int const p = ctx.world_size();
    SharedDir<Ctx> const dir(ctx, "slab_png_bad");
    Index const H = 2 * p + 1;
    auto const part = RowPartition::balanced(H, p);
    Slab const two_batches = Slab::scatter(ctx.comm(), random_whole<float, 4>(Shape<4>{2, 3, H, 4}, 1), part);
    Slab const two_channels = Slab::scatter(ctx.comm(), random_whole<float, 4>(Shape<4>{1, 2, H, 4}, 2), part);
    Slab const good = Slab::scatter(ctx.comm(), random_whole<float, 4>(Shape<4>{1, 3, H, 4}, 3), part);
    CHECK(contains(same_error(ctx, [&] { layout::write_png_slabs(dir / "a.png", two_batches); }), "batch size 1"));
    CHECK(contains(same_error(ctx, [&] { layout::write_png_slabs(dir / "b.png", two_channels); }), "channels"));
    CHECK(contains(same_error(ctx, [&] { layout::write_png_slabs(dir / "no_such_folder" / "c.png", good); }),
                   "folder"));
    CHECK(contains(same_error(ctx, [&] { layout::write_montage_png_slabs(dir / "d.png", std::vector<Slab const*>{}); }),
                   "at least one image"));
    CHECK(contains(same_error(ctx, [&] { layout::write_montage_png_slabs(dir / "e.png", {&good}, -1); }), "pad"));
    CHECK(contains(same_error(ctx, [&] { layout::write_montage_png_slabs(dir / "f.png", {&good, &two_channels}); }),
                   "image 1"));
    CHECK(contains(same_error(ctx, [&] { layout::write_montage_png_slabs(dir / "no_such_folder" / "g.png", {&good}); }),
                   "folder"));
    ctx.barrier();
    CHECK(dir.count() == 0);
    ctx.barrier();  // every rank has looked before rank 0 writes again
    // the ranks go on together
    layout::write_png_slabs(dir / "good.png", good);
    ctx.barrier();
    CHECK(dir.count() == 1);
  });
}
#endif
