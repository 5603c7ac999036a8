#pragma once
// core/kernels/tv.hpp: isotropic total variation (forward differences, Neumann boundary) of
// stacks of H x W planes as functors for every launcher (host/for_each.hpp, the CUDA one):
// TvPrimal (u = x + lambda div p), TvDual (the projected dual step of FGP with momentum),
// TvNormTerm (|grad x| at one sample, for the TV value), TvSmoothedDirection (grad x over
// sqrt(|grad x|^2 + eps^2), for the gradient of a smoothed TV), and tv_fgp, the whole FGP
// prox (Beck & Teboulle 2009), written once. The only definition of TV in distinv. No CUDA
// header here.
#include <cmath>
#include <cstddef>

#include "distinv/core/host_device.hpp"
#include "distinv/core/kernels/pointwise.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

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
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    u[e] = x[e] + lambda * (((px[e] - px[e - 1]) + py[e]) - py[e - W]);
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
    using std::sqrt;
    Index const e = r * W + c;
    T const ue = u[e];
    T const gx = c < W - 1 ? u[e + 1] - ue : T(0);
    T const gy = r % H < H - 1 ? u[e + W] - ue : T(0);
    T qx = rx[e] + step * gx, qy = ry[e] + step * gy;
    T const n = sqrt(qx * qx + qy * qy);
    T const m = T(1) / (T(1) < n ? n : T(1));
    qx *= m;
    qy *= m;
    rx[e] = qx + beta * (qx - px[e]);
    ry[e] = qy + beta * (qy - py[e]);
    px[e] = qx;
    py[e] = qy;
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
  double t = 1;
  for (int k = 0; k < iters; ++k) {
    launch(n, TvPrimal<T>{x, w.rx, w.ry, u, W, lam});
    double const t1 = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    T const beta = T((t - 1) / t1);
    t = t1;
    launch.grid(planes * H, W, TvDual<T>{u, w.rx, w.ry, w.px, w.py, H, W, step, beta});
  }
  launch(n, TvPrimal<T>{x, w.px, w.py, u, W, lam});
}

}  // namespace distinv::kernels
