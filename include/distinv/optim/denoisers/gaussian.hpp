#pragma once
// optim/denoisers/gaussian.hpp: GaussianDenoiser, separable Gaussian smoothing of every
// (b, c) plane with a FIXED std (in samples; sigma is not used), truncated at
// ceil(truncate * std), replicated border. receptive_field() = that kernel radius.
// Models Denoiser. core/ and oneTBB only.
#include <algorithm>
#include <cmath>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/optim/denoisers/concepts.hpp"

namespace distinv::optim {

template <class T>
struct GaussianDenoiser {
  double stddev = 1.0;  ///< in samples
  double truncate = 3.0;

  Index receptive_field() const { return Index(std::ceil(truncate * stddev)); }

  Tensor4<T> operator()(Tensor4<T> const& x, double /*sigma*/) const {
    DISTINV_REQUIRE(stddev > 0 && truncate > 0, "GaussianDenoiser: expected stddev > 0 and truncate > 0, got ", stddev,
                    " and ", truncate);
    Index const r = receptive_field();
    std::vector<double> k(std::size_t(2 * r + 1));
    double s = 0;
    for (Index i = -r; i <= r; ++i) s += k[std::size_t(i + r)] = std::exp(-0.5 * double(i * i) / (stddev * stddev));
    for (auto& v : k) v /= s;
    return detail::map_planes(x, [&](T const* in, T* out, Index H, Index W) {
      std::vector<double> tmp(std::size_t(H * W));
      for (Index i = 0; i < H; ++i)
        for (Index j = 0; j < W; ++j) {
          double a = 0;
          for (Index m = -r; m <= r; ++m) a += k[std::size_t(m + r)] * in[i * W + std::clamp<Index>(j + m, 0, W - 1)];
          tmp[std::size_t(i * W + j)] = a;
        }
      for (Index i = 0; i < H; ++i)
        for (Index j = 0; j < W; ++j) {
          double a = 0;
          for (Index m = -r; m <= r; ++m) a += k[std::size_t(m + r)] * tmp[std::size_t(std::clamp<Index>(i + m, 0, H - 1) * W + j)];
          out[i * W + j] = T(a);
        }
    });
  }
};

static_assert(Denoiser<GaussianDenoiser<float>, float>);

}  // namespace distinv::optim
