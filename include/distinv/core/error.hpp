#pragma once
// core/error.hpp: the one exception type of distinv and the checks that throw it.
// Every public entry validates its input with DISTINV_REQUIRE before any collective, so that
// a bad argument fails on every rank alike and nobody is left blocked. Includes only the STL.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace distinv {

/// Thrown for every shape, argument or configuration problem; the message names what was
/// expected and what was given.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string cat(Parts const&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

/// Throws distinv::Error with the concatenation of `parts`, prefixed with "distinv: ".
template <class... Parts>
[[noreturn]] void fail(Parts const&... parts) {
  throw Error(detail::cat("distinv: ", parts...));
}

}  // namespace distinv

/// DISTINV_REQUIRE(cond, parts...): throw distinv::Error built from `parts` unless `cond`.
/// The message is built only on failure.
#define DISTINV_REQUIRE(cond, ...)            \
  do {                                        \
    if (!(cond)) ::distinv::fail(__VA_ARGS__); \
  } while (0)
