#pragma once
// tiling/batching.hpp: the default batching of patches (concatenation along dim 0, order
// kept, equal shapes only) and its inverse, plus the row-wise box copy helpers the built-in
// strategies share. Any strategy may reuse them. core/ and oneTBB.
#include <algorithm>
#include <span>
#include <type_traits>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"

namespace distinv::tiling {

/// Consecutive patches of equal shape concatenated along dim 0, at most `max_batch_size` per
/// batch (0 = unlimited).
template <class T, int Rank>
std::vector<Tensor<T, Rank>> batch_patches(std::vector<Tensor<T, Rank>> const& patches, Index max_batch_size) {
  DISTINV_REQUIRE(max_batch_size >= 0, "batch: max_batch_size must be >= 0 (0 = unlimited), got ", max_batch_size);
  std::vector<Tensor<T, Rank>> out;
  std::size_t i = 0;
  while (i < patches.size()) {
    auto const s = shape_of(patches[i]);
    std::size_t j = i + 1;
    while (j < patches.size() && shape_of(patches[j]) == s &&
           (max_batch_size == 0 || Index(j - i) < max_batch_size))
      ++j;
    Shape<Rank> bs = s;
    bs[0] = s[0] * Index(j - i);
    Tensor<T, Rank> b(bs);
    T* dst = b.data();
    for (std::size_t k = i; k < j; ++k) dst = std::copy_n(patches[k].data(), patches[k].size(), dst);
    out.push_back(std::move(b));
    i = j;
  }
  return out;
}

/// Inverse of batch_patches: batch k is split along dim 0 into `counts[k]` equal patches.
template <class T, int Rank>
std::vector<Tensor<T, Rank>> unbatch_patches(std::vector<Tensor<T, Rank>> const& batches,
                                             std::span<Index const> counts) {
  DISTINV_REQUIRE(counts.size() == batches.size(), "unbatch: expected one count per batch (", batches.size(),
                  "), got ", counts.size());
  std::vector<Tensor<T, Rank>> out;
  for (std::size_t k = 0; k < batches.size(); ++k) {
    auto s = shape_of(batches[k]);
    Index const n = counts[k];
    DISTINV_REQUIRE(n > 0 && s[0] % n == 0, "unbatch: batch ", k, " of shape ", to_string(s),
                    " cannot be split into ", n, " patches along dim 0");
    s[0] /= n;
    Index const len = numel(s);
    for (Index p = 0; p < n; ++p) {
      Tensor<T, Rank> t(s);
      std::copy_n(batches[k].data() + p * len, len, t.data());
      out.push_back(std::move(t));
    }
  }
  return out;
}

namespace detail {

template <int Rank>
Shape<Rank> strides_of(Shape<Rank> const& s) {
  Shape<Rank> st{};
  Index acc = 1;
  for (int d = Rank - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= s[d];
  }
  return st;
}

/// Calls f(idx) for every row of a box of extent `size` (idx[Rank-1] == 0), rows in parallel
/// (rows must be independent). Rows are grouped so that a task holds >= ~16k elements.
template <int Rank, class F>
void for_each_row(Shape<Rank> const& size, F&& f) {
  Index rows = 1;
  for (int d = 0; d < Rank - 1; ++d) rows *= size[d];
  Index const len = size[Rank - 1];
  if (rows == 0 || len == 0) return;
  auto body = [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      Shape<Rank> idx{};
      Index q = r;
      for (int d = Rank - 2; d >= 0; --d) {
        idx[d] = q % size[d];
        q /= size[d];
      }
      f(idx);
    }
  };
  Index const grain = std::max<Index>(1, 16384 / len);
  if (rows <= grain) {
    body(0, rows);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<Index>(0, rows, grain),
                    [&](tbb::blocked_range<Index> const& r) { body(r.begin(), r.end()); });
}

/// dst[dst_start + i] (+)= src[src_start + i] for i in the box `size`.
template <bool Add, class T, int Rank>
void copy_box(Tensor<T, Rank> const& src, std::type_identity_t<Shape<Rank>> const& src_start, Tensor<T, Rank>& dst,
              std::type_identity_t<Shape<Rank>> const& dst_start, std::type_identity_t<Shape<Rank>> const& size) {
  auto const ss = strides_of<Rank>(shape_of(src));
  auto const ds = strides_of<Rank>(shape_of(dst));
  T const* sp = src.data();
  T* dp = dst.data();
  Index const len = size[Rank - 1];
  for_each_row<Rank>(size, [&](Shape<Rank> const& idx) {
    Index so = src_start[Rank - 1], doff = dst_start[Rank - 1];
    for (int d = 0; d < Rank - 1; ++d) {
      so += (src_start[d] + idx[d]) * ss[d];
      doff += (dst_start[d] + idx[d]) * ds[d];
    }
    if constexpr (Add) {
      for (Index k = 0; k < len; ++k) dp[doff + k] += sp[so + k];
    } else {
      std::copy_n(sp + so, len, dp + doff);
    }
  });
}

}  // namespace detail
}  // namespace distinv::tiling
