#pragma once
// device.hpp: where a rank's data lives. Host is plain memory (Eigen tensors); the CUDA
// device (distinv/cuda.hpp) adds GPU buffers. A device type names itself and its index.
#include <string>

namespace distinv::device {

/// The host (CPU): the default device of a context.
struct Host {
  /// False: host memory.
  static constexpr bool is_gpu = false;
  /// "cpu".
  std::string name() const { return "cpu"; }
};

}  // namespace distinv::device
