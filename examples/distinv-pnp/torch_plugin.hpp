#pragma once
// examples/distinv-pnp/torch_plugin.hpp: --denoiser torch without LibTorch in distinv-pnp itself.
// The network runs in a plugin, distinv-pnp-torch.so (torch_plugin.cpp, linked to LibTorch with an
// RPATH to it), which distinv-pnp loads (dlopen) only when --denoiser torch asks for it: a run of
// the TV or wavelet denoiser never maps LibTorch. This header is the interface both sides share
// (NetworkDenoiser, the plugin's entry point) and distinv-pnp's side: the loader and
// TorchPluginDenoiser, an optim::Denoiser over the plugin's TorchDenoiser<float>. POSIX and core/.
#include <dlfcn.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/torch/metadata.hpp"

namespace pnp {

/// What distinv-pnp tells the plugin about the network (libtorch::TorchDenoiserOptions' fields
/// that distinv-pnp sets; the others keep their defaults).
struct TorchPluginOptions {
  std::optional<distinv::libtorch::SigmaArg> sigma_arg;  ///< empty: the file's metadata
  distinv::Index receptive_field = -1;                   ///< -1: the file's metadata
  int intra_op_threads = 0;                              ///< > 0: LibTorch's intra-op threads
};

/// The plugin's denoiser: a libtorch::TorchDenoiser<float> behind virtual calls.
class NetworkDenoiser {
 public:
  virtual ~NetworkDenoiser() = default;
  /// A copy with its own module (TorchDenoiser's copy).
  virtual std::unique_ptr<NetworkDenoiser> clone() const = 0;
  /// The denoised batch; throws Error as TorchDenoiser does.
  virtual distinv::Tensor4<float> denoise(distinv::Tensor4<float> const& x, double sigma) const = 0;
  /// The halo its tiles need.
  virtual distinv::Index receptive_field() const = 0;
};

/// The plugin's entry point (extern "C", named by torch_plugin_entry): loads `file` as a
/// TorchScript denoiser; throws Error as TorchDenoiser's constructor does. The caller owns the result.
using NetworkDenoiserFactory = NetworkDenoiser* (*)(std::filesystem::path const& file, TorchPluginOptions const& options);
/// The entry point's symbol; its version changes with the interface above.
inline constexpr char const* torch_plugin_entry = "distinv_pnp_torch_denoiser_v1";

#ifdef DISTINV_PNP_TORCH_PLUGIN  // the plugin's path relative to distinv-pnp's folder (CMake)
/// The plugin's entry point, the plugin loaded on the first call (and kept: LibTorch cannot be
/// unloaded cleanly). Throws Error naming the plugin and the loader's reason where it cannot be
/// loaded (a distinv-pnp copied away from its plugin, LibTorch moved or removed).
inline NetworkDenoiserFactory torch_plugin() {
  static NetworkDenoiserFactory const factory = [] {  // one load for all rank threads
    std::error_code ec;
    std::filesystem::path const exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::filesystem::path const plugin = (exe.parent_path() / DISTINV_PNP_TORCH_PLUGIN).lexically_normal();
    void* const handle = dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
    DISTINV_REQUIRE(handle, "--denoiser torch: cannot load distinv-pnp's LibTorch plugin '", plugin.string(),
                    "': ", dlerror());
    void* const entry = dlsym(handle, torch_plugin_entry);
    DISTINV_REQUIRE(entry, "--denoiser torch: '", plugin.string(), "' has no ", torch_plugin_entry,
                    " (a plugin of another distinv-pnp?)");
    return reinterpret_cast<NetworkDenoiserFactory>(entry);
  }();
  return factory;
}
#endif

/// The plugin's network as an optim::Denoiser of floats. A copy runs its own module, as
/// TorchDenoiser's copies do (each rank thread of comm::Threads takes one).
class TorchPluginDenoiser {
 public:
  explicit TorchPluginDenoiser(std::unique_ptr<NetworkDenoiser> net) : net_(std::move(net)) {}
  TorchPluginDenoiser(TorchPluginDenoiser const& o) : net_(o.net_->clone()) {}
  TorchPluginDenoiser& operator=(TorchPluginDenoiser const& o) {
    if (this != &o) net_ = o.net_->clone();
    return *this;
  }
  TorchPluginDenoiser(TorchPluginDenoiser&&) noexcept = default;
  TorchPluginDenoiser& operator=(TorchPluginDenoiser&&) noexcept = default;

  distinv::Tensor4<float> operator()(distinv::Tensor4<float> const& x, double sigma) const {
    return net_->denoise(x, sigma);
  }
  distinv::Index receptive_field() const { return net_->receptive_field(); }

 private:
  std::unique_ptr<NetworkDenoiser> net_;
};
static_assert(distinv::optim::Denoiser<TorchPluginDenoiser, float>);

#ifdef DISTINV_PNP_TORCH_PLUGIN
/// Loads `file` through the plugin on every rank of `ctx` together: where the plugin or the file
/// cannot be loaded on one rank, every rank throws the same Error (libtorch::load_denoiser's rule).
template <class Ctx>
TorchPluginDenoiser load_torch_denoiser(Ctx const& ctx, std::filesystem::path const& file,
                                        TorchPluginOptions const& options) {
  return ctx.collectively("loading a TorchScript denoiser", [&] {
    return TorchPluginDenoiser(std::unique_ptr<NetworkDenoiser>(torch_plugin()(file, options)));
  });
}
#endif

}  // namespace pnp
