#!/usr/bin/env bash
# The local executor against GNU parallel: N no-op runs through
# `gridstudy run --workers 2` and the same commands through `parallel -j2`,
# back to back, and the ratio of their wall times (goal: <= 1.0).
#
# Usage: bench/local_vs_parallel.sh [N]    (default 1000; needs GNU parallel:
# apt-get install parallel)
set -euo pipefail
n=${1:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v parallel > /dev/null || { echo "needs GNU parallel: apt-get install parallel" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -C "$root" -o "$work/gridstudy" ./cmd/gridstudy
cat > "$work/study.toml" <<TOML
name = "noop"
[run]
args = ["/bin/true", "{{ index .Params \"x\" }}"]
[params.x]
range = {start = 1, stop = $n, step = 1}
TOML
"$work/gridstudy" plan "$work/study.toml" -o "$work/sd" > /dev/null

ns() { date +%s%N; }
t0=$(ns)
seq "$n" | parallel -j2 /bin/true {}
t1=$(ns)
"$work/gridstudy" run "$work/sd" --workers 2 --no-collect > /dev/null 2>&1
t2=$(ns)

par=$(( (t1 - t0) / 1000000 ))
gs=$(( (t2 - t1) / 1000000 ))
echo "runs:                 $n"
echo "GNU parallel -j2:     ${par} ms ($(( (t1 - t0) / n / 1000 )) us/run)"
echo "gridstudy run -j2:    ${gs} ms ($(( (t2 - t1) / n / 1000 )) us/run, shards and logs written)"
awk -v g="$gs" -v p="$par" 'BEGIN { printf "ratio gridstudy/parallel: %.2f (goal <= 1.0)\n", g / p }'
