#pragma once
// distributed/measurements.hpp: DistributedMeasurements, the measurements y_i of a
// distributed stack where each rank holds only those of the operators it owns (same
// sharding as the physics). A version number changes on every update, so that quantities
// derived from the measurements (Σ A_iᵀ y_i, fused spectra) are cached safely.
#include <cstdint>
#include <utility>
#include <vector>

#include "distinv/core/object_id.hpp"
#include "distinv/core/tensor_list.hpp"
#include "distinv/distributed/gather.hpp"

namespace distinv {

/// The measurements y = [y_1; ...; y_N] spread over the ranks like the operators: each rank holds only the
/// entries it owns (local()), in increasing index order.
template <class Ctx, Signal TensorT>
class DistributedMeasurements {
 public:
  /// Type of one measurement.
  using tensor_type = TensorT;

  /// `factory(index, device)` returns measurement `index`; called on its owner only.
  template <class Factory>
  DistributedMeasurements(Ctx& ctx, Index num_items, Factory&& factory) : ctx_(&ctx), n_(num_items) {
    DISTINV_REQUIRE(num_items > 0, "DistributedMeasurements: expected at least one item, got ", num_items);
    indices_ = ctx.local_indices(num_items);
    local_ = ctx.collectively("measurements factory", [&] {
      std::vector<TensorT> items;
      for (Index i : indices_) items.push_back(factory(i, ctx.device()));
      return items;
    });
  }

  /// Keeps this rank's entries of a full list (every rank passes the same list).
  DistributedMeasurements(Ctx& ctx, TensorList<TensorT> const& all)
      : DistributedMeasurements(ctx, Index(all.size()), [&](Index i, auto const&) { return all[std::size_t(i)]; }) {}

  /// The context it was made with.
  Ctx& context() const noexcept { return *ctx_; }
  /// Number of measurements N (all ranks together).
  Index size() const noexcept { return n_; }
  /// The indices this rank holds, in increasing order.
  std::vector<Index> const& local_indices() const noexcept { return indices_; }
  /// This rank's measurements, in the order of local_indices().
  std::vector<TensorT> const& local() const noexcept { return local_; }
  /// Changes with every update_ (keys the cached Aᵀy of the data fidelity).
  std::uint64_t version() const noexcept { return version_; }
  std::uint64_t id() const noexcept { return id_; }  ///< unique in the process (cache keys)

  /// Replaces item `index` on its owner (a no-op elsewhere); every rank calls it.
  void update_(Index index, TensorT value) {
    DISTINV_REQUIRE(index >= 0 && index < n_, "DistributedMeasurements::update_: expected an index in [0, ", n_,
                    "), got ", index);
    for (std::size_t k = 0; k < indices_.size(); ++k)
      if (indices_[k] == index) local_[k] = std::move(value);
    version_ = detail::next_object_id();  // unique, also between copies of this object
  }

  /// The full list on every rank.
  template <GatherPolicy Gather = gather::Concatenated>
  TensorList<TensorT> gather() const {
    return gather_list<Gather>(*ctx_, n_, indices_, local_);
  }

 private:
  Ctx* ctx_;
  Index n_;
  std::vector<Index> indices_;
  std::vector<TensorT> local_;
  std::uint64_t version_ = detail::next_object_id();
  std::uint64_t id_ = detail::next_object_id();
};

}  // namespace distinv
