#pragma once
// cuda/tiling.cuh: the tiling strategies over device tensors. cuda::OverlapTiling<T, Rank>
// and cuda::BasicTiling<T, Rank> model tiling::SignalStrategy with tensor_type =
// cuda::DeviceTensor<T, Rank>: the layout is the host strategy's (held, immutable, shared by
// copies), its source maps and blend weights uploaded once; windows are extracted and reduced
// by the functors of core/kernels/tiling.hpp, one kernel per patch on the default stream (so
// overlapping blended windows add one after the other). batch / unbatch concatenate along
// dim 0 with device-to-device copies. tiling::strategy_maker<DeviceTensor> maps the runtime
// names. Needs nvcc.
#include <cuda_runtime.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/kernels/tiling.hpp"
#include "distinv/cuda/device_tensor.hpp"
#include "distinv/cuda/kernels.cuh"
#include "distinv/cuda/signal.cuh"
#include "distinv/tiling/any_strategy.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/create_strategy.hpp"
#include "distinv/tiling/tile_tables.hpp"

namespace distinv::cuda {

/// Consecutive device patches of equal shape concatenated along dim 0, at most
/// `max_batch_size` per batch (0 = unlimited); as tiling::batch_patches.
template <class T, int Rank>
std::vector<DeviceTensor<T, Rank>> batch_patches(std::vector<DeviceTensor<T, Rank>> const& patches,
                                                 Index max_batch_size) {
  DISTINV_REQUIRE(max_batch_size >= 0, "batch: max_batch_size must be >= 0 (0 = unlimited), got ", max_batch_size);
  std::vector<DeviceTensor<T, Rank>> out;
  std::size_t i = 0;
  while (i < patches.size()) {
    auto const s = patches[i].shape();
    std::size_t j = i + 1;
    while (j < patches.size() && patches[j].shape() == s && (max_batch_size == 0 || Index(j - i) < max_batch_size))
      ++j;
    Shape<Rank> bs = s;
    bs[0] = s[0] * Index(j - i);
    DeviceTensor<T, Rank> b(bs);
    T* dst = b.data();
    for (std::size_t k = i; k < j; ++k) {
      if (patches[k].size() > 0)
        check(cudaMemcpyAsync(dst, patches[k].data(), patches[k].bytes(), cudaMemcpyDeviceToDevice, nullptr),
              "cudaMemcpyAsync");
      dst += patches[k].size();
    }
    out.push_back(std::move(b));
    i = j;
  }
  return out;
}

/// Inverse of batch_patches: batch k is split along dim 0 into `counts[k]` equal patches.
template <class T, int Rank>
std::vector<DeviceTensor<T, Rank>> unbatch_patches(std::vector<DeviceTensor<T, Rank>> const& batches,
                                                   std::span<Index const> counts) {
  DISTINV_REQUIRE(counts.size() == batches.size(), "unbatch: expected one count per batch (", batches.size(),
                  "), got ", counts.size());
  std::vector<DeviceTensor<T, Rank>> out;
  for (std::size_t k = 0; k < batches.size(); ++k) {
    auto s = batches[k].shape();
    Index const n = counts[k];
    DISTINV_REQUIRE(n > 0 && s[0] % n == 0, "unbatch: batch ", k, " of shape ", to_string(s),
                    " cannot be split into ", n, " patches along dim 0");
    s[0] /= n;
    Index const len = numel(s);
    for (Index p = 0; p < n; ++p) {
      DeviceTensor<T, Rank> t(s);
      if (len > 0)
        check(cudaMemcpyAsync(t.data(), batches[k].data() + p * len, std::size_t(len) * sizeof(T),
                              cudaMemcpyDeviceToDevice, nullptr),
              "cudaMemcpyAsync");
      out.push_back(std::move(t));
    }
  }
  return out;
}

namespace detail {

/// A device copy of a host vector (synchronous).
template <class T>
DeviceBuffer<T> upload(std::vector<T> const& v) {
  DeviceBuffer<T> b(v.size());
  if (!v.empty()) check(cudaMemcpy(b.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  return b;
}

/// A host strategy, its tile tables and their device copies; immutable once built.
template <class Host>
struct DeviceTiles {
  using T = typename Host::scalar_type;
  static constexpr int Rank = Host::rank;
  explicit DeviceTiles(Host h)
      : host(std::move(h)), tables(tiling::make_tile_tables(host)), maps(upload(tables.maps)),
        weights(upload(tables.weights)) {}
  Host host;
  tiling::TileTables<T, Rank> tables;
  DeviceBuffer<Index> maps;
  DeviceBuffer<T> weights;
};

/// The device side shared by OverlapTiling and BasicTiling, over the host strategy `Host`.
template <class Host>
class DeviceTiling {
 public:
  using scalar_type = typename Host::scalar_type;
  static constexpr int rank = Host::rank;
  using tensor_type = DeviceTensor<scalar_type, rank>;
  using pair_type = std::pair<Index, tensor_type>;

  DeviceTiling(Host host, char const* who) : tiles_(std::make_shared<DeviceTiles<Host> const>(std::move(host))), who_(who) {}

  /// The host strategy whose layout this one follows (layout, grid, options...).
  Host const& host_strategy() const noexcept { return tiles_->host; }
  /// The tables the kernels read (host copy).
  tiling::TileTables<scalar_type, rank> const& tables() const noexcept { return tiles_->tables; }
  Shape<rank> signal_shape() const { return tiles_->host.signal_shape(); }
  Index num_patches() const { return tiles_->tables.num_patches(); }

  /// The windows of the given patches (kernels queued on the default stream).
  std::vector<tensor_type> local_patches(tensor_type const& x, std::span<Index const> indices) const {
    DISTINV_REQUIRE(x.shape() == signal_shape(), who_, "::local_patches: expected a signal of shape ",
                    to_string(signal_shape()), ", got ", to_string(x.shape()));
    for (Index i : indices) check_index(i);
    auto const& tab = tiles_->tables;
    std::vector<tensor_type> out;
    out.reserve(indices.size());
    for (Index i : indices) {
      tensor_type w(tab.window_shape[std::size_t(i)]);
      for_each(tab.window_size(i), tab.extract_op(i, x.data(), w.data(), tiles_->maps.data()));
      out.push_back(std::move(w));
    }
    return out;
  }
  std::vector<tensor_type> local_patches(tensor_type const& x, std::vector<Index> const& indices) const {
    return local_patches(x, std::span<Index const>(indices));
  }

  std::vector<tensor_type> batch(std::vector<tensor_type> const& patches, Index max_batch_size) const {
    return batch_patches(patches, max_batch_size);
  }
  std::vector<tensor_type> unbatch(std::vector<tensor_type> const& batches, std::span<Index const> counts) const {
    return unbatch_patches(batches, counts);
  }

  /// ADDS each processed patch into `out`, one kernel per patch, in order.
  void reduce(tensor_type& out, std::span<pair_type const> pairs) const {
    DISTINV_REQUIRE(out.shape() == signal_shape(), who_, "::reduce: expected an output of shape ",
                    to_string(signal_shape()), ", got ", to_string(out.shape()));
    auto const& tab = tiles_->tables;
    for (auto const& [i, patch] : pairs) {
      check_index(i);
      DISTINV_REQUIRE(patch.shape() == tab.window_shape[std::size_t(i)], who_, "::reduce: processed patch ", i,
                      " must have the window shape ", to_string(tab.window_shape[std::size_t(i)]), ", got ",
                      to_string(patch.shape()));
    }
    for (auto const& [i, patch] : pairs)
      for_each(tab.box_size(i), tab.add_op(i, patch.data(), out.data(), tiles_->weights.data()));
  }
  void reduce(tensor_type& out, std::vector<pair_type> const& pairs) const {
    reduce(out, std::span<pair_type const>(pairs));
  }

 private:
  Index check_index(Index i) const {
    DISTINV_REQUIRE(i >= 0 && i < num_patches(), who_, ": patch index must be in [0, ", num_patches(), "), got ", i);
    return i;
  }
  std::shared_ptr<DeviceTiles<Host> const> tiles_;
  char const* who_;
};

}  // namespace detail

/// tiling::OverlapTilingStrategy on the device: the same windows, padding and blending.
template <class T, int Rank = 4>
class OverlapTiling : public detail::DeviceTiling<tiling::OverlapTilingStrategy<T, Rank>> {
  using Base = detail::DeviceTiling<tiling::OverlapTilingStrategy<T, Rank>>;

 public:
  OverlapTiling(Shape<Rank> const& shape, tiling::TilingOptions const& options)
      : OverlapTiling(tiling::OverlapTilingStrategy<T, Rank>(shape, options)) {}
  explicit OverlapTiling(tiling::OverlapTilingStrategy<T, Rank> host) : Base(std::move(host), "cuda::OverlapTiling") {}
  static constexpr std::string_view name() { return "overlap_tiling"; }
};

/// tiling::BasicStrategy on the device: the same pieces, no halo.
template <class T, int Rank = 4>
class BasicTiling : public detail::DeviceTiling<tiling::BasicStrategy<T, Rank>> {
  using Base = detail::DeviceTiling<tiling::BasicStrategy<T, Rank>>;

 public:
  BasicTiling(Shape<Rank> const& shape, std::vector<int> const& dims, std::vector<Index> const& num_splits)
      : BasicTiling(tiling::BasicStrategy<T, Rank>(shape, dims, num_splits)) {}
  explicit BasicTiling(tiling::BasicStrategy<T, Rank> host) : Base(std::move(host), "cuda::BasicTiling") {}
  static constexpr std::string_view name() { return "basic"; }
};

static_assert(tiling::SignalStrategy<OverlapTiling<float>>);
static_assert(tiling::SignalStrategy<OverlapTiling<double, 5>>);
static_assert(tiling::SignalStrategy<BasicTiling<float>>);

}  // namespace distinv::cuda

namespace distinv::tiling {

/// The runtime names for device signals, as create_strategy for host ones.
template <class T, int Rank>
struct strategy_maker<cuda::DeviceTensor<T, Rank>> {
  using type = AnySignalStrategy<T, Rank, cuda::DeviceTensor<T, Rank>>;
  static type make(std::string_view name, Shape<Rank> const& shape, TilingOptions const& options) {
    if (name == "overlap_tiling" || name == "smart_tiling")
      return type(cuda::OverlapTiling<T, Rank>(shape, options), std::string(name));
    if (name == "basic") return type(cuda::BasicTiling<T, Rank>(detail::make_basic_strategy<T, Rank>(shape, options)), "basic");
    fail("unknown tiling strategy \"", std::string(name), "\": expected one of ", strategy_names);
  }
};

static_assert(SignalStrategy<strategy_maker<cuda::DeviceTensor<float, 4>>::type>);

}  // namespace distinv::tiling
