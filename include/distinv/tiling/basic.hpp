#pragma once
// tiling/basic.hpp: BasicStrategy (runtime name "basic"): the chosen dims split into a given
// number of pieces each, as equal as possible (the first pieces one larger), no halo, no
// padding; reduce pastes each piece back. Models SignalStrategy. core/ and oneTBB only.
#include <span>
#include <string_view>
#include <vector>

#include <tbb/parallel_for.h>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/batching.hpp"
#include "distinv/tiling/concepts.hpp"
#include "distinv/tiling/options.hpp"

namespace distinv::tiling {

template <class T, int Rank>
class BasicStrategy {
 public:
  using scalar_type = T;
  static constexpr int rank = Rank;
  using tensor_type = Tensor<T, Rank>;

  /// `dims`: tensor dims to split (empty = spatial dims); `num_splits`: pieces per dim (one
  /// value for all, or one per dim), each in [1, size of that dim].
  BasicStrategy(Shape<Rank> const& shape, std::vector<int> const& dims, std::vector<Index> const& num_splits)
      : shape_(shape) {
    static_assert(Rank == 4 || Rank == 5, "BasicStrategy: rank must be 4 (B,C,H,W) or 5 (B,C,D,H,W)");
    constexpr char const* who = "BasicStrategy";
    for (int d = 0; d < Rank; ++d)
      DISTINV_REQUIRE(shape[d] > 0, who, ": signal shape must be positive, got ", to_string(shape));
    dims_ = detail::resolve_tiled_dims<Rank>(dims, who);
    splits_ = detail::per_dim(num_splits, dims_.size(), who, "num_splits");
    std::vector<std::vector<std::pair<Index, Index>>> ranges;  // (start, size) per dim
    for (std::size_t k = 0; k < dims_.size(); ++k) {
      Index const n = shape[dims_[k]], s = splits_[k];
      DISTINV_REQUIRE(s >= 1 && s <= n, who, ": num_splits must be in [1, ", n, "] for dim ", dims_[k], ", got ", s);
      std::vector<std::pair<Index, Index>> r;
      Index start = 0;
      for (Index j = 0; j < s; ++j) {
        Index const len = n / s + (j < n % s ? 1 : 0);
        r.emplace_back(start, len);
        start += len;
      }
      ranges.push_back(std::move(r));
    }
    Index total = 1;
    for (auto const& r : ranges) total *= Index(r.size());
    for (Index i = 0; i < total; ++i) {
      Box b{Shape<Rank>{}, shape_};
      Index q = i;
      for (std::size_t k = dims_.size(); k-- > 0;) {
        Index const n = Index(ranges[k].size());
        auto [st, len] = ranges[k][std::size_t(q % n)];
        q /= n;
        b.start[dims_[k]] = st;
        b.size[dims_[k]] = len;
      }
      boxes_.push_back(b);
    }
  }

  struct Box {
    Shape<Rank> start;
    Shape<Rank> size;
  };

  static constexpr std::string_view name() { return "basic"; }
  Shape<Rank> signal_shape() const { return shape_; }
  Index num_patches() const { return Index(boxes_.size()); }
  std::vector<Box> const& boxes() const { return boxes_; }
  std::vector<int> const& tiled_dims() const { return dims_; }

  std::vector<tensor_type> local_patches(tensor_type const& x, std::span<Index const> indices) const {
    DISTINV_REQUIRE(shape_of(x) == shape_, "BasicStrategy::local_patches: expected a signal of shape ",
                    to_string(shape_), ", got ", to_string(shape_of(x)));
    for (Index i : indices) check_index(i);
    std::vector<tensor_type> out(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) {
      auto const& b = boxes_[std::size_t(indices[k])];
      out[k] = tensor_type(b.size);
      detail::copy_box<false>(x, b.start, out[k], Shape<Rank>{}, b.size);
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

  void reduce(tensor_type& out, std::span<PatchPair<T, Rank> const> pairs) const {
    DISTINV_REQUIRE(shape_of(out) == shape_, "BasicStrategy::reduce: expected an output of shape ",
                    to_string(shape_), ", got ", to_string(shape_of(out)));
    for (auto const& [i, patch] : pairs) {
      auto const& b = boxes_[std::size_t(check_index(i))];
      DISTINV_REQUIRE(shape_of(patch) == b.size, "BasicStrategy::reduce: processed patch ", i, " must have shape ",
                      to_string(b.size), ", got ", to_string(shape_of(patch)));
    }
    for (auto const& [i, patch] : pairs) {
      auto const& b = boxes_[std::size_t(i)];
      detail::copy_box<true>(patch, Shape<Rank>{}, out, b.start, b.size);
    }
  }
  void reduce(tensor_type& out, std::vector<PatchPair<T, Rank>> const& pairs) const {
    reduce(out, std::span<PatchPair<T, Rank> const>(pairs));
  }

 private:
  Index check_index(Index i) const {
    DISTINV_REQUIRE(i >= 0 && i < num_patches(), "BasicStrategy: patch index must be in [0, ", num_patches(),
                    "), got ", i);
    return i;
  }

  Shape<Rank> shape_;
  std::vector<int> dims_;
  std::vector<Index> splits_;
  std::vector<Box> boxes_;
};

static_assert(SignalStrategy<BasicStrategy<float, 4>>);
static_assert(SignalStrategy<BasicStrategy<double, 5>>);

}  // namespace distinv::tiling
