// tests/fuzz/fuzz_toml.cpp: libFuzzer target of distinv-pnp's configuration file reader: the
// input is parsed as TOML (toml++) and applied and checked as `--config` would (apply_toml,
// check, parse_memory_limit). Any input must give a Config or throw toml::parse_error or
// distinv::Error; a crash, a sanitizer report or another exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "distinv-pnp/budget.hpp"
#include "distinv-pnp/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  try {
    toml::table const t = toml::parse(text, std::string_view("fuzz.toml"));
    pnp::Config cfg;
    pnp::apply_toml(cfg, t, "fuzz.toml", [](std::string const&) { return false; });
    pnp::check(cfg);
    (void)pnp::parse_memory_limit(cfg.memory_limit);
    (void)pnp::fingerprint(cfg);
  } catch (toml::parse_error const&) {
  } catch (distinv::Error const&) {
  }
  return 0;
}
