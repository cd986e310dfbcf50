#!/usr/bin/env bash
# Overhead of the in-job runner: N runs of a no-op command through
# `gridstudy exec --index I` (one runner process per run, as SLURM starts
# them) against the same command started directly, plus the runner's own
# peak memory (max RSS of the runner process, from GNU time).
#
# Usage: bench/runner_overhead.sh [N]    (default 200)
set -euo pipefail
n=${1:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -C "$root" -o "$work/gridstudy" ./cmd/gridstudy
cat > "$work/study.toml" <<TOML
name = "overhead"
trials = $n
[run]
args = ["/bin/true"]
TOML
"$work/gridstudy" plan "$work/study.toml" -o "$work/sd" > /dev/null

ms() { date +%s%N; }

t0=$(ms)
for ((i = 0; i < n; i++)); do /bin/true; done
t1=$(ms)
for ((i = 0; i < n; i++)); do "$work/gridstudy" exec "$work/sd" --index "$i" > /dev/null; done
t2=$(ms)
for ((i = 0; i < n; i++)); do "$work/gridstudy" --version > /dev/null; done
t3=$(ms)

direct=$(( (t1 - t0) / n ))
runner=$(( (t2 - t1) / n ))
printf 'direct /bin/true:           %8.2f ms per run\n' "$(bc -l <<< "$direct / 1000000")"
printf 'gridstudy exec /bin/true:   %8.2f ms per run\n' "$(bc -l <<< "$runner / 1000000")"
printf 'gridstudy --version:        %8.2f ms per process (start-up of the binary alone)\n' "$(bc -l <<< "($t3 - $t2) / $n / 1000000")"
printf 'runner overhead:            %8.2f ms per run (goal < 5)\n' "$(bc -l <<< "($runner - $direct) / 1000000")"

# Peak memory of one runner process: a fresh run (--force) of index 0, a
# packed task of 4 concurrent runs, and gridstudy --version for the share
# that is the binary's own start-up, whatever the command.
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
mb() { bc -l <<< "$1 / 1024"; }
printf 'gridstudy --version peak RSS: %6.1f MB\n' "$(mb "$(peak "$work/gridstudy" --version)")"
printf 'runner peak RSS, 1 run:       %6.1f MB (goal < 15)\n' "$(mb "$(peak "$work/gridstudy" exec "$work/sd" --index 0 --force)")"
cat > "$work/packed.toml" <<TOML
name = "packed"
trials = 4
[run]
args = ["/bin/true"]
[slurm]
runs_per_task = 4
TOML
"$work/gridstudy" plan "$work/packed.toml" -o "$work/packed" > /dev/null
printf 'runner peak RSS, 4 packed:    %6.1f MB\n' "$(mb "$(peak "$work/gridstudy" exec "$work/packed" --task 0)")"
