#pragma once
// examples/distinv-pnp/config.hpp: the options of distinv-pnp — the command line (CLI11) and
// an optional TOML file (toml++) whose keys are the long option names (command line wins) —
// parsed and checked at the edge, before any rank starts. Every option is listed once, in
// `visit_options`, with its range or its choices; the command line, the TOML reader, the checks
// and the fingerprint the ranks compare (`fingerprint`, `check_same_on_every_rank`) all walk
// that list. Bad input throws distinv::Error (or CLI::ParseError) with one line.
#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/options.hpp"
#include "distinv/tiling/with_strategy.hpp"

namespace pnp {

struct Config {
  std::string image;                 // empty: built-in test image
  distinv::Index size = 512;         // side of the built-in image, or longest side a larger photo is shrunk to (0: keep)
  int operators = 3;
  double noise = 0.03;
  int iterations = 100;               // at most; the run stops earlier at --tol
  std::string algorithm = "pgd";     // pgd | fista | hqs
  std::string denoiser = "tv";       // tv | wavelet | torch
  std::string model;                 // --denoiser torch: TorchScript file (examples/export_denoiser.py)
  std::string model_sigma_arg;       // how the model takes sigma: tensor | float | none ("": the file's metadata)
  std::string init = "pinv";         // pinv (a few distributed CG iterations on AᵀA x = Aᵀy) | backprojection
  int init_iterations = 15;
  double sigma = 0;                  // denoiser strength (0: from --noise and the step, auto_sigma)
  double step = 0;                   // 0: step_scale/||A||^2
  double step_scale = 0;             // 0: 1.8 for pgd and hqs, 1 for fista (step_scale_of)
  double tol = 5e-4;                 // relative change that ends the run (0: run --iterations)
  distinv::Index patch_size = distinv::tiling::auto_patch;  // auto: the cost model's (tiling/patch_size.hpp)
  distinv::Index receptive_field = -1;
  std::string strategy = "overlap_tiling";
  bool overlap = false;
  std::string layout = "replicated";  // replicated | sharded (each rank its rows) | auto
  std::string backend = "auto";      // auto | single | threads | mpi
  int threads = 0;
  std::string output = "distinv-pnp-out";
  std::uint64_t seed = 0;
  bool quiet = false;
  std::string memory_limit = "auto";  // auto: the available memory; or bytes with K, M, G, T
};

/// Whether every rank must be given the same value (compared at start-up), or the value may
/// differ between ranks: a path (the image's content is compared instead), the output folder
/// (only rank 0 writes), the progress lines, the memory budget of each machine.
enum class Agree { yes, no };

inline constexpr distinv::Index max_side = distinv::Index(1) << 20;  // sides and tile sizes
inline constexpr double inf = std::numeric_limits<double>::infinity();

/// Every option once: `v.text / v.choice / v.integer / v.real / v.flag (name, field, ..., help)`.
/// `name` is the long option without "--"; integer and real ranges are inclusive, except that
/// `positive` reals exclude 0; every real must be finite.
template <class Visitor>
void visit_options(Config& c, Visitor&& v) {
  v.text("image", c.image,
         "image to reconstruct: a PNG, or a .npy float32 array (1, C, H, W), C = 1 or 3, which the sharded layout "
         "reads by slabs (default: a generated test image)",
         Agree::no);
  v.integer("size", c.size, 0, max_side,
            "side of the built-in image (>= 16); a larger PNG --image is shrunk to this longest side (0: keep; "
            "a .npy is taken as it is)");
  v.integer("operators", c.operators, 1, 1 << 20, "number of Gaussian blurs");
  v.real("noise", c.noise, 0, inf, false, "standard deviation of the Gaussian noise");
  v.integer("iterations", c.iterations, 1, 10'000'000, "iterations at most (the run ends earlier at --tol)");
  v.choice("algorithm", c.algorithm, {"pgd", "fista", "hqs"}, "reconstruction algorithm");
  v.choice("denoiser", c.denoiser, {"tv", "wavelet", "torch"}, "denoiser of the prior (torch: a network, --model)");
  v.text("model", c.model, "--denoiser torch: the TorchScript file (examples/export_denoiser.py)");
  v.text("model-sigma-arg", c.model_sigma_arg,
         "how the model takes sigma: tensor | float | none (default: the file's metadata, else tensor)");
  v.choice("init", c.init, {"pinv", "backprojection"},
           "start: pinv (early-stopped distributed least squares) | backprojection");
  v.integer("init-iterations", c.init_iterations, 1, 100'000, "CG iterations of the pinv start");
  v.real("sigma", c.sigma, 0, inf, false,
         "denoiser strength (0: from --noise and the step: 7.5 * step * noise^2 for tv and wavelet, "
         "noise * sqrt(step) for torch)");
  v.real("step", c.step, 0, inf, false, "step size (0: step-scale/||A||^2)");
  v.real("step-scale", c.step_scale, 0, inf, false,
         "step as a multiple of 1/||A||^2 when --step is 0 (0: 1.8 for pgd and hqs, 1 for fista; < 2 for pgd, <= 1 "
         "for fista)");
  v.real("tol", c.tol, 0, inf, false, "stop when the relative change ||x_k+1 - x_k|| / ||x_k|| falls below (0: never)");
  v.integer("patch-size", c.patch_size, 0, max_side, "tile interior size (0, the default: the cost model's)");
  v.integer("receptive-field", c.receptive_field, -1, max_side, "tile halo (-1: the denoiser's receptive field)");
  v.choice("strategy", c.strategy, {"overlap_tiling", "smart_tiling", "basic"}, "tiling strategy");
  v.flag("overlap", c.overlap, "overlapping tiles blended with linear weights");
  v.choice("layout", c.layout, {"replicated", "sharded", "auto"},
           "replicated (every rank holds the image), sharded (each rank its rows of the image and of every "
           "measurement), auto (sharded when the replicated run would exceed the memory limit)");
  v.choice("backend", c.backend, {"auto", "single", "threads", "mpi"},
           "auto: mpi under mpiexec, threads with --threads, else single");
  v.integer("threads", c.threads, 0, 4096, "number of ranks as threads (0: not the threads backend)");
  v.text("output", c.output, "output folder", Agree::no);
  v.integer("seed", c.seed, 0, std::numeric_limits<std::int64_t>::max(), "seed of the noise");
  v.flag("quiet", c.quiet, "no progress lines", Agree::no);
  v.text("memory-limit", c.memory_limit,
         "refuse a run whose memory estimate exceeds this many bytes (suffix K, M, G or T; auto: the available "
         "memory)",
         Agree::no);
}

namespace detail {

inline std::string join(std::span<char const* const> names) {
  std::string list;
  for (auto n : names) list += std::string(list.empty() ? "" : ", ") + n;
  return list;
}

/// Registers every option with CLI11.
struct CliOptions {
  CLI::App& app;
  template <class F>
  void text(char const* name, F& field, char const* help, Agree = Agree::yes) {
    app.add_option(std::string("--") + name, field, help)->capture_default_str();
  }
  template <class F>
  void choice(char const* name, F& field, std::initializer_list<char const*> names, char const* help) {
    std::vector<char const*> const v(names);
    app.add_option(std::string("--") + name, field, std::string(help) + ": " + join(v))->capture_default_str();
  }
  template <class F>
  void integer(char const* name, F& field, std::int64_t, std::int64_t, char const* help) {
    app.add_option(std::string("--") + name, field, help)->capture_default_str();
  }
  void real(char const* name, double& field, double, double, bool, char const* help) {
    app.add_option(std::string("--") + name, field, help)->capture_default_str();
  }
  void flag(char const* name, bool& field, char const* help, Agree = Agree::yes) {
    app.add_flag(std::string("--") + name, field, help);
  }
};

/// Checks every option's range or choices (after the command line and the file).
struct CheckOptions {
  template <class F>
  void text(char const*, F&, char const*, Agree = Agree::yes) {}
  void choice(char const* name, std::string const& field, std::initializer_list<char const*> names, char const*) {
    for (auto n : names)
      if (field == n) return;
    std::vector<char const*> const v(names);
    distinv::fail("unknown --", name, " '", field, "': expected one of ", join(v));
  }
  template <class F>
  void integer(char const* name, F const& field, std::int64_t lo, std::int64_t hi, char const*) {
    DISTINV_REQUIRE(std::cmp_greater_equal(field, lo) && std::cmp_less_equal(field, hi), "--", name,
                    ": expected an integer in [", lo, ", ", hi, "], got ", field);
  }
  void real(char const* name, double field, double lo, double hi, bool positive, char const*) {
    DISTINV_REQUIRE(std::isfinite(field) && field >= lo && field <= hi && !(positive && field == lo), "--", name,
                    ": expected a finite number ", positive ? "> " : ">= ", lo,
                    hi < inf ? distinv::detail::cat(" and <= ", hi) : std::string(), ", got ", field);
  }
  void flag(char const*, bool, char const*, Agree = Agree::yes) {}
};

/// The TOML key spellings of an option: "patch-size" and "patch_size".
inline std::pair<std::string, std::string> spellings(char const* name) {
  std::string dash = name, under = name;
  for (auto& ch : under)
    if (ch == '-') ch = '_';
  return {dash, under};
}

/// Takes each option from a TOML table unless the command line gave it; collects the keys.
struct TomlOptions {
  toml::table const& table;
  std::string const& file;
  std::function<bool(std::string const&)> on_command_line;
  std::vector<std::string> known;  ///< every key spelling
  std::vector<std::string> names;  ///< every option, as on the command line

  /// The node of option `name` (under either spelling), or nullptr; both spellings: Error.
  toml::node const* node(char const* name) {
    auto const [dash, under] = spellings(name);
    names.push_back(dash);
    known.push_back(dash);
    if (under != dash) known.push_back(under);
    toml::node const* a = table.get(dash);
    toml::node const* b = under != dash ? table.get(under) : nullptr;
    DISTINV_REQUIRE(!(a && b), "--config '", file, "': option '", name, "' given twice (as '", dash, "' and '",
                    under, "')");
    toml::node const* n = a ? a : b;
    if (!n || on_command_line(name)) return nullptr;
    DISTINV_REQUIRE(!n->is_table() && !n->is_array(), "--config '", file, "': key '", name, "' is a ",
                    n->is_table() ? "table" : "array", "; expected a plain value (key = value, no [sections])");
    return n;
  }
  [[noreturn]] void wrong_type(char const* name, char const* expected) {
    distinv::fail("--config '", file, "': key '", name, "' has the wrong type (expected ", expected, ")");
  }
  void text(char const* name, std::string& field, char const*, Agree = Agree::yes) {
    auto n = node(name);
    if (!n) return;
    if (!n->is_string()) wrong_type(name, "a string");
    field = n->as_string()->get();
  }
  void choice(char const* name, std::string& field, std::initializer_list<char const*>, char const* help) {
    text(name, field, help);
  }
  template <class F>
  void integer(char const* name, F& field, std::int64_t lo, std::int64_t hi, char const*) {
    auto n = node(name);
    if (!n) return;
    if (!n->is_integer()) wrong_type(name, "an integer");
    std::int64_t const v = n->as_integer()->get();
    // The range is checked before narrowing to the field's type: no value wraps round.
    DISTINV_REQUIRE(v >= lo && v <= hi, "--config '", file, "': key '", name, "': expected an integer in [", lo,
                    ", ", hi, "], got ", v);
    field = F(v);
  }
  void real(char const* name, double& field, double, double, bool, char const*) {
    auto n = node(name);
    if (!n) return;
    if (!n->is_floating_point() && !n->is_integer()) wrong_type(name, "a number");
    field = *n->value<double>();
  }
  void flag(char const* name, bool& field, char const*, Agree = Agree::yes) {
    auto n = node(name);
    if (!n) return;
    if (!n->is_boolean()) wrong_type(name, "true or false");
    field = n->as_boolean()->get();
  }
};

/// FNV-1a of some bytes.
inline std::uint64_t fnv1a(void const* data, std::size_t n, std::uint64_t h = 14695981039346656037ULL) {
  auto const* p = static_cast<unsigned char const*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/// The hash of every option that every rank must share.
struct FingerprintOptions {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  void add(char const* name, void const* data, std::size_t n) { out.emplace_back(std::string("--") + name, fnv1a(data, n)); }
  void text(char const* name, std::string const& field, char const*, Agree agree = Agree::yes) {
    if (agree == Agree::yes) add(name, field.data(), field.size());
  }
  void choice(char const* name, std::string const& field, std::initializer_list<char const*>, char const* help) {
    text(name, field, help);
  }
  template <class F>
  void integer(char const* name, F const& field, std::int64_t, std::int64_t, char const*) {
    auto const v = static_cast<std::int64_t>(field);
    add(name, &v, sizeof v);
  }
  void real(char const* name, double field, double, double, bool, char const*) { add(name, &field, sizeof field); }
  void flag(char const* name, bool field, char const*, Agree agree = Agree::yes) {
    if (agree == Agree::yes) add(name, &field, sizeof field);
  }
};

}  // namespace detail

/// Applies the options of the TOML document `t` (from `file`) to `cfg`, except those for which
/// `on_command_line(name)` is true. Unknown keys, sections, arrays and wrong types are refused.
inline void apply_toml(Config& cfg, toml::table const& t, std::string const& file,
                       std::function<bool(std::string const&)> on_command_line) {
  detail::TomlOptions v{t, file, std::move(on_command_line), {}, {}};
  visit_options(cfg, v);
  for (auto const& [key, node] : t) {
    bool known = false;
    for (auto const& k : v.known) known = known || k == key.str();
    if (known) continue;
    std::string list;
    for (auto const& name : v.names) list += (list.empty() ? "" : ", ") + name;
    distinv::fail("--config '", file, "': unknown key '", key.str(), "'", node.is_table() ? " (a section)" : "",
                  "; known keys: ", list, " (spelt with '-' or '_')");
  }
}

/// Parses a TOML file (a regular file; not a folder) and applies it as apply_toml.
inline void apply_toml_file(Config& cfg, std::string const& file, std::function<bool(std::string const&)> on_command_line) {
  std::error_code ec;
  auto const st = std::filesystem::status(file, ec);
  DISTINV_REQUIRE(std::filesystem::exists(st), "--config '", file, "': no such file");
  DISTINV_REQUIRE(std::filesystem::is_regular_file(st), "--config '", file, "': not a regular file (a folder?)");
  toml::table t;
  try {
    t = toml::parse_file(file);
  } catch (toml::parse_error const& e) {
    distinv::fail("--config '", file, "': ", e.description(), " (line ", e.source().begin.line, ")");
  }
  apply_toml(cfg, t, file, std::move(on_command_line));
}

/// The checks across options and of each option's range (see visit_options).
inline void check(Config& cfg) {
  visit_options(cfg, detail::CheckOptions{});
  DISTINV_REQUIRE(!cfg.image.empty() || cfg.size >= 16, "--size: expected at least 16 for the built-in image, got ",
                  cfg.size);
  DISTINV_REQUIRE(cfg.denoiser != "torch" || !cfg.model.empty(), "--denoiser torch: expected --model FILE.pt, got none");
  DISTINV_REQUIRE(cfg.denoiser == "torch" || (cfg.model.empty() && cfg.model_sigma_arg.empty()),
                  "--model and --model-sigma-arg: expected with --denoiser torch only, got --denoiser ", cfg.denoiser);
  if (!cfg.model_sigma_arg.empty())
    detail::CheckOptions{}.choice("model-sigma-arg", cfg.model_sigma_arg, {"tensor", "float", "none"}, "");
  DISTINV_REQUIRE(cfg.algorithm != "fista" || cfg.step > 0 || cfg.step_scale <= 1,
                  "--step-scale: FISTA converges for a step of at most 1/||A||^2: expected at most 1 with "
                  "--algorithm fista, got ", cfg.step_scale);
}

/// The step as a multiple of 1/‖A‖² (--step-scale; 0: 1.8 for PGD and HQS, which converge for
/// γ < 2/‖A‖², and 1 for FISTA, which needs γ ≤ 1/‖A‖²).
inline double step_scale_of(Config const& cfg) {
  if (cfg.step_scale > 0) return cfg.step_scale;
  return cfg.algorithm == "fista" ? 1.0 : 1.8;
}

inline Config parse(int argc, char** argv) {
  Config cfg;
  CLI::App app{"distinv-pnp: distributed plug-and-play deblurring of a colour image (N Gaussian blurs + noise)"};
  std::string config_file;
  app.add_option("--config", config_file,
                 "TOML file of `key = value` lines, the keys any of the options below spelt with '-' or '_' "
                 "(the command line wins)");
  visit_options(cfg, detail::CliOptions{app});
  try {
    app.parse(argc, argv);
  } catch (CLI::CallForHelp const&) {
    std::printf("%s", app.help().c_str());
    std::exit(0);
  }
  if (!config_file.empty())
    apply_toml_file(cfg, config_file, [&](std::string const& name) { return app.get_option("--" + name)->count() > 0; });
  check(cfg);
  return cfg;
}

/// The TV and wavelet priors' strength per step and squared noise level (auto_sigma).
inline constexpr double sigma_per_step_noise2 = 7.5;

/// The denoiser strength of a run with --sigma 0, from the step γ and --noise. TV and wavelets:
/// PGD's prox of γλR, with λ ∝ noise² (the Gaussian likelihood ‖Ax − y‖² / (2 noise²) against a
/// fixed prior): σ = sigma_per_step_noise2 · γ · noise². A network (a Gaussian denoiser whose
/// σ is a noise level, σ² = γλ): σ = noise · √γ. --sigma > 0: that value.
inline double auto_sigma(Config const& cfg, double step) {
  if (cfg.sigma > 0) return cfg.sigma;
  return cfg.denoiser == "torch" ? cfg.noise * std::sqrt(step) : sigma_per_step_noise2 * step * cfg.noise * cfg.noise;
}

/// (what, hash) pairs the ranks compare.
using Fingerprint = std::vector<std::pair<std::string, std::uint64_t>>;

/// (option, hash) of every option the ranks must agree on.
inline Fingerprint fingerprint(Config const& cfg) {
  Config c = cfg;
  detail::FingerprintOptions v;
  visit_options(c, v);
  return std::move(v.out);
}

/// A fingerprint entry for data (the image's shape and pixels, say).
inline std::pair<std::string, std::uint64_t> fingerprint_of(std::string name, void const* data, std::size_t n) {
  return {std::move(name), detail::fnv1a(data, n)};
}

/// A fingerprint entry for the bytes of the file `path`, read a block at a time (memory O(1 MiB),
/// whatever its size). Throws Error for a missing or unreadable file.
inline std::pair<std::string, std::uint64_t> fingerprint_of_file(std::string name, std::string const& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  DISTINV_REQUIRE(f != nullptr, "cannot read '", path, "'");
  std::vector<unsigned char> block(std::size_t(1) << 20);
  std::uint64_t h = detail::fnv1a(nullptr, 0);
  std::size_t got = 0;
  while ((got = std::fread(block.data(), 1, block.size(), f)) > 0) h = detail::fnv1a(block.data(), got, h);
  bool const bad = std::ferror(f) != 0;
  std::fclose(f);
  DISTINV_REQUIRE(!bad, "cannot read '", path, "': read error");
  return {std::move(name), h};
}

/// Whether the --image is a .npy array (by its extension, in any case), read by slabs in the
/// sharded layout; otherwise a PNG.
inline bool npy_input(Config const& cfg) {
  std::string ext = std::filesystem::path(cfg.image).extension().string();
  for (char& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".npy";
}

/// Collective: every rank compares its fingerprint with every other's (one all-reduce of the
/// minimum and maximum of each hash) and, if any entry differs, throws on every rank the same
/// Error naming the entries that differ. Every rank must pass the same list of names.
template <class Ctx>
void check_same_on_every_rank(Ctx const& ctx, Fingerprint const& fp) {
  std::size_t const n = fp.size();
  // [hashes] [~hashes], max-reduced: ~ reverses the order, so max(~h) = ~min(h).
  std::vector<std::int64_t> range(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    range[i] = std::bit_cast<std::int64_t>(fp[i].second);
    range[n + i] = ~range[i];
  }
  ctx.all_reduce(std::span<std::int64_t>(range), distinv::ReduceOp::max);
  std::string differ;
  for (std::size_t i = 0; i < n; ++i)
    if (range[i] != ~range[n + i]) differ += (differ.empty() ? "" : ", ") + fp[i].first;
  DISTINV_REQUIRE(differ.empty(), "the ranks were started with different settings (", differ,
                  "): give every rank the same options and image");
}

}  // namespace pnp
