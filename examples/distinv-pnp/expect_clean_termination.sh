#!/bin/sh
# expect_clean_termination.sh EXE OUT SIGNAL [MPIEXEC]: starts a long distinv-pnp run into the
# folder OUT (which holds one earlier file), waits until the run has claimed it (its staging
# folder appears), sends SIGNAL (TERM or INT) to the program (with MPIEXEC: mpiexec -n 2, and
# the signal goes to rank 1, which is not the rank that writes: mpiexec then ends rank 0 with
# SIGTERM), and passes when the run ends within 30 s, with exit code 128 + the signal's number
# (one process; under mpiexec any failing code), and OUT is left as it was: the earlier file
# only, no staging folder, no lock. Run by CTest (examples/distinv-pnp/CMakeLists.txt).
set -u
exe=$1 out=$2 sig=$3 mpiexec=${4:-}
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out" && echo "from an earlier run" > "$out/earlier.txt" || fail "cannot prepare $out"
before=$(ls -A "$out")
run="--size 256 --iterations 1000000 --quiet --output $out"
# A job started with & ignores SIGINT (a non-interactive shell's rule), and an ignored signal
# stays ignored across exec: perl (in every Debian, perl-base) restores the default first.
if [ -n "$mpiexec" ]; then
  perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' -- "$mpiexec" --oversubscribe -n 2 "$exe" $run &
else
  perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' -- "$exe" $run &
fi
job=$!

# The run has claimed the folder when its staging folder (named by rank 0's process id) is there.
staging=
for i in $(seq 600); do
  staging=$(ls -A "$out" | grep '^\.distinv-pnp-staging-' || true)
  [ -n "$staging" ] && break
  kill -0 $job 2>/dev/null || fail "the run ended before it claimed $out"
  sleep 0.1
done
[ -n "$staging" ] || { kill -KILL $job; fail "no staging folder in $out after 60 s"; }
[ -e "$out/.distinv-pnp.lock" ] || fail "no lock file in $out while the run holds it"
sleep 1  # into the iterations

target=$job
if [ -n "$mpiexec" ]; then  # rank 1: the other distinv-pnp process writing into $out
  rank0=${staging#.distinv-pnp-staging-}
  target=$(ps -eo pid=,comm=,args= | awk -v r0="$rank0" -v out="$out" \
           '$2 == "distinv-pnp" && $1 != r0 && index($0, out) { print $1; exit }')
  [ -n "$target" ] || { kill -KILL $job; fail "rank 1 not found (rank 0: $rank0)"; }
fi
start=$(date +%s)
kill -"$sig" "$target" || fail "cannot signal $target"
# The run must end by itself, within 30 s.
for i in $(seq 300); do
  kill -0 $job 2>/dev/null || break
  sleep 0.1
done
kill -0 $job 2>/dev/null && { kill -KILL $job; fail "still running 30 s after the signal"; }
wait $job
rc=$?
echo "signal $sig to $target: exit code $rc after $(( $(date +%s) - start )) s"

if [ -z "$mpiexec" ]; then
  case $sig in TERM) want=143 ;; INT) want=130 ;; *) fail "unknown signal $sig" ;; esac
  [ $rc -eq "$want" ] || fail "expected exit code $want, got $rc"
else
  [ $rc -ne 0 ] && [ $rc -ne 137 ] || fail "expected the job to fail by itself, got exit code $rc"
fi
after=$(ls -A "$out")
[ "$after" = "$before" ] || fail "expected $out as it was ($before), got: $after"
echo "PASS: $out as it was"
