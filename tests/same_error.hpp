#pragma once
// tests/same_error.hpp: check_same_error(ctx, f), for bad-input tests on every backend: f must
// throw a distinv::Error, with the same message on every rank (a checksum of it, max- and
// min-reduced over the ranks, agrees), so that no rank was left waiting in a collective.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <string>

#include "distinv/core/concepts.hpp"
#include "distinv/core/error.hpp"

namespace distinv::testing {

/// Runs f, which must throw an Error with the same message on every rank; returns the message.
template <class Ctx, class F>
std::string check_same_error(Ctx& ctx, F&& f) {
  std::string msg;
  try {
    f();
  } catch (Error const& e) {
    msg = e.what();
  }
  CHECK_FALSE(msg.empty());
  double h = double(msg.size());
  for (unsigned char c : msg) h = std::fmod(h * 131 + c, 1099511627776.0);
  double v[2] = {h, -h};
  ctx.comm().all_reduce(std::span<double>(v, 2), ReduceOp::max);
  CHECK(v[0] == -v[1]);
  return msg;
}

}  // namespace distinv::testing
