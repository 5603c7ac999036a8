#pragma once
// torch/denoiser.hpp: TorchDenoiser<T>, a network trained in PyTorch / deepinv as a distinv
// Denoiser. Loads a TorchScript file (torch.jit.trace / script + save), runs it on (B, C, H, W)
// batches with the noise level passed the way deepinv's denoisers take it (model(x, sigma) with
// sigma a (B,) tensor or a float, or model(x)), and declares its receptive field (given, or from
// the file's metadata, torch/metadata.hpp). Eigen's row-major (B, C, H, W) is LibTorch's
// contiguous NCHW: the batch goes in without a copy (from_blob), the result comes back in one.
// Models optim::Denoiser. LibTorch (torch_cpu, c10) and core/ only.
#include <algorithm>
#include <array>
#include <concepts>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/full.h>
#include <ATen/ops/replication_pad2d.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/torch/metadata.hpp"

namespace distinv::libtorch {

/// What the caller says about the network; each left at its default is taken from the file's
/// metadata ("distinv.json"), and an explicit value wins over the metadata.
struct TorchDenoiserOptions {
  std::optional<SigmaArg> sigma_arg;  ///< empty: metadata, else SigmaArg::tensor
  Index receptive_field = -1;         ///< -1: metadata (required there then)
  Index channels = 0;                 ///< 0: metadata, else not checked before the call
  Index spatial_multiple = 0;         ///< 0: metadata, else 1; H, W are padded (replicate) up to it
  int intra_op_threads = 0;           ///< > 0: LibTorch's intra-op threads (process-wide), see threads.hpp
  bool optimize = true;               ///< torch::jit::optimize_for_inference (freeze, fold, oneDNN packing)
};

namespace detail {
/// The last non-empty line of a LibTorch message, without its C++ backtrace (TorchScript
/// prefixes the failing operation's message with its own traceback).
inline std::string torch_message(std::exception const& e) {
  auto const* c10 = dynamic_cast<::c10::Error const*>(&e);
  std::string const s = c10 ? c10->what_without_backtrace() : e.what();
  std::size_t const end = s.find_last_not_of(" \n\r\t");
  if (end == std::string::npos) return s;
  std::size_t const newline = s.find_last_of('\n', end);
  std::size_t const begin = newline == std::string::npos ? 0 : newline + 1;
  return s.substr(begin, end + 1 - begin);
}
inline std::string sizes_string(::at::IntArrayRef s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}
}  // namespace detail

/// A TorchScript denoiser on the host. It keeps the module as loaded (never run) and runs its own
/// deep copy of it, optimised for inference unless options.optimize is false (about 2x faster on
/// CPU: weights frozen and prepacked for oneDNN); a copy of the denoiser makes its own, so that
/// each rank of the Threads backend that takes its own copy (distribute(), DistributedPrior)
/// runs its own module. Moves are cheap. The module must not write into its input (none of
/// deepinv's denoisers does): the batch is handed to it in place.
template <class T>
class TorchDenoiser {
  static_assert(std::floating_point<T>, "TorchDenoiser<T>: T must be float or double");

 public:
  /// Loads `file`; throws Error for an unreadable file, a file that is not TorchScript, bad
  /// metadata, or a receptive field neither given nor in the metadata.
  explicit TorchDenoiser(std::filesystem::path file, TorchDenoiserOptions const& options = {}) : file_(std::move(file)) {
    std::string const name = file_.string();
    std::error_code ec;
    DISTINV_REQUIRE(std::filesystem::is_regular_file(file_, ec), "TorchDenoiser: cannot read the model file '", name,
                    "' (no such file)");
    ::torch::jit::ExtraFilesMap extra{{"distinv.json", ""}};
    try {
      loaded_ = ::torch::jit::load(name, ::c10::Device(::c10::kCPU), extra);
    } catch (std::exception const& e) {
      fail("TorchDenoiser: cannot load '", name, "' as a TorchScript module (torch.jit.save): ",
           detail::torch_message(e));
    }
    loaded_.eval();
    ModelInfo const info = extra["distinv.json"].empty() ? ModelInfo{}
                                                         : parse_model_info(extra["distinv.json"], name + ": distinv.json");
    DISTINV_REQUIRE(options.receptive_field >= 0 || info.receptive_field, "TorchDenoiser '", name,
                    "': expected a receptive field, in the options (receptive_field >= 0) or in the file's "
                    "distinv.json; got neither");
    DISTINV_REQUIRE(options.channels >= 0 && options.spatial_multiple >= 0 && options.intra_op_threads >= 0,
                    "TorchDenoiser: expected channels, spatial_multiple and intra_op_threads >= 0, got ",
                    options.channels, ", ", options.spatial_multiple, " and ", options.intra_op_threads);
    receptive_field_ = options.receptive_field >= 0 ? options.receptive_field : *info.receptive_field;
    sigma_arg_ = options.sigma_arg.value_or(info.sigma_arg.value_or(SigmaArg::tensor));
    channels_ = options.channels > 0 ? options.channels : info.channels.value_or(0);
    multiple_ = options.spatial_multiple > 0 ? options.spatial_multiple : info.spatial_multiple.value_or(1);
    threads_ = options.intra_op_threads;
    optimize_ = options.optimize;
    dtype_ = ::c10::CppTypeToScalarType<T>::value;
    for (auto const& p : loaded_.parameters()) {  // the network's own precision
      dtype_ = p.scalar_type();
      break;
    }
    module_ = prepare();
  }

  /// A copy with its own module (the ranks of Threads never share one).
  TorchDenoiser(TorchDenoiser const& o)
      : file_(o.file_), loaded_(o.loaded_), receptive_field_(o.receptive_field_), sigma_arg_(o.sigma_arg_),
        channels_(o.channels_), multiple_(o.multiple_), threads_(o.threads_), optimize_(o.optimize_),
        dtype_(o.dtype_) {
    module_ = prepare();
  }
  /// A copy with its own module.
  TorchDenoiser& operator=(TorchDenoiser const& o) {
    if (this != &o) *this = TorchDenoiser(o);
    return *this;
  }
  /// Moves.
  TorchDenoiser(TorchDenoiser&&) noexcept = default;
  /// Moves.
  TorchDenoiser& operator=(TorchDenoiser&&) noexcept = default;

  /// The halo its tiles need, in samples (from the options, else the file's metadata).
  Index receptive_field() const noexcept { return receptive_field_; }
  /// How the network takes the noise level.
  SigmaArg sigma_arg() const noexcept { return sigma_arg_; }
  Index channels() const noexcept { return channels_; }  ///< 0: not declared
  /// The multiple H and W of a batch are padded to (1: none).
  Index spatial_multiple() const noexcept { return multiple_; }
  /// The TorchScript file it was loaded from.
  std::filesystem::path const& file() const noexcept { return file_; }

  /// The denoised batch, of the shape of `x`. Throws Error for a wrong channel count, a module
  /// that fails on the batch, or one whose output is not a tensor of the input's shape.
  Tensor4<T> operator()(Tensor4<T> const& x, double sigma) const {
    auto const d = x.dimensions();
    std::array<std::int64_t, 4> const sizes{d[0], d[1], d[2], d[3]};
    DISTINV_REQUIRE(channels_ == 0 || d[1] == channels_, "TorchDenoiser '", file_.string(), "': expected ", channels_,
                    " channels, got a batch of shape ", distinv::to_string(shape_of(x)));
    if (x.size() == 0) return Tensor4<T>(d);
    if (threads_ > 0 && ::at::get_num_threads() != threads_) ::at::set_num_threads(threads_);
    ::c10::InferenceMode guard;
    auto const own = ::at::TensorOptions().dtype(::c10::CppTypeToScalarType<T>::value);
    ::at::Tensor in = ::at::from_blob(const_cast<T*>(x.data()), sizes, own);  // no copy
    if (dtype_ != in.scalar_type()) in = in.to(dtype_);
    std::int64_t const pad_h = (multiple_ - d[2] % multiple_) % multiple_, pad_w = (multiple_ - d[3] % multiple_) % multiple_;
    if (pad_h || pad_w) in = ::at::replication_pad2d(in, {0, pad_w, 0, pad_h});
    std::vector<::c10::IValue> args{in};
    if (sigma_arg_ == SigmaArg::tensor) args.emplace_back(::at::full({d[0]}, sigma, in.options()));
    if (sigma_arg_ == SigmaArg::scalar) args.emplace_back(sigma);
    ::c10::IValue result;
    try {
      result = module_.forward(std::move(args));
    } catch (std::exception const& e) {
      fail("TorchDenoiser '", file_.string(), "': the module failed on a batch of shape ", distinv::to_string(shape_of(x)),
           " (sigma passed as ", to_string(sigma_arg_), "): ", detail::torch_message(e));
    }
    DISTINV_REQUIRE(result.isTensor(), "TorchDenoiser '", file_.string(), "': expected the module to return a tensor, got ",
                    result.tagKind());
    ::at::Tensor out = result.toTensor();
    DISTINV_REQUIRE(out.dim() == 4 && out.size(0) == d[0] && out.size(1) == d[1] && out.size(2) == d[2] + pad_h &&
                        out.size(3) == d[3] + pad_w,
                    "TorchDenoiser '", file_.string(), "': expected an output of the input's shape ",
                    detail::sizes_string(in.sizes()), ", got ", detail::sizes_string(out.sizes()));
    if (pad_h || pad_w) out = out.slice(2, 0, d[2]).slice(3, 0, d[3]);
    out = out.to(::c10::kCPU, ::c10::CppTypeToScalarType<T>::value).contiguous();
    Tensor4<T> y(d);
    std::memcpy(y.data(), out.const_data_ptr<T>(), sizeof(T) * std::size_t(y.size()));
    return y;
  }

 private:
  /// This copy's own module: a deep copy of the loaded one, optimised for inference if asked
  /// (where the optimisation fails, a warning and the module as saved).
  ::torch::jit::Module prepare() const {
    // One copy at a time in the process: the copies share the loaded module's compilation unit,
    // which TorchScript's deepcopy and freezing passes change without a lock (rank threads of
    // comm::Threads copying at once corrupted it: "class ... already defined", then a hang).
    static std::mutex compilation_unit;
    std::lock_guard<std::mutex> const lock(compilation_unit);
    ::torch::jit::Module m = loaded_.deepcopy();
    if (!optimize_) return m;
    try {
      return ::torch::jit::optimize_for_inference(m);
    } catch (std::exception const& e) {
      std::cerr << "distinv: warning: TorchDenoiser '" << file_.string()
                << "': optimize_for_inference failed, running the module as saved: " << detail::torch_message(e) << "\n";
      return loaded_.deepcopy();
    }
  }

  std::filesystem::path file_;
  ::torch::jit::Module loaded_;          // as loaded, in eval mode; never run (the source of copies)
  mutable ::torch::jit::Module module_;  // forward() is not const; inference leaves it unchanged
  Index receptive_field_ = 0;
  SigmaArg sigma_arg_ = SigmaArg::tensor;
  Index channels_ = 0;
  Index multiple_ = 1;
  int threads_ = 0;
  bool optimize_ = true;
  ::c10::ScalarType dtype_ = ::c10::ScalarType::Float;
};

static_assert(optim::Denoiser<TorchDenoiser<float>, float>);
static_assert(optim::Denoiser<TorchDenoiser<double>, double>);

/// Loads a TorchDenoiser on every rank of `ctx` together: if the file cannot be loaded on one
/// rank (missing on that node, say), every rank throws the same Error, nobody is left waiting.
template <class T, class Ctx>
TorchDenoiser<T> load_denoiser(Ctx const& ctx, std::filesystem::path const& file, TorchDenoiserOptions const& options = {}) {
  return ctx.collectively("loading a TorchScript denoiser", [&] { return TorchDenoiser<T>(file, options); });
}

}  // namespace distinv::libtorch
