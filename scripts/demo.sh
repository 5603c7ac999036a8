#!/usr/bin/env bash
# The main job from a fresh Debian machine: packages, configure, build, then the demo on every
# backend this build has (single process, threads, and MPI through mpiexec).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTINV_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$build/examples/backend_demo"
if command -v mpiexec >/dev/null; then
  mpiexec -n 2 --oversubscribe "$build/examples/backend_demo" --mpi
fi
