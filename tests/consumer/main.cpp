// Consumer of the installed package: a threads run summing rank numbers, and, when the
// installation has FFTW (distinv/config.hpp), a circular blur through the FFT path (so that
// the package's FFTW dependency is found and linked with distinv::distinv alone).
#include <distinv/distinv.hpp>

#include <cstdio>

int main() {
  distinv::launch<distinv::comm::Threads>(3, [](auto& ctx) {
    double v = ctx.rank() + 1;
    ctx.all_reduce(std::span<double>(&v, 1));
    if (ctx.rank() == 0) std::printf("consumer: sum over %d ranks = %g\n", ctx.world_size(), v);
    if (v != 6) throw distinv::Error("wrong sum");
  });
  if constexpr (distinv::config::has_fftw) {
    using namespace distinv::physics;
    Blur<float> fft(gaussian_blur<float>(3.0), Padding::circular, BlurMethod::fft);
    Blur<float> direct(gaussian_blur<float>(3.0), Padding::circular, BlurMethod::direct);
    distinv::Tensor4<float> x(1, 1, 32, 24);
    x.setRandom();
    double const d = distinv::max_abs_diff(fft.A(x), direct.A(x));
    std::printf("consumer: FFT blur vs direct blur, max difference %.2e\n", d);
    if (d > 1e-5) throw distinv::Error("FFT and direct blurs differ");
  }
}
