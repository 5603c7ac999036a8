#!/usr/bin/env bash
# The test suite under the sanitizers, each in its own build folder with only what it needs
# (-O1 -g, no benchmarks, examples or CUDA), called by scripts/test.sh:
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer: distinv_tests (every unit and
#                suite, on SingleProcess and Threads), distinv_mpi_tests under mpiexec -n 2 (-n 3
#                as well with DISTINV_SANITIZE_MPI_RANKS="2 3"), and the fuzz corpora replayed
#                (fuzz_*_replay); LeakSanitizer on, the leaks of Open MPI and FFTW suppressed
#                (scripts/sanitizers/lsan.supp)
#   build-tsan/  ThreadSanitizer: the threads-backend tests (distinv_threads_tests), pinned to one
#                CPU so that oneTBB (not instrumented) starts no worker threads of its own: every
#                rank thread runs its parallel loops itself and TSan sees all the synchronisation
#                (scripts/sanitizers/tsan.supp documents that nothing else is suppressed)
# The MPI and threads binaries hold the suites of $comm_suites only (DISTINV_BACKEND_SUITES): those
# that exercise the backends' own communication (collectives, shared buffers, the row exchanges
# and transposes of the slab layout, files written by several ranks). The other suites use the
# same primitives through the layers above, whose memory errors the ASan run of distinv_tests
# catches; under TSan their arithmetic would cost most of the time and test no synchronisation.
# Any report fails the run. Usage: scripts/sanitize.sh [asan|tsan]... (default: both).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
supp="$root/scripts/sanitizers"
jobs="$(nproc)"
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(asan tsan)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
       OMPI_MCA_btl_vader_single_copy_mechanism=none

comm_suites="collectives;distributed_signal;slab_layout;slab_fft;sharded_physics;slab_prior;slab_io;slab_noise;io_hdf5"

configure() {  # folder, sanitizer flags
  cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DCMAKE_CXX_FLAGS="-fno-omit-frame-pointer $2" -DDISTINV_BACKEND_SUITES="$comm_suites" \
        -DDISTINV_ENABLE_CUDA=OFF -DDISTINV_ENABLE_TORCH=OFF -DDISTINV_BUILD_BENCHMARKS=OFF \
        -DDISTINV_BUILD_EXAMPLES=OFF >/dev/null
}
stamp() { echo "sanitize: $* ($(date +%T))"; }

for s in "${which[@]}"; do
  case "$s" in
  asan)
    b="${DISTINV_ASAN_DIR:-$root/build-asan}"
    configure "$b" "-fsanitize=address,undefined -fno-sanitize-recover=all"
    stamp "building ASan+UBSan tests in $b"
    targets=(distinv_tests)
    ninja -C "$b" -t targets all | grep -q '^distinv_mpi_tests:' && targets+=(distinv_mpi_tests)
    for r in png npy toml; do ninja -C "$b" -t targets all | grep -q "^fuzz_${r}_replay:" && targets+=("fuzz_${r}_replay"); done
    cmake --build "$b" -j "$jobs" --target "${targets[@]}"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    stamp "distinv_tests under ASan+UBSan"
    "$b/tests/distinv_tests" --minimal
    if [ -x "$b/tests/distinv_mpi_tests" ]; then
      for n in ${DISTINV_SANITIZE_MPI_RANKS:-2}; do
        stamp "distinv_mpi_tests under ASan+UBSan, mpiexec -n $n"
        # Whole allocation stacks (slow unwinder), so that Open MPI's leaks from components it
        # has unloaded by then still show a libmpi frame for lsan.supp to match.
        ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" \
          mpiexec -n "$n" --oversubscribe -x ASAN_OPTIONS -x LSAN_OPTIONS -x UBSAN_OPTIONS \
          "$b/tests/distinv_mpi_tests" --minimal
      done
    fi
    for r in png npy toml; do
      exe="$b/tests/fuzz/fuzz_${r}_replay"
      [ -x "$exe" ] || continue
      stamp "fuzz corpus and crash inputs of the $r reader under ASan+UBSan"
      "$exe" "$root/tests/fuzz/corpus/$r" "$root/tests/fuzz/crashes/$r" 2>/dev/null
    done
    ;;
  tsan)
    b="${DISTINV_TSAN_DIR:-$root/build-tsan}"
    configure "$b" "-fsanitize=thread"
    stamp "building TSan threads-backend tests in $b"
    cmake --build "$b" -j "$jobs" --target distinv_threads_tests
    stamp "distinv_threads_tests under TSan, pinned to one CPU"
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp" \
      taskset -c 0 "$b/tests/distinv_threads_tests" --minimal
    ;;
  *) echo "sanitize: unknown sanitizer '$s' (expected asan or tsan)" >&2; exit 2 ;;
  esac
done
stamp "clean"
