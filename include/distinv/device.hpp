#pragma once
// device.hpp: where a rank's data lives. Host is plain memory (Eigen tensors); the CUDA
// device (distinv/cuda.hpp) adds GPU buffers. A device type names itself and its index.
#include <string>

namespace distinv::device {

struct Host {
  static constexpr bool is_gpu = false;
  std::string name() const { return "cpu"; }
};

}  // namespace distinv::device
