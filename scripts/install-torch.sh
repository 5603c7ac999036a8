#!/usr/bin/env bash
# Installs LibTorch for distinv::torch (the learned denoisers) and the Python that builds their
# test network: PyPI's torch wheel in the project-local virtual environment .venv-torch/ (or
# $DISTINV_TORCH_VENV; ignored by git). Does nothing when that environment already imports torch.
#
# How: torch without its dependencies (the wheel's C++ libraries need only libcudart.so.13 and
# libcupti.so.13 of the CUDA Toolkit installed on these machines), the pure-Python packages that
# `import torch` needs, NumPy, and the four CUDA libraries the Toolkit lacks, at torch's own pins
# (NCCL, cuSPARSELt, NVSHMEM, cuFile): 2.1 GB in about 30 s, against 5.4 GB in about 65 s for
# the wheel with all its dependencies. Where that does not import (no CUDA Toolkit, or one that
# is too old), it installs the full dependencies instead. DISTINV_TORCH_FULL=1 forces that.
# Exit code 0: ready; 1: not installed (no network, no Python), with one line saying why.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DISTINV_TORCH_VENV:-$root/.venv-torch}"
torch_version=2.15.0
# torch 2.15.0's pins of the CUDA libraries the CUDA 13 Toolkit does not ship
toolkit_gaps=(nvidia-nccl-cu13==2.30.7 nvidia-cusparselt-cu13==0.8.1 nvidia-nvshmem-cu13==3.7.2
              "nvidia-cufile==1.17.1.22.*")
python_deps=(filelock "typing-extensions>=4.13.0" "setuptools>=77.0.3" "sympy>=1.13.3" "networkx>=2.5.1" jinja2
             "fsspec>=0.8.5" numpy)

say() { echo "install-torch: $*"; }
ready() { "$venv/bin/python" -c 'import torch, numpy' >/dev/null 2>&1; }

if [ -x "$venv/bin/python" ] && ready; then exit 0; fi

python="$(command -v python3 || true)"
if [ -z "$python" ]; then say "no python3; LibTorch not installed"; exit 1; fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing python3-venv"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv; } >/dev/null 2>&1
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" >/dev/null 2>&1 || { say "could not create $venv; LibTorch not installed"; rm -rf "$venv"; exit 1; }
fi
log="$venv/install.log"  # pip's output (it warns that the skipped CUDA dependencies are missing)
pip() { "$venv/bin/pip" install --disable-pip-version-check --no-cache-dir "$@" >>"$log" 2>&1; }
fail() { say "$1; LibTorch not installed (see $log)"; tail -n 3 "$log" 2>/dev/null; exit 1; }
start=$SECONDS
if [ "${DISTINV_TORCH_FULL:-0}" != 1 ]; then
  say "installing torch $torch_version without its CUDA dependencies into $venv"
  pip --no-deps "torch==$torch_version" "${toolkit_gaps[@]}" && pip "${python_deps[@]}" || fail "pip failed (no network?)"
fi
if ! ready; then
  say "installing torch $torch_version with all its dependencies into $venv"
  pip "torch==$torch_version" numpy || fail "pip failed (no network?)"
  ready || fail "torch does not import in $venv"
fi
say "torch $torch_version ready in $venv ($((SECONDS - start)) s, $(du -sh "$venv" | cut -f1))"
