#pragma once
// tests/unit/denoiser_oracles.hpp: plain reference implementations of the TV prox (FGP), of
// the smoothed-TV gradient, of the periodic wavelet transform and denoiser and of Gaussian
// smoothing, one plane at a time in straightforward loops: the host code distinv had before these were written once as
// functors (core/kernels/tv.hpp, wavelet.hpp). The tests hold the library to them, bit for
// bit where the order of the operations is the same.
#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "distinv/core/kernels/tv.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::oracle {

/// u = x + lambda div(p) on one H x W plane, every boundary case by its own branch.
template <class T>
void tv_primal(T const* x, T const* px, T const* py, Index H, Index W, T lambda, T* u) {
  for (Index i = 0; i < H; ++i)
    for (Index j = 0; j < W; ++j) {
      Index const o = i * W + j;
      T d = 0;
      if (j < W - 1) d += px[o];
      if (j > 0) d -= px[o - 1];
      if (i < H - 1) d += py[o];
      if (i > 0) d -= py[o - W];
      u[o] = x[o] + lambda * d;
    }
}

/// `iters` FGP iterations on one plane (Beck & Teboulle), then u = x + lambda div p.
template <class T>
void tv_prox_plane(T const* x, Index H, Index W, double lambda, int iters, T* u) {
  Index const n = H * W;
  if (lambda == 0 || iters == 0) {
    std::copy_n(x, n, u);
    return;
  }
  std::vector<T> px(n, T(0)), py(n, T(0)), rx(n, T(0)), ry(n, T(0));
  T const lam = T(lambda), step = T(1.0 / (8.0 * lambda));
  double t = 1;
  for (int k = 0; k < iters; ++k) {
    tv_primal(x, rx.data(), ry.data(), H, W, lam, u);
    double const t1 = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
    T const beta = T((t - 1) / t1);
    t = t1;
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        Index const o = i * W + j;
        T const gx = j < W - 1 ? u[o + 1] - u[o] : T(0);
        T const gy = i < H - 1 ? u[o + W] - u[o] : T(0);
        T qx = rx[o] + step * gx, qy = ry[o] + step * gy;
        // 1 / max(1, |q|) as the library computes it (Newton steps, to an ulp, no sqrt: see
        // kernels::unit_ball_factor and its test against 1 / max(1, sqrt(s)))
        T const m = kernels::unit_ball_factor(qx * qx + qy * qy);
        qx *= m;
        qy *= m;
        rx[o] = qx + beta * (qx - px[o]);
        ry[o] = qy + beta * (qy - py[o]);
        px[o] = qx;
        py[o] = qy;
      }
  }
  tv_primal(x, px.data(), py.data(), H, W, lam, u);
}

template <class T, class F>
Tensor4<T> each_plane(Tensor4<T> const& x, F const& f) {
  Tensor4<T> y(x.dimensions());
  Index const planes = x.dimension(0) * x.dimension(1), H = x.dimension(2), W = x.dimension(3);
  for (Index k = 0; k < planes; ++k) f(x.data() + k * H * W, y.data() + k * H * W, H, W);
  return y;
}

template <class T>
Tensor4<T> tv_denoise(Tensor4<T> const& x, double lambda, int iters) {
  return each_plane(x, [&](T const* in, T* out, Index H, Index W) { tv_prox_plane(in, H, W, lambda, iters, out); });
}

/// -weight div(grad x / sqrt(|grad x|^2 + eps^2)), plane by plane.
template <class T>
Tensor4<T> smoothed_tv_gradient(Tensor4<T> const& x, double weight, double eps) {
  return each_plane(x, [&](T const* in, T* out, Index H, Index W) {
    std::vector<T> nx(std::size_t(H * W)), ny(std::size_t(H * W)), zero(std::size_t(H * W), T(0));
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        Index const o = i * W + j;
        double const gx = j < W - 1 ? double(in[o + 1]) - in[o] : 0.0;
        double const gy = i < H - 1 ? double(in[o + W]) - in[o] : 0.0;
        double const m = std::sqrt(gx * gx + gy * gy + eps * eps);
        nx[std::size_t(o)] = T(gx / m);
        ny[std::size_t(o)] = T(gy / m);
      }
    tv_primal(zero.data(), nx.data(), ny.data(), H, W, T(-weight), out);
  });
}

/// One analysis level along a strided line of even length n, in place: a | d.
template <class T>
void dwt_line(T* v, Index n, Index stride, std::span<double const> h) {
  Index const K = Index(h.size()), half = n / 2;
  std::vector<double> tmp(std::size_t(n), 0.0);
  for (Index k = 0; k < half; ++k) {
    double a = 0, d = 0;
    for (Index m = 0; m < K; ++m) {
      double const xv = double(v[((2 * k + m) % n) * stride]);
      a += h[std::size_t(m)] * xv;
      d += (m % 2 ? -1.0 : 1.0) * h[std::size_t(K - 1 - m)] * xv;
    }
    tmp[std::size_t(k)] = a;
    tmp[std::size_t(half + k)] = d;
  }
  for (Index i = 0; i < n; ++i) v[i * stride] = T(tmp[std::size_t(i)]);
}

/// Inverse of dwt_line (its transpose), scattered k by k.
template <class T>
void idwt_line(T* v, Index n, Index stride, std::span<double const> h) {
  Index const K = Index(h.size()), half = n / 2;
  std::vector<double> tmp(std::size_t(n), 0.0);
  for (Index k = 0; k < half; ++k) {
    double const a = double(v[k * stride]), d = double(v[(half + k) * stride]);
    for (Index m = 0; m < K; ++m)
      tmp[std::size_t((2 * k + m) % n)] += h[std::size_t(m)] * a + (m % 2 ? -1.0 : 1.0) * h[std::size_t(K - 1 - m)] * d;
  }
  for (Index i = 0; i < n; ++i) v[i * stride] = T(tmp[std::size_t(i)]);
}

/// The L-level transform of one plane in place (rows then columns per level).
template <class T>
void dwt_plane(T* p, Index H, Index W, std::span<double const> h, int levels, bool inverse) {
  auto level = [&](int l) {
    Index const h_l = H >> l, w_l = W >> l;
    if (!inverse) {
      for (Index i = 0; i < h_l; ++i) dwt_line(p + i * W, w_l, 1, h);
      for (Index j = 0; j < w_l; ++j) dwt_line(p + j, h_l, W, h);
    } else {
      for (Index j = 0; j < w_l; ++j) idwt_line(p + j, h_l, W, h);
      for (Index i = 0; i < h_l; ++i) idwt_line(p + i * W, w_l, 1, h);
    }
  };
  if (!inverse)
    for (int l = 0; l < levels; ++l) level(l);
  else
    for (int l = levels - 1; l >= 0; --l) level(l);
}

template <class T>
Tensor4<T> wavelet_transform(Tensor4<T> const& x, std::span<double const> h, int levels, bool inverse) {
  return each_plane(x, [&](T const* in, T* out, Index H, Index W) {
    std::copy_n(in, H * W, out);
    dwt_plane(out, H, W, h, levels, inverse);
  });
}

/// Forward transform, soft / hard threshold of the details at tau, inverse (H, W multiples
/// of 2^levels).
template <class T>
Tensor4<T> wavelet_denoise(Tensor4<T> const& x, std::span<double const> h, int levels, T tau, bool soft) {
  return each_plane(x, [&](T const* in, T* out, Index H, Index W) {
    std::copy_n(in, H * W, out);
    dwt_plane(out, H, W, h, levels, false);
    Index const ha = H >> levels, wa = W >> levels;
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        if (i < ha && j < wa) continue;
        T& c = out[i * W + j];
        T const a = std::abs(c);
        if (soft)
          c = a <= tau ? T(0) : (c > 0 ? c - tau : c + tau);
        else if (a < tau)
          c = T(0);
      }
    dwt_plane(out, H, W, h, levels, true);
  });
}

/// Separable Gaussian smoothing (std in samples, truncated at ceil(truncate * std)), border
/// replicated: rows into a double buffer, then columns.
template <class T>
Tensor4<T> gaussian_smooth(Tensor4<T> const& x, double stddev, double truncate) {
  Index const r = Index(std::ceil(truncate * stddev));
  std::vector<double> k(std::size_t(2 * r + 1));
  double s = 0;
  for (Index i = -r; i <= r; ++i) s += k[std::size_t(i + r)] = std::exp(-0.5 * double(i * i) / (stddev * stddev));
  for (auto& v : k) v /= s;
  return each_plane(x, [&](T const* in, T* out, Index H, Index W) {
    std::vector<double> tmp(std::size_t(H * W));
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        double a = 0;
        for (Index m = -r; m <= r; ++m) a += k[std::size_t(m + r)] * in[i * W + std::clamp<Index>(j + m, 0, W - 1)];
        tmp[std::size_t(i * W + j)] = a;
      }
    for (Index i = 0; i < H; ++i)
      for (Index j = 0; j < W; ++j) {
        double a = 0;
        for (Index m = -r; m <= r; ++m)
          a += k[std::size_t(m + r)] * tmp[std::size_t(std::clamp<Index>(i + m, 0, H - 1) * W + j)];
        out[i * W + j] = T(a);
      }
  });
}

/// numpy.pad(x, ((0, 0), (0, 0), (0, Hp - H), (0, Wp - W)), mode='reflect'), element by
/// element (numpy repeats the reflection when a pad exceeds the side).
template <class T>
Tensor4<T> reflect_pad(Tensor4<T> const& x, Index Hp, Index Wp) {
  Index const H = x.dimension(2), W = x.dimension(3);
  auto mirror = [](Index i, Index n) {  // reflect at n - 1 and at 0 until in range
    if (n == 1) return Index(0);
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  Tensor4<T> y(x.dimension(0), x.dimension(1), Hp, Wp);
  for (Index b = 0; b < x.dimension(0); ++b)
    for (Index c = 0; c < x.dimension(1); ++c)
      for (Index i = 0; i < Hp; ++i)
        for (Index j = 0; j < Wp; ++j) y(b, c, i, j) = x(b, c, mirror(i, H), mirror(j, W));
  return y;
}

}  // namespace distinv::oracle
