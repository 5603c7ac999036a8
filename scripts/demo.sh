#!/usr/bin/env bash
# The main job from a fresh Debian machine: packages, configure, build distinv-pnp only, then
# run it: a distributed plug-and-play reconstruction of the built-in test image (one process;
# outputs in ./distinv-pnp-out). Arguments go to distinv-pnp (see --help), e.g. --threads 4.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTINV_BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target distinv-pnp >/dev/null
exec "$build/bin/distinv-pnp" "$@"
