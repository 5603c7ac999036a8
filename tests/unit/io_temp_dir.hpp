#pragma once
// tests/unit/io_temp_dir.hpp: a fresh folder under the system temporary directory for the io
// tests, removed with everything in it when the object goes out of scope.
#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

namespace distinv::testing {

class TempDir {
 public:
  explicit TempDir(std::string const& tag) {
    namespace fs = std::filesystem;
    auto const stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    for (int k = 0;; ++k) {
      path_ = fs::temp_directory_path() /
              ("distinv_" + tag + "_" + std::to_string(stamp) + "_" + std::to_string(k));
      if (fs::create_directory(path_)) break;
    }
  }
  TempDir(TempDir const&) = delete;
  TempDir& operator=(TempDir const&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] std::filesystem::path const& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string const& name) const { return path_ / name; }
  /// Number of entries in the folder (to check that failed writes leave nothing behind).
  [[nodiscard]] std::size_t count() const {
    std::size_t n = 0;
    for ([[maybe_unused]] auto const& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace distinv::testing
