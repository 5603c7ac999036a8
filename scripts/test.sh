#!/usr/bin/env bash
# The whole test suite from a fresh Debian machine: packages, LibTorch (in .venv-torch/, for the
# learned-denoiser tests), configure, build, ctest; then the sanitizer runs (scripts/sanitize.sh;
# DISTINV_SANITIZE=0 skips them). Without LibTorch (no network) the rest is still built and
# tested; the configure summary names what was left out.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DISTINV_BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/install-torch.sh" || echo "test: LibTorch not installed: the learned-denoiser (torch) tests are left out"
"$root/scripts/build.sh" -DDISTINV_WERROR=ON  # CI: warnings in our own targets are errors
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
(cd "$build" && ctest --output-on-failure -j "$(nproc)" "$@")
[ "${DISTINV_SANITIZE:-1}" = 0 ] || "$root/scripts/sanitize.sh"
