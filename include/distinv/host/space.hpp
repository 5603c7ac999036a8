#pragma once
// host/space.hpp: the host space, space_traits<device::Host>: signals are Eigen row-major
// tensors (core/tensor.hpp), buffers are 64-byte aligned owning arrays (host::Buffer), spans
// std::span, the launcher is host::Launch (oneTBB), transfers are copies, collectives the
// backend's own.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <span>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"
#include "distinv/core/space.hpp"
#include "distinv/core/tensor.hpp"
#include "distinv/device.hpp"
#include "distinv/host/for_each.hpp"

namespace distinv::host {

/// An owning array of n uninitialised E (trivially copyable), aligned to 64 bytes (enough for
/// every SIMD width, FFTW's included). Move-only.
template <class E>
class Buffer {
 public:
  /// Byte alignment of the elements (64).
  static constexpr std::size_t alignment = 64;
  Buffer() = default;
  /// `n` uninitialised elements; throws Error if n elements overflow the address space.
  explicit Buffer(std::size_t n) : n_(n) {
    if (n == 0) return;
    DISTINV_REQUIRE(n <= std::size_t(-1) / sizeof(E), "host::Buffer: ", n, " elements of ", sizeof(E),
                    " bytes overflow the address space");
    p_.reset(static_cast<E*>(::operator new(n * sizeof(E), std::align_val_t(alignment))));
  }
  /// First element.
  E* data() noexcept { return p_.get(); }
  /// First element.
  E const* data() const noexcept { return p_.get(); }
  /// Number of elements.
  std::size_t size() const noexcept { return n_; }
  /// First element.
  E* begin() noexcept { return data(); }
  /// Past the last element.
  E* end() noexcept { return data() + n_; }
  /// First element.
  E const* begin() const noexcept { return data(); }
  /// Past the last element.
  E const* end() const noexcept { return data() + n_; }
  /// Element i (unchecked).
  E& operator[](std::size_t i) noexcept { return p_[i]; }
  /// Element i (unchecked).
  E const& operator[](std::size_t i) const noexcept { return p_[i]; }

 private:
  struct Free {
    void operator()(E* p) const noexcept { ::operator delete(p, std::align_val_t(alignment)); }
  };
  std::unique_ptr<E[], Free> p_;
  std::size_t n_ = 0;
};

}  // namespace distinv::host

namespace distinv {

/// The host memory space: Eigen tensors, aligned host buffers, oneTBB launches, plain copies.
template <>
struct space_traits<device::Host> {
  /// The tensor of this space: Tensor<T, R>.
  template <class T, int R>
  using tensor = Tensor<T, R>;
  /// The buffer of this space: host::Buffer<E>.
  template <class E>
  using buffer = host::Buffer<E>;
  /// A view of host elements.
  template <class E>
  using span = std::span<E>;
  /// False: host memory.
  static constexpr bool on_device = false;

  /// The launcher of index functors: host::Launch (oneTBB).
  static host::Launch launcher(device::Host const& = {}) noexcept { return {}; }
  /// n uninitialised E.
  template <class E>
  static buffer<E> allocate(Index n, device::Host const& = {}) {
    return buffer<E>(std::size_t(n));
  }
  /// Copies n elements from the host into this space (a plain copy).
  template <class E>
  static void upload(E const* host_src, E* dst, Index n, device::Host const& = {}) {
    std::copy_n(host_src, n, dst);
  }
  /// Copies n elements from this space to the host (a plain copy).
  template <class E>
  static void download(E const* src, E* host_dst, Index n, device::Host const& = {}) {
    std::copy_n(src, n, host_dst);
  }
  /// In-place all-reduce of n elements of this space over a backend's ranks.
  template <CommBackend Comm, class E>
  static void all_reduce(Comm const& comm, std::span<E> buf, ReduceOp op) {
    comm.all_reduce(buf, op);
  }
};

}  // namespace distinv
