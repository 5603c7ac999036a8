#pragma once
// core/warn_once.hpp: warnings said once per process. warn_once(message) writes
// "distinv: warning: <message>" to stderr the first time this process sees that message, so
// that the ranks of a Threads world, which build the same objects, say it once rather than
// once each. The set of messages said is the only state (diagnostics only). STL only.
#include <iostream>
#include <mutex>
#include <set>
#include <string>

namespace distinv {

/// Writes "distinv: warning: <message>" to stderr the first time this message is given in the process
/// (thread-safe).
inline void warn_once(std::string const& message) {
  static std::mutex m;
  static std::set<std::string> said;
  std::lock_guard lock(m);
  if (said.insert(message).second) std::cerr << "distinv: warning: " << message << "\n";
}

}  // namespace distinv
