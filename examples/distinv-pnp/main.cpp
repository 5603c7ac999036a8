// examples/distinv-pnp/main.cpp: distinv-pnp, distributed plug-and-play reconstruction of a
// colour image seen through N Gaussian blurs with Gaussian noise. The operators are shared out over the ranks; the TV or
// wavelet denoiser, or a network (--denoiser torch, when built with distinv::torch), runs tile by tile over the ranks.
//   distinv-pnp                               built-in test image, one process
//   distinv-pnp --threads 4 --operators 8     4 ranks as threads
//   mpiexec -n 2 distinv-pnp --image photo.png
//   mpiexec -n 2 distinv-pnp --denoiser torch --model drunet.pt --sigma 0.03
// Writes result.png, result.npy (float, the exact result), montage.png (clean | measurement 1 |
// reconstruction), convergence.svg and metrics.json into --output. Bad input: one line on
// stderr, exit code 2. Before anything large is allocated the ranks check that they were given
// the same settings, that the run's memory estimate fits the budget and that the output folder
// can be written (and lock it).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/npy.hpp"
#include "distinv/io/png.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"
#ifdef DISTINV_DEMO_TORCH  // defined by CMake when distinv::torch (LibTorch) is built
#include "distinv/torch.hpp"
#endif
#include "budget.hpp"
#include "config.hpp"
#include "example_support.hpp"
#include "json.hpp"
#include "outputs.hpp"
#include "svg_plot.hpp"

namespace {

using T = float;
using Image = distinv::Tensor4<T>;
using pnp::Config;
#ifdef DISTINV_DEMO_TORCH
constexpr bool with_torch = true;
#else
constexpr bool with_torch = false;
#endif

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

/// The tiles' halo: --receptive-field, or the denoiser's receptive field.
distinv::Index halo_of(Config const& cfg) {
  if (cfg.receptive_field >= 0) return cfg.receptive_field;
  if (cfg.denoiser == "torch") return 32;  // in the model file's metadata, read later; for the estimate only
  return cfg.denoiser == "wavelet" ? distinv::optim::receptive_field_of(distinv::optim::WaveletDenoiser<T>{})
                                   : distinv::optim::receptive_field_of(distinv::optim::TVDenoiser<T>{});
}

/// Ranks of a world of `world` that live in this process.
template <class Comm>
int ranks_in_process(int world) {
  return distinv::comm_traits<Comm>::shares_memory ? world : 1;
}

/// The settings every rank must share: the options and the image (shape and pixels).
pnp::Fingerprint fingerprint(Config const& cfg, Image const& clean) {
  auto fp = pnp::fingerprint(cfg);
  auto const shape = distinv::shape_of(clean);
  fp.push_back(pnp::fingerprint_of("image shape", shape.data(), sizeof shape));
  fp.push_back(pnp::fingerprint_of("image pixels", clean.data(), std::size_t(clean.size()) * sizeof(T)));
  return fp;
}

/// The SPMD body: the same on every backend.
template <class Ctx>
void reconstruct(Ctx& ctx, Config const& cfg, Image const& clean, pnp::Fingerprint const& fp, pnp::Bytes budget) {
  bool const lead = ctx.rank() == 0;
  auto const shape = distinv::shape_of(clean);
  // Every rank must run the same settings on the same image (one all-reduce of hashes).
  pnp::check_same_on_every_rank(ctx, fp);
  // The memory estimate against the smallest budget of any rank: the same verdict everywhere.
  budget = pnp::Bytes(
      ctx.all_reduce_value(std::int64_t(std::min<pnp::Bytes>(budget, INT64_MAX)), distinv::ReduceOp::min));
  auto const estimate =
      pnp::estimate_memory(cfg, shape, ctx.world_size(), ranks_in_process<typename Ctx::comm_type>(ctx.world_size()),
                           halo_of(cfg));
  pnp::check_budget(estimate, budget);
  // The output folder, claimed by rank 0 before the run; a failure there fails every rank.
  std::optional<pnp::OutputFolder> out;
  ctx.collectively("preparing the output folder", [&] {
    if (lead) out.emplace(cfg.output, std::vector<std::string>{"result.png", "result.npy", "montage.png", "convergence.svg",
                                                               "metrics.json"});
  });
  if (lead && ctx.world_size() > cfg.operators)
    std::fprintf(stderr, "distinv-pnp: warning: %d ranks for %d operators: %d rank(s) own no operator (they still "
                 "denoise tiles and take part in every collective)\n", ctx.world_size(), cfg.operators,
                 ctx.world_size() - cfg.operators);

  auto ops = make_blurs(cfg.operators);
  for (auto& op : ops) op.set_noise(distinv::physics::GaussianNoise<T>{T(cfg.noise)});
  distinv::physics::StackedLinearPhysics<distinv::physics::Blur<T>> stack(ops);
  // Noisy measurements, operator i's noise from its own seeded stream: the same on any
  // number of ranks.
  auto const y = distinv::distribute(stack, ctx).forward(clean);

  // The tiling strategy is a type; its name (--strategy) is mapped onto it once, below.
  auto run = [&]<class Strategy>(auto prior) {
    auto bundle = distinv::make_distrib_bundle<distinv::gather::Concatenated, Strategy>(
        ctx, distinv::FactoryConfig{stack, y}, distinv::shape_of(clean), std::move(prior),
        distinv::TilingConfig{.patch_size = cfg.patch_size, .receptive_field_size = cfg.receptive_field,
                              .overlap = cfg.overlap});
    Image const back = Image(bundle.physics.A_adjoint(y) * T(1.0 / cfg.operators));
    bundle.signal.update_(cfg.init == "backprojection"
                              ? back
                              : bundle.physics.A_dagger(y, {.local_only = false, .max_iter = cfg.init_iterations, .tol = 0}));
    double const psnr_measurement = distinv::io::psnr(y[0], clean);
    double const psnr_back = distinv::io::psnr(back, clean);
    // Which L2 gradient the solver runs (fused: one FFT pair per iteration); every rank asks.
    std::string const path(
        distinv::to_string(bundle.data_fidelity.gradient_path(bundle.signal.data(), bundle.measurements, bundle.physics)));
    if (lead && !cfg.quiet)
      std::printf("distinv-pnp: %s backend, %d rank(s), %d operators, image %s, %s + %s denoiser\n"
                  "  PSNR of measurement 1: %.2f dB, of the back-projection: %.2f dB\n"
                  "  gradient path: %s\n",
                  std::string(Ctx::comm_type::name()).c_str(), ctx.world_size(), cfg.operators,
                  distinv::to_string(distinv::shape_of(clean)).c_str(), cfg.algorithm.c_str(), cfg.denoiser.c_str(),
                  psnr_measurement, psnr_back, path.c_str());
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
    distinv::io::write_png(out->file("result.png"), res.x);
    distinv::io::write_png(out->file("montage.png"), distinv::io::montage<T>({clean, y[0], res.x}));
    distinv::io::write_npy(out->file("result.npy"), res.x);
    pnp::SvgPlot plot;
    plot.set_title("distinv-pnp: " + cfg.algorithm + " + " + cfg.denoiser + ", " + std::to_string(ctx.world_size()) +
                   " rank(s)");
    plot.set_x_label("iteration");
    plot.set_y_label("PSNR (dB)");
    plot.set_y_label("data fidelity f(x)", pnp::YAxis::right);
    plot.set_log_y(true, pnp::YAxis::right);
    plot.add_series("PSNR (dB)", iters, psnrs);
    plot.add_series("data fidelity", iters, objectives, pnp::YAxis::right);
    plot.write(out->file("convergence.svg"));
    pnp::JsonWriter json;
    json.add("backend", std::string(Ctx::comm_type::name()))
        .add("ranks", ctx.world_size())
        .add("operators", cfg.operators)
        .add("algorithm", cfg.algorithm)
        .add("denoiser", cfg.denoiser)
        .add("gradient_path", path)
        .add("iterations", res.iterations)
        .add("step", res.step)
        .add("psnr_measurement_db", psnr_measurement)
        .add("psnr_backprojection_db", psnr_back)
        .add("psnr_result_db", psnr_result)
        .add("seconds_per_iteration", total / std::max<std::size_t>(1, res.history.size()))
        .add("psnr_per_iteration_db", psnrs);
    json.write(out->file("metrics.json"));
    out->commit();
    if (!cfg.quiet)
      std::printf("  result: PSNR %.2f dB (+%.2f dB over measurement 1), %.3f s per iteration; wrote %s\n",
                  psnr_result, psnr_result - psnr_measurement, total / std::max<std::size_t>(1, res.history.size()),
                  (out->folder() / "{result.png, result.npy, montage.png, convergence.svg, metrics.json}").string().c_str());
  };
  distinv::tiling::with_strategy(cfg.strategy, [&]<class Strategy>() {
    if (cfg.denoiser == "torch") {
#ifdef DISTINV_DEMO_TORCH
      // each rank loads its own module, with its share of the cores
      distinv::libtorch::TorchDenoiserOptions opt{.receptive_field = cfg.receptive_field,
                                                  .intra_op_threads = distinv::libtorch::threads_per_rank(ctx)};
      if (!cfg.model_sigma_arg.empty()) opt.sigma_arg = distinv::libtorch::parse_sigma_arg(cfg.model_sigma_arg);
      run.template operator()<Strategy>(distinv::optim::PnP{distinv::libtorch::load_denoiser<T>(ctx, cfg.model, opt)});
#endif
    } else if (cfg.denoiser == "wavelet") {
      run.template operator()<Strategy>(distinv::optim::PnP{distinv::optim::WaveletDenoiser<T>{}});
    } else {
      run.template operator()<Strategy>(distinv::optim::PnP{distinv::optim::TVDenoiser<T>{}});
    }
  });
}

Image load(Config const& cfg, pnp::Bytes budget) {
  return distinv::examples::load_image(cfg.image, cfg.size, /*enlarge=*/false,
                                       distinv::io::PngLimits{.max_bytes = std::size_t(budget / 4)});  // and its RGB copy
}

/// The number of processes mpiexec started (0: not under mpiexec; -1: under it, count unknown),
/// and how many of them share this machine.
std::pair<int, int> mpiexec_processes() {
  auto number = [](char const* v) { return std::getenv(v) ? std::atoi(std::getenv(v)) : 0; };
  int const world = number("OMPI_COMM_WORLD_SIZE") ? number("OMPI_COMM_WORLD_SIZE") : number("PMI_SIZE");
  int const local = number("OMPI_COMM_WORLD_LOCAL_SIZE") ? number("OMPI_COMM_WORLD_LOCAL_SIZE") : number("MPI_LOCALNRANKS");
  if (world > 0) return {world, local > 0 ? local : world};
  if (std::getenv("PMIX_RANK") || std::getenv("MPI_LOCALNRANKS")) return {-1, std::max(local, 1)};
  return {0, 1};
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  Image clean;
  pnp::Bytes budget = 0;
  pnp::Fingerprint fp;
  std::string backend;
  try {
    cfg = pnp::parse(argc, argv);
    DISTINV_REQUIRE(with_torch || cfg.denoiser != "torch", "--denoiser torch: this distinv-pnp was built without ",
                    "LibTorch (run scripts/install-torch.sh, then configure and build again)");
    auto const [mpi_world, mpi_local] = mpiexec_processes();
    backend = cfg.backend;
    if (backend == "auto") backend = cfg.threads > 0 ? "threads" : mpi_world != 0 ? "mpi" : "single";
    // N copies of a one-process run would all write into the same folder.
    DISTINV_REQUIRE(backend == "mpi" || mpi_world == 0 || mpi_world == 1, "--backend ", backend,
                    cfg.threads > 0 ? " (--threads)" : "", " under mpiexec with ",
                    mpi_world > 0 ? std::to_string(mpi_world) : std::string("several"),
                    " processes would run that many independent copies; drop --threads/--backend, or run without "
                    "mpiexec");
    budget = pnp::memory_budget(cfg, backend == "mpi" ? mpi_local : 1);
    if (cfg.image.empty()) {  // the built-in image's size is known before it exists
      int const world = backend == "threads" ? std::max(1, cfg.threads) : backend == "mpi" ? std::max(1, mpi_world) : 1;
      pnp::check_budget(pnp::estimate_memory(cfg, {1, 3, cfg.size, cfg.size}, world,
                                             backend == "threads" ? world : 1, halo_of(cfg)),
                        budget);
    }
    clean = load(cfg, budget);
    fp = fingerprint(cfg, clean);
  } catch (CLI::ParseError const& e) {
    std::fprintf(stderr, "distinv-pnp: %s\n", e.what());
    return 2;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "distinv-pnp: %s\n", e.what());
    return 2;
  }
  try {
    distinv::examples::launch_selected(argc, argv, backend == "mpi", backend == "threads" ? std::max(1, cfg.threads) : 0,
                                       [&](auto& ctx) { reconstruct(ctx, cfg, clean, fp, budget); },
                                       distinv::ContextOptions{.seed = cfg.seed, .warn_idle = false});
  } catch (std::exception const& e) {
    std::fprintf(stderr, "distinv-pnp: %s\n", e.what());
    return 2;
  }
  return 0;
}
