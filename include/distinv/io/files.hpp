#pragma once
// io/files.hpp: file helpers of the io/ readers and writers. AtomicFile writes to a hidden
// temporary file in the target's folder and renames it over the target on commit(); if commit()
// is never reached (an error, an exception) the temporary is removed, so a failed write leaves
// neither a half-written target nor a stray temporary behind. read_file_bytes() reads a whole
// file or throws Error naming it; RandomAccessFile reads or writes byte ranges at offsets (the
// slabs of a tensor, each rank its own). STL only.
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "distinv/core/error.hpp"

namespace distinv::io {

/// A file written under a temporary name and renamed over `target` by commit().
/// Not copyable; the destructor discards an uncommitted temporary.
class AtomicFile {
 public:
  /// Prepares a temporary file beside `target`; throws Error if the target's folder does not exist or the
  /// temporary cannot be created.
  explicit AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
    namespace fs = std::filesystem;
    DISTINV_REQUIRE(!target_.empty() && target_.has_filename(), "cannot write '", target_.string(),
                    "': expected a file path, got no file name");
    fs::path const folder = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
    std::error_code ec;
    DISTINV_REQUIRE(fs::is_directory(folder, ec), "cannot write '", target_.string(), "': folder '",
                    folder.string(), "' does not exist or is not a folder");
    // A name unique enough for concurrent writers: clock, thread and object address.
    auto const stamp = static_cast<unsigned long long>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    auto const who = std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
                     reinterpret_cast<std::uintptr_t>(this);
    int err = 0;
    for (int attempt = 0; attempt < 16 && !file_; ++attempt) {
      temp_ = folder / ("." + target_.filename().string() + ".tmp" + std::to_string(stamp % 1000000007ULL) +
                        "-" + std::to_string(who % 1000000007ULL) + "-" + std::to_string(attempt));
      file_ = std::fopen(temp_.string().c_str(), "wbx");  // x: fail if it exists
      err = errno;
      if (!file_ && err != EEXIST) break;
    }
    DISTINV_REQUIRE(file_ != nullptr, "cannot write '", target_.string(), "': cannot create a file in '",
                    folder.string(), "' (", std::strerror(err), ")");
  }

  AtomicFile(AtomicFile const&) = delete;
  AtomicFile& operator=(AtomicFile const&) = delete;

  ~AtomicFile() { discard(); }

  /// The open C stream of the temporary file (for writers that take a FILE*).
  [[nodiscard]] std::FILE* handle() const noexcept { return file_; }
  /// The path that commit() writes.
  [[nodiscard]] std::filesystem::path const& target() const noexcept { return target_; }
  /// The temporary file's path until commit() or discard() (then empty): other writers of the
  /// same file (other ranks) open it by this name.
  [[nodiscard]] std::filesystem::path const& temp_path() const noexcept { return temp_; }

  /// Flushes what was written so far to the file, so that other writers see it; throws Error
  /// (and discards the temporary) on failure.
  void flush() {
    DISTINV_REQUIRE(file_ != nullptr, "cannot write '", target_.string(), "': file already closed");
    if (std::fflush(file_) != 0) {
      int const err = errno;
      discard();
      fail("cannot write '", target_.string(), "': flush failed (", std::strerror(err), ")");
    }
  }

  /// Appends `n` bytes; throws Error (and discards the temporary) on a short write.
  void write(void const* data, std::size_t n) {
    DISTINV_REQUIRE(file_ != nullptr, "cannot write '", target_.string(), "': file already closed");
    if (n != 0 && std::fwrite(data, 1, n, file_) != n) {
      int const err = errno;
      discard();
      fail("cannot write '", target_.string(), "': write failed (", std::strerror(err), ")");
    }
  }
  /// Appends `bytes` to the temporary file; throws Error on a write failure.
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  /// Flushes, closes and renames the temporary over the target. Throws Error on failure,
  /// after removing the temporary.
  void commit() {
    DISTINV_REQUIRE(file_ != nullptr, "cannot write '", target_.string(), "': file already closed");
    bool const flushed = std::fflush(file_) == 0 && !std::ferror(file_);
    int err = errno;
    bool const closed = std::fclose(file_) == 0;
    if (flushed) err = errno;
    file_ = nullptr;
    if (!flushed || !closed) {
      remove_temp();
      fail("cannot write '", target_.string(), "': flush or close failed (", std::strerror(err), ")");
    }
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) {
      remove_temp();
      fail("cannot write '", target_.string(), "': rename from temporary failed (", ec.message(), ")");
    }
    temp_.clear();
  }

  /// Closes and removes the temporary; the target is left as it was. Safe to call twice.
  void discard() noexcept {
    if (file_) {
      std::fclose(file_);
      file_ = nullptr;
    }
    remove_temp();
  }

 private:
  void remove_temp() noexcept {
    if (!temp_.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
      temp_.clear();
    }
  }

  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::FILE* file_ = nullptr;
};

/// Writes `bytes` to `path` atomically (see AtomicFile).
inline void write_file_atomic(std::filesystem::path const& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

/// The size in bytes of the regular file `path`; throws Error if it is missing or not a regular
/// file. `what` names the caller in the message (e.g. "read_png").
inline std::size_t readable_file_size(std::filesystem::path const& path, char const* what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto const st = fs::status(path, ec);
  DISTINV_REQUIRE(fs::exists(st), what, ": cannot read '", path.string(), "': no such file");
  DISTINV_REQUIRE(fs::is_regular_file(st), what, ": cannot read '", path.string(), "': not a regular file");
  auto const n = fs::file_size(path, ec);
  DISTINV_REQUIRE(!ec, what, ": cannot read '", path.string(), "': ", ec.message());
  return static_cast<std::size_t>(n);
}

/// The whole content of `path`; throws Error if it is missing, not a regular file or unreadable.
inline std::vector<unsigned char> read_file_bytes(std::filesystem::path const& path, char const* what) {
  std::size_t const size = readable_file_size(path, what);
  std::FILE* f = std::fopen(path.string().c_str(), "rb");
  DISTINV_REQUIRE(f != nullptr, what, ": cannot read '", path.string(), "': ", std::strerror(errno));
  std::vector<unsigned char> bytes;
  try {
    bytes.resize(size);
  } catch (...) {
    std::fclose(f);
    throw;
  }
  std::size_t const got = size ? std::fread(bytes.data(), 1, size, f) : 0;
  bool const bad = std::ferror(f) != 0;
  std::fclose(f);
  DISTINV_REQUIRE(!bad && got == size, what, ": cannot read '", path.string(), "': read error (", got, " of ", size,
                  " bytes)");
  return bytes;
}

/// An existing file opened to read, or to update in place, byte ranges at given offsets (a
/// rank's rows of a tensor file that several ranks read or write at once). `what` and `name`
/// label the messages; every failure throws Error. close() reports a failed flush; the
/// destructor closes silently.
class RandomAccessFile {
 public:
  /// How the file is opened.
  enum class Mode {
    read,   ///< read only
    update  ///< read and write, without truncating
  };

  /// Opens `path` (which must exist) for `mode`.
  RandomAccessFile(std::filesystem::path const& path, Mode mode, char const* what, std::string name)
      : what_(what), name_(std::move(name)) {
    file_ = std::fopen(path.string().c_str(), mode == Mode::read ? "rb" : "r+b");
    DISTINV_REQUIRE(file_ != nullptr, what_, ": cannot open '", name_, "' (", std::strerror(errno), ")");
  }
  RandomAccessFile(RandomAccessFile const&) = delete;
  RandomAccessFile& operator=(RandomAccessFile const&) = delete;
  ~RandomAccessFile() {
    if (file_) std::fclose(file_);
  }

  /// Reads `n` bytes at `offset` into `dst`; throws Error unless all of them are there.
  void read_at(std::uint64_t offset, void* dst, std::size_t n) {
    seek(offset);
    std::size_t const got = n ? std::fread(dst, 1, n, file_) : 0;
    DISTINV_REQUIRE(got == n, what_, ": '", name_, "': read error (", got, " of ", n, " bytes at offset ", offset,
                    ")");
  }
  /// Writes `n` bytes of `src` at `offset`; throws Error on a short write.
  void write_at(std::uint64_t offset, void const* src, std::size_t n) {
    seek(offset);
    std::size_t const put = n ? std::fwrite(src, 1, n, file_) : 0;
    DISTINV_REQUIRE(put == n, what_, ": cannot write '", name_, "': write failed at offset ", offset, " (",
                    std::strerror(errno), ")");
  }
  /// Flushes and closes; throws Error if that fails (a write that did not reach the file).
  void close() {
    DISTINV_REQUIRE(file_ != nullptr, what_, ": '", name_, "' is already closed");
    bool const ok = std::fflush(file_) == 0 && !std::ferror(file_);
    int const err = errno;
    bool const closed = std::fclose(file_) == 0;
    file_ = nullptr;
    DISTINV_REQUIRE(ok && closed, what_, ": cannot write '", name_, "': flush or close failed (", std::strerror(err),
                    ")");
  }

 private:
  void seek(std::uint64_t offset) {
    DISTINV_REQUIRE(file_ != nullptr, what_, ": '", name_, "' is already closed");
    DISTINV_REQUIRE(offset <= std::uint64_t(LONG_MAX) && std::fseek(file_, long(offset), SEEK_SET) == 0, what_, ": '",
                    name_, "': cannot seek to offset ", offset);
  }

  char const* what_;
  std::string name_;
  std::FILE* file_ = nullptr;
};

}  // namespace distinv::io
