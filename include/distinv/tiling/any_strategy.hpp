#pragma once
// tiling/any_strategy.hpp: AnySignalStrategy<T, Rank, TensorT>, a type-erased SignalStrategy
// of TensorT signals (host tensors by default) for the configuration-file boundary
// (create_strategy returns it). Copies share the immutable
// strategy. Models SignalStrategy itself; keep concrete strategies in hot code. core/ only.
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "distinv/core/error.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/tiling/concepts.hpp"

namespace distinv::tiling {

template <class T, int Rank, class TensorT = Tensor<T, Rank>>
class AnySignalStrategy {
 public:
  using scalar_type = T;
  static constexpr int rank = Rank;
  using tensor_type = TensorT;
  using pair_type = std::pair<Index, TensorT>;

  template <class S>
    requires(!std::is_same_v<std::remove_cvref_t<S>, AnySignalStrategy> && SignalStrategy<std::remove_cvref_t<S>> &&
             std::is_same_v<typename std::remove_cvref_t<S>::scalar_type, T> && std::remove_cvref_t<S>::rank == Rank &&
             std::is_same_v<typename std::remove_cvref_t<S>::tensor_type, TensorT>)
  AnySignalStrategy(S&& s, std::string name = "custom")
      : impl_(std::make_shared<Model<std::remove_cvref_t<S>>>(std::forward<S>(s))), name_(std::move(name)) {}

  std::string const& name() const { return name_; }
  Shape<Rank> signal_shape() const { return impl_->signal_shape(); }
  Index num_patches() const { return impl_->num_patches(); }
  std::vector<tensor_type> local_patches(tensor_type const& x, std::span<Index const> indices) const {
    return impl_->local_patches(x, indices);
  }
  std::vector<tensor_type> batch(std::vector<tensor_type> const& patches, Index max_batch_size) const {
    return impl_->batch(patches, max_batch_size);
  }
  std::vector<tensor_type> unbatch(std::vector<tensor_type> const& batches, std::span<Index const> counts) const {
    return impl_->unbatch(batches, counts);
  }
  void reduce(tensor_type& out, std::span<pair_type const> pairs) const { impl_->reduce(out, pairs); }
  /// The concrete strategy, or nullptr if it is not an S.
  template <class S>
  S const* target() const {
    auto const* m = dynamic_cast<Model<S> const*>(impl_.get());
    return m ? &m->s : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Shape<Rank> signal_shape() const = 0;
    virtual Index num_patches() const = 0;
    virtual std::vector<tensor_type> local_patches(tensor_type const&, std::span<Index const>) const = 0;
    virtual std::vector<tensor_type> batch(std::vector<tensor_type> const&, Index) const = 0;
    virtual std::vector<tensor_type> unbatch(std::vector<tensor_type> const&, std::span<Index const>) const = 0;
    virtual void reduce(tensor_type&, std::span<pair_type const>) const = 0;
  };
  template <class S>
  struct Model final : Concept {
    explicit Model(S v) : s(std::move(v)) {}
    Shape<Rank> signal_shape() const override { return s.signal_shape(); }
    Index num_patches() const override { return s.num_patches(); }
    std::vector<tensor_type> local_patches(tensor_type const& x, std::span<Index const> i) const override {
      return s.local_patches(x, i);
    }
    std::vector<tensor_type> batch(std::vector<tensor_type> const& p, Index m) const override { return s.batch(p, m); }
    std::vector<tensor_type> unbatch(std::vector<tensor_type> const& b, std::span<Index const> c) const override {
      return s.unbatch(b, c);
    }
    void reduce(tensor_type& out, std::span<pair_type const> p) const override { s.reduce(out, p); }
    S s;
  };
  std::shared_ptr<Concept const> impl_;
  std::string name_;
};

static_assert(SignalStrategy<AnySignalStrategy<float, 4>>);

}  // namespace distinv::tiling
