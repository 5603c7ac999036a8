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

/// A list of tensors, one per operator (the measurements y = [y_1; ...; y_N]), with element-wise list
/// arithmetic and the list inner product.
template <Signal TensorT>
class TensorList {
 public:
  /// Type of each entry.
  using tensor_type = TensorT;
  /// Element type of the entries.
  using scalar_type = scalar_t<TensorT>;

  TensorList() = default;
  /// From a vector of entries.
  explicit TensorList(std::vector<TensorT> items) : items_(std::move(items)) {}
  /// From a braced list of entries.
  TensorList(std::initializer_list<TensorT> items) : items_(items) {}

  /// Number of entries.
  std::size_t size() const noexcept { return items_.size(); }
  /// True with no entry.
  bool empty() const noexcept { return items_.empty(); }

  /// Entry i (unchecked, as std::vector).
  TensorT& operator[](std::size_t i) { return at_checked(i); }
  /// Entry i (unchecked, as std::vector).
  TensorT const& operator[](std::size_t i) const { return const_cast<TensorList&>(*this).at_checked(i); }

  /// Appends an entry.
  void push_back(TensorT t) { items_.push_back(std::move(t)); }
  /// Iterator to the first entry.
  auto begin() { return items_.begin(); }
  /// Iterator past the last entry.
  auto end() { return items_.end(); }
  /// Iterator to the first entry.
  auto begin() const { return items_.begin(); }
  /// Iterator past the last entry.
  auto end() const { return items_.end(); }
  /// The entries.
  std::vector<TensorT>& items() noexcept { return items_; }
  /// The entries.
  std::vector<TensorT> const& items() const noexcept { return items_; }

  /// Entry-wise +=; throws Error unless the lists have the same length and shapes.
  TensorList& operator+=(TensorList const& o) { return combine(o, +1, "TensorList +"); }
  /// Entry-wise -=; throws Error unless the lists have the same length and shapes.
  TensorList& operator-=(TensorList const& o) { return combine(o, -1, "TensorList -"); }
  /// Multiplies every entry by s.
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
  /// sqrt(dot(*this)): the Euclidean norm of the whole list.
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

/// Σ_i ⟨a_i, b_i⟩ over the entries, in double.
template <Signal TensorT>
double dot(TensorList<TensorT> const& a, TensorList<TensorT> const& b) {
  return a.dot(b);
}
/// sqrt(dot(a, a)).
template <Signal TensorT>
double norm(TensorList<TensorT> const& a) {
  return a.norm();
}

}  // namespace distinv
