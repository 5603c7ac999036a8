// distinv against arrays computed by deepinv 0.5 itself (tests/data/deepinv/, written by
// make_reference.py there; versions.json names the deepinv and torch that made them):
// gaussian_blur (isotropic, anisotropic, rotated), Blur A / A_adjoint with odd and even kernels
// in all five paddings on the direct and the FFT path, and Downsampling with deepinv's
// gaussian, bilinear and bicubic filters. Inputs come from the files, so no Python is needed.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "distinv/config.hpp"
#include "distinv/io/npy.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/downsampling.hpp"
#include "distinv/physics/filters.hpp"
#include "distinv/physics/gaussian_blur.hpp"

using namespace distinv;
using namespace distinv::physics;

namespace {
std::string const dir = std::string(DISTINV_TEST_DATA_DIR) + "/deepinv/";
constexpr bool with_fftw = config::has_fftw;  // circular Blur also checked on its FFT path

template <class T, int R>
Tensor<T, R> load(std::string const& name) {
  return io::read_npy<T, R>(dir + name + ".npy");
}
/// A float reference in precision T (the double tests run on the same float inputs).
template <class T, int R>
Tensor<T, R> load_as(std::string const& name) {
  Tensor<float, R> const f = load<float, R>(name);
  Tensor<T, R> t(f.dimensions());
  std::copy(f.data(), f.data() + f.size(), t.data());
  return t;
}
template <class X>
double diff(X const& got, X const& want) {
  REQUIRE(got.dimensions() == want.dimensions());
  return max_abs_diff(got, want);
}

// deepinv's padding names as the file names use them, and distinv's.
struct NamedPadding {
  char const* name;
  Padding padding;
};
constexpr NamedPadding paddings[] = {{"valid", Padding::valid},
                                     {"circular", Padding::circular},
                                     {"reflect", Padding::reflect},
                                     {"replicate", Padding::replicate},
                                     {"constant", Padding::zeros}};

struct GaussianCase {
  char const* name;
  std::array<double, 2> sigma_yx;
  double angle;
  bool has_f64;
};
constexpr GaussianCase gaussian_cases[] = {
    {"iso_1", {1.0, 1.0}, 0, true},
    {"iso_2", {2.0, 2.0}, 0, false},
    {"iso_0p5_rot40", {0.5, 0.5}, 40, false},
    {"aniso_1p5_3", {1.5, 3.0}, 0, false},
    {"aniso_3_1", {3.0, 1.0}, 0, false},
    {"rot_1p5_3_a30", {1.5, 3.0}, 30, true},
    {"rot_0p6_0p3_a30", {0.6, 0.3}, 30, true},
    {"rot_1_0p4_am75", {1.0, 0.4}, -75, false},
    {"rot_0p7_2p2_am13", {0.7, 2.2}, -13, false},
    {"rot_2_0p8_a120", {2.0, 0.8}, 120, false},
    {"rot_1p2_2p5_a45", {1.2, 2.5}, 45, false},
};
}  // namespace

TEST_CASE_TEMPLATE("deepinv 0.5 reference: gaussian_blur, isotropic, anisotropic and rotated (<= 1e-6)", T, float,
                   double) {
  double worst = 0, worst64 = 0;
  for (auto const& c : gaussian_cases) {
    std::string const name = c.name;
    CAPTURE(name);
    auto const got = gaussian_blur<T>(c.sigma_yx, c.angle);
    double const d = diff(got, load_as<T, 2>(std::string("gaussian_") + c.name));
    CHECK(d <= 1e-6);
    worst = std::max(worst, d);
    if (std::is_same_v<T, double> && c.has_f64) {
      // deepinv's float64 kernel: the same formula to rounding.
      double const d64 = max_abs_diff(gaussian_blur<double>(c.sigma_yx, c.angle),
                                      load<double, 2>(std::string("gaussian_") + c.name + "_f64"));
      CHECK(d64 <= 1e-12);
      worst64 = std::max(worst64, d64);
    }
  }
  MESSAGE("gaussian_blur: max |distinv - deepinv float32| = ", worst, ", |distinv double - deepinv float64| = ",
          worst64);
}

TEST_CASE_TEMPLATE("deepinv 0.5 reference: Blur A and A_adjoint, odd and even kernels, every padding (<= 1e-5)", T,
                   float, double) {
  auto const x = load_as<T, 4>("blur_x"), y = load_as<T, 4>("blur_y");
  double worst_direct = 0, worst_fft = 0;
  for (std::string tag : {"3x3", "5x3", "4x6", "2x2", "3x4"}) {
    auto const k = load_as<T, 2>("blur_kernel_" + tag);
    for (auto const& p : paddings) {
      std::string const base = "blur_" + tag + "_" + p.name;
      auto const want_A = load_as<T, 4>(base + "_A"), want_At = load_as<T, 4>(base + "_At");
      auto const meas = p.padding == Padding::valid ? load_as<T, 4>("blur_y_" + tag + "_valid") : y;
      std::vector<BlurMethod> methods{BlurMethod::direct};
      if (p.padding == Padding::circular && with_fftw) methods.push_back(BlurMethod::fft);
      for (BlurMethod m : methods) {
        CAPTURE(base);
        std::string const method = m == BlurMethod::fft ? "fft" : "direct";
        CAPTURE(method);
        Blur<T> const b(k, p.padding, m);
        double const d = std::max(diff(b.A(x), want_A), diff(b.A_adjoint(meas), want_At));
        CHECK(d <= 1e-5);
        double& w = m == BlurMethod::fft ? worst_fft : worst_direct;
        w = std::max(w, d);
      }
    }
  }
  MESSAGE("Blur: max |distinv - deepinv| direct ", worst_direct, ", fft ", worst_fft);
}

TEST_CASE_TEMPLATE("deepinv 0.5 reference: Downsampling by 2 with its gaussian, bilinear, bicubic filters (<= 1e-5)",
                   T, float, double) {
  auto const x = load_as<T, 4>("down_x");
  // distinv's own filters against deepinv's (float32) ones.
  struct Filter {
    char const* name;
    Tensor<T, 2> k;
  };
  Filter const filters[] = {
      {"gaussian", gaussian_blur<T>(2.0)}, {"bilinear", bilinear_filter<T>(2)}, {"bicubic", bicubic_filter<T>(2)}};
  double worst_filter = 0, worst = 0;
  for (auto const& f : filters) {
    std::string const name = f.name;
    CAPTURE(name);
    double const df = diff(f.k, load_as<T, 2>(std::string("down_filter_") + f.name));
    CHECK(df <= 1e-7);
    worst_filter = std::max(worst_filter, df);
    for (auto const& p : paddings) {
      std::string const base = std::string("down_") + f.name + "_" + p.name;
      std::vector<BlurMethod> methods{BlurMethod::direct};
      if (p.padding == Padding::circular && with_fftw) methods.push_back(BlurMethod::fft);
      for (BlurMethod m : methods) {
        CAPTURE(base);
        std::string const method = m == BlurMethod::fft ? "fft" : "direct";
        CAPTURE(method);
        Downsampling<T> const d(2, f.k, p.padding, std::array<Index, 2>{19, 17}, m);
        double const e = std::max(diff(d.A(x), load_as<T, 4>(base + "_A")),
                                  diff(d.A_adjoint(load_as<T, 4>(std::string("down_y_") + f.name + "_" + p.name)),
                                       load_as<T, 4>(base + "_At")));
        CHECK(e <= 1e-5);
        worst = std::max(worst, e);
      }
    }
  }
  MESSAGE("Downsampling: max |filter - deepinv's| ", worst_filter, ", max |A, A_adjoint - deepinv| ", worst);
}
