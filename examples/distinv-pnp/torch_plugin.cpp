// examples/distinv-pnp/torch_plugin.cpp: distinv-pnp-torch.so, the plugin that distinv-pnp loads
// for --denoiser torch (torch_plugin.hpp): libtorch::TorchDenoiser<float> as a NetworkDenoiser.
// The only code of distinv-pnp linked to LibTorch; it exports its entry point alone.
#include "distinv/torch.hpp"
#include "torch_plugin.hpp"

namespace {

class TorchNetwork final : public pnp::NetworkDenoiser {
 public:
  explicit TorchNetwork(distinv::libtorch::TorchDenoiser<float> d) : d_(std::move(d)) {}
  std::unique_ptr<pnp::NetworkDenoiser> clone() const override { return std::make_unique<TorchNetwork>(d_); }
  distinv::Tensor4<float> denoise(distinv::Tensor4<float> const& x, double sigma) const override { return d_(x, sigma); }
  distinv::Index receptive_field() const override { return d_.receptive_field(); }

 private:
  distinv::libtorch::TorchDenoiser<float> d_;
};

}  // namespace

extern "C" __attribute__((visibility("default"))) pnp::NetworkDenoiser* distinv_pnp_torch_denoiser_v1(
    std::filesystem::path const& file, pnp::TorchPluginOptions const& options) {
  static_assert(std::is_same_v<decltype(&distinv_pnp_torch_denoiser_v1), pnp::NetworkDenoiserFactory>);
  return new TorchNetwork(distinv::libtorch::TorchDenoiser<float>(
      file, {.sigma_arg = options.sigma_arg, .receptive_field = options.receptive_field,
             .intra_op_threads = options.intra_op_threads}));
}
