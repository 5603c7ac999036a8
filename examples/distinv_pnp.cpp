// distinv-pnp: distributed plug-and-play reconstruction of a colour image seen through N
// Gaussian blurs with Gaussian noise. The operators are shared out over the ranks; the TV or
// wavelet denoiser runs tile by tile over the ranks.
//   distinv-pnp                               built-in test image, one process
//   distinv-pnp --threads 4 --operators 8     4 ranks as threads
//   mpiexec -n 2 distinv-pnp --image photo.png
// Writes result.png, montage.png (clean | measurement 1 | reconstruction), convergence.svg
// and metrics.json into --output. Bad input: one line on stderr, exit code 2.
#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/json.hpp"
#include "distinv/io/png.hpp"
#include "distinv/io/svg_plot.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"
#include "example_support.hpp"

namespace {

using T = float;
using Image = distinv::Tensor4<T>;

struct Config {
  std::string image;                 // empty: built-in test image
  distinv::Index size = 512;         // side of the built-in image, or longest side a larger photo is shrunk to (0: keep)
  int operators = 3;
  double noise = 0.03;
  int iterations = 30;
  std::string algorithm = "pgd";     // pgd | fista | hqs
  std::string denoiser = "tv";       // tv | wavelet
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

std::vector<distinv::physics::Blur<T>> make_blurs(int n) {
  using distinv::physics::gaussian_blur;
  std::vector<distinv::physics::Blur<T>> ops;
  for (int i = 0; i < n; ++i) {
    auto kernel = i == 0   ? gaussian_blur<T>(1.0)
                  : i == 1 ? gaussian_blur<T>(2.0)
                  : i == 2 ? gaussian_blur<T>(std::array<double, 2>{1.5, 3.0}, 30.0)
                           : gaussian_blur<T>(std::array<double, 2>{1.0 + 0.5 * (i % 3), 2.0 + 0.5 * (i % 4)}, 15.0 * i);
    ops.emplace_back(std::move(kernel), distinv::physics::Padding::circular);
  }
  return ops;
}

/// The SPMD body: the same on every backend.
template <class Ctx>
void reconstruct(Ctx& ctx, Config const& cfg, Image const& clean) {
  bool const lead = ctx.rank() == 0;
  auto ops = make_blurs(cfg.operators);
  for (auto& op : ops) op.set_noise(distinv::physics::GaussianNoise<T>{T(cfg.noise)});
  distinv::physics::StackedLinearPhysics<distinv::physics::Blur<T>> stack(ops);
  // Noisy measurements, operator i's noise from its own seeded stream: the same on any
  // number of ranks.
  auto const y = distinv::distribute(stack, ctx).forward(clean);

  auto run = [&](auto prior) {
    auto bundle = distinv::make_distrib_bundle(
        ctx, distinv::FactoryConfig{stack, y}, distinv::shape_of(clean), std::move(prior),
        distinv::TilingConfig{.patch_size = cfg.patch_size, .receptive_field_size = cfg.receptive_field,
                              .overlap = cfg.overlap, .strategy = cfg.strategy});
    Image const back = Image(bundle.physics.A_adjoint(y) * T(1.0 / cfg.operators));
    bundle.signal.update_(cfg.init == "backprojection"
                              ? back
                              : bundle.physics.A_dagger(y, {.local_only = false, .max_iter = cfg.init_iterations, .tol = 0}));
    double const psnr_measurement = distinv::io::psnr(y[0], clean);
    double const psnr_back = distinv::io::psnr(back, clean);
    if (lead && !cfg.quiet)
      std::printf("distinv-pnp: %s backend, %d rank(s), %d operators, image %s, %s + %s denoiser\n"
                  "  PSNR of measurement 1: %.2f dB, of the back-projection: %.2f dB\n",
                  std::string(Ctx::comm_type::name()).c_str(), ctx.world_size(), cfg.operators,
                  distinv::to_string(distinv::shape_of(clean)).c_str(), cfg.algorithm.c_str(), cfg.denoiser.c_str(),
                  psnr_measurement, psnr_back);
    distinv::optim::SolverOptions<Image> opt{.max_iter = cfg.iterations, .step = cfg.step,
                                             .step_scale = cfg.step_scale, .sigma = cfg.sigma,
                                             .tol = cfg.tol, .track_objective = true, .reference = &clean};
    opt.callback = [&](distinv::optim::IterationInfo const& it) {
      if (lead && !cfg.quiet)
        std::printf("  iter %3d  PSNR %6.2f dB  rel.change %.2e  objective %.4e  %.3f s\n", it.iteration, it.psnr,
                    it.rel_change, it.objective, it.seconds);
    };
    auto const res = cfg.algorithm == "fista" ? distinv::optim::fista(bundle, opt)
                     : cfg.algorithm == "hqs" ? distinv::optim::pnp_hqs(bundle, opt)
                                              : distinv::optim::pnp_pgd(bundle, opt);
    if (!lead) return;
    double total = 0;
    std::vector<double> iters, psnrs, objectives;
    for (auto const& it : res.history) {
      total += it.seconds;
      iters.push_back(it.iteration);
      psnrs.push_back(it.psnr);
      objectives.push_back(it.objective);
    }
    double const psnr_result = distinv::io::psnr(res.x, clean);
    namespace fs = std::filesystem;
    fs::path const out(cfg.output);
    fs::create_directories(out);
    distinv::io::write_png(out / "result.png", res.x);
    distinv::io::write_png(out / "montage.png", distinv::io::montage<T>({clean, y[0], res.x}));
    distinv::io::SvgPlot plot;
    plot.set_title("distinv-pnp: " + cfg.algorithm + " + " + cfg.denoiser + ", " + std::to_string(ctx.world_size()) +
                   " rank(s)");
    plot.set_x_label("iteration");
    plot.set_y_label("PSNR (dB)");
    plot.set_y_label("data fidelity f(x)", distinv::io::YAxis::right);
    plot.set_log_y(true, distinv::io::YAxis::right);
    plot.add_series("PSNR (dB)", iters, psnrs);
    plot.add_series("data fidelity", iters, objectives, distinv::io::YAxis::right);
    plot.write(out / "convergence.svg");
    distinv::io::JsonWriter json;
    json.add("backend", std::string(Ctx::comm_type::name()))
        .add("ranks", ctx.world_size())
        .add("operators", cfg.operators)
        .add("algorithm", cfg.algorithm)
        .add("denoiser", cfg.denoiser)
        .add("iterations", res.iterations)
        .add("step", res.step)
        .add("psnr_measurement_db", psnr_measurement)
        .add("psnr_backprojection_db", psnr_back)
        .add("psnr_result_db", psnr_result)
        .add("seconds_per_iteration", total / std::max<std::size_t>(1, res.history.size()))
        .add("psnr_per_iteration_db", psnrs);
    json.write(out / "metrics.json");
    if (!cfg.quiet)
      std::printf("  result: PSNR %.2f dB (+%.2f dB over measurement 1), %.3f s per iteration; wrote %s\n",
                  psnr_result, psnr_result - psnr_measurement, total / std::max<std::size_t>(1, res.history.size()),
                  (out / "{result.png, montage.png, convergence.svg, metrics.json}").string().c_str());
  };
  if (cfg.denoiser == "wavelet")
    run(distinv::optim::PnP{distinv::optim::WaveletDenoiser<T>{}});
  else
    run(distinv::optim::PnP{distinv::optim::TVDenoiser<T>{}});
}

Config parse(int argc, char** argv) {
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
  app.add_option("--denoiser", cfg.denoiser, "tv | wavelet")->capture_default_str();
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
  app.add_option("--strategy", cfg.strategy, "overlap_tiling | smart_tiling | basic")->capture_default_str();
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
  one_of(cfg.denoiser, {"tv", "wavelet"}, "--denoiser");
  one_of(cfg.init, {"pinv", "backprojection"}, "--init");
  DISTINV_REQUIRE(cfg.init_iterations > 0, "--init-iterations: expected at least 1, got ", cfg.init_iterations);
  one_of(cfg.strategy, {"overlap_tiling", "smart_tiling", "basic"}, "--strategy");
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

Image load(Config const& cfg) {
  return distinv::examples::load_image(cfg.image, cfg.size, /*enlarge=*/false);
}

bool under_mpiexec() {
  for (char const* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  Image clean;
  try {
    cfg = parse(argc, argv);
    clean = load(cfg);
  } catch (CLI::ParseError const& e) {
    std::fprintf(stderr, "distinv-pnp: %s\n", e.what());
    return 2;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "distinv-pnp: %s\n", e.what());
    return 2;
  }
  std::string backend = cfg.backend;
  if (backend == "auto") backend = cfg.threads > 0 ? "threads" : under_mpiexec() ? "mpi" : "single";
  try {
    distinv::examples::launch_selected(argc, argv, backend == "mpi", backend == "threads" ? std::max(1, cfg.threads) : 0,
                                       [&](auto& ctx) { reconstruct(ctx, cfg, clean); },
                                       distinv::ContextOptions{.seed = cfg.seed});
  } catch (std::exception const& e) {
    std::fprintf(stderr, "distinv-pnp: %s\n", e.what());
    return 2;
  }
  return 0;
}
