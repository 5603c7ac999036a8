#!/usr/bin/env bash
# scripts/gpu-bundle.sh: prepares a GPU run for a machine that has the CUDA driver and
# toolkit but none of distinv's Debian packages (the lent H100 / H200 machines). Builds the
# CUDA tests and benchmarks here (Release, sm_90), then copies them and the non-CUDA shared
# libraries they load (oneTBB, FFTW, libstdc++, ...) into .gpu/ (ignored by git) with
# .gpu/run.sh, which runs both there and writes their output to $OUT (or .gpu/out).
#   ./scripts/gpu-bundle.sh            then, on the GPU machine: bash .gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDISTINV_ENABLE_CUDA=ON >/dev/null
cmake --build "$build" --target distinv_cuda_tests bench_cuda

rm -rf .gpu && mkdir -p .gpu/lib
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
cp "$build/tests/cuda/distinv_cuda_tests" "$build/benchmarks/bench_cuda" .gpu/
for exe in .gpu/distinv_cuda_tests .gpu/bench_cuda; do
  # every resolved library except the C library, the loader and the CUDA ones (the GPU
  # machine has its own driver and toolkit)
  ldd "$exe" | awk '/=> \//{print $3}' |
    grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so|libcuda|libcudart|libcufft|libnccl' |
    xargs -r -I{} cp -Ln {} .gpu/lib/
done
cat > .gpu/run.sh <<'EOF'
#!/usr/bin/env bash
# Runs the CUDA tests and benchmarks bundled by scripts/gpu-bundle.sh; output in $OUT.
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
"$here/distinv_cuda_tests" 2>&1 | tee "$out/cuda_tests.txt"
"$here/bench_cuda" --benchmark_format=console 2>&1 | tee "$out/bench_cuda.txt"
EOF
chmod +x .gpu/run.sh
du -sh .gpu
echo "bundle ready: carry .gpu and run 'bash .gpu/run.sh' on the GPU machine"
