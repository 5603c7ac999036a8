// examples/distinv-pnp/main.cpp: distinv-pnp, distributed plug-and-play reconstruction of a
// colour image seen through N Gaussian blurs with Gaussian noise. The operators are shared out over the ranks; the TV or
// wavelet denoiser, or a network (--denoiser torch, when built with distinv::torch), runs tile by tile over the ranks.
//   distinv-pnp                               built-in test image, one process
//   distinv-pnp --threads 4 --operators 8     4 ranks as threads
//   mpiexec -n 2 distinv-pnp --image photo.png
//   mpiexec -n 2 distinv-pnp --denoiser torch --model drunet.pt --sigma 0.03
// Writes result.png, result.npy (float, the exact result), montage.png (clean | measurement 1 |
// reconstruction), convergence.svg and metrics.json into --output. Bad input: one line on stderr, exit code 2.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
#include "config.hpp"
#include "example_support.hpp"
#include "json.hpp"
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
    namespace fs = std::filesystem;
    fs::path const out(cfg.output);
    fs::create_directories(out);
    distinv::io::write_png(out / "result.png", res.x);
    distinv::io::write_npy(out / "result.npy", res.x);
    distinv::io::write_png(out / "montage.png", distinv::io::montage<T>({clean, y[0], res.x}));
    pnp::SvgPlot plot;
    plot.set_title("distinv-pnp: " + cfg.algorithm + " + " + cfg.denoiser + ", " + std::to_string(ctx.world_size()) +
                   " rank(s)");
    plot.set_x_label("iteration");
    plot.set_y_label("PSNR (dB)");
    plot.set_y_label("data fidelity f(x)", pnp::YAxis::right);
    plot.set_log_y(true, pnp::YAxis::right);
    plot.add_series("PSNR (dB)", iters, psnrs);
    plot.add_series("data fidelity", iters, objectives, pnp::YAxis::right);
    plot.write(out / "convergence.svg");
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
    json.write(out / "metrics.json");
    if (!cfg.quiet)
      std::printf("  result: PSNR %.2f dB (+%.2f dB over measurement 1), %.3f s per iteration; wrote %s\n",
                  psnr_result, psnr_result - psnr_measurement, total / std::max<std::size_t>(1, res.history.size()),
                  (out / "{result.png, result.npy, montage.png, convergence.svg, metrics.json}").string().c_str());
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
    cfg = pnp::parse(argc, argv);
    DISTINV_REQUIRE(with_torch || cfg.denoiser != "torch", "--denoiser torch: this distinv-pnp was built without ",
                    "LibTorch (run scripts/install-torch.sh, then configure and build again)");
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
