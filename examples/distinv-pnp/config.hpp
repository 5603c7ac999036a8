#pragma once
// examples/distinv-pnp/config.hpp: the options of distinv-pnp — the command line (CLI11) and
// an optional TOML file (toml++) whose keys are the long option names (command line wins) —
// parsed and checked at the edge, before any rank starts. Bad input throws distinv::Error (or
// CLI::ParseError) with one line saying what was expected and what was given.
#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/with_strategy.hpp"

namespace pnp {

struct Config {
  std::string image;                 // empty: built-in test image
  distinv::Index size = 512;         // side of the built-in image, or longest side a larger photo is shrunk to (0: keep)
  int operators = 3;
  double noise = 0.03;
  int iterations = 30;
  std::string algorithm = "pgd";     // pgd | fista | hqs
  std::string denoiser = "tv";       // tv | wavelet | torch
  std::string model;                 // --denoiser torch: TorchScript file (examples/export_denoiser.py)
  std::string model_sigma_arg;       // how the model takes sigma: tensor | float | none ("": the file's metadata)
  std::string init = "pinv";         // pinv (a few distributed CG iterations on AᵀA x = Aᵀy) | backprojection
  int init_iterations = 15;
  double sigma = 0.004;              // denoiser strength
  double step = 0;                   // 0: step_scale/||A||^2
  double step_scale = 1.8;
  double tol = 0;
  distinv::Index patch_size = 128;
  distinv::Index receptive_field = -1;
  std::string strategy = "overlap_tiling";
  bool overlap = false;
  std::string backend = "auto";      // auto | single | threads | mpi
  int threads = 0;
  std::string output = "distinv-pnp-out";
  std::uint64_t seed = 0;
  bool quiet = false;
};

inline Config parse(int argc, char** argv) {
  Config cfg;
  CLI::App app{"distinv-pnp: distributed plug-and-play deblurring of a colour image (N Gaussian blurs + noise)"};
  std::string config_file;
  app.add_option("--config", config_file, "TOML file with any of the options below (command line wins)");
  app.add_option("--image", cfg.image, "PNG image to reconstruct (default: a generated test image)");
  app.add_option("--size", cfg.size, "side of the built-in image; a larger --image is shrunk to this longest side (0: keep)")
      ->capture_default_str();
  app.add_option("--operators", cfg.operators, "number of Gaussian blurs")->capture_default_str();
  app.add_option("--noise", cfg.noise, "standard deviation of the Gaussian noise")->capture_default_str();
  app.add_option("--iterations", cfg.iterations, "number of iterations")->capture_default_str();
  app.add_option("--algorithm", cfg.algorithm, "pgd | fista | hqs")->capture_default_str();
  app.add_option("--denoiser", cfg.denoiser, "tv | wavelet | torch (a network, --model)")->capture_default_str();
  app.add_option("--model", cfg.model, "--denoiser torch: the TorchScript file (examples/export_denoiser.py)");
  app.add_option("--model-sigma-arg", cfg.model_sigma_arg,
                 "how the model takes sigma: tensor | float | none (default: the file's metadata, else tensor)");
  app.add_option("--init", cfg.init, "start: pinv (early-stopped distributed least squares) | backprojection")
      ->capture_default_str();
  app.add_option("--init-iterations", cfg.init_iterations, "CG iterations of the pinv start")->capture_default_str();
  app.add_option("--sigma", cfg.sigma, "denoiser strength")->capture_default_str();
  app.add_option("--step", cfg.step, "step size (0: step-scale/||A||^2)")->capture_default_str();
  app.add_option("--step-scale", cfg.step_scale, "step as a multiple of 1/||A||^2 when --step is 0 (< 2 for pgd)")
      ->capture_default_str();
  app.add_option("--tol", cfg.tol, "stop when the relative change falls below (0: never)")->capture_default_str();
  app.add_option("--patch-size", cfg.patch_size, "tile interior size")->capture_default_str();
  app.add_option("--receptive-field", cfg.receptive_field, "tile halo (-1: the denoiser's receptive field)")
      ->capture_default_str();
  app.add_option("--strategy", cfg.strategy, "tiling strategy: " + std::string(distinv::tiling::strategy_names))
      ->capture_default_str();
  app.add_flag("--overlap", cfg.overlap, "overlapping tiles blended with linear weights");
  app.add_option("--backend", cfg.backend, "auto | single | threads | mpi (auto: mpi under mpiexec, threads with --threads)")
      ->capture_default_str();
  app.add_option("--threads", cfg.threads, "number of ranks as threads (0: not the threads backend)")
      ->capture_default_str();
  app.add_option("--output", cfg.output, "output folder")->capture_default_str();
  app.add_option("--seed", cfg.seed, "seed of the noise")->capture_default_str();
  app.add_flag("--quiet", cfg.quiet, "no progress lines");
  try {
    app.parse(argc, argv);
  } catch (CLI::CallForHelp const&) {
    std::printf("%s", app.help().c_str());
    std::exit(0);
  }
  if (!config_file.empty()) {
    toml::table t;
    try {
      t = toml::parse_file(config_file);
    } catch (toml::parse_error const& e) {
      distinv::fail("--config '", config_file, "': ", e.description());
    }
    // A value from the file is taken unless the option was given on the command line.
    auto take = [&](char const* key, auto& field) {
      if (app.get_option(std::string("--") + key)->count() > 0) return;
      std::string k = key;
      for (auto& ch : k) if (ch == '-') ch = '_';
      if (auto node = t[k]; node) {
        using F = std::remove_reference_t<decltype(field)>;
        auto v = node.template value<std::conditional_t<std::is_integral_v<F> && !std::is_same_v<F, bool>, std::int64_t, F>>();
        DISTINV_REQUIRE(v.has_value(), "--config '", config_file, "': key '", k, "' has the wrong type");
        field = F(*v);
      }
    };
    take("image", cfg.image), take("size", cfg.size), take("operators", cfg.operators), take("noise", cfg.noise);
    take("iterations", cfg.iterations), take("algorithm", cfg.algorithm), take("denoiser", cfg.denoiser);
    take("init", cfg.init), take("init-iterations", cfg.init_iterations), take("sigma", cfg.sigma), take("step", cfg.step), take("step-scale", cfg.step_scale), take("tol", cfg.tol), take("patch-size", cfg.patch_size);
    take("receptive-field", cfg.receptive_field), take("strategy", cfg.strategy), take("overlap", cfg.overlap);
    take("backend", cfg.backend), take("threads", cfg.threads), take("output", cfg.output), take("seed", cfg.seed);
    take("model", cfg.model), take("model-sigma-arg", cfg.model_sigma_arg);
  }
  auto one_of = [](std::string const& v, std::initializer_list<char const*> names, char const* what) {
    std::string list;
    for (auto n : names) {
      if (v == n) return;
      list += std::string(list.empty() ? "" : ", ") + n;
    }
    distinv::fail("unknown ", what, " '", v, "': expected one of ", list);
  };
  one_of(cfg.algorithm, {"pgd", "fista", "hqs"}, "--algorithm");
  one_of(cfg.denoiser, {"tv", "wavelet", "torch"}, "--denoiser");
  DISTINV_REQUIRE(cfg.denoiser != "torch" || !cfg.model.empty(), "--denoiser torch: expected --model FILE.pt, got none");
  DISTINV_REQUIRE(cfg.denoiser == "torch" || (cfg.model.empty() && cfg.model_sigma_arg.empty()),
                  "--model and --model-sigma-arg: expected with --denoiser torch only, got --denoiser ", cfg.denoiser);
  if (!cfg.model_sigma_arg.empty()) one_of(cfg.model_sigma_arg, {"tensor", "float", "none"}, "--model-sigma-arg");
  one_of(cfg.init, {"pinv", "backprojection"}, "--init");
  DISTINV_REQUIRE(cfg.init_iterations > 0, "--init-iterations: expected at least 1, got ", cfg.init_iterations);
  distinv::tiling::check_strategy_name(cfg.strategy);  // mapped onto its type by main's with_strategy
  one_of(cfg.backend, {"auto", "single", "threads", "mpi"}, "--backend");
  DISTINV_REQUIRE(cfg.noise >= 0, "--noise: expected a non-negative noise level, got ", cfg.noise);
  DISTINV_REQUIRE(cfg.iterations > 0, "--iterations: expected at least 1, got ", cfg.iterations);
  DISTINV_REQUIRE(cfg.operators > 0, "--operators: expected at least 1, got ", cfg.operators);
  DISTINV_REQUIRE(cfg.sigma >= 0, "--sigma: expected a non-negative strength, got ", cfg.sigma);
  DISTINV_REQUIRE(cfg.step >= 0, "--step: expected a positive step or 0, got ", cfg.step);
  DISTINV_REQUIRE(cfg.step_scale > 0, "--step-scale: expected a positive factor, got ", cfg.step_scale);
  DISTINV_REQUIRE(cfg.patch_size > 0, "--patch-size: expected a positive size, got ", cfg.patch_size);
  DISTINV_REQUIRE(cfg.threads >= 0, "--threads: expected a non-negative count, got ", cfg.threads);
  DISTINV_REQUIRE(cfg.image.empty() ? cfg.size >= 16 : cfg.size >= 0, "--size: expected at least 16, got ", cfg.size);
  return cfg;
}

}  // namespace pnp
