#!/usr/bin/env bash
# status_scale.sh: how `gridstudy status` grows with the study. Plans
# studies of 100,000 and 1,000,000 runs with one run in ten done
# (bench/mkshards -n N -shards N/10, which prints its planning time: the
# plan must scale too), then times status on each: once cold (it reads
# every shard and fills the status cache), then REPEATS times warm. The
# studies were never submitted, so status asks no squeue: the figures are
# status's own time, without squeue's. Prints medians and the growth ratio.
# Studies already made in WORKDIR are reused.
#
# Needs: go, GNU time (/usr/bin/time).
# Usage: bench/status_scale.sh [WORKDIR]   (REPEATS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
reps=${REPEATS:-5}
sizes=(100000 1000000)
mkdir -p "$work"
go build -o "$work/gridstudy" ./cmd/gridstudy
go build -o "$work/mkshards" ./bench/mkshards
for n in "${sizes[@]}"; do
  dir=$work/st$n
  if [ ! -f "$dir/manifest.parquet" ] || [ "$(find "$dir/shards" -name '*.parquet' | wc -l)" != "$((n / 10))" ]; then
    rm -rf "$dir"
    "$work/mkshards" -n "$n" -shards "$((n / 10))" "$dir" | tee "$work/plan$n.txt"
  fi
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf "%9s %8s %8s %8s %8s\n" runs plan_s cold_s warm_s peak_MB
for n in "${sizes[@]}"; do
  dir=$work/st$n
  rm -f "$dir/shards/.status-cache"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$work/gridstudy" status "$dir" > /dev/null
  read -r cold _ < "$work/time.txt"
  : > "$work/warm.txt"
  for rep in $(seq "$reps"); do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$work/gridstudy" status "$dir" > "$work/status.txt"
    cat "$work/time.txt" >> "$work/warm.txt"
  done
  warm=$(awk '{ print $1 }' "$work/warm.txt" | median)
  peak=$(awk '{ print $2 }' "$work/warm.txt" | median)
  plan=$(sed -n 's/^planned .* in \([0-9.]*\) s$/\1/p' "$work/plan$n.txt" 2>/dev/null || true)
  printf "%9d %8s %8.2f %8.2f %8.0f   %s\n" "$n" "${plan:-?}" "$cold" "$warm" "$(awk -v p="$peak" 'BEGIN { print p / 1024 }')" "$(cat "$work/status.txt")"
  eval "w$n=$warm"
done
echo "warm status growth 1M/100k: $(awk -v a="$w100000" -v b="$w1000000" 'BEGIN { printf "%.1fx", b / a }') (median of $reps; load average $(cut -d' ' -f1-3 /proc/loadavg))"
