// trained_denoiser: the guide page "Your own denoiser", its trained network. A TorchScript
// file (examples/export_denoiser.py makes one from a deepinv DRUNet or DnCNN; the CTest uses the
// small network of tests/torch/make_models.py) loaded on every rank, tiled over the ranks.
// Checks that the tiled network equals the untiled one away from the image border (where the
// tiles' reflect padding stands in for the network's zero-padded convolutions). Built only
// with distinv::torch. Run: guide_trained_denoiser --model FILE [--threads N | --mpi].
#include "distinv/torch.hpp"  // first: LibTorch's c10 defines a CHECK macro

#include <cstdio>
#include <string>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/test_image.hpp"
#include "guide.hpp"

using namespace distinv;

int main(int argc, char** argv) {
  std::string model;
  auto const x = io::test_image<float>(56, 64, 3);
  return guide::run(argc, argv, [&](auto& ctx) {
    //! [torch]
    // every rank loads its own module (a file missing on one rank: an Error on all); LibTorch's
    // threads shared out over the ranks of this machine
    auto d = libtorch::load_denoiser<float>(ctx, model, {.intra_op_threads = libtorch::threads_per_rank(ctx)});
    Index const rf = d.receptive_field();  // from the file's metadata: the tiles' halo
    Tensor4<float> const untiled = d(x, 0.1);
    auto tiled = distribute(std::move(d), ctx, TilingConfig{.patch_size = 16});
    Tensor4<float> const y = tiled(x, 0.1);
    //! [torch]
    Shape<4> const start{0, 0, rf, rf}, size{1, 3, x.dimension(2) - 2 * rf, x.dimension(3) - 2 * rf};
    double const err = max_abs_diff(Tensor4<float>(y.slice(start, size)), Tensor4<float>(untiled.slice(start, size)));
    if (ctx.rank() == 0) std::printf("trained_denoiser: receptive field %lld, tiled vs untiled %.2e\n", (long long)rf, err);
    guide::check(err <= 1e-5, "trained_denoiser: tiled = untiled away from the border");
  }, &model);
}
