#pragma once
// tests/torch/torch_models.hpp: where the fixture (make_models.py) wrote its models and data,
// and how the tests read them. Included first: LibTorch's c10 defines a glog-style CHECK that
// aborts on failure, which would silently replace doctest's CHECK; it is undefined here,
// before doctest defines its own.
#include "distinv/torch.hpp"
#undef CHECK
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "distinv/core/tensor.hpp"
#include "distinv/io/npy.hpp"

namespace distinv::testing {

inline std::filesystem::path torch_model(std::string const& name) {
  return std::filesystem::path(DISTINV_TORCH_TEST_MODELS) / name;
}

/// <name>.npy of the fixture (float32), as a Tensor4<T>.
template <class T = float>
Tensor4<T> torch_data(std::string const& name) {
  Tensor4<float> const x = io::read_npy<float, 4>(torch_model(name + ".npy"));
  return x.cast<T>();
}

/// The part of x farther than m samples from the image border (H and W).
template <class T>
Tensor4<T> interior(Tensor4<T> const& x, Index m) {
  Shape<4> const start{0, 0, m, m}, size{x.dimension(0), x.dimension(1), x.dimension(2) - 2 * m, x.dimension(3) - 2 * m};
  return Tensor4<T>(x.slice(start, size));
}

inline constexpr double sigma = 0.1;  // the fixture's noise level (make_models.py SIGMA)

}  // namespace distinv::testing
