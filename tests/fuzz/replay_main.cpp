// tests/fuzz/replay_main.cpp: runs a fuzz target (LLVMFuzzerTestOneInput) once on each file
// given, or on every file of each folder given, so that the corpora and the crashing inputs
// found so far replay as ordinary tests with any compiler (no libFuzzer needed). Exit code 0
// when every input went through; a bug shows as a crash, a sanitizer report or an uncaught
// exception, with the file named on stderr first.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (auto const& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());
  for (auto const& f : files) {
    std::fprintf(stderr, "replay: %s\n", f.string().c_str());
    std::ifstream in(f, std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    LLVMFuzzerTestOneInput(reinterpret_cast<std::uint8_t const*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu input(s)\n", files.size());
  return files.empty() ? 1 : 0;
}
