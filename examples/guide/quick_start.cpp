// quick_start: the quick start of the reference's user guide, line for line in C++ (guide page
// "Quick start"). Three blurs with noise, the factory API, and PnP iterations (gradient step,
// then the tiled prior's prox). Runs on one process, `--threads N` or `--mpi`; checks that the
// reconstruction is better than the measurement and equal, to the bit, to a one-process run.
#include <cstdio>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/image_ops.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "distinv/physics/stacked.hpp"
#include "guide.hpp"

using namespace distinv;
using physics::Blur, physics::GaussianNoise, physics::gaussian_blur;

struct Result {
  Tensor4<float> x;
  double psnr_measurement, psnr_reconstruction;
};

//! [reconstruct]
template <class Ctx>
Result reconstruct(Ctx& ctx, Tensor4<float> const& clean_image) {
  int const num_iterations = 30;
  float const lr = 0.6f, denoiser_sigma = 0.02f;  // lr < 2 / ‖A‖² = 2 / 3 (three blurs of norm 1)
  // Create multiple physics operators
  std::vector<Blur<float>> physics_list;
  for (auto kernel : {gaussian_blur<float>(1.0), gaussian_blur<float>(2.0),
                      gaussian_blur<float>(std::array<double, 2>{1.5, 3.0}, 30)}) {
    Blur<float> blur_op(kernel, physics::Padding::circular);
    blur_op.set_noise(GaussianNoise<float>{0.03f});
    physics_list.push_back(blur_op);
  }
  // Stack physics operators and generate measurements (the same on every rank)
  physics::StackedLinearPhysics<Blur<float>> stacked_physics(physics_list);
  auto measurements = distribute(stacked_physics, ctx).forward(clean_image);

  // Configure distributed components
  FactoryConfig factory_config{stacked_physics, measurements, optim::L2{}};
  TilingConfig tiling_config{.patch_size = 48, .receptive_field_size = 16};

  // Build the distributed bundle
  optim::PnP pnp_prior{optim::TVDenoiser<float>{}};
  auto bundle = make_distrib_bundle(ctx, factory_config, shape_of(clean_image), pnp_prior, tiling_config);

  // Run PnP iterations
  bundle.signal.update_(zeros_like(clean_image));
  for (int it = 0; it < num_iterations; ++it) {
    auto grad = bundle.data_fidelity.grad(bundle.signal.data(), bundle.measurements, bundle.physics);  // distributed
    Tensor4<float> new_data = bundle.signal.data() - grad * lr;
    bundle.signal.update_(new_data);
    auto denoised = bundle.prior->prox(bundle.signal.data(), denoiser_sigma);  // distributed, tiled
    bundle.signal.update_(denoised);
  }
  // The final result is in bundle.signal.data()
  double mean_psnr = 0;  // of the three measurements
  for (auto const& y : measurements) mean_psnr += io::psnr(y, clean_image) / 3;
  return {bundle.signal.data(), mean_psnr, io::psnr(bundle.signal.data(), clean_image)};
}
//! [reconstruct]

int main(int argc, char** argv) {
  //! [main]
  auto const clean_image = io::test_image<float>(96, 96, 3);
  // Initialize the distributed context: one process, --threads N or --mpi (guide.hpp)
  return guide::run(argc, argv, [&](auto& ctx) {
    Result const r = reconstruct(ctx, clean_image);
    Result reference;  // the same reconstruction on one process, inside this rank
    launch<comm::SingleProcess>([&](auto& one) { reference = reconstruct(one, clean_image); });
    if (ctx.rank() == 0)
      std::printf("quick_start: %d ranks, PSNR of the measurements %.2f dB (mean), of the reconstruction %.2f dB\n",
                  ctx.world_size(), r.psnr_measurement, r.psnr_reconstruction);
    guide::check(r.psnr_reconstruction > r.psnr_measurement + 1, "quick_start: 1 dB better than the measurements");
    guide::check(max_abs_diff(r.x, reference.x) == 0, "quick_start: the same bits on any number of ranks");
  });
  //! [main]
}
