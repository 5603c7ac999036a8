// denoiser: the guide page "Your own denoiser". A denoiser is any callable d(x, sigma) on a
// (B, C, H, W) batch that keeps its shape; declaring receptive_field() sets the halo of its
// tiles. Here: a local mean pulled toward the input by sigma, tiled over the ranks, then the
// prior of a PnP reconstruction. Checks that the tiled denoiser equals the untiled one to the
// bit (replicate padding is the denoiser's own boundary rule), and that PnP improves the PSNR.
#include <algorithm>
#include <cstdio>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/solvers.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "guide.hpp"

using namespace distinv;

//! [denoiser]
/// y = x + w (mean of the (2r+1)² neighbourhood − x), w = min(1, sigma / 0.05); the image
/// border repeats its edge pixels. Each pixel depends on pixels at most r away.
struct LocalMean {
  Index radius = 2;

  Index receptive_field() const { return radius; }  // the halo the tiles need
  Tensor4<float> operator()(Tensor4<float> const& x, double sigma) const {
    DISTINV_REQUIRE(sigma >= 0, "LocalMean: expected sigma >= 0, got ", sigma);
    Index const H = x.dimension(2), W = x.dimension(3), r = radius;
    float const w = float(std::min(1.0, sigma / 0.05));
    Tensor4<float> y(x.dimensions());
    for (Index p = 0; p < x.dimension(0) * x.dimension(1); ++p) {  // each (b, c) plane on its own
      float const* in = x.data() + p * H * W;
      for (Index i = 0; i < H; ++i)
        for (Index j = 0; j < W; ++j) {
          float s = 0;
          for (Index a = -r; a <= r; ++a)
            for (Index b = -r; b <= r; ++b) s += in[std::clamp(i + a, Index(0), H - 1) * W + std::clamp(j + b, Index(0), W - 1)];
          float const v = in[i * W + j];
          y.data()[p * H * W + i * W + j] = v + w * (s / float((2 * r + 1) * (2 * r + 1)) - v);
        }
    }
    return y;
  }
};
static_assert(optim::Denoiser<LocalMean> && optim::DeclaresReceptiveField<LocalMean>);
//! [denoiser]

int main(int argc, char** argv) {
  auto const clean = io::test_image<float>(64, 64, 3);
  return guide::run(argc, argv, [&](auto& ctx) {
    //! [tiled]
    LocalMean const d{.radius = 2};
    auto tiled = distribute(d, ctx, TilingConfig{.patch_size = 24, .pad_mode = tiling::Padding::replicate});
    Tensor4<float> const y = tiled(clean, 0.03);  // halo = d.receptive_field() = 2
    //! [tiled]
    guide::check(max_abs_diff(y, d(clean, 0.03)) == 0, "denoiser: tiled = untiled");

    //! [pnp]
    std::vector<physics::Blur<float>> blurs;
    for (double s : {1.0, 2.0}) {
      blurs.emplace_back(physics::gaussian_blur<float>(s), physics::Padding::circular);
      blurs.back().set_noise(physics::GaussianNoise<float>{0.03f});
    }
    auto const measurements = distribute(blurs, ctx).forward(clean);
    auto bundle = make_distrib_bundle(ctx, FactoryConfig{blurs, measurements}, shape_of(clean), optim::PnP{d},
                                      TilingConfig{.patch_size = 32});
    auto const result = optim::pnp_pgd(bundle, {.max_iter = 40, .sigma = 0.01});
    //! [pnp]
    double const before = (io::psnr(measurements[0], clean) + io::psnr(measurements[1], clean)) / 2,
                 after = io::psnr(result.x, clean);
    if (ctx.rank() == 0) std::printf("denoiser: PSNR %.2f dB (the measurements' mean) -> %.2f dB\n", before, after);
    guide::check(after > before + 0.2, "denoiser: PnP with the local mean beats the measurements");
  });
}
