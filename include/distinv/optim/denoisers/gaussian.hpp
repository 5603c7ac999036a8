#pragma once
// optim/denoisers/gaussian.hpp: GaussianDenoiser, separable Gaussian smoothing of every
// (b, c) plane with a FIXED std (in samples; sigma is not used), truncated at
// ceil(truncate * std), replicated border, on any Signal through its space (two
// kernels::SeparablePass). receptive_field() = that kernel radius. Models Denoiser.
// core/, host/ and oneTBB only.
#include <cmath>
#include <type_traits>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/separable.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/host/space.hpp"
#include "distinv/optim/denoisers/concepts.hpp"
#include "distinv/optim/denoisers/planes.hpp"

namespace distinv::optim {

/// A Gaussian smoothing of every (b, c) plane (stddev samples, truncated at truncate · stddev), zero boundary;
/// sigma is unused. Runs on any (B, C, H, W) Signal of T. Models Denoiser.
template <class T>
struct GaussianDenoiser {
  double stddev = 1.0;  ///< in samples
  /// Kernel radius in units of stddev (default 3).
  double truncate = 3.0;

  /// ceil(truncate · stddev): the kernel radius.
  Index receptive_field() const { return Index(std::ceil(truncate * stddev)); }

  /// `d(x, sigma, space)`: on that space object (e.g. a device::Cuda with its stream).
  template <Signal X>
    requires(std::is_same_v<scalar_t<X>, T> && rank_v<X> == 4)
  X operator()(X const& x, double /*sigma*/, space_of_t<X> const& space = {}) const {
    using Space = space_of_t<X>;
    DISTINV_REQUIRE(stddev > 0 && truncate > 0, "GaussianDenoiser: expected stddev > 0 and truncate > 0, got ", stddev,
                    " and ", truncate);
    Index const r = receptive_field(), H = x.dimension(2), W = x.dimension(3);
    std::vector<double> k(std::size_t(2 * r + 1));
    double s = 0;
    for (Index i = -r; i <= r; ++i) s += k[std::size_t(i + r)] = std::exp(-0.5 * double(i * i) / (stddev * stddev));
    for (auto& v : k) v /= s;
    auto taps = detail::allocate<double>(Index(k.size()), space);
    space_traits<Space>::upload(k.data(), taps.data(), Index(k.size()), space);
    X y(shape_of(x));
    detail::for_plane_batches(space, x.dimension(0) * x.dimension(1), [&](auto const& launch, Index p0, Index count) {
      auto tmp = detail::allocate<double>(count * H * W, space);  // the rows pass, in double
      launch.grid(count * H, W,
                  kernels::SeparablePass<T, double>{x.data() + p0 * H * W, tmp.data(), taps.data(), r, H, W, false});
      launch.grid(count * H, W,
                  kernels::SeparablePass<double, T>{tmp.data(), y.data() + p0 * H * W, taps.data(), r, H, W, true});
    });
    return y;
  }
};

static_assert(Denoiser<GaussianDenoiser<float>, float>);

}  // namespace distinv::optim
