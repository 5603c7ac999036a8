// HDF5 input and output (io/hdf5.hpp, io/hdf5_slab.hpp) on every backend: write_hdf5_slabs then
// read_hdf5_slab gives the slabs back bit for bit (float32 and float64, rank 4 and 5, prime
// heights, any partition, conversion between the two types) and equals write_hdf5 / read_hdf5 of
// the whole array; files of h5py (contiguous, chunked, gzip, big-endian: tests/data/hdf5,
// tests/data/hdf5/make_reference.py) read as the arrays h5py wrote, and distinv's file reads as
// h5py checked it. Bad input (missing file, group or dataset, not HDF5, integers, another rank, a
// filter this HDF5 lacks, a shape larger than the data, NaN or infinity, a bad partition, a slab
// over the limit, an unwritable folder) is the same Error on every rank, and the ranks go on.
#include "distinv/config.hpp"
#if DISTINV_HAS_HDF5
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include "backends.hpp"
#include "slab_testing.hpp"
#include "distinv/io/hdf5.hpp"
#include "distinv/io/hdf5_slab.hpp"
#include "distinv/io/npy.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using distinv::testing::same_error;
using distinv::testing::SharedDir;
using layout::RowPartition;
using layout::SlabTensor;

#if defined(DISTINV_TESTING_MPI) && DISTINV_HAS_HDF5_PARALLEL
static_assert(io::detail::Hdf5MpiIoComm<comm::Mpi>, "comm::Mpi ranks use collective MPI-IO");
#endif
static_assert(!io::detail::Hdf5MpiIoComm<comm::Threads> && !io::detail::Hdf5ProcessComm<comm::Threads>);

namespace {

std::filesystem::path const hdf5_data = std::filesystem::path(DISTINV_TEST_DATA_DIR) / "hdf5";

std::string at(std::filesystem::path const& file, std::string const& dataset) { return file.string() + ":" + dataset; }

bool contains(std::string const& s, std::string const& part) { return s.find(part) != std::string::npos; }

template <class T, int R>
Tensor<T, R> random_values(Shape<R> const& s, unsigned seed) {
  Tensor<T, R> x(s);
  std::mt19937 gen(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(n(gen));
  return x;
}

template <class T, int R, class Ctx>
void check_hdf5_round_trip(Ctx& ctx, SharedDir<Ctx> const& dir, Shape<R> const& s, unsigned seed) {
  using Comm = typename Ctx::comm_type;
  using Other = std::conditional_t<sizeof(T) == 4, double, float>;
  auto const whole = random_values<T, R>(s, seed);
  std::string const tag = std::to_string(seed) + "_" + std::to_string(sizeof(T)) + "_" + std::to_string(R);
  int k = 0;
  for (auto const& part : testing::slab_partitions(s[2], ctx.world_size())) {
    CAPTURE(part.to_string());
    auto const x = SlabTensor<T, R, Comm>::scatter(ctx.comm(), whole, part);
    auto const file = at(dir / ("slabs" + tag + "_" + std::to_string(k++) + ".h5"), "/group/x");
    io::write_hdf5_slabs(file, x, {.iteration = 7});
    auto const back = io::read_hdf5_slab<T, R>(ctx.comm(), file, part);
    CHECK(back.partition() == part);
    CHECK(back.shape() == s);
    CHECK(max_abs_diff(back, x) == 0);
    auto const balanced = io::read_hdf5_slab<T, R>(ctx.comm(), file);
    CHECK(balanced.partition() == RowPartition::balanced(s[2], ctx.world_size()));
    CHECK(max_abs_diff(balanced.gather(), whole) == 0);
    // the other type: converted as static_cast does
    auto const converted = io::read_hdf5_slab<Other, R>(ctx.comm(), file, part);
    Tensor<Other, R> expected = whole.template cast<Other>();
    CHECK(max_abs_diff(converted.gather(), expected) == 0);
    testing::one_rank_at_a_time(ctx, [&] {
      CHECK(max_abs_diff(io::read_hdf5<T, R>(file), whole) == 0);  // the whole-array reader
      auto const attrs = io::read_hdf5_attributes(file);
      CHECK(attrs.distinv_version == DISTINV_VERSION);
      CHECK(attrs.axes == (R == 4 ? "B,C,H,W" : "B,C,D,H,W"));
      CHECK(attrs.iteration == std::optional<std::int64_t>(7));
    });
  }
  // the whole-array writer, read by slabs
  auto const file = at(dir / ("whole" + tag + ".h5"), "/x");
  if (ctx.rank() == 0) io::write_hdf5(file, whole);
  ctx.barrier();
  CHECK(max_abs_diff(io::read_hdf5_slab<T, R>(ctx.comm(), file).gather(), whole) == 0);
  testing::one_rank_at_a_time(ctx, [&] { CHECK_FALSE(io::read_hdf5_attributes(file).iteration.has_value()); });
}

}  // namespace

TEST_CASE_TEMPLATE("hdf5: write_hdf5_slabs then read_hdf5_slab gives the slabs back bit for bit", T, float, double) {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_cvref_t<decltype(ctx)>;
    SharedDir<Ctx> const dir(ctx, "hdf5_round_trip");
    Index const H = ctx.world_size() <= 2 ? 7 : 13;  // prime heights
    check_hdf5_round_trip<T, 4>(ctx, dir, Shape<4>{2, 3, H, 5}, 1);
    check_hdf5_round_trip<T, 5>(ctx, dir, Shape<5>{1, 2, 11, 3, 4}, 2);  // volumes: slabs along D
  });
}

TEST_CASE("hdf5: files of h5py read as h5py wrote them, and distinv's file reads as h5py checked it") {
  for_each_backend([](auto& ctx) {
    auto const f32 = io::read_npy<float, 4>(hdf5_data / "f32.npy");
    auto const f64 = io::read_npy<double, 5>(hdf5_data / "f64.npy");
    auto const big = io::read_npy<double, 4>(hdf5_data / "big.npy");
    // DISTINV_HDF5_REFERENCE_OUT=<folder>: first write distinv_f32.h5 and distinv_f64.h5 there
    // (make_reference.py --check reads them with h5py)
    if (char const* out = std::getenv("DISTINV_HDF5_REFERENCE_OUT"); out && ctx.rank() == 0) {
      io::write_hdf5(at(std::filesystem::path(out) / "distinv_f32.h5", "/images/f32"), f32, {.iteration = 26});
      io::write_hdf5(at(std::filesystem::path(out) / "distinv_f64.h5", "/volumes/f64"), f64);
    }
    ctx.barrier();
    auto const h5py_file = hdf5_data / "h5py_written.h5";
    CHECK(max_abs_diff(io::read_hdf5_slab<float, 4>(ctx.comm(), at(h5py_file, "/images/f32")).gather(), f32) == 0);
    CHECK(max_abs_diff(io::read_hdf5_slab<double, 5>(ctx.comm(), at(h5py_file, "/volumes/f64")).gather(), f64) == 0);
    CHECK(max_abs_diff(io::read_hdf5_slab<double, 4>(ctx.comm(), at(h5py_file, "/gzip")).gather(), big) == 0);
    CHECK(max_abs_diff(io::read_hdf5_slab<double, 4>(ctx.comm(), at(h5py_file, "/big_endian")).gather(), big) == 0);
    auto const by_distinv = at(hdf5_data / "distinv_f32.h5", "/images/f32");
    CHECK(max_abs_diff(io::read_hdf5_slab<float, 4>(ctx.comm(), by_distinv).gather(), f32) == 0);
    CHECK(max_abs_diff(io::read_hdf5_slab<double, 5>(ctx.comm(), at(hdf5_data / "distinv_f64.h5", "/volumes/f64")).gather(),
                       f64) == 0);
    testing::one_rank_at_a_time(ctx, [&] { CHECK(io::read_hdf5_attributes(by_distinv).iteration == 26); });
  });
}

TEST_CASE("hdf5: bad input is the same Error on every rank, and the ranks go on together") {
  for_each_backend([](auto& ctx) {
    using Ctx = std::remove_cvref_t<decltype(ctx)>;
    using Comm = typename Ctx::comm_type;
    int const p = ctx.world_size();
    SharedDir<Ctx> const dir(ctx, "hdf5_bad");
    auto const bad = hdf5_data / "bad.h5";
    auto const good = at(hdf5_data / "h5py_written.h5", "/images/f32");
    if (ctx.rank() == 0) io::write_file_atomic(dir / "not_hdf5.h5", std::string(600, 'x'));
    ctx.barrier();
    auto read = [&](std::string const& where, std::optional<RowPartition> part = std::nullopt,
                    io::Hdf5ReadOptions opt = {}) { return io::read_hdf5_slab<float, 4>(ctx.comm(), where, part, opt); };
    CHECK(contains(same_error(ctx, [&] { (void)read("no_dataset_named.h5"); }), "file.h5:/path/to/dataset"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(dir / "missing.h5", "/x")); }), "no such file"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(dir / "not_hdf5.h5", "/x")); }), "not an HDF5 file"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/missing")); }), "no dataset '/missing'"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/no/such/group")); }), "'/no' does not exist"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/group")); }), "as a dataset"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/ints")); }), "got integers of 4 bytes"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/rank3")); }), "expected rank 4 (B,C,H,W), got rank 3"));
    CHECK(contains(same_error(ctx, [&] { (void)io::read_hdf5_slab<float, 5>(ctx.comm(), good); }), "expected rank 5"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/lzf")); }), "filter 'lzf'"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/partial")); }), "the file holds 140 of them"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(hdf5_data / "lying.h5", "/data")); }),
                   "shape (2, 3, 7000, 5) needs 840000 bytes, the file holds 840 of them"));
    CHECK(contains(same_error(ctx, [&] { (void)read(at(bad, "/nan")); }), "NaN or infinity at (1, 2, 4, 3)"));
    CHECK(contains(same_error(ctx, [&] { (void)read(good, RowPartition::balanced(8, p)); }), "partition"));
    // the limit bounds each rank's slab: here only the last rank's is over it
    std::vector<Index> lopsided;
    for (int r = 0; r < p; ++r) lopsided.push_back(r);
    lopsided.push_back(7);
    io::Hdf5ReadOptions const one_row{std::size_t(2 * 3 * 5) * sizeof(float)};
    CHECK(contains(same_error(ctx, [&] { (void)read(good, RowPartition(lopsided), one_row); }), "limit"));
    // writing into a folder that does not exist: the same Error, nothing left behind
    auto const x = read(good);
    std::size_t const entries = dir.count();
    CHECK(contains(same_error(ctx, [&] { io::write_hdf5_slabs(at(dir / "no_such_folder" / "x.h5", "/x"), x); }),
                   "folder"));
    ctx.barrier();
    CHECK(dir.count() == entries);
    ctx.barrier();
    // the ranks still meet in the same collectives
    auto const again = at(dir / "again.h5", "/x");
    io::write_hdf5_slabs(again, x);
    CHECK(max_abs_diff(read(again), x) == 0);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(x)>, SlabTensor<float, 4, Comm>>);
  });
}

TEST_CASE("hdf5: the whole-array reader refuses bad input alike") {
  auto const bad = hdf5_data / "bad.h5";
  auto read = [](std::string const& where, io::Hdf5ReadOptions opt = {}) { (void)io::read_hdf5<float, 4>(where, opt); };
  CHECK_THROWS_WITH_AS(read(at(bad, "/nan")), doctest::Contains("at (1, 2, 4, 3)"), Error);
  CHECK_THROWS_WITH_AS(read(at(bad, "/lzf")), doctest::Contains("cannot decode"), Error);
  CHECK_THROWS_WITH_AS(read(at(hdf5_data / "h5py_written.h5", "/images/f32"), {.max_bytes = 64}),
                       doctest::Contains("limit"), Error);
  CHECK_THROWS_WITH_AS(io::write_hdf5("x.h5", Tensor4<float>(1, 1, 1, 1)), doctest::Contains("file.h5:/path"), Error);
}
#endif
