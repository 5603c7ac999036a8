#pragma once
// layout/slab_tensor.hpp: SlabTensor<T, R, Comm>, a signal in the slab layout: rank r holds
// rows [lo_r, hi_r) of dimension 2 (H of (B, C, H, W), D of (B, C, D, H, W)) of every (B, C)
// plane, as a local host tensor (B, C, hi_r - lo_r, ...), and the backend that links the ranks.
// It models Signal: arithmetic is local (same layout required); dot, norm, psnr, max_abs_diff and
// sum2 reduce over the ranks, with the same bits on any partition; shape_of is the global shape.
// scatter / gather move to and from a whole host tensor (for input and output; nothing in a
// solver iteration needs them). New
// slab tensors come from an existing one (zeros_like, filled_like) or from the layout
// (SlabTensor::zeros), never from a bare shape. Rows of other ranks: layout/rows.hpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/signal.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/layout/partition.hpp"

namespace distinv::layout {

/// A signal in the slab layout (layout::Slabs): rank r holds rows [lo_r, hi_r) of dimension 2 of every (B, C)
/// plane as a local host tensor. Models Signal: arithmetic is local (same layout required, else Error), dot,
/// norm, psnr and max_abs_diff reduce over the ranks, shape_of is the global shape. The signal of the
/// sharded layout: operators, the data fidelity, the tiled prior and the solvers run on it.
template <class T, int R, CommBackend Comm>
class SlabTensor {
  static_assert(R == 4 || R == 5, "SlabTensor: rank 4 (B, C, H, W) or 5 (B, C, D, H, W)");

 public:
  /// Element type (as Eigen's Tensor::Scalar).
  using Scalar = T;
  /// Tensor rank R (as Eigen's Tensor::NumDimensions).
  static constexpr int NumDimensions = R;
  static constexpr int row_dim = 2;  ///< the dimension split into slabs
  /// This rank's local block, a host Tensor<T, R>.
  using local_type = Tensor<T, R>;
  /// The backend that links the ranks.
  using comm_type = Comm;

  SlabTensor() = default;
  /// This rank's slab of a signal of global shape `shape` split by `part` (uninitialised).
  SlabTensor(Comm comm, Shape<R> const& shape, RowPartition part)
      : comm_(std::move(comm)), shape_(shape), part_(std::move(part)) {
    check_layout();
    local_ = local_type(local_shape());
  }
  /// A zero slab tensor.
  static SlabTensor zeros(Comm comm, Shape<R> const& shape, RowPartition part) {
    SlabTensor t(std::move(comm), shape, std::move(part));
    t.local_.setZero();
    return t;
  }
  /// This rank's rows of `whole`, a tensor every rank holds (no communication).
  static SlabTensor scatter(Comm comm, Tensor<T, R> const& whole, RowPartition part) {
    SlabTensor t(std::move(comm), distinv::shape_of(whole), std::move(part));
    t.for_each_plane_row_block([&](Index plane, Index, T* dst) {
      std::copy_n(whole.data() + (plane * t.shape_[row_dim] + t.lo()) * t.row_size(), t.local_rows() * t.row_size(),
                  dst);
    });
    return t;
  }
  /// This rank's rows of `whole`, held by `root` only (its shape too); one all_to_allv.
  static SlabTensor scatter_from(Comm comm, Tensor<T, R> const& whole, int root, RowPartition part) {
    Shape<R> shape = comm.rank() == root ? distinv::shape_of(whole) : Shape<R>{};
    std::vector<std::int64_t> s(shape.begin(), shape.end());
    comm.broadcast(std::span<std::int64_t>(s), root);
    std::copy(s.begin(), s.end(), shape.begin());
    SlabTensor t(std::move(comm), shape, std::move(part));
    int const p = t.comm_.size();
    Index const planes = t.planes(), rs = t.row_size();
    std::vector<Index> send_counts(static_cast<std::size_t>(p), 0), recv_counts(static_cast<std::size_t>(p), 0);
    std::vector<T> send;
    if (t.comm_.rank() == root) {
      send.reserve(std::size_t(whole.size()));
      for (int q = 0; q < p; ++q) {  // rank q's rows of every plane, planes in order
        for (Index pl = 0; pl < planes; ++pl) {
          T const* src = whole.data() + (pl * shape[row_dim] + t.part_.lo(q)) * rs;
          send.insert(send.end(), src, src + t.part_.count(q) * rs);
        }
        send_counts[std::size_t(q)] = planes * t.part_.count(q) * rs;
      }
    }
    recv_counts[std::size_t(root)] = Index(t.local_.size());
    t.comm_.all_to_allv(std::span<T const>(send), std::span<Index const>(send_counts), flat(t.local_),
                        std::span<Index const>(recv_counts));
    return t;
  }

  /// The whole tensor on every rank (one all_gatherv).
  Tensor<T, R> gather() const {
    int const p = comm_.size();
    std::vector<Index> counts(static_cast<std::size_t>(p));
    for (int q = 0; q < p; ++q) counts[std::size_t(q)] = planes() * part_.count(q) * row_size();
    std::vector<T> all(std::size_t(numel(shape_)));
    comm_.all_gatherv(flat(local_), std::span<T>(all), std::span<Index const>(counts));
    Tensor<T, R> whole(shape_);
    Index off = 0;
    for (int q = 0; q < p; ++q)  // rank q's block: its rows of every plane, planes in order
      for (Index pl = 0; pl < planes(); ++pl) {
        Index const n = part_.count(q) * row_size();
        std::copy_n(all.data() + off, n, whole.data() + (pl * shape_[row_dim] + part_.lo(q)) * row_size());
        off += n;
      }
    return whole;
  }

  /// The global shape.
  Shape<R> const& shape() const noexcept { return shape_; }
  /// The row partition.
  RowPartition const& partition() const noexcept { return part_; }
  /// The backend.
  Comm const& comm() const noexcept { return comm_; }
  /// This rank's first global row.
  Index lo() const { return part_.lo(comm_.rank()); }
  /// One past this rank's last global row.
  Index hi() const { return part_.hi(comm_.rank()); }
  /// This rank's number of rows.
  Index local_rows() const { return hi() - lo(); }
  /// Elements of one row of one plane (W, or H * W of a volume).
  Index row_size() const noexcept {
    Index n = 1;
    for (int d = row_dim + 1; d < R; ++d) n *= shape_[std::size_t(d)];
    return n;
  }
  /// Number of (B, C) planes.
  Index planes() const noexcept { return shape_[0] * shape_[1]; }
  /// This rank's block (B, C, local_rows(), ...).
  local_type& local() noexcept { return local_; }
  /// This rank's block (B, C, local_rows(), ...).
  local_type const& local() const noexcept { return local_; }
  /// The shape of this rank's local tensor.
  Shape<R> local_shape() const {
    Shape<R> s = shape_;
    s[row_dim] = local_rows();
    return s;
  }

  /// Local +=; throws Error unless `o` has the same layout.
  SlabTensor& operator+=(SlabTensor const& o) {
    require_same_layout(o, "SlabTensor +=");
    local_ += o.local_;
    return *this;
  }
  /// Local -=; throws Error unless `o` has the same layout.
  SlabTensor& operator-=(SlabTensor const& o) {
    require_same_layout(o, "SlabTensor -=");
    local_ -= o.local_;
    return *this;
  }
  /// Multiplies every element by s.
  SlabTensor& operator*=(T s) {
    local_ = local_ * s;
    return *this;
  }
  /// this += x · s without a temporary (the product rounded to T first: the bits of += x * s);
  /// throws Error unless `x` has the same layout.
  void add_scaled_(SlabTensor const& x, T s) {
    require_same_layout(x, "SlabTensor add_scaled_");
    local_ += x.local_ * s;
  }
  // The operand taken by value is the result (moved out, never copied).
  friend SlabTensor operator+(SlabTensor a, SlabTensor const& b) {
    a += b;
    return a;
  }
  friend SlabTensor operator-(SlabTensor a, SlabTensor const& b) {
    a -= b;
    return a;
  }
  friend SlabTensor operator*(SlabTensor a, T s) {
    a *= s;
    return a;
  }
  friend SlabTensor operator*(T s, SlabTensor a) {
    a *= s;
    return a;
  }

  /// Throws Error unless `o` has this tensor's global shape and partition.
  void require_same_layout(SlabTensor const& o, char const* what) const {
    DISTINV_REQUIRE(shape_ == o.shape_, what, ": expected shape ", to_string(shape_), ", got ", to_string(o.shape_));
    DISTINV_REQUIRE(part_ == o.part_, what, ": expected the row partition ", part_.to_string(), ", got ",
                    o.part_.to_string());
  }

 private:
  void check_layout() const {
    for (int d = 0; d < R; ++d)
      DISTINV_REQUIRE(shape_[std::size_t(d)] > 0, "SlabTensor: expected a non-empty shape, got ", to_string(shape_));
    DISTINV_REQUIRE(part_.ranks() == comm_.size() && part_.rows() == shape_[row_dim],
                    "SlabTensor: expected a partition of ", shape_[row_dim], " rows over ", comm_.size(),
                    " ranks, got ", part_.to_string());
  }
  /// f(plane, local row 0, pointer to the plane's local rows) for every plane.
  template <class F>
  void for_each_plane_row_block(F&& f) {
    for (Index pl = 0; pl < planes(); ++pl) f(pl, Index(0), local_.data() + pl * local_rows() * row_size());
  }

  Comm comm_{};
  Shape<R> shape_{};
  RowPartition part_{};
  local_type local_{};
};

// ---- free functions of a signal, found by ADL; reductions are collectives ---------------------

/// The global shape.
template <class T, int R, class Comm>
Shape<R> shape_of(SlabTensor<T, R, Comm> const& x) {
  return x.shape();
}
/// Throws Error unless a and b have the same global shape and partition.
template <class T, int R, class Comm>
void require_same_shape(SlabTensor<T, R, Comm> const& a, SlabTensor<T, R, Comm> const& b, char const* what) {
  a.require_same_layout(b, what);
}
/// A zero slab tensor of x's layout.
template <class T, int R, class Comm>
SlabTensor<T, R, Comm> zeros_like(SlabTensor<T, R, Comm> const& x) {
  return SlabTensor<T, R, Comm>::zeros(x.comm(), x.shape(), x.partition());
}
/// A slab tensor of x's layout filled with `value`.
template <class T, int R, class Comm>
SlabTensor<T, R, Comm> filled_like(SlabTensor<T, R, Comm> const& x, T value) {
  SlabTensor<T, R, Comm> t(x.comm(), x.shape(), x.partition());
  t.local().setConstant(value);
  return t;
}

namespace detail {
/// Σ_i f(a_i, b_i) over the whole signal in double for each functor f, the same bits on any
/// partition: each rank sums each of its rows (the row's part of every plane, planes in order),
/// one all_gatherv brings the n row sums of every functor to every rank, and every rank adds them
/// in row order.
template <class T, int R, class Comm, class... F>
std::array<double, sizeof...(F)> row_ordered_sums(SlabTensor<T, R, Comm> const& a, SlabTensor<T, R, Comm> const& b,
                                                  F const&... f) {
  constexpr std::size_t n = sizeof...(F);
  Index const rows = a.local_rows(), rs = a.row_size(), planes = a.planes();
  std::vector<double> mine(static_cast<std::size_t>(rows) * n, 0.0);  // row i's sums at [n i, n i + n)
  for (Index i = 0; i < rows; ++i) {
    std::size_t j = 0;
    auto one = [&](auto const& g) {
      double s = 0;
      for (Index pl = 0; pl < planes; ++pl) {
        T const* pa = a.local().data() + (pl * rows + i) * rs;
        T const* pb = b.local().data() + (pl * rows + i) * rs;
        for (Index k = 0; k < rs; ++k) s += g(pa[k], pb[k]);
      }
      mine[std::size_t(i) * n + j++] = s;
    };
    (one(f), ...);
  }
  int const p = a.comm().size();
  std::vector<Index> counts(static_cast<std::size_t>(p));
  for (int q = 0; q < p; ++q) counts[std::size_t(q)] = a.partition().count(q) * Index(n);
  std::vector<double> all(static_cast<std::size_t>(a.partition().rows()) * n);
  a.comm().all_gatherv(std::span<double const>(mine), std::span<double>(all), std::span<Index const>(counts));
  std::array<double, n> total{};
  for (std::size_t e = 0; e < all.size(); ++e) total[e % n] += all[e];
  return total;
}
/// Σ_i f(a_i, b_i) over the whole signal (row_ordered_sums of one functor).
template <class T, int R, class Comm, class F>
double row_ordered_sum(SlabTensor<T, R, Comm> const& a, SlabTensor<T, R, Comm> const& b, F const& f) {
  return row_ordered_sums(a, b, f)[0];
}
/// double(a) · double(b).
struct Product {
  template <class T>
  double operator()(T a, T b) const {
    return double(a) * double(b);
  }
};
}  // namespace detail

/// ⟨a, b⟩ over the whole signal, the same bits on any partition (detail::row_ordered_sum: one
/// all_gatherv of the row sums).
template <class T, int R, class Comm>
double dot(SlabTensor<T, R, Comm> const& a, SlabTensor<T, R, Comm> const& b) {
  a.require_same_layout(b, "dot");
  return detail::row_ordered_sum(a, b, detail::Product{});
}
/// sqrt(dot(a, a)) over the whole signal (one all-reduce).
template <class T, int R, class Comm>
double norm(SlabTensor<T, R, Comm> const& a) {
  return std::sqrt(dot(a, a));
}
/// max |a_i − b_i| over the whole signal (one all-reduce).
template <class T, int R, class Comm>
double max_abs_diff(SlabTensor<T, R, Comm> const& a, SlabTensor<T, R, Comm> const& b) {
  a.require_same_layout(b, "max_abs_diff");
  double m = distinv::max_abs_diff(a.local(), b.local());
  a.comm().all_reduce(std::span<double>(&m, 1), ReduceOp::max);
  return m;
}
/// max |a_i| over the whole signal (one all-reduce).
template <class T, int R, class Comm>
double max_abs(SlabTensor<T, R, Comm> const& a) {
  double m = distinv::max_abs(a.local());
  a.comm().all_reduce(std::span<double>(&m, 1), ReduceOp::max);
  return m;
}
/// PSNR over the whole signal (as for host tensors).
template <class T, int R, class Comm>
double psnr(SlabTensor<T, R, Comm> const& x, SlabTensor<T, R, Comm> const& ref, double max_value = 1.0) {
  x.require_same_layout(ref, "psnr");
  DISTINV_REQUIRE(max_value > 0, "psnr: expected max_value > 0, got ", max_value);
  double const mse = detail::row_ordered_sum(x, ref, distinv::detail::SquaredDifference{}) / double(numel(x.shape()));
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(max_value * max_value / mse);
}

}  // namespace distinv::layout

namespace distinv {

/// The Signal traits of a slab tensor: local arithmetic, reductions over the ranks.
template <class T, int R, class Comm>
struct signal_traits<layout::SlabTensor<T, R, Comm>> {
  /// The slab tensor.
  using tensor_type = layout::SlabTensor<T, R, Comm>;
  /// The whole host tensor it gathers to.
  using host_type = Tensor<T, R>;
  /// Host memory.
  using space_type = device::Host;
  /// False: host memory.
  static constexpr bool on_device = false;
  /// True: each rank holds a part only.
  static constexpr bool sharded = true;

  /// The whole signal on every rank (a collective).
  static host_type to_host(tensor_type const& x) { return x.gather(); }

  /// f element-wise on the local blocks; the same layout.
  template <class F>
  static tensor_type map2(tensor_type const& a, tensor_type const& b, F const& f) {
    tensor_type out(a.comm(), a.shape(), a.partition());
    out.local() = signal_traits<host_type>::map2(a.local(), b.local(), f);
    return out;
  }
  /// Σ f(a[i], b[i]) over the whole signal, the same bits on any partition (one all_gatherv of row sums).
  template <class F>
  static double sum2(tensor_type const& a, tensor_type const& b, F const& f) {
    return layout::detail::row_ordered_sum(a, b, f);
  }
  /// (sum2(a, b, f), sum2(a, b, g)) with one all_gatherv of both functors' row sums.
  template <class F, class G>
  static std::array<double, 2> sum2_pair(tensor_type const& a, tensor_type const& b, F const& f, G const& g) {
    a.require_same_layout(b, "sum2_pair");
    return layout::detail::row_ordered_sums(a, b, f, g);
  }
};

/// A signal in the slab layout.
template <class X>
concept ShardedSignal = Signal<X> && requires { requires signal_traits<std::remove_cvref_t<X>>::sharded; };

}  // namespace distinv
