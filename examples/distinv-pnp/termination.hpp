#pragma once
// examples/distinv-pnp/termination.hpp: a run ended by SIGTERM (a scheduler's time limit, or
// mpiexec ending the ranks of a job that lost one) or SIGINT (Ctrl-C) ends as a failed run
// does: the output folder left as it was (OutputFolder::abandon_all: no staging folder, no
// lock), then exit code 128 + the signal (143, 130). The signals are blocked in every thread
// and taken by one watcher thread (sigwait), so the cleanup runs in a normal thread, not in a
// signal handler: no async-signal-safety constraint, whatever the main thread is doing
// (computing, or blocked in a collective). POSIX threads and signals.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "outputs.hpp"

namespace pnp {

/// The exit code of a run ended by signal `sig` (the shell's convention): 128 + sig.
constexpr int exit_code_of_signal(int sig) noexcept { return 128 + sig; }

/// Blocks SIGTERM and SIGINT in this thread and in every thread it starts later (call it first
/// in main, before MPI, oneTBB or the rank threads start), and starts the watcher that takes
/// them: it abandons the output folders (OutputFolder::abandon_all) and ends the process with
/// exit_code_of_signal. Returns false (and changes nothing) if the mask cannot be set.
inline bool end_cleanly_on_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return false;
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    bool const cleaned = OutputFolder::abandon_all();
    std::fprintf(stderr, "distinv-pnp: ended by %s%s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                 cleaned ? "; the output folder is left as it was" : "");
    std::fflush(stderr);
    ::_exit(exit_code_of_signal(sig));  // the other threads may hold locks or sit in a collective
  }).detach();
  return true;
}

}  // namespace pnp
