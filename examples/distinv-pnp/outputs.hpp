#pragma once
// examples/distinv-pnp/outputs.hpp: the output folder of a run, claimed before the run and
// filled at its end. OutputFolder(folder, names) creates the folder if needed, locks it (flock
// on `.distinv-pnp.lock`: a second run into the same folder is refused while the first holds
// it), checks that no folder stands where an output file goes, and makes a hidden staging
// folder inside it. The files are written there (`file(name)`); commit() renames them into
// place, one rename each, under the lock. Without commit() (a failed run) the staging folder,
// the lock and the folders it created are removed: the folder is left as it was; the same on
// SIGTERM / SIGINT (abandon_all, from termination.hpp's watcher thread: every folder of the
// process is registered, under one mutex). POSIX.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "distinv/core/error.hpp"

namespace pnp {

class OutputFolder {
 public:
  static constexpr char const* lock_name = ".distinv-pnp.lock";
  static constexpr char const* staging_prefix = ".distinv-pnp-staging-";

  OutputFolder(std::filesystem::path folder, std::vector<std::string> names)
      : folder_(std::move(folder)), names_(std::move(names)) {
    namespace fs = std::filesystem;
    std::lock_guard<std::mutex> const guard(registry_mutex());  // abandon_all waits until it is made
    std::error_code ec;
    DISTINV_REQUIRE(!folder_.empty(), "--output: expected a folder, got an empty path");
    for (fs::path p = fs::absolute(folder_, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      created_.push_back(p);
      if (p == p.parent_path()) break;
    }
    fs::create_directories(folder_, ec);
    DISTINV_REQUIRE(fs::is_directory(folder_), "--output '", folder_.string(), "': cannot create the folder",
                    ec ? " (" + ec.message() + ")" : std::string(fs::exists(folder_) ? " (a file is in the way)" : ""));
    registry().push_back(this);
    try {
      lock();
      for (auto const& n : names_)
        DISTINV_REQUIRE(!fs::is_directory(folder_ / n), "--output '", folder_.string(), "': cannot write '", n,
                        "' there: a folder of that name is in the way");
      for (auto const& e : fs::directory_iterator(folder_))  // left by a run that was killed
        if (e.path().filename().string().rfind(staging_prefix, 0) == 0) fs::remove_all(e.path(), ec);
      staging_ = folder_ / (staging_prefix + std::to_string(::getpid()));
      DISTINV_REQUIRE(fs::create_directory(staging_, ec), "--output '", folder_.string(),
                      "': the folder is not writable (", ec.message(), ")");
    } catch (...) {
      release_locked();
      throw;
    }
  }
  OutputFolder(OutputFolder const&) = delete;
  OutputFolder& operator=(OutputFolder const&) = delete;
  ~OutputFolder() { release(); }

  std::filesystem::path const& folder() const noexcept { return folder_; }
  /// Where to write output `name` (one of the names given): in the staging folder.
  std::filesystem::path file(std::string const& name) const { return staging_ / name; }

  /// Moves every staged output into the folder (replacing older ones) and releases the lock.
  void commit() {
    std::lock_guard<std::mutex> const guard(registry_mutex());  // all moved, or (abandon_all) none
    for (auto const& n : names_) {
      std::error_code ec;
      std::filesystem::rename(staging_ / n, folder_ / n, ec);
      DISTINV_REQUIRE(!ec, "--output '", folder_.string(), "': cannot move '", n, "' into place (", ec.message(), ")");
    }
    committed_ = true;
    release_locked();
  }

  /// Releases every folder of this process not yet committed or released, as a failed run does
  /// (staging folder, lock, folders created); from any thread (the SIGTERM watcher). Returns
  /// whether there was one.
  static bool abandon_all() noexcept {
    std::lock_guard<std::mutex> const guard(registry_mutex());
    bool const any = !registry().empty();
    while (!registry().empty()) registry().back()->release_locked();
    return any;
  }

 private:
  static std::mutex& registry_mutex() noexcept {
    static std::mutex m;
    return m;
  }
  static std::vector<OutputFolder*>& registry() noexcept {  ///< the folders not yet released
    static std::vector<OutputFolder*> r;
    return r;
  }

  void lock() {
    std::string const path = (folder_ / lock_name).string();
    for (int attempt = 0; attempt < 8; ++attempt) {
      fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      DISTINV_REQUIRE(fd_ >= 0, "--output '", folder_.string(), "': the folder is not writable (",
                      std::strerror(errno), ")");
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int const err = errno;
        ::close(fd_);
        fd_ = -1;
        DISTINV_REQUIRE(err != EWOULDBLOCK, "--output '", folder_.string(),
                        "' is in use by another distinv-pnp run (it holds ", lock_name,
                        "); wait for it or choose another --output");
        distinv::fail("--output '", folder_.string(), "': cannot lock ", lock_name, " (", std::strerror(err), ")");
      }
      // The holder before us unlinks the file as it releases it: make sure ours is the one there.
      struct stat mine {}, there {};
      if (::fstat(fd_, &mine) == 0 && ::stat(path.c_str(), &there) == 0 && mine.st_ino == there.st_ino &&
          mine.st_dev == there.st_dev)
        return;
      ::close(fd_);
      fd_ = -1;
    }
    distinv::fail("--output '", folder_.string(), "': cannot lock ", lock_name, " (it keeps changing)");
  }

  void release() noexcept {
    std::lock_guard<std::mutex> const guard(registry_mutex());
    release_locked();
  }

  void release_locked() noexcept {
    namespace fs = std::filesystem;
    std::error_code ec;
    auto& r = registry();
    r.erase(std::remove(r.begin(), r.end(), this), r.end());
    // (A file written into it meanwhile by another thread: taken on the next pass.)
    for (int pass = 0; pass < 3 && !staging_.empty() && fs::exists(staging_, ec); ++pass) fs::remove_all(staging_, ec);
    staging_.clear();
    if (fd_ >= 0) {
      ::unlink((folder_ / lock_name).string().c_str());  // while locked: the next run makes a new one
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_)  // remove the folders made for this run, if nothing else went in
      for (auto const& p : created_)
        if (!fs::remove(p, ec)) break;
    created_.clear();
  }

  std::filesystem::path folder_;
  std::vector<std::string> names_;
  std::vector<std::filesystem::path> created_;  ///< folders made here, deepest first
  std::filesystem::path staging_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace pnp
