#pragma once
// layout/rows.hpp: rows of other ranks, for the operators of the slab layout. A RowExchange is
// built once (a collective: every rank learns which global rows every other rank needs, two
// all_gatherv of integers) and then used as often as wanted: gather(x) fetches the rows this
// rank asked for — neighbours' halo rows, or rows several ranks away when a slab is thinner
// than the halo — into a local block (B, C, rows, ...), in the order asked (-1: a row of zeros);
// scatter_add(block, x) is its exact adjoint: the block's rows are added into the rows of x they
// came from, on their owners. Each is one all_to_allv (a rank's own rows are copied, not sent).
// halo_rows lists the rows of a slab extended by a boundary rule (core/kernels/padding.hpp):
// circular wraps between the last and the first rank, reflect / replicate mirror at the outer
// edges, zeros (and valid) read nothing outside the signal. relayout redistributes a slab tensor
// over another partition; sum_over_ranks adds every rank's partial whole tensor into slabs (a
// reduce-scatter in rank order). The public blocks of operators on slabs. Core + layout only.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/kernels/padding.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/partition.hpp"
#include "distinv/layout/slab_tensor.hpp"

namespace distinv::layout {

/// Rows [lo - above, hi + below) of rank r's slab of n rows read through `pad` (circular,
/// reflect, replicate map outside rows back inside; zeros and valid give -1, a zero row).
inline std::vector<Index> halo_rows(RowPartition const& part, int rank, Index above, Index below,
                                    kernels::Padding pad) {
  DISTINV_REQUIRE(above >= 0 && below >= 0, "halo_rows: expected non-negative halos, got ", above, " and ", below);
  Index const n = part.rows();
  if (pad == kernels::Padding::reflect)
    DISTINV_REQUIRE(above < n && below < n, "halo_rows: a reflect halo of ", std::max(above, below),
                    " rows needs a signal of more rows, got ", n);
  std::vector<Index> rows;
  rows.reserve(std::size_t(part.count(rank) + above + below));
  for (Index g = part.lo(rank) - above; g < part.hi(rank) + below; ++g) rows.push_back(kernels::pad_index(pad, g, n));
  return rows;
}

/// The halo exchange of the slab layout: each rank asks for a list of global rows of a SlabTensor (its
/// neighbours' boundary rows, rows through a padding rule) and gets them as a local block (gather); scatter_add
/// is its exact adjoint. Set up once per row list, in one collective.
template <CommBackend Comm>
class RowExchange {
 public:
  /// `rows`: the global rows of a signal laid out by `part` that this rank needs (-1 for a zero
  /// row; repeats allowed). A collective: every rank calls it, each with its own list.
  RowExchange(Comm comm, RowPartition part, std::vector<Index> rows)
      : comm_(std::move(comm)), part_(std::move(part)), rows_(std::move(rows)) {
    int const p = comm_.size();
    DISTINV_REQUIRE(part_.ranks() == p, "RowExchange: expected a partition over ", p, " ranks, got ",
                    part_.to_string());
    Index bad = -2;  // a row out of range, or -2 for none
    for (Index g : rows_)
      if (g < -1 || g >= part_.rows()) bad = g;
    // Every rank learns every rank's list: counts (-1: this rank's list is bad, so that every
    // rank throws alike), then the rows themselves.
    std::vector<std::int64_t> mine{bad == -2 ? std::int64_t(rows_.size()) : -1};
    std::vector<std::int64_t> counts(static_cast<std::size_t>(p));
    std::vector<Index> ones(static_cast<std::size_t>(p), 1);
    comm_.all_gatherv(std::span<std::int64_t const>(mine), std::span<std::int64_t>(counts), std::span<Index const>(ones));
    for (int q = 0; q < p; ++q)
      if (counts[std::size_t(q)] < 0)
        fail("RowExchange: rank ", q, " asked for a row outside [0, ", part_.rows(), ")",
             q == comm_.rank() ? distinv::detail::cat(" (", bad, ")") : std::string());
    std::vector<Index> sizes(counts.begin(), counts.end());
    Index total = 0;
    for (Index c : sizes) total += c;
    std::vector<std::int64_t> wanted(static_cast<std::size_t>(total));
    std::vector<std::int64_t> my_rows(rows_.begin(), rows_.end());
    comm_.all_gatherv(std::span<std::int64_t const>(my_rows), std::span<std::int64_t>(wanted),
                      std::span<Index const>(sizes));
    // What this rank sends to rank q: the rows of q's list that it owns, in q's order; what it
    // receives from q: the positions of its own list that q owns, in order.
    send_rows_.resize(static_cast<std::size_t>(p));
    recv_slots_.resize(static_cast<std::size_t>(p));
    int const me = comm_.rank();
    Index off = 0;
    for (int q = 0; q < p; ++q) {
      for (Index k = 0; k < sizes[std::size_t(q)]; ++k) {
        Index const g = wanted[std::size_t(off + k)];
        if (g >= 0 && part_.owner(g) == me) send_rows_[std::size_t(q)].push_back(g - part_.lo(me));
      }
      off += sizes[std::size_t(q)];
    }
    for (std::size_t k = 0; k < rows_.size(); ++k)
      if (rows_[k] >= 0) recv_slots_[std::size_t(part_.owner(rows_[k]))].push_back(Index(k));
  }

  /// The global rows this rank asked for (-1: a zero row).
  std::vector<Index> const& rows() const noexcept { return rows_; }
  /// The partition of the signals it exchanges.
  RowPartition const& partition() const noexcept { return part_; }

  /// The rows asked for, as a local block (B, C, rows().size(), ...) (zeros for -1). The
  /// rank's own rows are copied straight from x; the others come in one all_to_allv.
  template <class T, int R>
  Tensor<T, R> gather(SlabTensor<T, R, Comm> const& x) const {
    check(x, "RowExchange::gather");
    Index const planes = x.planes(), rs = x.row_size(), h = x.local_rows();
    Index const run = planes * rs;  // one row of every plane
    int const p = comm_.size(), me = comm_.rank();
    std::vector<Index> const send_counts = counts(send_rows_, run), recv_counts = counts(recv_slots_, run);
    std::vector<T> send(std::size_t(sum(send_counts)));
    T* out = send.data();
    for (int q = 0; q < p; ++q)
      if (q != me)
        for (Index lr : send_rows_[std::size_t(q)])
          for (Index pl = 0; pl < planes; ++pl, out += rs) std::copy_n(x.local().data() + (pl * h + lr) * rs, rs, out);
    std::vector<T> recv(std::size_t(sum(recv_counts)));
    comm_.all_to_allv(std::span<T const>(send), std::span<Index const>(send_counts), std::span<T>(recv),
                      std::span<Index const>(recv_counts));
    Shape<R> bs = x.shape();
    bs[SlabTensor<T, R, Comm>::row_dim] = Index(rows_.size());
    Tensor<T, R> block(bs);
    Index const n = Index(rows_.size());
    auto row = [&](Index pl, Index k) { return block.data() + (pl * n + k) * rs; };
    for (std::size_t k = 0; k < rows_.size(); ++k)
      if (rows_[k] < 0)
        for (Index pl = 0; pl < planes; ++pl) std::fill_n(row(pl, Index(k)), rs, T(0));
    auto const& own = send_rows_[std::size_t(me)];  // my rows of my list, in the order of its slots
    for (std::size_t i = 0; i < own.size(); ++i)
      for (Index pl = 0; pl < planes; ++pl)
        std::copy_n(x.local().data() + (pl * h + own[i]) * rs, rs, row(pl, recv_slots_[std::size_t(me)][i]));
    T const* from = recv.data();
    for (int q = 0; q < p; ++q)
      if (q != me)
        for (Index k : recv_slots_[std::size_t(q)])
          for (Index pl = 0; pl < planes; ++pl, from += rs) std::copy_n(from, rs, row(pl, k));
    return block;
  }

  /// x[rows()[k]] += block[k] for every row k of the block ((B, C, rows().size(), ...)), on the
  /// rows' owners; rows -1 are dropped. The exact adjoint of gather.
  template <class T, int R>
  void scatter_add(Tensor<T, R> const& block, SlabTensor<T, R, Comm>& x) const {
    check(x, "RowExchange::scatter_add");
    Shape<R> bs = x.shape();
    bs[SlabTensor<T, R, Comm>::row_dim] = Index(rows_.size());
    DISTINV_REQUIRE(distinv::shape_of(block) == bs, "RowExchange::scatter_add: expected a block of shape ", to_string(bs),
                    ", got ", to_string(distinv::shape_of(block)));
    Index const planes = x.planes(), rs = x.row_size(), h = x.local_rows(), n = Index(rows_.size());
    Index const run = planes * rs;
    int const p = comm_.size(), me = comm_.rank();
    // the reverse of gather: send what was received, receive what was sent
    std::vector<Index> const send_counts = counts(recv_slots_, run), recv_counts = counts(send_rows_, run);
    std::vector<T> send(std::size_t(sum(send_counts)));
    T* out = send.data();
    for (int q = 0; q < p; ++q)
      if (q != me)
        for (Index k : recv_slots_[std::size_t(q)])
          for (Index pl = 0; pl < planes; ++pl, out += rs) std::copy_n(block.data() + (pl * n + k) * rs, rs, out);
    std::vector<T> recv(std::size_t(sum(recv_counts)));
    comm_.all_to_allv(std::span<T const>(send), std::span<Index const>(send_counts), std::span<T>(recv),
                      std::span<Index const>(recv_counts));
    auto add = [&](Index lr, Index pl, T const* src) {
      T* dst = x.local().data() + (pl * h + lr) * rs;
      for (Index i = 0; i < rs; ++i) dst[i] += src[i];
    };
    T const* from = recv.data();
    for (int q = 0; q < p; ++q) {  // in rank order, then list order: the same on every run
      auto const& rows = send_rows_[std::size_t(q)];
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (Index pl = 0; pl < planes; ++pl) {
          if (q == me) {  // my own rows of the block, straight from it
            add(rows[i], pl, block.data() + (pl * n + recv_slots_[std::size_t(me)][i]) * rs);
          } else {
            add(rows[i], pl, from);
            from += rs;
          }
        }
    }
  }

 private:
  /// Per rank q: run values per entry of lists[q], none for this rank (its rows are copied).
  std::vector<Index> counts(std::vector<std::vector<Index>> const& lists, Index run) const {
    std::vector<Index> c(lists.size(), 0);
    for (std::size_t q = 0; q < lists.size(); ++q)
      if (int(q) != comm_.rank()) c[q] = Index(lists[q].size()) * run;
    return c;
  }
  static Index sum(std::vector<Index> const& v) {
    Index s = 0;
    for (Index c : v) s += c;
    return s;
  }
  template <class X>
  void check(X const& x, char const* what) const {
    DISTINV_REQUIRE(x.partition() == part_, what, ": expected a signal laid out as ", part_.to_string(), ", got ",
                    x.partition().to_string());
  }

  Comm comm_;
  RowPartition part_;
  std::vector<Index> rows_;
  std::vector<std::vector<Index>> send_rows_;   ///< per rank: my local rows it asked for
  std::vector<std::vector<Index>> recv_slots_;  ///< per rank: the positions of my list it holds
};

/// x laid out as `part` (the same rows of the same signal, redistributed): a RowExchange of this
/// rank's rows of `part`, built and used once. A collective; no communication when `part` is x's.
template <class T, int R, CommBackend Comm>
SlabTensor<T, R, Comm> relayout(SlabTensor<T, R, Comm> const& x, RowPartition const& part) {
  if (part == x.partition()) return x;
  Index const n = x.partition().rows();
  DISTINV_REQUIRE(part.rows() == n && part.ranks() == x.comm().size(), "relayout: expected a partition of ", n,
                  " rows over ", x.comm().size(), " ranks, got ", part.to_string());
  int const r = x.comm().rank();
  std::vector<Index> rows;
  for (Index g = part.lo(r); g < part.hi(r); ++g) rows.push_back(g);
  SlabTensor<T, R, Comm> y(x.comm(), x.shape(), part);
  y.local() = RowExchange<Comm>(x.comm(), x.partition(), std::move(rows)).gather(x);
  return y;
}

/// Σ over the ranks of each rank's `partial` (a whole tensor of shape s, every rank its own part of
/// a sum: a projection's partial line sums, a coil's share of an image), laid out as `part`: each
/// rank receives the others' rows of its slab (one all_to_allv) and adds the P terms in rank
/// order, so the result has the same bits on every backend. Its adjoint is SlabTensor::gather
/// (the whole tensor on every rank). A collective.
template <class T, int R, CommBackend Comm>
SlabTensor<T, R, Comm> sum_over_ranks(Comm const& comm, Tensor<T, R> const& partial, RowPartition const& part) {
  constexpr int row_dim = SlabTensor<T, R, Comm>::row_dim;
  Shape<R> const s = distinv::shape_of(partial);
  DISTINV_REQUIRE(part.rows() == s[row_dim] && part.ranks() == comm.size(), "sum_over_ranks: expected a partition of ",
                  s[row_dim], " rows over ", comm.size(), " ranks, got ", part.to_string());
  auto out = SlabTensor<T, R, Comm>::zeros(comm, s, part);
  Index const planes = out.planes(), rs = out.row_size(), n = s[row_dim];
  int const p = comm.size(), me = comm.rank();
  std::vector<Index> send_counts(static_cast<std::size_t>(p)), recv_counts(static_cast<std::size_t>(p));
  std::vector<T> send;
  send.reserve(std::size_t(partial.size()));
  for (int q = 0; q < p; ++q) {  // rank q's rows of every plane, planes in order
    for (Index pl = 0; pl < planes; ++pl) {
      T const* src = partial.data() + (pl * n + part.lo(q)) * rs;
      send.insert(send.end(), src, src + part.count(q) * rs);
    }
    send_counts[std::size_t(q)] = planes * part.count(q) * rs;
    recv_counts[std::size_t(q)] = planes * part.count(me) * rs;
  }
  std::vector<T> recv(std::size_t(p * planes * part.count(me) * rs));
  comm.all_to_allv(std::span<T const>(send), std::span<Index const>(send_counts), std::span<T>(recv),
                   std::span<Index const>(recv_counts));
  Index const block = planes * part.count(me) * rs;
  for (int q = 0; q < p; ++q)
    for (Index i = 0; i < block; ++i) out.local().data()[i] += recv[std::size_t(q * block + i)];
  return out;
}

}  // namespace distinv::layout
