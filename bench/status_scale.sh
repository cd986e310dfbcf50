#!/usr/bin/env bash
# status_scale.sh: how `gridstudy status` grows with the study, and what it
# costs once every run of a million has finished. Builds, with
# bench/mkshards (which prints its planning time: the plan must scale too):
#
#   runs100k    100,000 runs, one in ten done: 10,000 one-row shards
#   runs1M      1,000,000 runs, one in ten done: 100,000 one-row shards
#   tasks1M     1,000,000 runs, all done (one in fifty failed), written by
#               shard.WriteTask as 1,000 task shards of 1,000 runs, as
#               packed tasks leave them
#   parts1M     the same, compacted by shard.Compact into 100 parts of
#               10,000 runs, as collect --compact leaves them
#
# then times, on each, `gridstudy status DIR` once cold (no status cache:
# it reads every shard and fills the cache; the page cache is warm) and
# REPEATS times warm, and `gridstudy status --json DIR` (which also reads
# the error of every failed run, and prints every run) REPEATS times warm.
# The studies were never submitted, so status asks no squeue: the figures
# are status's own time, without squeue's. Prints medians, peak RSS
# (median of the warm calls) and the load average. Studies already made in
# WORKDIR with the same mkshards arguments are reused.
#
# Needs: go, GNU time (/usr/bin/time).
# Usage: bench/status_scale.sh [WORKDIR]   (REPEATS=5 by default;
#        CASES="runs1M parts1M" to run some cases only)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
reps=${REPEATS:-5}
mkdir -p "$work"
go build -o "$work/gridstudy" ./cmd/gridstudy
go build -o "$work/mkshards" ./bench/mkshards

declare -A args=(
  [runs100k]="-n 100000 -shards 10000"
  [runs1M]="-n 1000000 -shards 100000"
  [tasks1M]="-n 1000000 -failed 50 -task 1000"
  [parts1M]="-n 1000000 -failed 50 -task 1000 -compact"
)
cases=(${CASES:-runs100k runs1M tasks1M parts1M})

for c in "${cases[@]}"; do
  dir=$work/$c
  if [ "$(cat "$dir/.mkshards-args" 2>/dev/null)" != "${args[$c]}" ]; then
    rm -rf "$dir"
    echo "$ mkshards ${args[$c]} $dir"
    # shellcheck disable=SC2086
    /usr/bin/time -f "mkshards: %e s, %M KB peak" "$work/mkshards" ${args[$c]} "$dir" | tee "$work/plan-$c.txt"
    echo "${args[$c]}" > "$dir/.mkshards-args"
  fi
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# timed OUT CMD...: runs CMD with its stdout in OUT, appends "seconds KB" to
# $work/times.txt.
timed() {
  local out=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$out"
  cat "$work/time.txt" >> "$work/times.txt"
}

echo "commands: gridstudy status DIR (cold: rm DIR/shards/.status-cache first); gridstudy status --json DIR > FILE"
printf "%-9s %-40s %7s %7s %8s %7s %8s %7s %8s %s\n" case mkshards plan_s cold_s cold_MB warm_s warm_MB json_s json_MB "status says"
for c in "${cases[@]}"; do
  dir=$work/$c
  rm -f "$dir/shards/.status-cache"
  : > "$work/times.txt"
  timed "$work/status.txt" "$work/gridstudy" status "$dir"
  read -r cold coldkb < "$work/times.txt"
  : > "$work/times.txt"
  for _ in $(seq "$reps"); do
    timed "$work/status.txt" "$work/gridstudy" status "$dir"
  done
  warm=$(awk '{ print $1 }' "$work/times.txt" | median)
  peak=$(awk '{ print $2 / 1024 }' "$work/times.txt" | median)
  : > "$work/times.txt"
  for _ in $(seq "$reps"); do
    timed "$work/status.json" "$work/gridstudy" status --json "$dir"
  done
  json=$(awk '{ print $1 }' "$work/times.txt" | median)
  jpeak=$(awk '{ print $2 / 1024 }' "$work/times.txt" | median)
  plan=$(sed -n 's/^planned .* in \([0-9.]*\) s$/\1/p' "$work/plan-$c.txt" 2>/dev/null || true)
  printf "%-9s %-40s %7s %7.2f %8.0f %7.2f %8.0f %7.2f %8.0f %s\n" "$c" "${args[$c]}" "${plan:-?}" "$cold" "$((coldkb / 1024))" "$warm" "$peak" "$json" "$jpeak" "$(cat "$work/status.txt")"
  eval "w_$c=$warm"
done
if [ -n "${w_runs100k:-}" ] && [ -n "${w_runs1M:-}" ]; then
  echo "warm status growth runs1M/runs100k: $(awk -v a="$w_runs100k" -v b="$w_runs1M" 'BEGIN { printf "%.1fx", b / a }')"
fi
echo "warm and json: medians of $reps; _MB: peak RSS (for warm and json, the median of the calls'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
