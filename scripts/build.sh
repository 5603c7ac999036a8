#!/usr/bin/env bash
# Configures (once) and builds distinv in build/ (or $DISTINV_BUILD_DIR) after installing any
# missing Debian packages. Extra arguments go to the cmake configure step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTINV_BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
