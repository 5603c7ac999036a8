#pragma once
// distributed/gather.hpp: how the per-operator results of a distributed stack (A x, forward)
// become the same full TensorList on every rank. Three policies, as in the reference:
//   gather::Naive         each rank serialises (index, shape, data) and broadcasts its bytes;
//   gather::Concatenated  one small all-gatherv of shapes, then one all-gatherv of all data;
//   gather::Broadcast     per operator, its owner broadcasts shape and data.
// `with_gather(name, fn)` maps a runtime name onto the policy type; `gather_list<Policy>` is
// what callers use: device signals travel through the host (A x is gathered for output,
// not in iterations: the reductions of the solvers all-reduce instead).
#include <cstring>
#include <string_view>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor_list.hpp"

namespace distinv {

namespace gather {

namespace detail {
template <class Ctx>
std::vector<Index> counts_per_rank(Ctx const& ctx, Index n, Index per_item) {
  std::vector<Index> counts(static_cast<std::size_t>(ctx.world_size()), 0);
  for (Index i = 0; i < n; ++i) counts[std::size_t(ctx.owner(i, n))] += per_item;
  return counts;
}
template <class TensorT>
TensorT from_flat(Shape<TensorT::NumDimensions> const& s, typename TensorT::Scalar const* data) {
  TensorT t(s);
  std::copy(data, data + t.size(), t.data());
  return t;
}
}  // namespace detail

/// Gather policy: every rank broadcasts each of its results in turn (one broadcast per operator; deepinv's
/// 'naive').
struct Naive {
  /// "naive".
  static constexpr std::string_view name() { return "naive"; }
  /// The N results on every rank, in operator order, from this rank's `local` results of operators `mine`; a
  /// collective.
  template <class Ctx, class TensorT>
  static TensorList<TensorT> gather(Ctx const& ctx, Index n, std::vector<Index> const& mine,
                                    std::vector<TensorT> const& local) {
    constexpr int R = TensorT::NumDimensions;
    using T = typename TensorT::Scalar;
    std::vector<TensorT> out(static_cast<std::size_t>(n));
    for (int root = 0; root < ctx.world_size(); ++root) {
      std::vector<std::byte> bytes;
      if (root == ctx.rank()) {  // serialise: [index, shape..., data...] per tensor
        for (std::size_t k = 0; k < local.size(); ++k) {
          Index header[R + 1];
          header[0] = mine[k];
          for (int d = 0; d < R; ++d) header[d + 1] = local[k].dimension(d);
          append(bytes, header, sizeof(header));
          append(bytes, local[k].data(), sizeof(T) * std::size_t(local[k].size()));
        }
      }
      ctx.comm().broadcast_bytes(bytes, root);
      for (std::size_t off = 0; off < bytes.size();) {
        Index header[R + 1];
        std::memcpy(header, bytes.data() + off, sizeof(header));
        off += sizeof(header);
        Shape<R> s;
        for (int d = 0; d < R; ++d) s[d] = header[d + 1];
        TensorT t(s);
        std::memcpy(t.data(), bytes.data() + off, sizeof(T) * std::size_t(t.size()));
        off += sizeof(T) * std::size_t(t.size());
        out[std::size_t(header[0])] = std::move(t);
      }
    }
    return TensorList<TensorT>(std::move(out));
  }

 private:
  static void append(std::vector<std::byte>& bytes, void const* p, std::size_t size) {
    auto const* b = static_cast<std::byte const*>(p);
    bytes.insert(bytes.end(), b, b + size);
  }
};

/// Gather policy: one all_gatherv of every rank's results, concatenated (the default; deepinv's
/// 'concatenated').
struct Concatenated {
  /// "concatenated".
  static constexpr std::string_view name() { return "concatenated"; }
  /// The N results on every rank, in operator order, in one all_gatherv; a collective.
  template <class Ctx, class TensorT>
  static TensorList<TensorT> gather(Ctx const& ctx, Index n, std::vector<Index> const& /*mine: the order is the sharding's*/,
                                    std::vector<TensorT> const& local) {
    constexpr int R = TensorT::NumDimensions;
    using T = typename TensorT::Scalar;
    // 1. shapes: R extents per operator, ranks' blocks in rank order
    std::vector<std::int64_t> my_shapes;
    for (auto const& t : local)
      for (int d = 0; d < R; ++d) my_shapes.push_back(t.dimension(d));
    auto const shape_counts = detail::counts_per_rank(ctx, n, R);
    std::vector<std::int64_t> shapes(static_cast<std::size_t>(n * R));
    ctx.comm().all_gatherv(std::span<std::int64_t const>(my_shapes), std::span<std::int64_t>(shapes),
                           std::span<Index const>(shape_counts));
    // Which operator each gathered block belongs to: ranks in order, each rank's indices in order.
    std::vector<Index> order;
    std::vector<Index> data_counts(static_cast<std::size_t>(ctx.world_size()), 0);
    for (int r = 0; r < ctx.world_size(); ++r)
      for (Index i = 0; i < n; ++i)
        if (ctx.owner(i, n) == r) order.push_back(i);
    std::vector<Shape<R>> shape_of_op(static_cast<std::size_t>(n));
    for (std::size_t k = 0; k < order.size(); ++k) {
      Shape<R> s;
      for (int d = 0; d < R; ++d) s[d] = shapes[k * R + std::size_t(d)];
      shape_of_op[std::size_t(order[k])] = s;
      data_counts[std::size_t(ctx.owner(order[k], n))] += numel(s);
    }
    // 2. data: one flat buffer
    std::vector<T> send;
    send.reserve(std::size_t(data_counts[std::size_t(ctx.rank())]));
    for (auto const& t : local) send.insert(send.end(), t.data(), t.data() + t.size());
    Index total = 0;
    for (auto c : data_counts) total += c;
    std::vector<T> all(static_cast<std::size_t>(total));
    ctx.comm().all_gatherv(std::span<T const>(send), std::span<T>(all), std::span<Index const>(data_counts));
    std::vector<TensorT> out(static_cast<std::size_t>(n));
    std::size_t off = 0;
    for (Index i : order) {
      out[std::size_t(i)] = detail::from_flat<TensorT>(shape_of_op[std::size_t(i)], all.data() + off);
      off += std::size_t(numel(shape_of_op[std::size_t(i)]));
    }
    return TensorList<TensorT>(std::move(out));
  }
};

/// Gather policy: each operator's owner broadcasts its result (deepinv's 'broadcast').
struct Broadcast {
  /// "broadcast".
  static constexpr std::string_view name() { return "broadcast"; }
  /// The N results on every rank, in operator order, one broadcast per operator from its owner; a collective.
  template <class Ctx, class TensorT>
  static TensorList<TensorT> gather(Ctx const& ctx, Index n, std::vector<Index> const& mine,
                                    std::vector<TensorT> const& local) {
    constexpr int R = TensorT::NumDimensions;
    std::vector<TensorT> out(static_cast<std::size_t>(n));
    std::size_t k = 0;
    for (Index i = 0; i < n; ++i) {
      int const root = ctx.owner(i, n);
      std::int64_t shape[R];
      if (root == ctx.rank())
        for (int d = 0; d < R; ++d) shape[d] = local[k].dimension(d);
      ctx.broadcast(std::span<std::int64_t>(shape, R), root);
      Shape<R> s;
      for (int d = 0; d < R; ++d) s[d] = shape[d];
      TensorT t = root == ctx.rank() ? local[k++] : TensorT(s);
      ctx.broadcast(flat(t), root);
      out[std::size_t(i)] = std::move(t);
    }
    (void)mine;
    return TensorList<TensorT>(std::move(out));
  }
};

}  // namespace gather

/// A gather policy: a name and a static gather(ctx, n, my_indices, my_tensors) -> TensorList.
template <class G>
concept GatherPolicy = requires { { G::name() } -> std::convertible_to<std::string_view>; };

/// The full list on every rank from each rank's own tensors (host or device signals).
template <GatherPolicy G, class Ctx, Signal X>
TensorList<X> gather_list(Ctx const& ctx, Index n, std::vector<Index> const& mine, std::vector<X> const& local) {
  if constexpr (!DeviceSignal<X>) {
    return G::gather(ctx, n, mine, local);
  } else {
    std::vector<host_tensor_t<X>> host;
    host.reserve(local.size());
    for (auto const& t : local) host.push_back(to_host(t));
    auto const all = G::gather(ctx, n, mine, host);
    std::vector<X> out;
    out.reserve(all.size());
    for (auto const& t : all) out.push_back(from_host<X>(t));
    return TensorList<X>(std::move(out));
  }
}

/// Calls `fn.template operator()<G>()` with the gather policy G named `name`
/// ("naive", "concatenated", "broadcast"); an unknown name is an Error.
template <class F>
decltype(auto) with_gather(std::string_view name, F&& fn) {
  if (name == gather::Naive::name()) return fn.template operator()<gather::Naive>();
  if (name == gather::Concatenated::name()) return fn.template operator()<gather::Concatenated>();
  if (name == gather::Broadcast::name()) return fn.template operator()<gather::Broadcast>();
  fail("unknown gather policy '", name, "': expected one of naive, concatenated, broadcast");
}

}  // namespace distinv
