#pragma once
// optim/threshold.hpp: soft thresholding of a whole signal in place, x <- sign(x) max(|x| -
// lambda, 0), the prox of lambda ||.||_1, on any Signal (host or device) through its space.
// The value map is kernels::SoftThreshold (core/kernels/pointwise.hpp), the one definition
// the wavelet denoiser uses too. core/ and host/ only.
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/pointwise.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/host/space.hpp"

namespace distinv::optim {

/// x = soft_threshold(x, lambda) element-wise (`space`: where to run it, e.g. a device::Cuda
/// with its stream).
template <Signal X>
void soft_threshold(X& x, scalar_t<X> lambda, space_of_t<X> const& space = {}) {
  using T = scalar_t<X>;
  DISTINV_REQUIRE(lambda >= T(0), "soft_threshold: expected lambda >= 0, got ", lambda);
  auto const launch = space_traits<space_of_t<X>>::launcher(space);
  launch(x.size(), kernels::Map{kernels::SoftThreshold<T>{lambda}, x.data(), x.data()});
}

}  // namespace distinv::optim
