#pragma once
// core/object_id.hpp: process-unique ids for objects whose derived quantities are cached
// elsewhere (a measurement set, a distributed stack), so that a cache never mistakes a new
// object for a dead one that lived at the same address. STL only.
#include <atomic>
#include <cstdint>

namespace distinv::detail {

inline std::uint64_t next_object_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

}  // namespace distinv::detail
