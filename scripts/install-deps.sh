#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages distinv's build, tests and demos need, if any is
# missing, and any extra packages named as arguments (scripts/fuzz.sh: clang, libclang-rt-14-dev).
# Safe to run again: it does nothing when everything is there.
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config libeigen3-dev libtbb-dev libopenmpi-dev openmpi-bin
          libfftw3-dev libfftw3-mpi-dev doctest-dev libbenchmark-dev libcli11-dev libtomlplusplus-dev libpng-dev
          libhdf5-openmpi-dev libhdf5-dev
          doxygen graphviz "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
