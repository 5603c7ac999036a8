#pragma once
// core/tensor_list.hpp: TensorList, one tensor per operator of a stack (the measurements
// y = [y_1; ...; y_N]), of host or device signals. Tensors of different shapes may share a list;
// arithmetic between two lists requires equal lengths and equal shapes element by element.
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

#include "distinv/core/signal.hpp"

namespace distinv {

template <Signal TensorT>
class TensorList {
 public:
  using tensor_type = TensorT;
  using scalar_type = scalar_t<TensorT>;

  TensorList() = default;
  explicit TensorList(std::vector<TensorT> items) : items_(std::move(items)) {}
  TensorList(std::initializer_list<TensorT> items) : items_(items) {}

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

  TensorT& operator[](std::size_t i) { return at_checked(i); }
  TensorT const& operator[](std::size_t i) const { return const_cast<TensorList&>(*this).at_checked(i); }

  void push_back(TensorT t) { items_.push_back(std::move(t)); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  std::vector<TensorT>& items() noexcept { return items_; }
  std::vector<TensorT> const& items() const noexcept { return items_; }

  TensorList& operator+=(TensorList const& o) { return combine(o, +1, "TensorList +"); }
  TensorList& operator-=(TensorList const& o) { return combine(o, -1, "TensorList -"); }
  TensorList& operator*=(scalar_type s) {
    for (auto& t : items_) t = t * s;
    return *this;
  }
  friend TensorList operator+(TensorList a, TensorList const& b) { return a += b; }
  friend TensorList operator-(TensorList a, TensorList const& b) { return a -= b; }
  friend TensorList operator*(TensorList a, scalar_type s) { return a *= s; }
  friend TensorList operator*(scalar_type s, TensorList a) { return a *= s; }

  /// Sum of the element-wise inner products.
  double dot(TensorList const& o) const {
    require_same_length(o, "TensorList dot");
    double s = 0;
    for (std::size_t i = 0; i < size(); ++i) s += distinv::dot(items_[i], o.items_[i]);
    return s;
  }
  double norm() const { return std::sqrt(dot(*this)); }

 private:
  TensorT& at_checked(std::size_t i) {
    DISTINV_REQUIRE(i < items_.size(), "TensorList index: expected < ", items_.size(), ", got ", i);
    return items_[i];
  }
  void require_same_length(TensorList const& o, char const* what) const {
    DISTINV_REQUIRE(o.size() == size(), what, ": expected a list of ", size(), " tensors, got ", o.size());
  }
  TensorList& combine(TensorList const& o, int sign, char const* what) {
    require_same_length(o, what);
    for (std::size_t i = 0; i < size(); ++i) {
      require_same_shape(items_[i], o.items_[i], what);
      if (sign > 0) items_[i] += o.items_[i];
      else items_[i] -= o.items_[i];
    }
    return *this;
  }

  std::vector<TensorT> items_;
};

template <Signal TensorT>
double dot(TensorList<TensorT> const& a, TensorList<TensorT> const& b) {
  return a.dot(b);
}
template <Signal TensorT>
double norm(TensorList<TensorT> const& a) {
  return a.norm();
}

}  // namespace distinv
