#pragma once
// core/kernels/tv.hpp: the FGP iteration of the TV prox (optim/denoisers/tv.hpp) as index
// functors for host and device: TvStart (u = x, dual fields zeroed), TvPrimal
// (u = x + lambda div p, forward differences, Neumann boundary) and TvDual (projected dual
// step and momentum), each element e over planes * H * W; and tv_fgp(launch, ...), the
// iteration order of optim::tv_prox_plane written once over any launcher. No CUDA header here.
#include <cmath>
#include <cstddef>

#include "distinv/core/host_device.hpp"

namespace distinv::kernels {

using Index = std::ptrdiff_t;

/// u[e] = x[e]; px = py = rx = ry = 0 at e (the state before the first FGP iteration).
template <class T>
struct TvStart {
  T const* x;
  T* u;
  T* px;
  T* py;
  T* rx;
  T* ry;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    u[e] = x[e];
    px[e] = T(0);
    py[e] = T(0);
    rx[e] = T(0);
    ry[e] = T(0);
  }
};

/// u = x + lambda div(p), div = -grad^T with grad the forward differences (0 on the last row
/// and column) of each H x W plane; the terms are added in the host's order.
template <class T>
struct TvPrimal {
  T const* x;
  T const* px;
  T const* py;
  T* u;
  Index H, W;
  T lambda;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    Index const j = e % W, i = (e / W) % H;
    T d = 0;
    if (j < W - 1) d += px[e];
    if (j > 0) d -= px[e - 1];
    if (i < H - 1) d += py[e];
    if (i > 0) d -= py[e - W];
    u[e] = x[e] + lambda * d;
  }
};

/// One dual step of FGP at e, from the primal u = x + lambda div(r):
/// q = P(r + step grad u) (P: projection onto |q| <= 1), r = q + beta (q - p), p = q.
/// Reads u at e, e + 1 and e + W; writes only element e of r and p.
template <class T>
struct TvDual {
  T const* u;
  T* rx;
  T* ry;
  T* px;
  T* py;
  Index H, W;
  T step;
  T beta;
  DISTINV_HOST_DEVICE void operator()(Index e) const noexcept {
    using std::sqrt;
    Index const j = e % W, i = (e / W) % H;
    T const gx = j < W - 1 ? u[e + 1] - u[e] : T(0);
    T const gy = i < H - 1 ? u[e + W] - u[e] : T(0);
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

/// Work space of tv_fgp: four arrays of planes * H * W values.
template <class T>
struct TvWork {
  T* px;
  T* py;
  T* rx;
  T* ry;
};

/// u = prox of lambda TV of every H x W plane of x (planes * H * W values): `iters` FGP
/// iterations, then u = x + lambda div p, exactly the steps of optim::tv_prox_plane.
/// launch(n, f) runs f(e) for e < n (kernels::for_each_index, cuda::for_each, ...) and the
/// launches are issued in order (the device launcher queues them on one stream).
template <class T, class Launch>
void tv_fgp(Launch const& launch, T const* x, T* u, TvWork<T> w, Index planes, Index H, Index W, double lambda,
            int iters) {
  Index const n = planes * H * W;
  if (n == 0) return;
  launch(n, TvStart<T>{x, u, w.px, w.py, w.rx, w.ry});
  if (lambda == 0 || iters <= 0) return;
  T const lam = T(lambda), step = T(1.0 / (8.0 * lambda));
  double t = 1;
  for (int k = 0; k < iters; ++k) {
    launch(n, TvPrimal<T>{x, w.rx, w.ry, u, H, W, lam});
    double const t1 = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    T const beta = T((t - 1) / t1);
    t = t1;
    launch(n, TvDual<T>{u, w.rx, w.ry, w.px, w.py, H, W, step, beta});
  }
  launch(n, TvPrimal<T>{x, w.px, w.py, u, H, W, lam});
}

}  // namespace distinv::kernels
