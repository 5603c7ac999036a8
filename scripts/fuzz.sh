#!/usr/bin/env bash
# A few minutes of fuzzing of the file readers (tests/fuzz/): builds the libFuzzer targets with
# clang (AddressSanitizer + UndefinedBehaviorSanitizer) in build-fuzz/ and runs each for
# SECONDS (default 60) from its seed corpus and the crash inputs kept so far. New interesting
# inputs go to build-fuzz/corpus/<reader>/; a crash, a sanitizer report, a leak or a single
# allocation above 256 MB stops the run and leaves the input in build-fuzz/artifacts/<reader>/ —
# fix the bug, then add the input to tests/fuzz/crashes/<reader>/ so that CI replays it.
# Usage: scripts/fuzz.sh [SECONDS] [png|npy|toml]...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
readers=("$@")
[ ${#readers[@]} -eq 0 ] && readers=(png npy toml)
b="${DISTINV_FUZZ_DIR:-$root/build-fuzz}"
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev  # clang 14 and its libFuzzer (Debian 12)
cmake -S "$root" -B "$b" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DDISTINV_BUILD_FUZZERS=ON -DDISTINV_ENABLE_CUDA=OFF -DDISTINV_ENABLE_TORCH=OFF \
      -DDISTINV_BUILD_BENCHMARKS=OFF -DDISTINV_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$b" --target "${readers[@]/#/fuzz_}"
status=0
for r in "${readers[@]}"; do
  mkdir -p "$b/corpus/$r" "$b/artifacts/$r"
  echo "fuzz: $r reader for $seconds s"
  "$b/tests/fuzz/fuzz_$r" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$b/artifacts/$r/" "$b/corpus/$r" "$root/tests/fuzz/corpus/$r" \
    "$root/tests/fuzz/crashes/$r" 2>&1 | grep -E "^#[0-9]+[[:space:]]+(DONE|INITED)|stat::number_of_executed_units|ERROR|SUMMARY|artifact" \
    || true
  if [ -n "$(ls -A "$b/artifacts/$r")" ]; then
    echo "fuzz: $r: inputs that failed are in $b/artifacts/$r/" >&2
    status=1
  fi
done
exit $status
