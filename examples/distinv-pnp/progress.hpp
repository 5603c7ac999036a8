#pragma once
// examples/distinv-pnp/progress.hpp: the progress of the long steps inside an iteration (the
// prior's tile batches, the CG iterations of the start), fed by the library's callbacks
// (TiledProcessing::set_progress, linalg::CgOptions::callback) on rank 0. A step that has run
// for `after` seconds gets a line on stderr with its share done and an estimate of the time
// left: a bar redrawn in place on a terminal (cleared when the step ends), plain lines every
// `every` seconds in a log (stderr not a terminal). Short steps print nothing.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace pnp {

class Progress {
 public:
  using clock = std::chrono::steady_clock;

  /// Prints nothing unless `enabled`; `terminal`: draw a bar (default: whether stderr is a
  /// terminal). A step shows after `after` seconds; log lines come `every` seconds apart.
  explicit Progress(bool enabled, bool terminal = ::isatty(2) != 0, double after = 2.0, double every = 10.0,
                    std::FILE* to = stderr)
      : enabled_(enabled), terminal_(terminal), after_(after), every_(every), to_(to) {}

  /// `done` of `total` units of step `what` are done. A new step begins when `what` changes or
  /// `done` goes back.
  void update(char const* what, std::int64_t done, std::int64_t total) {
    if (!enabled_ || total <= 0) return;
    auto const now = clock::now();
    if (what != what_ || done < done_) begin(what, now);
    done_ = done;
    double const elapsed = seconds(start_, now);
    bool const end = done >= total;
    if (end && !shown_) return;  // short: never shown
    if (!end && (elapsed < after_ || seconds(last_, now) < (terminal_ ? 0.2 : (shown_ ? every_ : 0.0)))) return;
    last_ = now;
    shown_ = true;
    std::string const text = line(what, done, total, elapsed);
    if (terminal_) {
      std::fprintf(to_, "\r%s\033[K", end ? "" : text.c_str());  // the bar, or cleared at the end
    } else {
      std::fprintf(to_, "%s\n", text.c_str());
    }
    std::fflush(to_);
  }

  /// The text of a progress line: "  prior: [#####.....]  50% (12/24), 3.1 s, about 3.1 s left".
  static std::string line(char const* what, std::int64_t done, std::int64_t total, double elapsed) {
    constexpr int width = 24;
    double const share = double(done) / double(total);
    std::string bar(std::size_t(width), '.');
    for (int i = 0; i < int(share * width + 1e-9) && i < width; ++i) bar[std::size_t(i)] = '#';
    char buf[256];
    if (done > 0 && done < total)
      std::snprintf(buf, sizeof buf, "  %s: [%s] %3d%% (%lld/%lld), %.1f s, about %.1f s left", what, bar.c_str(),
                    int(share * 100), (long long)done, (long long)total, elapsed,
                    elapsed / double(done) * double(total - done));
    else
      std::snprintf(buf, sizeof buf, "  %s: [%s] %3d%% (%lld/%lld), %.1f s", what, bar.c_str(), int(share * 100),
                    (long long)done, (long long)total, elapsed);
    return buf;
  }

 private:
  static double seconds(clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  void begin(char const* what, clock::time_point now) {
    if (terminal_ && shown_) std::fprintf(to_, "\r\033[K");  // a step left unfinished
    what_ = what;
    start_ = last_ = now;
    done_ = 0;
    shown_ = false;
  }

  bool enabled_, terminal_;
  double after_, every_;
  std::FILE* to_;
  std::string what_;
  clock::time_point start_{}, last_{};
  std::int64_t done_ = 0;
  bool shown_ = false;
};

}  // namespace pnp
