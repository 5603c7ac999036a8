// tests/fuzz/fuzz_npy.cpp: libFuzzer target of the NPY reader (io::decode_npy, the header
// parser and size checks read_npy shares), for float and double at ranks 1, 2 and 4. Any input
// must decode or throw distinv::Error; a crash, a sanitizer report or another exception is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "distinv/io/npy.hpp"

namespace {
template <class T, int R>
void decode(std::span<unsigned char const> bytes) {
  try {
    auto const x = distinv::io::decode_npy<T, R>(bytes, "fuzz input");
    if (std::size_t(x.size()) * sizeof(T) > bytes.size()) __builtin_trap();  // data never exceeds the input
  } catch (distinv::Error const&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::span<unsigned char const> const bytes(data, size);
  decode<float, 4>(bytes);
  decode<double, 4>(bytes);
  decode<float, 2>(bytes);
  decode<double, 1>(bytes);
  return 0;
}
