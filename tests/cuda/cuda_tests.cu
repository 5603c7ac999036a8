// tests/cuda/cuda_tests.cu: the CUDA backend against naive host references written here.
// DeviceTensor transfers, launchers and reductions, device Blur for every padding (direct and
// cuFFT), adjoint dot tests, CircularNormal fused == plain, HostStaged collectives over
// SingleProcess and Threads ranks, comm::Nccl on one rank, optim's TV / wavelet denoisers,
// transforms and TV prior on device tensors against the same on host tensors, the generic tiled
// extraction and reduction on device signals against the host. Without a CUDA device the
// program prints "SKIPPED: no CUDA device" and returns 77 (CTest: Skipped).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "distinv/config.hpp"
#include "distinv/comm/single_process.hpp"
#include "distinv/comm/threads.hpp"
#include "distinv/core/kernels/for_each.hpp"
#include "distinv/core/kernels/tiling.hpp"
#include "distinv/context.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/cuda.hpp"
#include "distinv/optim/denoisers/tv.hpp"
#include "distinv/physics/blur.hpp"
#include "distinv/physics/circular_normal.hpp"
#include "distinv/optim/denoisers/wavelet.hpp"
#include "distinv/optim/prior.hpp"
#include "distinv/optim/threshold.hpp"
#include "distinv/tiling/process.hpp"
#include "distinv/tiling/with_strategy.hpp"

using namespace distinv;
using cuda::DeviceTensor;
using kernels::Padding;
using physics::BlurMethod;
/// The device blur on `stream` (device 0).
template <class T>
using DeviceBlur = physics::Blur<T, device::Cuda>;

namespace {

template <class T>
double tol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}
/// Absolute tolerance on convolution outputs of order one.
template <class T>
double conv_tol() {
  return std::is_same_v<T, float> ? 1e-4 : 1e-10;
}

template <class T, int R>
Tensor<T, R> random_tensor(Shape<R> const& s, unsigned seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Tensor<T, R> t(s);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = T(u(g));
  return t;
}

// numpy-style padding, step by step.
Index source(Padding m, Index i, Index n) {
  if (i >= 0 && i < n) return i;
  switch (m) {
    case Padding::circular: return ((i % n) + n) % n;
    case Padding::replicate: return std::clamp<Index>(i, 0, n - 1);
    case Padding::reflect:
      if (n == 1) return 0;
      while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      return i;
    default: return -1;
  }
}

// deepinv 0.5 conv2d on the host: pad (kh//2 - (kh-1)%2, kh//2) x (kw//2 - (kw-1)%2, kw//2)
// (none for valid), i.e. the centre kh//2 for even kernels too, then correlate with the flipped
// filter; filter (Bf, Cf, kh, kw) broadcast over (B, C).
template <class T>
Tensor4<T> ref_conv(Tensor4<T> const& x, Tensor4<T> const& f, Padding m) {
  Index const B = x.dimension(0), C = x.dimension(1), H = x.dimension(2), W = x.dimension(3);
  Index const Bf = f.dimension(0), Cf = f.dimension(1), kh = f.dimension(2), kw = f.dimension(3);
  bool const valid = m == Padding::valid;
  Index const pt = valid ? 0 : kh / 2 - (kh - 1) % 2, pl = valid ? 0 : kw / 2 - (kw - 1) % 2;
  Index const Ho = valid ? H - kh + 1 : H, Wo = valid ? W - kw + 1 : W;
  Tensor4<T> y(B, C, Ho, Wo);
  for (Index b = 0; b < B; ++b)
    for (Index c = 0; c < C; ++c)
      for (Index i = 0; i < Ho; ++i)
        for (Index j = 0; j < Wo; ++j) {
          double acc = 0;
          for (Index a = 0; a < kh; ++a)
            for (Index d = 0; d < kw; ++d) {
              Index const r = source(m, i + a - pt, H), s = source(m, j + d - pl, W);
              if (r < 0 || s < 0) continue;
              acc += double(f(Bf == 1 ? 0 : b, Cf == 1 ? 0 : c, kh - 1 - a, kw - 1 - d)) * double(x(b, c, r, s));
            }
          y(b, c, i, j) = T(acc);
        }
  return y;
}

template <class T>
Tensor4<T> host_sum(Tensor4<T> const& a, Tensor4<T> const& b, T sb = T(1)) {
  Tensor4<T> out(shape_of(a));
  for (Index i = 0; i < a.size(); ++i) out.data()[i] = a.data()[i] + sb * b.data()[i];
  return out;
}

struct BlurCase {
  Shape<4> x, f;
};
std::vector<BlurCase> const blur_cases{
    {{2, 3, 16, 13}, {1, 1, 5, 3}},   // odd filter, shared by every plane
    {{2, 2, 12, 15}, {2, 1, 4, 6}},   // even filter, one per batch entry
    {{1, 3, 9, 10}, {1, 3, 3, 3}},    // one per channel
    {{1, 1, 6, 5}, {1, 1, 7, 9}},     // filter larger than the image (not for valid)
};

}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  cudaError_t const e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    std::printf("SKIPPED: no CUDA device (%s)\n", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}

TEST_CASE_TEMPLATE("cuda: DeviceTensor round trip, clone, move, zeros", T, float, double) {
  cuda::Stream stream;
  auto const h = random_tensor<T, 4>({2, 3, 4, 5}, 1);
  auto d = cuda::to_device(h, stream);
  CHECK(d.shape() == shape_of(h));
  CHECK(d.size() == 120);
  CHECK(max_abs_diff(d.to_host(stream), h) == 0);
  auto c = d.clone(stream);
  auto moved = std::move(d);
  CHECK(d.size() == 0);
  CHECK(d.data() == nullptr);
  CHECK(max_abs_diff(c.to_host(stream), h) == 0);
  CHECK(max_abs_diff(moved.to_host(stream), h) == 0);
  auto z = DeviceTensor<T, 4>::zeros({2, 3, 4, 5}, stream);
  CHECK(max_abs(z.to_host(stream)) == 0);
  Tensor4<T> wrong(1, 1, 1, 1);
  CHECK_THROWS_AS(z.copy_from(wrong, stream), Error);
  CHECK(device::Cuda{0, stream}.name() == "cuda:0");
  static_assert(device::Cuda::is_gpu);
  DistributedContext<comm::SingleProcess, shard::RoundRobin, device::Cuda> ctx(comm::SingleProcess{}, {},
                                                                               device::Cuda{0, stream});
  CHECK(ctx.device().name() == "cuda:0");
  CHECK(ctx.device().stream == stream.get());
}

TEST_CASE_TEMPLATE("cuda: axpy, scale, soft threshold, dot and norm match the host", T, float, double) {
  cuda::Stream stream;
  Shape<2> const s{37, 1001};  // not a multiple of the block size
  auto const hx = random_tensor<T, 2>(s, 2), hy = random_tensor<T, 2>(s, 3);
  auto x = cuda::to_device(hx, stream), y = cuda::to_device(hy, stream);
  cuda::Reducer reducer;
  CHECK(cuda::dot(x, y, reducer, stream) == doctest::Approx(dot(hx, hy)).epsilon(1e-12));
  CHECK(cuda::norm(x, reducer, stream) == doctest::Approx(norm(hx)).epsilon(1e-12));
  CHECK(cuda::dot(x, y, stream) == cuda::dot(x, y, reducer, stream));  // same grid: same result
  cuda::axpy(T(0.5), x, y, stream);
  auto const gy = y.to_host(stream);
  for (Index i = 0; i < gy.size(); ++i)
    CHECK(gy.data()[i] == doctest::Approx(double(hy.data()[i] + T(0.5) * hx.data()[i])).epsilon(tol<T>()));
  cuda::scale(T(-2), x, stream);
  CHECK(max_abs_diff(x.to_host(stream), Tensor<T, 2>(hx * T(-2))) == 0);
  optim::soft_threshold(x, T(1), device::Cuda{0, stream});
  auto const gs = x.to_host(stream);
  kernels::SoftThreshold<T> st{T(1)};
  for (Index i = 0; i < gs.size(); ++i) CHECK(gs.data()[i] == st(T(-2) * hx.data()[i]));
  DeviceTensor<T, 2> other(Shape<2>{37, 1000});
  CHECK_THROWS_AS(cuda::axpy(T(1), x, other, stream), Error);
}

TEST_CASE_TEMPLATE("cuda: the launcher runs a core functor like the host loop (padded window copy-in)", T, float,
                   double) {
  cuda::Stream stream;
  auto const hx = random_tensor<T, 4>({1, 2, 9, 11}, 4);
  auto x = cuda::to_device(hx, stream);
  Index const h = 6, w = 7, P = 2;
  for (Padding m : {Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros}) {
    // A window at (-3, 7) read through pad_index maps, as a tiling layout gives them.
    std::vector<Index> maps{0}, offset{0, 1, 1 + P, 1 + P + h};
    for (Index p = 0; p < P; ++p) maps.push_back(p);
    for (Index i = 0; i < h; ++i) maps.push_back(kernels::pad_index(m, -3 + i, 9));
    for (Index j = 0; j < w; ++j) maps.push_back(kernels::pad_index(m, 7 + j, 11));
    std::vector<Index> const patch0{0};
    std::vector<T> host_patch(std::size_t(P * h * w));
    kernels::TileExtract<T, 4> hf{hx.data(), host_patch.data(), maps.data(), offset.data(), patch0.data(),
                                  {1, P, h, w}, {2 * 9 * 11, 9 * 11, 11, 1}, P * h};
    kernels::for_each_index(P * h * w, hf);
    cuda::DeviceBuffer<Index> dmaps(maps.size()), doffset(offset.size()), dpatch(1);
    cuda::check(cudaMemcpy(dmaps.data(), maps.data(), maps.size() * sizeof(Index), cudaMemcpyHostToDevice), "cudaMemcpy");
    cuda::check(cudaMemcpy(doffset.data(), offset.data(), offset.size() * sizeof(Index), cudaMemcpyHostToDevice),
                "cudaMemcpy");
    cuda::check(cudaMemcpy(dpatch.data(), patch0.data(), sizeof(Index), cudaMemcpyHostToDevice), "cudaMemcpy");
    for (bool grid : {false, true}) {
      DeviceTensor<T, 4> patch(Shape<4>{1, P, h, w});
      kernels::TileExtract<T, 4> df = hf;
      df.src = x.data();
      df.windows = patch.data();
      df.maps = dmaps.data();
      df.map_offset = doffset.data();
      df.patches = dpatch.data();
      if (grid)
        cuda::Launch{stream}.grid(P * h, w, df);
      else
        cuda::for_each(P * h * w, df, stream);
      auto const got = patch.to_host(stream);
      CAPTURE(grid);
      CHECK(std::equal(host_patch.begin(), host_patch.end(), got.data()));
    }
  }
}

TEST_CASE_TEMPLATE("cuda: Blur matches the naive host convolution for every padding", T, float, double) {
  cuda::Stream stream;
  for (Padding m : {Padding::valid, Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros})
    for (auto const& c : blur_cases) {
      if (m == Padding::valid && (c.f[2] > c.x[2] || c.f[3] > c.x[3])) continue;
      CAPTURE(kernels::padding_name(m));
      CAPTURE(to_string(c.f));
      auto const hx = random_tensor<T, 4>(c.x, 5), hf = random_tensor<T, 4>(c.f, 6);
      auto const ref = ref_conv(hx, hf, m);
      auto x = cuda::to_device(hx, stream);
      DeviceBlur<T> direct(hf, m, BlurMethod::direct, device::Cuda{0, stream});
      auto const y = direct.A(x).to_host(stream);
      CHECK(shape_of(y) == shape_of(ref));
      CHECK(max_abs_diff(y, ref) < conv_tol<T>());
      if (m == Padding::circular) {
        DeviceBlur<T> fft(hf, m, BlurMethod::automatic, device::Cuda{0, stream});
        CHECK(fft.uses_fft(c.x[2], c.x[3]));
        CHECK(max_abs_diff(fft.A(x).to_host(stream), ref) < conv_tol<T>());
      }
    }
  Tensor4<T> f(1, 2, 3, 3);
  f.setConstant(T(1));
  DeviceBlur<T> bad(f, Padding::zeros, BlurMethod::automatic, device::Cuda{0, stream});
  DeviceTensor<T, 4> x3(Shape<4>{1, 3, 8, 8});
  CHECK_THROWS_AS(bad.A(x3), Error);  // 2 filter channels for 3 signal channels
  CHECK_THROWS_AS(DeviceBlur<T>(f, Padding::reflect, BlurMethod::fft, device::Cuda{0, stream}), Error);
}

TEST_CASE_TEMPLATE("cuda: Blur passes the dot test <A x, y> = <x, A^T y> on the device", T, float, double) {
  cuda::Stream stream;
  cuda::Reducer reducer;
  for (Padding m : {Padding::valid, Padding::circular, Padding::reflect, Padding::replicate, Padding::zeros})
    for (auto method : {BlurMethod::direct, BlurMethod::automatic})
      for (auto const& c : blur_cases) {
        if (m == Padding::valid && (c.f[2] > c.x[2] || c.f[3] > c.x[3])) continue;
        CAPTURE(kernels::padding_name(m));
        CAPTURE(to_string(c.f));
        DeviceBlur<T> A(random_tensor<T, 4>(c.f, 7), m, method, device::Cuda{0, stream});
        auto x = cuda::to_device(random_tensor<T, 4>(c.x, 8), stream);
        auto y = cuda::to_device(random_tensor<T, 4>(A.output_shape(c.x), 9), stream);
        auto const Ax = A.A(x);
        auto const Aty = A.A_adjoint(y);
        CHECK(Aty.shape() == c.x);
        double const lhs = cuda::dot(Ax, y, reducer, stream), rhs = cuda::dot(x, Aty, reducer, stream);
        CHECK(lhs == doctest::Approx(rhs).epsilon(10 * tol<T>()));
        // A^T A x == A^T (A x)
        auto const AtAx = A.A_adjoint_A(x).to_host(stream);
        auto const ref = A.A_adjoint(Ax).to_host(stream);
        CHECK(max_abs_diff(AtAx, ref) < conv_tol<T>());
      }
}

TEST_CASE_TEMPLATE("cuda: cuFFT circular blur equals the direct one (A, A^T, A^T A)", T, float, double) {
  cuda::Stream stream;
  for (auto const& c : blur_cases) {
    CAPTURE(to_string(c.f));
    auto const hf = random_tensor<T, 4>(c.f, 10);
    DeviceBlur<T> fft(hf, Padding::circular, BlurMethod::automatic, device::Cuda{0, stream}),
        direct(hf, Padding::circular, BlurMethod::direct, device::Cuda{0, stream});
    auto x = cuda::to_device(random_tensor<T, 4>(c.x, 11), stream);
    CHECK(max_abs_diff(fft.A(x).to_host(stream), direct.A(x).to_host(stream)) < conv_tol<T>());
    CHECK(max_abs_diff(fft.A_adjoint(x).to_host(stream), direct.A_adjoint(x).to_host(stream)) < conv_tol<T>());
    CHECK(max_abs_diff(fft.A_adjoint_A(x).to_host(stream), direct.A_adjoint_A(x).to_host(stream)) <
          10 * conv_tol<T>());
    // a second signal size reuses nothing stale from the first
    Shape<4> s2 = c.x;
    s2[2] += 3;
    auto x2 = cuda::to_device(random_tensor<T, 4>(s2, 12), stream);
    CHECK(max_abs_diff(fft.A(x2).to_host(stream), direct.A(x2).to_host(stream)) < conv_tol<T>());
  }
}

TEST_CASE_TEMPLATE("cuda: CircularNormal fused normal equations equal the plain sums", T, float, double) {
  cuda::Stream stream;
  Shape<4> const s{2, 2, 12, 10};
  std::vector<DeviceBlur<T>> ops;
  std::vector<DeviceTensor<T, 4>> ys;
  Shape<4> const fshapes[] = {{1, 1, 5, 5}, {2, 1, 3, 4}, {1, 2, 6, 3}};
  for (int i = 0; i < 3; ++i) {
    ops.emplace_back(random_tensor<T, 4>(fshapes[i], 20 + unsigned(i)), Padding::circular, BlurMethod::automatic,
                     device::Cuda{0, stream});
    ys.push_back(cuda::to_device(random_tensor<T, 4>(s, 30 + unsigned(i)), stream));
  }
  auto x = cuda::to_device(random_tensor<T, 4>(s, 40), stream);
  // plain: sum_i A_i^T A_i x, sum_i A_i^T y_i, sum_i A_i^T (A_i x - y_i), on the host
  Tensor4<T> AtA = zeros<T>(s), Aty = zeros<T>(s);
  for (int i = 0; i < 3; ++i) {
    AtA = host_sum(AtA, ops[std::size_t(i)].A_adjoint_A(x).to_host(stream));
    Aty = host_sum(Aty, ops[std::size_t(i)].A_adjoint(ys[std::size_t(i)]).to_host(stream));
  }
  Tensor4<T> const grad = host_sum(AtA, Aty, T(-1));

  // filters of (2, 1) and (1, 2) planes: the weight S needs (2, 2) planes
  physics::CircularNormal<T, device::Cuda> normal(s, {2, 2}, device::Cuda{0, stream});
  for (int i = 0; i < 3; ++i) normal.add(ops[std::size_t(i)], ys[std::size_t(i)]);
  CHECK(normal.spectrum_sum().size() == std::size_t(4 * 12 * 6));
  CHECK(normal.data_term().size() == std::size_t(2 * 4 * 12 * 6));
  CHECK(max_abs_diff(normal.normal(x).to_host(stream), AtA) < 10 * conv_tol<T>());
  CHECK(max_abs_diff(normal.A_adjoint_y().to_host(stream), Aty) < 10 * conv_tol<T>());
  CHECK(max_abs_diff(normal.grad(x).to_host(stream), grad) < 10 * conv_tol<T>());

  // without measurements: the normal operator only; the rhs stays zero
  physics::CircularNormal<T, device::Cuda> only(s, {2, 2}, device::Cuda{0, stream});
  for (auto const& A : ops) only.add_operator(A);
  CHECK(max_abs_diff(only.grad(x).to_host(stream), AtA) < 10 * conv_tol<T>());
  Tensor4<T> f(1, 1, 3, 3);
  f.setConstant(T(1));
  CHECK_THROWS_AS(only.add_operator(DeviceBlur<T>(f, Padding::zeros, BlurMethod::automatic, device::Cuda{0, stream})), Error);
  DeviceTensor<T, 4> wrong(Shape<4>{2, 2, 12, 11});
  CHECK_THROWS_AS(only.grad(wrong), Error);

  // three "ranks" (threads) hold one operator each; after all-reducing S and B through
  // HostStaged<Threads>, every rank's gradient equals the single-process one
  int const P = 3;
  auto world = comm::Threads::make_world(P);
  std::vector<double> worst(std::size_t(P), 1e300);
  {
    std::vector<std::jthread> ranks;
    for (int r = 0; r < P; ++r)
      ranks.emplace_back([&, r] {
        cuda::Stream st;
        cuda::HostStaged<comm::Threads> comm(comm::Threads(world, r), st);
        physics::CircularNormal<T, device::Cuda> local(s, {2, 2}, device::Cuda{0, st});
        local.add(ops[std::size_t(r)], ys[std::size_t(r)]);
        comm.all_reduce(local.spectrum_sum(), ReduceOp::sum);
        comm.all_reduce(local.data_term(), ReduceOp::sum);
        auto xr = cuda::to_device(random_tensor<T, 4>(s, 40), st);
        worst[std::size_t(r)] = max_abs_diff(local.grad(xr).to_host(st), grad);
        comm.barrier();
      });
  }
  for (double w : worst) CHECK(w < 10 * conv_tol<T>());
}

TEST_CASE("cuda: HostStaged collectives over SingleProcess and Threads") {
  static_assert(cuda::DeviceCommBackend<cuda::HostStaged<comm::SingleProcess>>);
  static_assert(cuda::DeviceCommBackend<cuda::HostStaged<comm::Threads>>);
  {
    cuda::Stream st;
    cuda::HostStaged<comm::SingleProcess> one(comm::SingleProcess{}, st);
    auto h = random_tensor<double, 1>({10}, 50);
    auto d = cuda::to_device(h, st);
    one.all_reduce(d.span(), ReduceOp::sum);
    CHECK(max_abs_diff(d.to_host(st), h) == 0);
    CHECK_THROWS_AS(one.broadcast(d.span(), 1), Error);
  }
  int const P = 4;
  auto world = comm::Threads::make_world(P);
  std::vector<int> ok(std::size_t(P), 0);
  {
    std::vector<std::jthread> ranks;
    for (int r = 0; r < P; ++r)
      ranks.emplace_back([&, r] {
        cuda::Stream st;
        cuda::HostStaged<comm::Threads> c(comm::Threads(world, r), st);
        // all_reduce: sum over ranks of (r + 1) * i, and max
        Tensor<double, 1> h(5);
        for (Index i = 0; i < 5; ++i) h(i) = double((r + 1) * i);
        auto d = cuda::to_device(h, st);
        c.all_reduce(d.span(), ReduceOp::sum);
        auto const s = d.to_host(st);
        bool good = true;
        for (Index i = 0; i < 5; ++i) good = good && s(i) == double(10 * i);
        Tensor<float, 1> hm(2);
        hm(0) = float(r);
        hm(1) = float(-r);
        auto dm = cuda::to_device(hm, st);
        c.all_reduce(dm.span(), ReduceOp::max);
        auto const m = dm.to_host(st);
        good = good && m(0) == float(P - 1) && m(1) == 0.0f;
        // broadcast from rank 2
        Tensor<double, 1> b(3);
        b.setConstant(double(r));
        auto db = cuda::to_device(b, st);
        c.broadcast(db.span(), 2);
        auto const gb = db.to_host(st);
        good = good && gb(0) == 2.0 && gb(2) == 2.0;
        // all_gatherv: rank r sends r + 1 copies of r
        std::vector<Index> counts{1, 2, 3, 4};
        Tensor<double, 1> send(r + 1);
        send.setConstant(double(r));
        auto ds = cuda::to_device(send, st);
        DeviceTensor<double, 1> dr(Shape<1>{10});
        c.all_gatherv(ds.span(), dr.span(), counts);
        auto const g = dr.to_host(st);
        double const expect[] = {0, 1, 1, 2, 2, 2, 3, 3, 3, 3};
        for (Index i = 0; i < 10; ++i) good = good && g(i) == expect[i];
        c.barrier();
        ok[std::size_t(r)] = good ? 1 : 0;
      });
  }
  for (int r = 0; r < P; ++r) CHECK(ok[std::size_t(r)] == 1);
}

#if DISTINV_HAS_NCCL
TEST_CASE("cuda: comm::Nccl on one rank (unique id through SingleProcess)") {
  static_assert(cuda::DeviceCommBackend<comm::Nccl>);
  cuda::Stream st;
  comm::Nccl nccl(comm::SingleProcess{}, 0, st);
  CHECK(nccl.rank() == 0);
  CHECK(nccl.size() == 1);
  auto h = random_tensor<float, 1>({7}, 60);
  auto d = cuda::to_device(h, st);
  nccl.all_reduce(d.span(), ReduceOp::sum);
  CHECK(max_abs_diff(d.to_host(st), h) == 0);
  nccl.all_reduce(d.span(), ReduceOp::mean);
  CHECK(max_abs_diff(d.to_host(st), h) == 0);
  nccl.broadcast(d.span(), 0);
  CHECK_THROWS_AS(nccl.broadcast(d.span(), 1), Error);
  DeviceTensor<float, 1> r(Shape<1>{7});
  std::vector<Index> counts{7};
  nccl.all_gatherv(d.span(), r.span(), counts);
  CHECK(max_abs_diff(r.to_host(st), h) == 0);
  nccl.barrier();
}
#endif

// ---- device TV and wavelet denoisers against the host ones ------------------------------

template <class T>
Tensor4<T> random_image(Shape<4> const& s, unsigned seed) {  // values in [0, 1]
  auto x = random_tensor<T, 4>(s, seed);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = T(0.5) * (x.data()[i] + T(1));
  return x;
}

TEST_CASE_TEMPLATE("cuda: TVDenoiser and TVPrior on device tensors match the host", T, float, double) {
  cuda::Stream stream;
  device::Cuda const space{0, stream};
  unsigned seed = 50;
  for (Shape<4> s : {Shape<4>{2, 3, 33, 20}, Shape<4>{1, 2, 1, 17}, Shape<4>{1, 1, 64, 96}}) {
    auto const hx = random_image<T>(s, seed++);
    auto const x = cuda::to_device(hx, stream);
    for (int iters : {0, 1, 5, 50})
      for (double sigma : {0.0, 0.1}) {
        optim::TVDenoiser<T> const d{iters, 1.5};
        auto const got = d(x, sigma, space).to_host(stream);
        CAPTURE(iters);
        CAPTURE(sigma);
        CHECK(max_abs_diff(got, d(hx, sigma)) < 1e-4);
        auto const again = d(x, sigma, space).to_host(stream);  // a fresh work space: same result
        CHECK(max_abs_diff(again, got) == 0);
        CHECK(max_abs_diff(d(x, sigma).to_host(), got) == 0);  // on the default stream
      }
    optim::TVPrior<T> const prior{2.0, 10, 1e-2};
    CHECK(prior.fn(x) == doctest::Approx(prior.fn(hx)).epsilon(1e-6));
    CHECK(max_abs_diff(prior.grad(x).to_host(), prior.grad(hx)) < 1e-3);
    CHECK(max_abs_diff(prior.prox(x, 0.05).to_host(), prior.prox(hx, 0.05)) < 1e-4);
  }
  auto const x = cuda::to_device(random_image<T>({1, 1, 8, 8}, 1), stream);
  CHECK_THROWS_AS((optim::TVDenoiser<T>{10, 1.0}(x, -0.1, space)), Error);
  CHECK_THROWS_AS((optim::TVDenoiser<T>{-1, 1.0}(x, 0.1, space)), Error);
}

TEST_CASE_TEMPLATE("cuda: WaveletDenoiser and wavelet transforms on device tensors match the host", T, float, double) {
  cuda::Stream stream;
  device::Cuda const space{0, stream};
  unsigned seed = 60;
  for (Shape<4> s : {Shape<4>{2, 3, 32, 48}, Shape<4>{1, 1, 64, 16}})
    for (auto w : {optim::Wavelet::haar, optim::Wavelet::db4})
      for (int levels : {1, 3}) {
        auto const hx = random_image<T>(s, seed++);
        auto const x = cuda::to_device(hx, stream);
        CAPTURE(int(w));
        CAPTURE(levels);
        CHECK(max_abs_diff(optim::wavelet_forward(x, w, levels, space).to_host(stream),
                           optim::wavelet_forward(hx, w, levels)) < 1e-4);
        CHECK(max_abs_diff(optim::wavelet_inverse(x, w, levels, space).to_host(stream),
                           optim::wavelet_inverse(hx, w, levels)) < 1e-4);
        for (auto mode : {optim::ThresholdMode::soft, optim::ThresholdMode::hard})
          for (double sigma : {0.0, 0.1}) {
            optim::WaveletDenoiser<T> const d{w, levels, mode, 0.0};
            CAPTURE(int(mode));
            CAPTURE(sigma);
            CHECK(max_abs_diff(d(x, sigma, space).to_host(stream), d(hx, sigma)) < 1e-4);
          }
      }
  // sides that are not multiples of 2^levels: padded and cropped as on the host
  for (Shape<4> s : {Shape<4>{1, 2, 13, 20}, Shape<4>{1, 3, 226, 226}}) {
    auto const hx = random_image<T>(s, seed++);
    optim::WaveletDenoiser<T> const d{};
    CHECK(max_abs_diff(d(cuda::to_device(hx, stream), 0.1, space).to_host(stream), d(hx, 0.1)) < 1e-4);
  }
  auto const x = cuda::to_device(random_image<T>({1, 1, 12, 16}, 2), stream);
  optim::WaveletDenoiser<T> const d{optim::Wavelet::haar, 2, optim::ThresholdMode::soft, 0.0};
  CHECK_THROWS_AS(d(x, -1.0, space), Error);
  CHECK_THROWS_AS((optim::WaveletDenoiser<T>{optim::Wavelet::haar, 0, optim::ThresholdMode::soft, 0.0}(x, 0.1, space)),
                  Error);
  CHECK_THROWS_AS(optim::wavelet_forward(x, optim::Wavelet::db4, 3, space), Error);  // 12 is not a multiple of 8
  CHECK_THROWS_AS(optim::wavelet_inverse(x, optim::Wavelet::db4, 0, space), Error);
  CHECK(psnr(x, x) == std::numeric_limits<double>::infinity());
}

// ---- tiling on the device: the generic path of tiling/process.hpp against the host ------

namespace {
/// Device identity processor (a namespace-scope functor, as nvcc wants).
struct DeviceIdentity {
  template <class X>
  X operator()(X const& b, double) const {
    return b;
  }
};
struct Product {
  template <class T>
  DISTINV_HOST_DEVICE T operator()(T a, T b) const {
    return a * b;
  }
};

/// The generic extraction and reduction over strategy `s` on the device against the same on
/// the host: every window (alone and all in one batch) equal, the reduce of random processed
/// windows (two partial calls) equal, the identity through process_tiled gives the signal
/// back for every batch bound, a window-dependent processor the same as on the host, and the
/// same errors.
template <class T, class S>
void check_device_tiling(S const& s, unsigned seed) {
  auto const& L = s.tile_layout();
  auto const hx = random_tensor<T, 4>(s.signal_shape(), seed);
  auto const x = cuda::to_device(hx);
  std::vector<Index> all(std::size_t(s.num_patches()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = Index(i);
  bool same_shape = true;
  for (Index i : all) {
    CAPTURE(i);
    Index const one[1] = {i};
    auto const hw = tiling::extract_batch(s, hx, std::span<Index const>(one, 1));
    auto const dw = tiling::extract_batch(s, x, std::span<Index const>(one, 1));
    REQUIRE(dw.shape() == shape_of(hw));
    CHECK(max_abs_diff(dw.to_host(), hw) == 0);  // a gather: exact
    same_shape = same_shape && L.window_shape(i) == L.window_shape(0);
  }
  if (same_shape) {
    std::vector<Index> rev(all.rbegin(), all.rend());
    CHECK(max_abs_diff(tiling::extract_batch(s, x, std::span<Index const>(rev)).to_host(),
                       tiling::extract_batch(s, hx, std::span<Index const>(rev))) == 0);
  }

  // reduce: random processed windows added into a random output, in two calls.
  auto hout = random_tensor<T, 4>(s.signal_shape(), seed + 5);
  auto dout = cuda::to_device(hout);
  for (int part : {1, 0})
    for (Index i : all) {
      if (i % 2 != part) continue;
      Index const one[1] = {i};
      auto const r = random_tensor<T, 4>(L.window_shape(i), seed + 10 + unsigned(i));
      tiling::add_batch(s, r, std::span<Index const>(one, 1), hout);
      tiling::add_batch(s, cuda::to_device(r), std::span<Index const>(one, 1), dout);
    }
  CHECK(max_abs_diff(dout.to_host(), hout) < 1e-4);

  // process_tiled with the identity gives x back (every batch bound), and the device tables
  // made once (TileTables in the device space) serve several calls.
  for (tiling::BatchLimit mb : {tiling::BatchLimit(0), tiling::BatchLimit(1), tiling::BatchLimit(4),
                                tiling::BatchLimit(0, 1)}) {
    auto const y = tiling::process_tiled(s, x, DeviceIdentity{}, 0.0, mb);
    CHECK(max_abs_diff(y.to_host(), hx) < 1e-4);
  }
  tiling::TileTables<device::Cuda, 4> const tables(L, device::Cuda{});
  for (int call = 0; call < 2; ++call) {
    auto y = zeros_of<DeviceTensor<T, 4>>(s.signal_shape());
    tiling::process_patches(tables, x, std::span<Index const>(all), [](DeviceTensor<T, 4> const& b) { return b; }, 3, y);
    CHECK(max_abs_diff(y.to_host(), hx) < 1e-4);
  }
  // a processor that depends on the window: the same on the device and on the host
  auto const hy = tiling::process_tiled(s, hx, [](Tensor4<T> const& b, double) -> Tensor4<T> { return b * b; }, 0.0);
  auto const dy = tiling::process_tiled(s, x, [](DeviceTensor<T, 4> const& b, double) {
    return signal_traits<DeviceTensor<T, 4>>::map2(b, b, Product{});
  }, 0.0, 2);
  CHECK(max_abs_diff(dy.to_host(), hy) < 1e-4);

  // errors, as on the host
  DeviceTensor<T, 4> wrong(Shape<4>{1, 1, 3, 3});
  Index const first[1] = {0};
  CHECK_THROWS_AS(tiling::extract_batch(s, wrong, std::span<Index const>(first, 1)), Error);
  std::vector<Index> out_of_range{s.num_patches()};
  CHECK_THROWS_AS(tiling::extract_batch(s, x, std::span<Index const>(out_of_range)), Error);
  CHECK_THROWS_AS(tiling::add_batch(s, wrong, std::span<Index const>(first, 1), dout), Error);
  CHECK_THROWS_AS(tiling::process_tiled(s, x, DeviceIdentity{}, 0.0, -1), Error);
}
}  // namespace

TEST_CASE_TEMPLATE("cuda: tiled extraction and reduction of OverlapTilingStrategy on the device equal the host", T,
                   float, double) {
  unsigned seed = 80;
  for (auto blend : {tiling::Blend::none, tiling::Blend::linear, tiling::Blend::gaussian})
    for (auto mode : {Padding::reflect, Padding::zeros, Padding::circular})
      for (bool three_dims : {false, true}) {
        tiling::TilingOptions o;
        Shape<4> s{2, 3, 37, 29};
        if (three_dims) {
          o.tiled_dims = {1, 2, 3};
          o.patch_size = {2, 9, 7};
          o.receptive_field_size = {1, 3, 2};
          o.stride = {1, 6, 5};
        } else {
          o.patch_size = {8, 6};
          o.receptive_field_size = {3, 2};
          o.stride = {5, 3};
        }
        o.blend = blend;
        o.pad_mode = mode;
        CAPTURE(tiling::to_string(blend));
        CAPTURE(tiling::to_string(mode));
        CAPTURE(three_dims);
        check_device_tiling<T>(tiling::OverlapTilingStrategy<4>(s, o), seed++);
      }
}

TEST_CASE_TEMPLATE("cuda: BasicStrategy and the named strategies on the device equal the host", T, float, double) {
  Shape<4> const s{2, 3, 23, 30};
  check_device_tiling<T>(tiling::BasicStrategy<4>(s, {2, 3}, {3, 4}), 90);  // unequal pieces
  tiling::TilingOptions o{{8}, {2}};
  o.blend = tiling::Blend::linear;
  for (std::string_view name : {"overlap_tiling", "smart_tiling", "basic"}) {
    CAPTURE(name);
    tiling::with_strategy(name, [&]<class S>() { check_device_tiling<T>(S(s, o), 92); });
  }
}
