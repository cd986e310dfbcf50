#!/usr/bin/env bash
# collect_scale.sh: how collect grows with the number of shards. Makes
# studies of 10,000 and 100,000 one-row shards (bench/mkshards -n), then,
# REPEATS times in turn, collects each from scratch under GNU time and reads
# the same shard files with cat (the floor: what only reading them costs).
# Prints the median of each figure, the growth ratio 100k/10k and the ratio
# to cat. Studies already made in WORKDIR are reused.
#
# Needs: go, GNU time (/usr/bin/time).
# Usage: bench/collect_scale.sh [WORKDIR]   (REPEATS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
reps=${REPEATS:-3}
sizes=(10000 100000)
mkdir -p "$work"
go build -o "$work/gridstudy" ./cmd/gridstudy
go build -o "$work/mkshards" ./bench/mkshards
for n in "${sizes[@]}"; do
  dir=$work/s$n
  if [ "$(find "$dir/shards" -name '*.parquet' 2>/dev/null | wc -l)" != "$n" ]; then
    rm -rf "$dir"
    "$work/mkshards" -n "$n" "$dir"
  fi
done

# seconds converts a Go duration as collect prints it (850ms, 1.2s, 1m3.5s).
seconds() {
  awk -v d="$1" 'BEGIN {
    s = 0
    if (match(d, /[0-9.]+m[^s]/)) { s += substr(d, RSTART, RLENGTH - 2) * 60; d = substr(d, RSTART + RLENGTH - 1) }
    if (d ~ /ms$/) s += substr(d, 1, length(d) - 2) / 1000
    else if (d ~ /s$/) s += substr(d, 1, length(d) - 1)
    printf "%.3f", s
  }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for rep in $(seq "$reps"); do
  for n in "${sizes[@]}"; do
    dir=$work/s$n
    # From scratch each time: data/ would make a second collect skip
    # every shard.
    rm -rf "$dir/data"
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$work/gridstudy" collect "$dir" > "$work/collect.txt"
    read -r total peak < "$work/time.txt"
    tables=$(sed -n 's/^tables \([^,]*\),.*/\1/p' "$work/collect.txt")
    start=$(date +%s.%N)
    find "$dir/shards" -name '*.parquet' -print0 | xargs -0 cat > /dev/null
    cat_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
    echo "$n $(seconds "$tables") $total $peak $cat_s" | tee -a "$work/runs.txt"
  done
done

echo
echo "medians of $reps runs each (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
printf "%8s %10s %10s %10s %8s %10s\n" shards tables_s total_s peak_MB cat_s tables/cat
for n in "${sizes[@]}"; do
  rows=$(awk -v n="$n" '$1 == n' "$work/runs.txt" | tail -n "$reps")
  t=$(echo "$rows" | awk '{ print $2 }' | median)
  a=$(echo "$rows" | awk '{ print $3 }' | median)
  p=$(echo "$rows" | awk '{ print $4 }' | median)
  c=$(echo "$rows" | awk '{ print $5 }' | median)
  printf "%8d %10.2f %10.2f %10.0f %8.2f %10.1f\n" "$n" "$t" "$a" "$(awk -v p="$p" 'BEGIN { print p / 1024 }')" "$c" "$(awk -v t="$t" -v c="$c" 'BEGIN { print t / c }')"
  eval "t$n=$t a$n=$a"
done
awk -v t1="$t10000" -v t2="$t100000" -v a1="$a10000" -v a2="$a100000" 'BEGIN {
  printf "growth 100k/10k: %.1fx (tables), %.1fx (with figures and reports)\n", t2 / t1, a2 / a1
}'
