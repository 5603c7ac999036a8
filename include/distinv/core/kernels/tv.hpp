#pragma once
// core/kernels/tv.hpp: isotropic total variation (forward differences, Neumann boundary) of
// stacks of H x W planes as functors for every launcher (host/for_each.hpp, the CUDA one):
// TvPrimal (u = x + lambda div p), TvDual (the projected dual step of FGP with momentum),
// TvNormTerm (|grad x| at one sample, for the TV value), TvSmoothedDirection (grad x over
// sqrt(|grad x|^2 + eps^2), for the gradient of a smoothed TV), and the FGP prox (Beck &
// Teboulle 2009): tv_fgp over any launcher, tv_fgp_serial the same arithmetic fused row by
// row on one host thread. The only definition of TV in distinv. No CUDA header here.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/pointwise.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

namespace detail {
/// The unsigned integer of a float's size, and the first guess and Newton steps of 1/sqrt.
template <class T>
struct FloatBits;
template <>
struct FloatBits<float> {
  using U = std::uint32_t;
  static constexpr U rsqrt_magic = 0x5f375a86u;
  static constexpr int newton_steps = 3;
};
template <>
struct FloatBits<double> {
  using U = std::uint64_t;
  static constexpr U rsqrt_magic = 0x5fe6eb50c7b537a9ull;
  static constexpr int newton_steps = 4;
};
/// The bits of v as To (same size).
template <class To, class From>
DISTINV_HOST_DEVICE inline To bits_as(From v) noexcept {
  static_assert(sizeof(To) == sizeof(From));
  To t;
  std::memcpy(&t, &v, sizeof t);
  return t;
}
}  // namespace detail

/// min(1, 1/sqrt(s)) = 1 / max(1, sqrt(s)) for s >= 0 (what projects a vector of squared
/// norm s onto the unit ball), to about one ulp: three (float) or four (double) Newton steps
/// for 1/sqrt(s) from the bit-level first guess (relative error 3.4e-2, then 1.8e-3, 4.6e-6,
/// 3e-11, 1e-21: each step squares it), then the minimum taken on the bits
/// (non-negative floats order like their bits). No call to sqrt and no branch: std::sqrt may
/// set errno, and with the default -fmath-errno GCC then keeps the loop scalar, and a float
/// select lets GCC move the Newton steps under a branch it cannot if-convert. So the dual
/// step vectorises without any flag on the consumer's build.
template <class T>
DISTINV_HOST_DEVICE inline T unit_ball_factor(T s) noexcept {
  using B = detail::FloatBits<T>;
  using U = typename B::U;
  T y = detail::bits_as<T>(U(B::rsqrt_magic - (detail::bits_as<U>(s) >> 1)));
  T const hs = T(0.5) * s;
  DISTINV_UNROLL(4)
  for (int i = 0; i < B::newton_steps; ++i) y = y + y * (T(0.5) - (hs * y) * y);
  U const yb = detail::bits_as<U>(y), one = detail::bits_as<U>(T(1));
  return detail::bits_as<T>(yb < one ? yb : one);
}

/// u = x + lambda div(p) on every plane, div = -grad^T, grad the forward differences (0 on
/// the last column / row). p lives where FGP keeps it, in the range of grad: px is 0 on the
/// last column and py on the last row of every plane, and px[e - 1], py[e - W] read 0 before
/// the first sample (the arrays of TvWork have W zeros in front). Then no sample needs a
/// branch or a mask (the loop vectorises) and the terms are added in the order of
/// ((px - px_left) + py) - py_up. Element e over planes * H * W.
template <class T>
struct TvPrimal {
  /// The input.
  T const* x;
  /// Dual field, x part.
  T const* px;
  /// Dual field, y part.
  T const* py;
  /// The primal output.
  T* u;
  /// Columns of a plane.
  Index W;
  /// The TV weight λ.
  T lambda;
  /// u[e] = x[e] + λ div(p)[e].
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept { u[e] = value(x, px, py, e, W, lambda); }
  /// x[e] + λ div(p)[e]: the one formula, also run by tv_primal_span.
  DISTINV_HOST_DEVICE static T value(T const* x, T const* px, T const* py, Index e, Index W, T lambda) noexcept {
    return x[e] + lambda * (((px[e] - px[e - 1]) + py[e]) - py[e - W]);
  }
};

/// One dual step of FGP at (row r of the planes * H rows, column c), from the primal
/// u = x + lambda div(r): q = P(r + step grad u) (P: projection onto |q| <= 1),
/// r = q + beta (q - p), p = q. Reads u at e, e + 1 and e + W (not past the plane's last
/// column or row); writes only element e of r and p. The gradient is exactly 0 on the last
/// column (x part) and row (y part), so r and p keep TvPrimal's zeros there.
template <class T>
struct TvDual {
  /// The primal (u = x + λ div r).
  T const* u;
  /// Extrapolated dual field, x part (written).
  T* rx;
  /// Extrapolated dual field, y part (written).
  T* ry;
  /// Dual field, x part (written).
  T* px;
  /// Dual field, y part (written).
  T* py;
  /// Rows and columns of a plane.
  ///@{
  Index H, W;
  ///@}
  /// Gradient step.
  T step;
  /// Extrapolation weight of FGP.
  T beta;
  /// The dual step at (row r of planes * H, column c).
  DISTINV_HOST_DEVICE void operator()(Index r, Index c) const noexcept {
    Index const e = r * W + c;
    T const ue = u[e];
    T const gx = c < W - 1 ? u[e + 1] - ue : T(0);
    T const gy = r % H < H - 1 ? u[e + W] - ue : T(0);
    update(gx, gy, rx[e], ry[e], px[e], py[e], step, beta);
  }
  /// The step at one sample from the gradient (gx, gy) of u there: the one formula, also run
  /// by tv_dual_span. q = P(r + step g) with P = unit_ball_factor; r = q + beta (q - p); p = q.
  DISTINV_HOST_DEVICE static void update(T gx, T gy, T& rx, T& ry, T& px, T& py, T step, T beta) noexcept {
    T qx = rx + step * gx, qy = ry + step * gy;
    T const m = unit_ball_factor(qx * qx + qy * qy);
    qx *= m;
    qy *= m;
    rx = qx + beta * (qx - px);
    ry = qy + beta * (qy - py);
    px = qx;
    py = qy;
  }
};

/// |grad x| at element e (over planes * H * W), in double.
template <class T>
struct TvNormTerm {
  /// The signal.
  T const* x;
  /// Rows and columns of a plane.
  ///@{
  Index H, W;
  ///@}
  /// |grad x| at element e.
  DISTINV_HOST_DEVICE double operator()(Index e) const noexcept {
    using std::sqrt;
    Index const j = e % W, i = (e / W) % H;
    double const gx = j < W - 1 ? double(x[e + 1]) - double(x[e]) : 0.0;
    double const gy = i < H - 1 ? double(x[e + W]) - double(x[e]) : 0.0;
    return sqrt(gx * gx + gy * gy);
  }
};

/// (nx, ny) = grad x / sqrt(|grad x|^2 + eps^2) at (row r, column c), computed in double;
/// 0 on the last column / row like grad, so (nx, ny) is a valid TvPrimal field.
template <class T>
struct TvSmoothedDirection {
  /// The signal.
  T const* x;
  /// Output, x part.
  T* nx;
  /// Output, y part.
  T* ny;
  /// Rows and columns of a plane.
  ///@{
  Index H, W;
  ///@}
  /// Smoothing ε (> 0).
  double eps;
  /// (nx, ny) at (row r of planes * H, column c).
  DISTINV_HOST_DEVICE void operator()(Index r, Index c) const noexcept {
    using std::sqrt;
    Index const e = r * W + c;
    double const gx = c < W - 1 ? double(x[e + 1]) - double(x[e]) : 0.0;
    double const gy = r % H < H - 1 ? double(x[e + W]) - double(x[e]) : 0.0;
    double const m = sqrt(gx * gx + gy * gy + eps * eps);
    nx[e] = T(gx / m);
    ny[e] = T(gy / m);
  }
};

/// Work space of tv_fgp over planes * H * W samples: tv_work_size values, four fields
/// (px, py, rx, ry), each after at least W zeros (what TvPrimal reads before the first
/// sample). Each field starts on a 16-value boundary, and consecutive fields lie 16 values
/// apart modulo 1024 values: fields a multiple of 4 KiB apart would share cache sets and
/// 4K-alias (the host TV of a 2048^2 plane took 1.6x longer so).
template <class T>
struct TvWork {
  /// The whole work space.
  T* data;
  /// Its size in values (tv_work_size).
  Index size;
  /// Dual field, x part.
  T* px;
  /// Dual field, y part.
  T* py;
  /// Extrapolated dual field, x part.
  T* rx;
  /// Extrapolated dual field, y part.
  T* ry;
};

namespace detail {
inline Index round_up(Index n, Index m) { return (n + m - 1) / m * m; }
inline Index tv_lead(Index W) { return round_up(W, 16); }
inline Index tv_field(Index planes, Index H, Index W) { return round_up(tv_lead(W) + planes * H * W, 1024) + 16; }
/// FGP's extrapolation weights: t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2, beta_k = (t_k - 1) / t_{k+1}.
struct FgpMomentum {
  double t = 1;
  double next() {
    double const t1 = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    double const beta = (t - 1) / t1;
    t = t1;
    return beta;
  }
};
}  // namespace detail

inline Index tv_work_size(Index planes, Index H, Index W) { return 4 * detail::tv_field(planes, H, W); }

template <class T>
TvWork<T> tv_work(T* data, Index planes, Index H, Index W) {
  Index const s = detail::tv_field(planes, H, W), o = detail::tv_lead(W);
  return {data, 4 * s, data + o, data + o + s, data + o + 2 * s, data + o + 3 * s};
}

/// u = prox of lambda TV of every H x W plane of x (planes * H * W values; u != x):
/// `iters` FGP iterations from p = 0, then u = x + lambda div p (u = x if lambda or iters is
/// 0). `w` = tv_work(data, planes, H, W), its contents on entry do not matter; on return
/// w.px, w.py hold the final dual field (|p| <= 1, x - u = -lambda div p).
/// launch(n, f) runs f(e) for e < n and launch.grid(rows, cols, f) f(r, c); the launches are
/// issued in order (the device launcher queues them on one stream).
template <class T, class Launch>
void tv_fgp(Launch const& launch, T const* x, T* u, TvWork<T> const& w, Index planes, Index H, Index W,
            double lambda, int iters) {
  Index const n = planes * H * W;
  if (n == 0) return;
  launch(w.size, Fill<T>{T(0), w.data});
  if (lambda == 0 || iters <= 0) return launch(n, Copy<T>{x, u});
  T const lam = T(lambda), step = T(1.0 / (8.0 * lambda));
  detail::FgpMomentum momentum;
  for (int k = 0; k < iters; ++k) {
    launch(n, TvPrimal<T>{x, w.rx, w.ry, u, W, lam});
    T const beta = T(momentum.next());
    launch.grid(planes * H, W, TvDual<T>{u, w.rx, w.ry, w.px, w.py, H, W, step, beta});
  }
  launch(n, TvPrimal<T>{x, w.px, w.py, u, W, lam});
}

namespace detail {
/// TvPrimal on the samples [0, count) of a row (pointers at its first sample). The pointers
/// are restrict parameters so that GCC vectorises without runtime alias checks; SSE2, AVX2
/// or AVX-512 as the CPU has it (DISTINV_SIMD_CLONES).
template <class T>
DISTINV_SIMD_CLONES void tv_primal_span(T const* __restrict__ x, T const* __restrict__ px, T const* __restrict__ py, T* __restrict__ u,
                    Index count, Index W, T lambda) {
  for (Index e = 0; e < count; ++e) u[e] = TvPrimal<T>::value(x, px, py, e, W, lambda);
}

/// TvDual on one row of W samples (pointers at its first sample); `last_row`: the plane's last
/// row (gy = 0). Columns 0 .. W-2 in one branch-free loop (vectorised), then the last column.
template <class T>
DISTINV_SIMD_CLONES void tv_dual_row(T const* __restrict__ u, T* __restrict__ rx, T* __restrict__ ry, T* __restrict__ px, T* __restrict__ py,
                 Index W, bool last_row, T step, T beta) {
  if (last_row) {
    for (Index c = 0; c < W - 1; ++c) TvDual<T>::update(u[c + 1] - u[c], T(0), rx[c], ry[c], px[c], py[c], step, beta);
  } else {
    for (Index c = 0; c < W - 1; ++c)
      TvDual<T>::update(u[c + 1] - u[c], u[c + W] - u[c], rx[c], ry[c], px[c], py[c], step, beta);
  }
  Index const c = W - 1;
  T const gy = last_row ? T(0) : u[c + W] - u[c];
  TvDual<T>::update(T(0), gy, rx[c], ry[c], px[c], py[c], step, beta);
}
}  // namespace detail

/// tv_fgp on the calling thread, the two sweeps of an iteration fused: the primal of row
/// r + 1, then the dual step of row r (which reads u on rows r and r + 1), so that one pass
/// over the arrays does an iteration and the rows in flight stay in L1. The dual of row r
/// only writes row r, which the primal of row r + 1 read before it: the values are exactly
/// those of tv_fgp (every sample computed by the same formulas from the same operands).
template <class T>
void tv_fgp_serial(T const* x, T* u, TvWork<T> const& w, Index planes, Index H, Index W, double lambda, int iters) {
  Index const n = planes * H * W, rows = planes * H;
  if (n == 0) return;
  for (Index e = 0; e < w.size; ++e) w.data[e] = T(0);
  if (lambda == 0 || iters <= 0) {
    for (Index e = 0; e < n; ++e) u[e] = x[e];
    return;
  }
  T const lam = T(lambda), step = T(1.0 / (8.0 * lambda));
  detail::FgpMomentum momentum;
  for (int k = 0; k < iters; ++k) {
    T const beta = T(momentum.next());
    detail::tv_primal_span(x, w.rx, w.ry, u, W, W, lam);
    for (Index r = 0; r < rows; ++r) {
      Index const e = r * W;
      if (r + 1 < rows) detail::tv_primal_span(x + e + W, w.rx + e + W, w.ry + e + W, u + e + W, W, W, lam);
      detail::tv_dual_row(u + e, w.rx + e, w.ry + e, w.px + e, w.py + e, W, r % H == H - 1, step, beta);
    }
  }
  detail::tv_primal_span(x, w.px, w.py, u, n, W, lam);
}

}  // namespace distinv::kernels
