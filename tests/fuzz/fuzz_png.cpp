// tests/fuzz/fuzz_png.cpp: libFuzzer target of the PNG reader (io::decode_png, the whole of
// read_png after the file is read). Any input must decode or throw distinv::Error, within a
// 64 MiB limit; a crash, a sanitizer report, another exception or a larger allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "distinv/io/png.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  try {
    auto const img = distinv::io::decode_png<float>(std::span<unsigned char const>(data, size), "fuzz input",
                                                    {.max_bytes = std::size_t(64) << 20});
    if (img.size() == 0 || img.dimension(1) < 1) __builtin_trap();  // a decoded image is never empty
  } catch (distinv::Error const&) {
  }
  return 0;
}
