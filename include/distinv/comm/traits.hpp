#pragma once
// comm/traits.hpp: what a communication backend can do beyond the CommBackend concept, for
// the layers above to ask instead of probing members. comm_traits<Comm> has
//   shares_memory      the ranks are threads of one process and may hand each other pointers;
//   device_aware(c)    the backend's collectives take device pointers (a CUDA-aware MPI: known
//                      only at run time);
//   has_device_comm    device buffers go to a device communicator, device_comm(c) (NCCL).
// Each backend specialises it beside its definition; a wrapper (comm::WithNccl, a timing or
// counting wrapper) forwards its inner backend's with forward_comm_traits. STL only.

namespace distinv {

/// The capabilities of a plain host backend (SingleProcess; the default of any backend).
struct default_comm_traits {
  /// False: the ranks are separate address spaces.
  static constexpr bool shares_memory = false;
  /// False: collectives take host pointers only.
  template <class Comm>
  static bool device_aware(Comm const&) noexcept {
    return false;
  }
  /// False: no device communicator.
  static constexpr bool has_device_comm = false;
};

template <class Comm>
struct comm_traits : default_comm_traits {};

/// The comm_traits of a wrapper `W` around `Inner`, reached by `inner(w)`.
template <class Inner, auto inner>
struct forward_comm_traits {
  /// As the inner backend's.
  static constexpr bool shares_memory = comm_traits<Inner>::shares_memory;
  /// As the inner backend's, asked of `inner(w)`.
  template <class W>
  static bool device_aware(W const& w) {
    return comm_traits<Inner>::device_aware(inner(w));
  }
  /// As the inner backend's.
  static constexpr bool has_device_comm = comm_traits<Inner>::has_device_comm;
  /// The inner backend's device communicator (only where it has one).
  template <class W>
    requires comm_traits<Inner>::has_device_comm
  static decltype(auto) device_comm(W const& w) {
    return comm_traits<Inner>::device_comm(inner(w));
  }
};

}  // namespace distinv
