#pragma once
// optim/denoisers/tv.hpp: isotropic total-variation denoising, the proximal operator
//   u = argmin_v 1/2 ||v - x||^2 + lambda TV(v),   TV(v) = sum_ij |(grad v)_ij|_2,
// per (b, c) plane, by FGP (Beck & Teboulle 2009, fast projected gradient on the dual) with a
// FIXED number of iterations, so that the radius of dependence is known exactly:
// receptive_field() == max_iter. Forward differences, Neumann boundary. Models Denoiser.
#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/optim/denoisers/concepts.hpp"

namespace distinv::optim {

namespace detail {
/// Runs f(i0, i1) over row blocks of 32 rows, in parallel (nested inside plane parallelism).
template <class F>
void for_row_blocks(Index H, F&& f) {
  if (H <= 32) return f(Index(0), H);
  tbb::parallel_for(tbb::blocked_range<Index>(0, H, 32),
                    [&](tbb::blocked_range<Index> const& r) { f(r.begin(), r.end()); });
}

/// u = x + lambda * div(p), div = -grad^T (grad: forward differences, 0 on the last row/col).
/// The edge columns are peeled so that the inner loop has no branch (it vectorises).
template <class T>
void tv_primal(T const* x, T const* px, T const* py, Index H, Index W, T lambda, T* u) {
  for_row_blocks(H, [&](Index i0, Index i1) {
    for (Index i = i0; i < i1; ++i) {
      Index const r = i * W;
      T const* pyu = i > 0 ? py + r - W : nullptr;  // row above
      bool const last_row = i == H - 1;
      auto at = [&](Index j) {
        Index const o = r + j;
        T d = 0;
        if (j < W - 1) d += px[o];
        if (j > 0) d -= px[o - 1];
        if (!last_row) d += py[o];
        if (pyu) d -= pyu[j];
        u[o] = x[o] + lambda * d;
      };
      at(0);
      if (W > 2) {
        T const* a = px + r;
        T const* b = py + r;
        T const* xr = x + r;
        T* ur = u + r;
        T const ly = last_row ? T(0) : T(1), lu = pyu ? T(1) : T(0);
        T const* up = pyu ? pyu : b;  // any valid row when lu == 0
        for (Index j = 1; j < W - 1; ++j) ur[j] = xr[j] + lambda * (a[j] - a[j - 1] + ly * b[j] - lu * up[j]);
      }
      if (W > 1) at(W - 1);
    }
  });
}

}  // namespace detail

/// Isotropic TV of each plane, summed: sum |grad x| (forward differences, Neumann).
template <class T>
double tv_value(Tensor4<T> const& x) {
  Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3);
  double s = 0;
  for (Index k = 0; k < planes; ++k) {
    T const* p = x.data() + k * H * W;
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        double const gx = j < W - 1 ? double(p[i * W + j + 1]) - p[i * W + j] : 0.0;
        double const gy = i < H - 1 ? double(p[(i + 1) * W + j]) - p[i * W + j] : 0.0;
        s += std::sqrt(gx * gx + gy * gy);
      }
  }
  return s;
}

/// TV prox of one H x W plane: `iters` FGP iterations, u = x + lambda div p at the end.
/// If `px`, `py` are non-empty (size H*W) they receive the final dual field p (|p_ij| <= 1),
/// so that x - u = -lambda div p exactly and the duality gap can be checked.
template <class T>
void tv_prox_plane(std::span<T const> x, Index H, Index W, double lambda, int iters, std::span<T> u,
                   std::span<T> px = {}, std::span<T> py = {}) {
  Index const n = H * W;
  DISTINV_REQUIRE(Index(x.size()) == n && Index(u.size()) == n, "tv_prox_plane: expected planes of ", n,
                  " samples, got ", x.size(), " and ", u.size());
  DISTINV_REQUIRE(lambda >= 0 && iters >= 0, "tv_prox_plane: expected lambda >= 0 and iters >= 0, got ", lambda,
                  " and ", iters);
  if (lambda == 0 || iters == 0) {
    std::copy(x.begin(), x.end(), u.begin());
    if (!px.empty()) std::fill(px.begin(), px.end(), T(0));
    if (!py.empty()) std::fill(py.begin(), py.end(), T(0));
    return;
  }
  std::vector<T> p0x(n, T(0)), p0y(n, T(0)), rx(n, T(0)), ry(n, T(0));
  T const lam = T(lambda), step = T(1.0 / (8.0 * lambda));
  double t = 1;
  for (int k = 0; k < iters; ++k) {
    detail::tv_primal(x.data(), rx.data(), ry.data(), H, W, lam, u.data());
    double const t1 = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    T const beta = T((t - 1) / t1);
    t = t1;
    detail::for_row_blocks(H, [&](Index i0, Index i1) {
      for (Index i = i0; i < i1; ++i) {
        Index const r = i * W;
        T const gy_on = i < H - 1 ? T(1) : T(0);
        T const* un = i < H - 1 ? u.data() + r + W : u.data() + r;  // row below (unused on the last row)
        T const* ur = u.data() + r;
        T* rxr = rx.data() + r;
        T* ryr = ry.data() + r;
        T* pxr = p0x.data() + r;
        T* pyr = p0y.data() + r;
        auto update = [&](Index j, T gx) {
          T const gy = gy_on * (un[j] - ur[j]);
          T qx = rxr[j] + step * gx, qy = ryr[j] + step * gy;
          T const m = T(1) / std::max(T(1), std::sqrt(qx * qx + qy * qy));
          qx *= m;
          qy *= m;
          rxr[j] = qx + beta * (qx - pxr[j]);
          ryr[j] = qy + beta * (qy - pyr[j]);
          pxr[j] = qx;
          pyr[j] = qy;
        };
        for (Index j = 0; j < W - 1; ++j) update(j, ur[j + 1] - ur[j]);
        update(W - 1, T(0));
      }
    });
  }
  detail::tv_primal(x.data(), p0x.data(), p0y.data(), H, W, lam, u.data());
  if (!px.empty()) std::copy(p0x.begin(), p0x.end(), px.begin());
  if (!py.empty()) std::copy(p0y.begin(), p0y.end(), py.begin());
}

/// TV denoiser: prox of lambda * TV with lambda = scale * sigma (scale 1 by default: for
/// images in [0, 1] and noise std sigma this is a reasonable, slightly strong, weight).
/// Each of the `max_iter` iterations widens the dependence by one sample per axis (grad and
/// div are one-sided, one forward and one backward), so output (i, j) depends only on input
/// within max_iter samples along each axis: receptive_field() == max_iter.
template <class T>
struct TVDenoiser {
  int max_iter = 50;
  double scale = 1.0;

  Tensor4<T> operator()(Tensor4<T> const& x, double sigma) const {
    DISTINV_REQUIRE(sigma >= 0, "TVDenoiser: expected sigma >= 0, got ", sigma);
    DISTINV_REQUIRE(max_iter >= 0, "TVDenoiser: expected max_iter >= 0, got ", max_iter);
    double const lambda = scale * sigma;
    int const it = max_iter;
    return detail::map_planes(x, [&](T const* in, T* out, Index H, Index W) {
      tv_prox_plane<T>(std::span<T const>(in, std::size_t(H * W)), H, W, lambda, it,
                       std::span<T>(out, std::size_t(H * W)));
    });
  }
  Index receptive_field() const { return max_iter; }
};

static_assert(Denoiser<TVDenoiser<float>, float>);
static_assert(Denoiser<TVDenoiser<double>, double>);

}  // namespace distinv::optim
