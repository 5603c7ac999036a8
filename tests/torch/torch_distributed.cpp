// Learned denoisers tiled over the ranks (SingleProcess, Threads with 1-3 ranks, MPI under
// mpiexec with 1-3): with a halo of at least the receptive field the tiled network equals the
// untiled one run by PyTorch away from the image border; a bad file, input or output is the
// same Error on every rank, also when only one rank meets it.
#include "torch_models.hpp"  // first: see there

#include "backends.hpp"
#include "distinv/factory.hpp"

using namespace distinv;
using distinv::testing::for_each_backend;
using distinv::testing::interior;
using distinv::testing::sigma;
using distinv::testing::torch_data;
using distinv::testing::torch_model;
using distinv::libtorch::TorchDenoiser;

TEST_CASE("torch: tiled over the ranks, the network equals the untiled one away from the border") {
  TorchDenoiser<float> const d(torch_model("sigma_tensor.pt"));  // each rank's distribute() copies it
  auto const x = torch_data("large");
  auto const untiled = torch_data("sigma_tensor_large");
  Index const rf = d.receptive_field();
  for_each_backend([&](auto& ctx) {
    for (Index halo : {Index(-1), rf + 2})  // -1: the denoiser's own receptive field
      for (bool overlap : {false, true})
        for (Index batch : {Index(0), Index(1)}) {
          CAPTURE(halo);
          CAPTURE(overlap);
          CAPTURE(batch);
          auto p = distribute(d, ctx,
                              TilingConfig{.patch_size = 16, .receptive_field_size = halo, .overlap = overlap,
                                           .max_batch_size = batch});
          auto const y = p(x, sigma);
          CHECK(max_abs_diff(interior(y, rf), interior(untiled, rf)) <= 1e-5);
          CHECK(max_abs_diff(y, untiled) > 0);  // the border differs: reflect tiles vs zero-padded convolutions
        }
  }, {1, 2, 3});
}

TEST_CASE("torch: a bad file, input or output is the same Error on every rank") {
  auto const x = torch_data("large");
  for_each_backend([&](auto& ctx) {
    auto const good = torch_model("sigma_tensor.pt"), missing = torch_model("missing.pt");
    // unreadable on every rank, then on the last rank only
    CHECK_THROWS_WITH_AS(distinv::libtorch::load_denoiser<float>(ctx, missing), doctest::Contains("cannot read the model file"), Error);
    bool const last = ctx.rank() == ctx.world_size() - 1;
    CHECK_THROWS_WITH_AS(distinv::libtorch::load_denoiser<float>(ctx, last ? missing : good),
                         doctest::Contains("cannot read the model file"), Error);

    auto p = distribute(distinv::libtorch::load_denoiser<float>(ctx, good), ctx, TilingConfig{.patch_size = 16});
    Tensor4<float> gray(1, 1, 40, 40), small_gray(1, 1, 10, 10);
    gray.setConstant(0.5f);
    small_gray.setConstant(0.5f);
    CHECK_THROWS_WITH_AS(p(gray, sigma), doctest::Contains("expected 3 channels"), Error);
    // one tile: only its owner runs the network, every rank gets the Error
    CHECK_THROWS_WITH_AS(p(small_gray, sigma), doctest::Contains("expected 3 channels"), Error);
    // no declared channel count: the module's first call fails, on every rank
    auto bare = distribute(TorchDenoiser<float>(torch_model("no_metadata.pt"), {.receptive_field = 3}), ctx,
                           TilingConfig{.patch_size = 16});
    CHECK_THROWS_WITH_AS(bare(gray, sigma), doctest::Contains("the module failed"), Error);
    auto bad = distribute(distinv::libtorch::load_denoiser<float>(ctx, torch_model("bad_shape.pt")), ctx, TilingConfig{.patch_size = 16});
    CHECK_THROWS_WITH_AS(bad(x, sigma), doctest::Contains("expected an output of the input's shape"), Error);
    // and the ranks go on together
    auto const y = p(x, sigma);
    CHECK(max_abs_diff(interior(y, 3), interior(torch_data("sigma_tensor_large"), 3)) <= 1e-5);
  }, {1, 2, 3}, ContextOptions{.warn_idle = false});
}
