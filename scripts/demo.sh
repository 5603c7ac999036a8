#!/usr/bin/env bash
# The main job from a fresh Debian machine: packages, configure, build, then distinv-pnp, a
# distributed plug-and-play reconstruction of the built-in test image (one process; outputs
# in ./distinv-pnp-out). Arguments go to distinv-pnp (see --help), e.g. --threads 4.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTINV_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh" >/dev/null
exec "$build/examples/distinv-pnp" "$@"
