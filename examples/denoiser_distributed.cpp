// denoiser_distributed: the reference's distributed denoiser demo in C++. A noisy image is
// denoised tile by tile over the ranks (TV or wavelet instead of DRUNet; each tile carries a
// halo of the denoiser's receptive field), then compared with the untiled denoiser: away from
// the image border by the receptive field both must agree (exit code 1 if not).
//   denoiser_distributed [--image FILE] [--size N] [--noise S] [--denoiser tv|wavelet]
//                        [--patch-size P] [--seed K] [--threads N | --mpi] [--output DIR]
// Rank 0 writes denoiser_noisy.png, denoiser_result.png and denoiser_montage.png (clean |
// noisy | denoised) into DIR.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "distinv/distinv.hpp"
#include "example_support.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/png.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"

using namespace distinv;
using Image = Tensor4<float>;

struct Args {
  std::string image, denoiser = "tv", output = ".";
  Index size = 256, patch_size = 64;
  double noise = 0.1;
  long seed = 42;
  int threads = 0;
  bool mpi = false;
};

constexpr Index wavelet_grid = 8;  // 2^levels of the wavelet denoiser (3 levels)

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// max |a - b| over the samples at least `margin` away from the image border.
double interior_diff(Image const& a, Image const& b, Index margin) {
  double m = 0;
  for (Index c = 0; c < a.dimension(1); ++c)
    for (Index i = margin; i < a.dimension(2) - margin; ++i)
      for (Index j = margin; j < a.dimension(3) - margin; ++j)
        m = std::max(m, std::abs(double(a(0, c, i, j)) - double(b(0, c, i, j))));
  return m;
}

template <class Ctx, class Denoiser>
int demo(Ctx& ctx, Args const& args, Denoiser const& denoiser, Index halo, Image const& clean, Image const& noisy) {
  bool const lead = ctx.rank() == 0;
  double const psnr_in = io::psnr(noisy, clean);
  if (lead)
    std::printf("======================================================================\n"
                "Distributed Denoiser Demo\n"
                "======================================================================\n\n"
                "Running on %d rank(s), %s backend\n   Device: %s\n\nCreated test image\n"
                "   Image shape: %s\n   Noise sigma: %g\n   Input PSNR: %.2f dB\n\n"
                "Configuring distributed %s denoiser\n   Patch size: %ldx%ld\n   Receptive field: %ld, halo: %ld\n",
                ctx.world_size(), std::string(Ctx::comm_type::name()).c_str(), ctx.device().name().c_str(),
                to_string(shape_of(clean)).c_str(), args.noise, psnr_in, args.denoiser.c_str(), long(args.patch_size),
                long(args.patch_size), long(denoiser.receptive_field()), long(halo));
  // Tiles of patch_size with a halo, crop-and-paste (no blending), shared out over the ranks.
  auto proc = distribute<tiling::OverlapTilingStrategy<>>(
      denoiser, ctx, TilingConfig{.patch_size = args.patch_size, .receptive_field_size = halo, .overlap = false});
  ctx.barrier();
  auto t0 = std::chrono::steady_clock::now();
  Image const denoised = proc(noisy, args.noise);  // on every rank
  double const t_dist = seconds_since(t0);
  // Patches per rank as each rank counts them (one all-reduce), printed by rank 0.
  Index const patches = proc.strategy().num_patches();
  std::vector<double> counts(std::size_t(ctx.world_size()), 0.0);
  counts[std::size_t(ctx.rank())] = double(ctx.local_indices(patches).size());
  ctx.all_reduce(std::span<double>(counts));
  if (!lead) return 0;
  std::printf("\nApplying distributed denoising...\n   Denoising completed in %.3f s\n   Output shape: %s\n",
              t_dist, to_string(shape_of(denoised)).c_str());
  for (int r = 0; r < ctx.world_size(); ++r)
    std::printf("   rank %d: %g of %ld patches\n", r, counts[std::size_t(r)], long(patches));

  std::printf("\nComparing with non-distributed (untiled) denoising...\n");
  t0 = std::chrono::steady_clock::now();
  Image const ref = denoiser(noisy, args.noise);
  double const t_ref = seconds_since(t0);
  Index const margin = denoiser.receptive_field();
  double const diff = interior_diff(denoised, ref, margin), diff_all = max_abs_diff(denoised, ref);
  bool const ok = diff <= 1e-4;
  bool const empty = std::min(clean.dimension(2), clean.dimension(3)) <= 2 * margin;
  std::printf("   Untiled denoiser: %.3f s\n   Max absolute difference, whole image:       %.2e\n"
              "   Max absolute difference, %ld px from border: %.2e\n   %s\n",
              t_ref, diff_all, long(margin), diff,
              empty ? "No interior (image too small for the receptive field): not compared"
              : ok  ? "Interior matches (<= 1e-4)"
                    : "MISMATCH: interior differs > 1e-4");

  double const psnr_out = io::psnr(denoised, clean);
  std::printf("\nResults:\n   Input PSNR:  %.2f dB\n   Output PSNR: %.2f dB\n   Improvement: %.2f dB\n", psnr_in,
              psnr_out, psnr_out - psnr_in);
  std::filesystem::path const out(args.output);
  std::filesystem::create_directories(out);
  io::write_png(out / "denoiser_noisy.png", noisy);
  io::write_png(out / "denoiser_result.png", denoised);
  io::write_png(out / "denoiser_montage.png", io::montage<float>({clean, noisy, io::clamp01(denoised)}));
  std::printf("\n%s\n   Results saved to %s: denoiser_noisy.png, denoiser_result.png, denoiser_montage.png\n"
              "======================================================================\n",
              ok ? "Demo completed successfully!" : "Demo FAILED", out.string().c_str());
  return ok ? 0 : 1;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string const opt = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("option ", opt, " needs a value");
      return argv[++i];
    };
    auto number = [&](double lo) {
      std::string const v = value();
      char* end = nullptr;
      double const n = std::strtod(v.c_str(), &end);
      DISTINV_REQUIRE(!v.empty() && *end == 0 && n >= lo, "option ", opt, ": expected a number >= ", lo, ", got '",
                      v, "'");
      return n;
    };
    if (opt == "--image") a.image = value();
    else if (opt == "--size") a.size = Index(number(0));
    else if (opt == "--noise") a.noise = number(0);
    else if (opt == "--denoiser") a.denoiser = value();
    else if (opt == "--patch-size") a.patch_size = Index(number(1));
    else if (opt == "--seed") a.seed = long(number(0));
    else if (opt == "--output") a.output = value();
    else if (opt == "--threads") a.threads = int(number(1));
    else if (opt == "--mpi") a.mpi = true;
    else fail("unknown option '", opt, "' (expected --image, --size, --noise, --denoiser, --patch-size, --seed, "
              "--threads, --mpi, --output)");
  }
  DISTINV_REQUIRE(a.denoiser == "tv" || a.denoiser == "wavelet", "option --denoiser: expected tv or wavelet, got '",
                  a.denoiser, "'");
  DISTINV_REQUIRE(a.denoiser != "wavelet" || a.patch_size % wavelet_grid == 0, "option --patch-size: expected a ",
                  "multiple of ", wavelet_grid, " for the wavelet denoiser, got ", a.patch_size);
  DISTINV_REQUIRE(!a.image.empty() || a.size >= wavelet_grid, "option --size: expected >= ", wavelet_grid, ", got ",
                  a.size);
  return a;
}

int main(int argc, char** argv) {
  Args args;
  Image clean, noisy;
  try {
    args = parse(argc, argv);
#ifndef DISTINV_DEMO_MPI
    if (args.mpi) fail("this build has no MPI backend (--mpi)");
#endif
    clean = examples::load_image(args.image, args.size);
    // Wavelets are shift-variant: the tiled result equals the untiled one (checked below) only
    // when every window lies on the dyadic grid of the whole image, so crop the sides to
    // multiples of 2^levels (the denoiser itself takes any size).
    Index const H = clean.dimension(2) / wavelet_grid * wavelet_grid;
    Index const W = clean.dimension(3) / wavelet_grid * wavelet_grid;
    DISTINV_REQUIRE(H > 0 && W > 0, "image: expected at least ", wavelet_grid, " x ", wavelet_grid, " pixels, got ",
                    to_string(shape_of(clean)));
    clean = Image(clean.slice(Shape<4>{0, 0, 0, 0}, Shape<4>{1, 3, H, W}));
  } catch (std::exception const& e) {
    std::fprintf(stderr, "denoiser_distributed: %s\n", e.what());
    return 2;
  }
  // Noise from one fixed-seed generator: the same noisy image on every rank. Clipped to [0, 1].
  std::mt19937_64 gen(std::uint64_t(args.seed));
  std::normal_distribution<float> normal(0.0f, float(args.noise));
  noisy = clean;
  for (Index i = 0; i < noisy.size(); ++i) noisy.data()[i] += normal(gen);
  noisy = io::clamp01(noisy);
  try {
    int status = 0;
    auto body = [&](auto& ctx) {
      int s = 0;
      if (args.denoiser == "wavelet") {
        optim::WaveletDenoiser<float> wd{optim::Wavelet::db4, 3};  // shift-variant: halo on the dyadic grid
        Index const halo = (wd.receptive_field() + wavelet_grid - 1) / wavelet_grid * wavelet_grid;
        s = demo(ctx, args, wd, halo, clean, noisy);
      } else {
        optim::TVDenoiser<float> tv{.max_iter = 50};
        s = demo(ctx, args, tv, tv.receptive_field(), clean, noisy);
      }
      if (ctx.rank() == 0) status = s;
    };
    examples::launch_selected(argc, argv, args.mpi, args.threads, body);
    return status;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "denoiser_distributed: %s\n", e.what());
    return 1;
  }
}
