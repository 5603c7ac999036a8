#pragma once
// tests/unit/physics_helpers.hpp: seeded random tensors and the dot-test tolerance shared by
// the physics_*.cpp and optim_linear_*.cpp tests.
#include <random>

#include "distinv/core/tensor.hpp"

namespace distinv::testing {

template <class T, int R>
Tensor<T, R> random_tensor(std::array<Index, R> shape, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  Tensor<T, R> t(shape);
  for (auto& v : flat(t)) v = static_cast<T>(n(rng));
  return t;
}

/// Relative tolerance of an identity between two inner products accumulated in double.
template <class T>
constexpr double dot_tol() {
  return sizeof(T) == 4 ? 1e-5 : 1e-12;
}

/// |a - b| / max(|a|, |b|, tiny)
inline double rel_diff(double a, double b) {
  double const s = std::max({std::abs(a), std::abs(b), 1e-300});
  return std::abs(a - b) / s;
}

}  // namespace distinv::testing
