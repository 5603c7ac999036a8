// reproducibility: the guide page "Reproducibility, errors, performance". The same bits on any
// number of ranks (reduce::Exact, the default), an Error with the same message on every rank,
// and which gradient path runs. Checks the data-fidelity gradient of a distributed stack
// against a one-process run byte for byte, and that a bad input throws before any collective.
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "distinv/distinv.hpp"
#include "distinv/factory.hpp"
#include "distinv/io/test_image.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/gaussian_blur.hpp"
#include "guide.hpp"

using namespace distinv;

//! [gradient]
template <class Ctx>
Tensor4<float> gradient(Ctx& ctx, std::vector<physics::Blur<float>> const& blurs, Tensor4<float> const& x,
                        bool print = false) {
  auto const y = distribute(blurs, ctx).forward(x);  // noise per operator: the same on any number of ranks
  auto b = make_distrib_bundle(ctx, FactoryConfig{blurs, y}, shape_of(x));
  auto const path = b.data_fidelity.gradient_path(x, b.measurements, b.physics);  // fused, cached or general
  if (print && ctx.rank() == 0)
    std::printf("gradient path: %s; rank 0 holds %zu of %lld operators and measurements\n",
                std::string(to_string(path)).c_str(), b.physics.local_operators().size(),
                (long long)b.physics.num_operators());
  Tensor4<float> const z = zeros_like(x);
  return b.data_fidelity.grad(z, b.measurements, b.physics);  // Σ_i A_iᵀ(A_i z − y_i), summed exactly
}
//! [gradient]

int main(int argc, char** argv) {
  auto const x = io::test_image<float>(48, 48, 3);
  std::vector<physics::Blur<float>> blurs;
  for (int i = 0; i < 5; ++i) {
    blurs.emplace_back(physics::gaussian_blur<float>(0.7 + 0.4 * i), physics::Padding::circular);
    blurs.back().set_noise(physics::GaussianNoise<float>{0.02f});
  }
  Tensor4<float> one;
  launch<comm::SingleProcess>([&](auto& ctx) { one = gradient(ctx, blurs, x); });

  return guide::run(argc, argv, [&](auto& ctx) {
    //! [bits]
    Tensor4<float> const g = gradient(ctx, blurs, x, /*print=*/true);
    guide::check(std::memcmp(g.data(), one.data(), sizeof(float) * std::size_t(g.size())) == 0,
                 "reproducibility: the gradient has the same bytes on any number of ranks");
    //! [bits]

    //! [errors]
    std::string message;
    try {
      TensorList<Tensor4<float>> too_few{x};  // one measurement for five operators
      auto b = make_distrib_bundle(ctx, FactoryConfig{blurs, too_few}, shape_of(x));
    } catch (Error const& e) {  // thrown on every rank, before any collective
      message = e.what();
    }
    //! [errors]
    auto const h = std::int64_t(std::hash<std::string>{}(message) >> 1);
    guide::check(message.find("expected 5 measurements") != std::string::npos, "reproducibility: the error says why");
    guide::check(ctx.all_reduce_value(h, ReduceOp::max) == ctx.all_reduce_value(h, ReduceOp::min),
                 "reproducibility: every rank has the same message");
  });
}
