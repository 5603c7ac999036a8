// distinv-pnp helpers: SVG plots (svg_plot.hpp) and JSON metric files (json.hpp): document structure, series
// and polyline points, round ticks, escaping, null for non-finite numbers, atomic writes; the
// options (config.hpp): TOML ranges, keys, spellings, non-finite numbers, agreement between
// ranks; the memory budget (budget.hpp); the output folder (outputs.hpp): lock, staging, commit,
// abandon on a signal; the progress line (progress.hpp) and the library's hooks it uses
// (TiledProcessing::set_progress, CgOptions::callback); montage captions (io/caption.hpp).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "budget.hpp"
#include "config.hpp"
#include "distinv/distinv.hpp"
#include "distinv/io/caption.hpp"
#include "distinv/io/files.hpp"
#include "distinv/layout/slab_tensor.hpp"
#include "distinv/layout/tiled_prior.hpp"
#include "distinv/linalg/cg.hpp"
#include "json.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "svg_plot.hpp"
#include "io_temp_dir.hpp"

using namespace distinv;
using distinv::testing::TempDir;

namespace {

std::string file_text(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_of(std::string const& s, std::string const& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The (x, y) pairs of the k-th polyline's points attribute.
std::vector<std::pair<double, double>> polyline_points(std::string const& svg, std::size_t k) {
  std::size_t p = 0;
  for (std::size_t i = 0; i <= k; ++i) p = svg.find("<polyline", i ? p + 1 : 0);
  REQUIRE(p != std::string::npos);
  std::size_t const b = svg.find("points=\"", p) + 8, e = svg.find('"', b);
  std::string const pts = svg.substr(b, e - b);
  std::vector<std::pair<double, double>> out;
  std::size_t q = 0;
  while (q < pts.size()) {
    std::size_t const comma = pts.find(',', q), space = pts.find(' ', q);
    out.emplace_back(std::stod(pts.substr(q, comma - q)),
                     std::stod(pts.substr(comma + 1, (space == std::string::npos ? pts.size() : space) - comma - 1)));
    q = space == std::string::npos ? pts.size() : space + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("svg_plot: a convergence plot with two axes") {
  std::vector<double> it, ps, obj;
  for (int k = 0; k < 25; ++k) {
    it.push_back(k);
    ps.push_back(20 + 10 * (1 - std::exp(-0.2 * k)));
    obj.push_back(1e3 * std::exp(-0.4 * k) + 0.5);
  }
  pnp::SvgPlot plot;
  plot.set_title("PnP <deblur> & \"denoise\"")
      .set_x_label("iteration")
      .set_y_label("PSNR (dB)")
      .set_y_label("objective", pnp::YAxis::right)
      .set_log_y(true, pnp::YAxis::right)
      .add_series("PSNR", it, ps)
      .add_series("objective", it, obj, pnp::YAxis::right);
  std::string const svg = plot.to_svg();
  CHECK(svg.rfind("<?xml version=\"1.0\"", 0) == 0);
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.size() > 7);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count_of(svg, "<svg") == 1);
  CHECK(svg.find("PnP &lt;deblur&gt; &amp; &quot;denoise&quot;") != std::string::npos);
  CHECK(svg.find(">PSNR<") != std::string::npos);
  CHECK(svg.find(">objective (right)<") != std::string::npos);
  CHECK(svg.find(">iteration<") != std::string::npos);
  CHECK(count_of(svg, "<polyline") == 2);
  CHECK(count_of(svg, "<text") == count_of(svg, "</text>"));

  auto const p = polyline_points(svg, 0);
  REQUIRE(p.size() == 25);
  for (std::size_t k = 1; k < p.size(); ++k) {
    CHECK(p[k].first > p[k - 1].first);    // x grows to the right
    CHECK(p[k].second < p[k - 1].second);  // PSNR grows, so the line goes up
  }
  auto const q = polyline_points(svg, 1);
  REQUIRE(q.size() == 25);
  // Log axis: equal ratios are equal distances. obj - 0.5 is geometric, so check the ratio of
  // steps between points whose values are known: y(v) is linear in log10 v.
  double const y0 = q[0].second, y10 = q[10].second, y20 = q[20].second;
  double const l0 = std::log10(obj[0]), l10 = std::log10(obj[10]), l20 = std::log10(obj[20]);
  CHECK((y10 - y0) / (l10 - l0) == doctest::Approx((y20 - y10) / (l20 - l10)).epsilon(1e-2));
  // Decade tick labels on the log axis.
  CHECK(svg.find(">1000<") != std::string::npos);
  CHECK(svg.find(">0.1<") != std::string::npos);

  TempDir dir("svg");
  plot.write(dir / "convergence.svg");
  CHECK(file_text(dir / "convergence.svg") == svg);
  CHECK(dir.count() == 1);
  CHECK_THROWS_AS(plot.write(dir / "no" / "c.svg"), Error);
  CHECK_THROWS_AS(plot.add_series("bad", {1, 2}, {1}), Error);
}

TEST_CASE("svg_plot: non-finite points split the line; round ticks") {
  double const nan = std::numeric_limits<double>::quiet_NaN();
  pnp::SvgPlot plot;
  plot.add_series("gap", {0, 1, 2, 3, 4, 5, 6}, {1, 2, nan, 4, 5, 6, 7});
  std::string const svg = plot.to_svg();
  CHECK(count_of(svg, "<polyline") == 2);
  CHECK(polyline_points(svg, 0).size() == 2);
  CHECK(polyline_points(svg, 1).size() == 4);

  auto const a = pnp::detail::make_scale(0.3, 9.7, false, 6);  // step 2: 0, 2, ..., 10
  REQUIRE(a.ticks.size() == 6);
  CHECK(a.ticks.front() == 0);
  CHECK(a.ticks.back() == 10);
  CHECK(a.labels[1] == "2");
  auto const b = pnp::detail::make_scale(20.0, 30.5, false, 6);  // step 2: 20 .. 32
  CHECK(b.ticks.front() == 20);
  CHECK(b.ticks.back() == 32);
  CHECK(b.ticks.size() == 7);
  auto const c = pnp::detail::make_scale(0.0012, 0.0047, false, 6);  // step 0.0005
  CHECK(c.labels.front() == "0.001");
  CHECK(c.labels.back() == "0.005");
  auto const d = pnp::detail::make_scale(2e-5, 300, true);  // decades 1e-5 .. 1000
  CHECK(d.ticks.front() == doctest::Approx(1e-5));
  CHECK(d.labels.front() == "1e-5");
  CHECK(d.ticks.back() == doctest::Approx(1000));
  auto const e = pnp::detail::make_scale(5, 5, false);  // one value: widened
  CHECK(e.lo < 5);
  CHECK(e.hi > 5);
}

TEST_CASE("json: escaping, null for non-finite numbers, arrays, atomic write") {
  pnp::JsonWriter j;
  j.add("name", "a\"b\\c\nd\te\x01")
      .add("psnr", 31.25)
      .add("tenth", 0.1)
      .add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("inf", -std::numeric_limits<double>::infinity())
      .add("ranks", 4)
      .add("big", std::int64_t(1) << 40)
      .add("fused", true)
      .add("curve", std::vector<double>{1, 0.5, std::nan(""), 1e-300})
      .add("empty", std::vector<double>{})
      .add("backend", std::string("threads"));
  std::string const s = j.str();
  CHECK(s ==
        "{\n"
        "  \"name\": \"a\\\"b\\\\c\\nd\\te\\u0001\",\n"
        "  \"psnr\": 31.25,\n"
        "  \"tenth\": 0.1,\n"
        "  \"nan\": null,\n"
        "  \"inf\": null,\n"
        "  \"ranks\": 4,\n"
        "  \"big\": 1099511627776,\n"
        "  \"fused\": true,\n"
        "  \"curve\": [1, 0.5, null, 1e-300],\n"
        "  \"empty\": [],\n"
        "  \"backend\": \"threads\"\n"
        "}\n");
  CHECK(pnp::json_number(1.0 / 3.0) == "0.3333333333333333");  // shortest round trip
  CHECK(std::stod(pnp::json_number(1.0 / 3.0)) == 1.0 / 3.0);
  CHECK(pnp::JsonWriter().str() == "{}\n");
  CHECK_THROWS_WITH_AS(j.add("psnr", 1.0), "distinv: JsonWriter::add: expected a new key, got 'psnr' twice", Error);

  TempDir dir("json");
  j.write(dir / "metrics.json");
  CHECK(file_text(dir / "metrics.json") == s);
  CHECK_THROWS_AS(j.write(dir / "missing" / "m.json"), Error);
  CHECK(dir.count() == 1);
}

// --- configuration (config.hpp): command line, TOML file, ranges, agreement between ranks ---

namespace {

/// parse() over a command line given as words (argv[0] added).
pnp::Config parse_words(std::vector<std::string> words) {
  words.insert(words.begin(), "distinv-pnp");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return pnp::parse(int(argv.size()), argv.data());
}

/// parse() of `--config <file>` with the file holding `text`, plus `more` words.
pnp::Config parse_toml(TempDir const& dir, std::string const& text, std::vector<std::string> more = {}) {
  auto const file = dir / "options.toml";
  std::ofstream(file) << text;
  more.insert(more.begin(), {"--config", file.string()});
  return parse_words(more);
}

std::string error_of(std::function<void()> const& f) {
  try {
    f();
  } catch (std::exception const& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config: TOML integers are range-checked before narrowing") {
  TempDir dir("pnp_toml_int");
  CHECK(parse_toml(dir, "operators = 5\nthreads = 3\nseed = 7\n").operators == 5);
  // 4294967297 = 2^32 + 1 would narrow to 1 operator, 4294967298 to 2 threads.
  CHECK(error_of([&] { parse_toml(dir, "operators = 4294967297\n"); }).find(
            "key 'operators': expected an integer in [1, 1048576], got 4294967297") != std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "threads = 4294967298\n"); }).find("key 'threads': expected an integer in") !=
        std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "operators = 99999999999\n"); }).find("got 99999999999") != std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "seed = -1\n"); }).find("key 'seed'") != std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "size = 9223372036854775807\n"); }).find("key 'size'") != std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "operators = 2.5\n"); }).find("wrong type (expected an integer)") !=
        std::string::npos);
  // The command line too: out of range, and out of the field's type (CLI11's own check).
  CHECK(error_of([] { parse_words({"--operators", "0"}); }).find("--operators: expected an integer in") !=
        std::string::npos);
  CHECK_THROWS_AS(parse_words({"--operators", "4294967297"}), CLI::ParseError);
}

TEST_CASE("config: unknown keys, sections and arrays are refused with the known keys") {
  TempDir dir("pnp_toml_keys");
  std::string const unknown = error_of([&] { parse_toml(dir, "iteration = 5\n"); });
  CHECK(unknown.find("unknown key 'iteration'") != std::string::npos);
  CHECK(unknown.find("known keys: image, size, operators, noise, iterations,") != std::string::npos);
  CHECK(unknown.find("memory-limit") != std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "[solver]\niterations = 5\n"); }).find("unknown key 'solver' (a section)") !=
        std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "[iterations]\nn = 5\n"); }).find("key 'iterations' is a table") !=
        std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "sigma = [0.1, 0.2]\n"); }).find("key 'sigma' is a array") !=
        std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "sigma = \"big\"\n"); }).find("wrong type (expected a number)") !=
        std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "sigma = \n"); }).find("--config '") != std::string::npos);  // syntax
}

TEST_CASE("config: both spellings of a key are taken, not both at once; the command line wins") {
  TempDir dir("pnp_toml_spell");
  auto const a = parse_toml(dir, "patch-size = 64\nstep_scale = 1.5\ninit-iterations = 3\nmemory_limit = \"2G\"\n");
  CHECK(a.patch_size == 64);
  CHECK(a.step_scale == 1.5);
  CHECK(a.init_iterations == 3);
  CHECK(a.memory_limit == "2G");
  auto const b = parse_toml(dir, "patch_size = 32\nreceptive-field = 4\n");
  CHECK(b.patch_size == 32);
  CHECK(b.receptive_field == 4);
  CHECK(error_of([&] { parse_toml(dir, "patch-size = 64\npatch_size = 32\n"); })
            .find("option 'patch-size' given twice (as 'patch-size' and 'patch_size')") != std::string::npos);
  CHECK(parse_toml(dir, "patch-size = 64\n", {"--patch-size", "16"}).patch_size == 16);
}

TEST_CASE("config: every option is honoured from the file (quiet, overlap, seed, ...)") {
  TempDir dir("pnp_toml_all");
  auto const c = parse_toml(dir,
                            "image = \"x.png\"\nsize = 0\noperators = 2\nnoise = 0.05\niterations = 3\n"
                            "algorithm = \"fista\"\ndenoiser = \"wavelet\"\ninit = \"backprojection\"\n"
                            "init_iterations = 4\nsigma = 0.01\nstep = 0.5\nstep-scale = 1.2\ntol = 1e-4\n"
                            "patch_size = 40\nreceptive_field = 8\nstrategy = \"basic\"\noverlap = true\n"
                            "backend = \"threads\"\nthreads = 2\noutput = \"o\"\nseed = 12345\nquiet = true\n"
                            "memory-limit = \"1.5G\"\nlayout = \"sharded\"\n");
  CHECK(c.image == "x.png");
  CHECK(c.size == 0);
  CHECK(c.operators == 2);
  CHECK(c.noise == 0.05);
  CHECK(c.iterations == 3);
  CHECK(c.algorithm == "fista");
  CHECK(c.denoiser == "wavelet");
  CHECK(c.init == "backprojection");
  CHECK(c.init_iterations == 4);
  CHECK(c.sigma == 0.01);
  CHECK(c.step == 0.5);
  CHECK(c.step_scale == 1.2);
  CHECK(c.tol == 1e-4);
  CHECK(c.patch_size == 40);
  CHECK(c.receptive_field == 8);
  CHECK(c.strategy == "basic");
  CHECK(c.overlap);
  CHECK(c.backend == "threads");
  CHECK(c.threads == 2);
  CHECK(c.output == "o");
  CHECK(c.seed == 12345);
  CHECK(c.quiet);
  CHECK(c.memory_limit == "1.5G");
  CHECK(c.layout == "sharded");
}

TEST_CASE("config: non-finite and out-of-range numbers are refused, from the command line and the file") {
  TempDir dir("pnp_toml_inf");
  for (char const* opt : {"--sigma", "--step", "--step-scale", "--noise", "--tol"})
    for (char const* v : {"inf", "-inf", "nan"})
      CHECK(error_of([&] { parse_words({opt, v}); }).find(std::string(opt) + ": expected a finite number") !=
            std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "sigma = inf\n"); }).find("--sigma: expected a finite number >= 0") !=
        std::string::npos);
  CHECK(error_of([&] { parse_toml(dir, "step-scale = -1\n"); }).find("--step-scale: expected a finite number >= 0") !=
        std::string::npos);
  // FISTA diverges for a step above 1/||A||^2: refused; its default (0) is 1, PGD's 1.8
  CHECK(error_of([&] { parse_words({"--algorithm", "fista", "--step-scale", "1.8"}); })
            .find("--step-scale: FISTA converges for a step of at most 1/||A||^2") != std::string::npos);
  CHECK(pnp::step_scale_of(parse_words({"--algorithm", "fista"})) == 1.0);
  CHECK(pnp::step_scale_of(parse_words({"--algorithm", "pgd"})) == 1.8);
  CHECK(pnp::step_scale_of(parse_words({"--algorithm", "fista", "--step-scale", "0.5"})) == 0.5);
  CHECK(error_of([&] { parse_words({"--noise", "-0.1"}); }).find("--noise: expected a finite number >= 0") !=
        std::string::npos);
  CHECK(error_of([] { parse_words({"--size", "4294967296"}); }).find("--size: expected an integer in [0, 1048576]") !=
        std::string::npos);
  CHECK(error_of([] { parse_words({"--size", "8"}); }).find("at least 16 for the built-in image") != std::string::npos);
  CHECK(parse_words({"--size", "0", "--image", "x.png"}).size == 0);
}

TEST_CASE("config: a folder, or a missing file, given as --config") {
  TempDir dir("pnp_toml_dir");
  CHECK(error_of([&] { parse_words({"--config", dir.path().string()}); }).find("not a regular file") !=
        std::string::npos);
  CHECK(error_of([&] { parse_words({"--config", (dir / "missing.toml").string()}); }).find("no such file") !=
        std::string::npos);
}

TEST_CASE("config: ranks that disagree throw the same Error on every rank, naming the options") {
  pnp::Config const base;
  for (int differing : {0, 1}) {
    std::atomic<int> errors = 0;
    std::vector<std::string> messages(3);
    launch<comm::Threads>(3, [&](auto& ctx) {
      pnp::Config c = base;
      if (ctx.rank() == 2 && differing) c.patch_size = 64, c.seed = 9;
      c.output = "rank" + std::to_string(ctx.rank());  // may differ: only rank 0 writes
      c.quiet = ctx.rank() > 0;
      try {
        pnp::check_same_on_every_rank(ctx, pnp::fingerprint(c));
      } catch (Error const& e) {
        ++errors;
        messages[std::size_t(ctx.rank())] = e.what();
      }
    });
    if (!differing) {
      CHECK(errors == 0);
      continue;
    }
    CHECK(errors == 3);
    for (auto const& m : messages)
      CHECK(m == "distinv: the ranks were started with different settings (--patch-size, --seed): give every rank "
                 "the same options and image");
  }
}

// --- memory budget (budget.hpp) ---

TEST_CASE("budget: --memory-limit sizes, the available memory, the estimate") {
  CHECK(!pnp::parse_memory_limit("auto"));
  CHECK(*pnp::parse_memory_limit("123") == 123);
  CHECK(*pnp::parse_memory_limit("64K") == 64 * 1024);
  CHECK(*pnp::parse_memory_limit("1.5G") == std::uint64_t(1.5 * 1024 * 1024 * 1024));
  CHECK(*pnp::parse_memory_limit("2 TB") == std::uint64_t(2) << 40);
  for (char const* bad : {"", "0", "-1G", "12Q", "G", "1e400", "nan", "1G extra", "99999999T"})
    CHECK_THROWS_AS(pnp::parse_memory_limit(bad), Error);
  CHECK(pnp::available_memory() > (std::uint64_t(16) << 20));
  pnp::Config c;
  auto const e1 = pnp::estimate_memory(c, {1, 3, 512, 512}, 1, 1, 50);
  auto const e4 = pnp::estimate_memory(c, {1, 3, 512, 512}, 4, 4, 50);
  CHECK(e4.total > e1.total);  // four ranks in one process hold more than one
  c.operators = 24;
  CHECK(pnp::estimate_memory(c, {1, 3, 512, 512}, 1, 1, 50).total > e1.total + 20 * 3 * 512 * 512 * 4);
  c.operators = 3;
  c.patch_size = 1;  // every pixel a tile with a 50-pixel halo: 32 GB of windows, a batch at a time
  auto const pixels = pnp::estimate_memory(c, {1, 3, 512, 512}, 1, 1, 50).total;
  CHECK(pixels > e1.total);
  CHECK(pixels <= e1.total + 2 * distinv::tiling::default_batch_bytes);
  CHECK_NOTHROW(pnp::check_budget(e1, e1.total));
  CHECK_THROWS_WITH_AS(pnp::check_budget(e1, e1.total - 1), doctest::Contains("more than the limit of"), Error);
  // Sides and operators at the top of their range: the estimate saturates rather than wraps round.
  c.operators = 1 << 20;
  auto const huge = pnp::estimate_memory(c, {1, 3, pnp::max_side, pnp::max_side}, 4096, 4096, pnp::max_side);
  CHECK(huge.total == ~std::uint64_t(0));
  CHECK_THROWS_WITH_AS(pnp::check_budget(huge, std::uint64_t(1) << 50), doctest::Contains("more than 2^64 bytes"),
                       Error);
}

TEST_CASE("budget: the sharded layout's estimate falls with the ranks; auto picks it when the replicated one is too big") {
  pnp::Config c;
  c.size = 4096;
  distinv::Shape<4> const s{1, 3, 4096, 4096};
  std::uint64_t const image = 3ull * 4096 * 4096 * 4;
  auto const one = pnp::estimate_sharded_memory(c, s, 1, 1, 49);
  auto const four = pnp::estimate_sharded_memory(c, s, 4, 1, 49);  // one rank of four in this process
  CHECK(four.total < one.total);
  // the slabs' copies and measurements shrink as 1/P
  CHECK(one.total - four.total > (pnp::sharded_solver_copies(c) + std::uint64_t(c.operators)) * image * 3 / 4);
  c.algorithm = "hqs";  // CG's vectors: more copies than pgd's
  CHECK(pnp::estimate_sharded_memory(c, s, 4, 1, 49).total > four.total);
  c.algorithm = "pgd";
  CHECK(pnp::estimate_sharded_memory(c, s, 4, 4, 49).total > four.total);  // 4 thread ranks in one process
  CHECK(four.parts.find("sharded layout") != std::string::npos);
  c.layout = "replicated";
  CHECK_FALSE(pnp::sharded_layout(c, s, 4, 1, 49, 1));
  c.layout = "sharded";
  CHECK(pnp::sharded_layout(c, s, 4, 1, 49, ~std::uint64_t(0)));
  c.layout = "auto";
  auto const replicated = pnp::estimate_memory(c, s, 4, 1, 49).total;
  CHECK(pnp::sharded_layout(c, s, 4, 1, 49, replicated - 1));
  CHECK_FALSE(pnp::sharded_layout(c, s, 4, 1, 49, replicated));
  CHECK(pnp::estimate_memory_of(true, c, s, 4, 1, 49).total == four.total);
  c.patch_size = 1;  // saturates rather than wraps round
  c.operators = 1 << 24;
  CHECK(pnp::estimate_sharded_memory(c, {1, 3, pnp::max_side, pnp::max_side}, 4096, 4096, pnp::max_side).total ==
        ~std::uint64_t(0));
}

// --- the output folder (outputs.hpp) ---

TEST_CASE("outputs: the folder is claimed before the run and filled all at once at its end") {
  namespace fs = std::filesystem;
  TempDir dir("pnp_out");
  std::vector<std::string> const names{"a.txt", "b.txt"};
  auto const target = dir / "run" / "out";
  {
    pnp::OutputFolder out(target, names);
    CHECK(fs::is_directory(target));
    // A second run into the same folder is refused while the first holds it.
    CHECK_THROWS_WITH_AS(pnp::OutputFolder(target, names), doctest::Contains("is in use by another distinv-pnp run"),
                         Error);
    io::write_file_atomic(out.file("a.txt"), "new a");
    io::write_file_atomic(out.file("b.txt"), "new b");
    CHECK(!fs::exists(target / "a.txt"));  // nothing in place before commit
    out.commit();
  }
  CHECK(file_text(target / "a.txt") == "new a");
  CHECK(file_text(target / "b.txt") == "new b");
  std::size_t entries = 0;
  for ([[maybe_unused]] auto const& e : fs::directory_iterator(target)) ++entries;
  CHECK(entries == 2);  // no lock, no staging folder left
  {  // A failed run (no commit): the older outputs stay as they were, nothing else is left.
    pnp::OutputFolder out(target, names);
    io::write_file_atomic(out.file("a.txt"), "half");
  }
  CHECK(file_text(target / "a.txt") == "new a");
  entries = 0;
  for ([[maybe_unused]] auto const& e : fs::directory_iterator(target)) ++entries;
  CHECK(entries == 2);
  {  // A failed run into a new folder removes the folders it made.
    pnp::OutputFolder out(dir / "fresh" / "deeper", names);
    CHECK(fs::is_directory(dir / "fresh" / "deeper"));
  }
  CHECK(!fs::exists(dir / "fresh"));
  // Obstacles: a file where the folder goes, a folder where an output goes.
  std::ofstream(dir / "file") << "x";
  CHECK_THROWS_WITH_AS(pnp::OutputFolder(dir / "file", names), doctest::Contains("cannot create the folder"), Error);
  CHECK_THROWS_WITH_AS(pnp::OutputFolder(dir / "file" / "sub", names), doctest::Contains("cannot create the folder"),
                       Error);
  fs::create_directories(dir / "blocked" / "b.txt");
  CHECK_THROWS_WITH_AS(pnp::OutputFolder(dir / "blocked", names),
                       doctest::Contains("cannot write 'b.txt' there: a folder of that name is in the way"), Error);
  CHECK(!fs::exists(dir / "blocked" / pnp::OutputFolder::lock_name));
  // A staging folder left by a killed run is cleared by the next one.
  fs::create_directories(target / (std::string(pnp::OutputFolder::staging_prefix) + "999999"));
  { pnp::OutputFolder out(target, names); }
  CHECK(!fs::exists(target / (std::string(pnp::OutputFolder::staging_prefix) + "999999")));
}

TEST_CASE("outputs: abandon_all (the SIGTERM watcher) leaves every open folder as it was") {
  namespace fs = std::filesystem;
  TempDir dir("pnp_abandon");
  std::vector<std::string> const names{"a.txt"};
  std::ofstream(dir / "earlier.txt") << "kept";
  CHECK(!pnp::OutputFolder::abandon_all());  // none open
  pnp::OutputFolder out(dir.path(), names);
  pnp::OutputFolder other(dir / "new" / "deeper", names);
  io::write_file_atomic(out.file("a.txt"), "half");
  CHECK(pnp::OutputFolder::abandon_all());
  std::vector<std::string> left;
  for (auto const& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"earlier.txt"});  // no staging folder, no lock, no new folders
  CHECK(!pnp::OutputFolder::abandon_all());               // released once; the destructors do nothing more
}

TEST_CASE("caption: the glyphs of a known string, drawn at scale 1 and 2, on the rows a block holds") {
  // "1.5" at scale 1: a margin of 1, then 5 x 7 glyphs one column apart.
  std::vector<std::string> const want{
      "..#.........#####",  //
      ".##.........#....",  //
      "..#.........####.",  //
      "..#.............#",  //
      "..#.............#",  //
      "..#....##...#...#",  //
      ".###...##....###.",
  };
  auto const size = io::caption_size("1.5", 1);
  CHECK(size == std::array<Index, 2>{6 * 3 - 1 + 2, 7 + 2});
  for (int scale : {1, 2}) {
    Index const H = 20, W = 40, x0 = 3, y0 = 2;
    Tensor4<float> img(1, 3, H, W);
    img.setConstant(0.5f);
    io::draw_caption(img.data(), 3, H * W, 0, H, W, y0, x0, W, "1.5", scale);
    auto const box = io::caption_size("1.5", scale);
    for (Index y = 0; y < H; ++y)
      for (Index x = 0; x < W; ++x) {
        bool const inside = y >= y0 && y < y0 + box[1] && x >= x0 && x < x0 + box[0];
        Index const gy = (y - y0) / scale - 1, gx = (x - x0) / scale - 1;
        bool const ink = inside && gy >= 0 && gy < 7 && gx >= 0 && gx < 17 && want[gy][gx] == '#';
        float const expected = !inside ? 0.5f : ink ? 0.0f : 1.0f;
        for (Index c = 0; c < 3; ++c) REQUIRE(img(0, c, y, x) == expected);
      }
    // The same caption drawn by two blocks of rows (the slabs of two ranks) is the same picture.
    Tensor4<float> top(1, 3, 7, W), bottom(1, 3, H - 7, W);
    top.setConstant(0.5f);
    bottom.setConstant(0.5f);
    io::draw_caption(top.data(), 3, 7 * W, 0, 7, W, y0, x0, W, "1.5", scale);
    io::draw_caption(bottom.data(), 3, (H - 7) * W, 7, H - 7, W, y0, x0, W, "1.5", scale);
    for (Index c = 0; c < 3; ++c)
      for (Index y = 0; y < H; ++y)
        for (Index x = 0; x < W; ++x) REQUIRE((y < 7 ? top(0, c, y, x) : bottom(0, c, y - 7, x)) == img(0, c, y, x));
  }
  // Every character of the montage's captions has a glyph of its own (none falls back to '?').
  for (char ch : std::string("cleanmsurtoi0123456789.:dB "))
    CHECK(io::caption_glyph(ch) != io::caption_glyph('!'));
  // Two lines: the second 8 rows below the first; a box as wide as the longer line.
  CHECK(io::caption_size("ab\nc", 1) == std::array<Index, 2>{6 * 2 - 1 + 2, 8 * 2 + 1});
  CHECK(io::caption_ink("ab\nc", 1, 1 + 8 + 2, 1 + 1));  // 'c', row 2, column 1
}

TEST_CASE("caption: captioned_montage labels each panel at its top left, cut at the panel's width") {
  Tensor4<float> a(1, 3, 40, 30), b(1, 1, 40, 30);
  a.setConstant(0.25f);
  b.setConstant(0.75f);
  int const pad = 4;
  auto const plain = io::montage<float>({a, b}, pad);
  auto const labelled = io::captioned_montage<float>({a, b}, {"clean", "measurement 1\n17.84 dB"}, pad);
  REQUIRE(shape_of(labelled) == shape_of(plain));
  // The label band: panel k's top rows hold black ink and white box pixels, unlike the panel.
  for (Index k = 0; k < 2; ++k) {
    Index const x0 = pad + k * (30 + pad);
    Index ink = 0, white = 0;
    for (Index y = pad; y < pad + 9; ++y)
      for (Index x = x0; x < x0 + 30; ++x) {
        ink += labelled(0, 0, y, x) == 0.0f;
        white += labelled(0, 0, y, x) == 1.0f;
      }
    CHECK(ink > 20);
    CHECK(white > 20);
    // Pixel by pixel what caption_ink says, in the box; the montage elsewhere.
    std::string const text = k == 0 ? "clean" : "measurement 1\n17.84 dB";
    auto const box = io::caption_size(text, 1);
    for (Index y = 0; y < labelled.dimension(2); ++y)
      for (Index x = x0; x < x0 + 30; ++x) {
        bool const inside = y >= pad && y < pad + box[1] && x < x0 + box[0];
        float const expected = inside ? (io::caption_ink(text, 1, y - pad, x - x0) ? 0.0f : 1.0f) : plain(0, 1, y, x);
        REQUIRE(labelled(0, 1, y, x) == expected);
      }
  }
  // Nothing drawn outside the panels (the white padding between and after them).
  for (Index y = 0; y < labelled.dimension(2); ++y) CHECK(labelled(0, 2, y, pad + 30) == 1.0f);
  CHECK_THROWS_WITH_AS(io::captioned_montage<float>({a, b}, {"one"}), doctest::Contains("one caption per image"), Error);
  CHECK(io::caption_scale(128) == 1);
  CHECK(io::caption_scale(512) == 2);
  CHECK(io::caption_scale(12288) == 48);
}

TEST_CASE("progress: the line's share, bar and time left; nothing for a short step; plain lines in a log") {
  CHECK(pnp::Progress::line("prior (tiles)", 6, 24, 3.0) ==
        "  prior (tiles): [######..................]  25% (6/24), 3.0 s, about 9.0 s left");
  CHECK(pnp::Progress::line("start (CG)", 15, 15, 7.3) == "  start (CG): [########################] 100% (15/15), 7.3 s");
  TempDir dir("pnp_progress");
  auto const log = dir / "log.txt";
  {
    std::FILE* f = std::fopen(log.string().c_str(), "w");
    REQUIRE(f != nullptr);
    pnp::Progress quick(true, /*terminal=*/false, /*after=*/3600, /*every=*/1, f);
    for (int i = 1; i <= 4; ++i) quick.update("prior", i, 4);  // over before it shows
    pnp::Progress now(true, /*terminal=*/false, /*after=*/0, /*every=*/3600, f);
    for (int i = 1; i <= 4; ++i) now.update("start", i, 4);  // the first line, then the end
    pnp::Progress off(false, false, 0, 0, f);
    off.update("prior", 1, 2);
    std::fclose(f);
  }
  std::string const text = file_text(log);
  CHECK(count_of(text, "\n") == 2);
  CHECK(text.rfind("  start: [######..................]  25% (1/4), ", 0) == 0);
  CHECK(count_of(text, "s left\n  start: [########################] 100% (4/4), ") == 1);
}

TEST_CASE("config: --sigma 0 follows from --noise and the step (auto_sigma); a given --sigma is kept") {
  pnp::Config cfg;
  CHECK(cfg.sigma == 0);
  CHECK(cfg.tol > 0);  // the default run stops when it has converged, --iterations at most
  cfg.noise = 0.03;
  CHECK(pnp::auto_sigma(cfg, 0.6) == doctest::Approx(7.5 * 0.6 * 0.03 * 0.03));
  CHECK(pnp::auto_sigma(cfg, 0.3) == doctest::Approx(pnp::auto_sigma(cfg, 0.6) / 2));  // with the step
  cfg.noise = 0.06;
  CHECK(pnp::auto_sigma(cfg, 0.6) == doctest::Approx(4 * 7.5 * 0.6 * 0.03 * 0.03));  // with the noise squared
  cfg.denoiser = "torch";  // a noise level: noise * sqrt(step)
  CHECK(pnp::auto_sigma(cfg, 0.25) == doctest::Approx(0.03));
  cfg.sigma = 0.01;
  CHECK(pnp::auto_sigma(cfg, 0.6) == 0.01);
}

TEST_CASE("progress hooks: the tiled priors report each batch of a rank's tiles; CG each iteration") {
  Tensor4<float> x(1, 3, 40, 36);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float((i * 37) % 101) / 101.0f;
  optim::TVPrior<float> const tv{.weight = 0.5, .max_iter = 4};
  tiling::TilingOptions opts;
  opts.patch_size = {12};
  opts.receptive_field_size = {4};
  using Calls = std::vector<std::pair<Index, Index>>;
  // Each call: (done, total) with done rising by 1 or 2 (batches of at most 2 tiles) to total.
  auto well_formed = [](Calls const& c) {
    bool ok = !c.empty() && c.back().first == c.back().second;
    for (std::size_t k = 0; k < c.size(); ++k) {
      Index const step = c[k].first - (k ? c[k - 1].first : 0);
      ok = ok && step >= 1 && step <= 2 && c[k].second == c.back().second;
    }
    return ok;
  };
  std::vector<Calls> calls(2);
  std::vector<double> diff(2, -1);
  launch<comm::Threads>(2, [&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    DistributedPrior<Ctx, optim::TVPrior<float>> prior(ctx, tv, opts, tiling::BatchLimit(2));
    auto const quiet = prior.prox(x, 0.1);
    auto& mine = calls[std::size_t(ctx.rank())];
    prior.set_progress([&mine](Index done, Index total) { mine.emplace_back(done, total); });
    auto const reported = prior.prox(x, 0.1);
    float d = 0;
    for (Index i = 0; i < x.size(); ++i) d = std::max(d, std::abs(reported.data()[i] - quiet.data()[i]));
    diff[std::size_t(ctx.rank())] = d;
  });
  for (int r = 0; r < 2; ++r) {
    CHECK(well_formed(calls[std::size_t(r)]));
    CHECK(diff[std::size_t(r)] == 0);  // the callback changes nothing
  }
  CHECK(calls[0].back().second + calls[1].back().second == 4 * 3);  // every tile, once
  Calls slab_calls;
  launch<comm::SingleProcess>([&](auto& ctx) {
    using Ctx = std::remove_reference_t<decltype(ctx)>;
    layout::SlabPrior<Ctx, optim::TVPrior<float>> prior(ctx, tv, opts, tiling::BatchLimit(2));
    prior.set_progress([&](Index done, Index total) { slab_calls.emplace_back(done, total); });
    auto const xs = layout::SlabTensor<float, 4, typename Ctx::comm_type>::scatter(ctx.comm(), x,
                                                                               layout::RowPartition::balanced(40, 1));
    (void)prior.prox(xs, 0.1);
  });
  CHECK(well_formed(slab_calls));
  CHECK(slab_calls.back().second == 4 * 3);
  // CG: one call per iteration, (iterations done, relative residual), as the result says.
  std::vector<std::pair<int, double>> cg_calls;
  Tensor4<double> b(1, 1, 4, 4), x0(1, 1, 4, 4);
  for (Index i = 0; i < 16; ++i) b.data()[i] = double(i % 5) + 1;
  x0.setZero();
  auto const apply = [](Tensor4<double> const& v) {  // diag(1, 2, ..., 16): SPD
    Tensor4<double> out = v;
    for (Index i = 0; i < 16; ++i) out.data()[i] *= double(i + 1);
    return out;
  };
  auto const res = linalg::conjugate_gradient(apply, b, x0,
                                              {.max_iter = 6, .tol = 0, .callback = [&](int it, double r) {
                                                 cg_calls.emplace_back(it, r);
                                               }});
  REQUIRE(cg_calls.size() == std::size_t(res.iterations));
  for (std::size_t k = 0; k < cg_calls.size(); ++k) CHECK(cg_calls[k].first == int(k) + 1);
  CHECK(cg_calls.back().second == res.residual);
}
