#!/usr/bin/env bash
# Start-up and per-run overhead of gridstudy's processes.
#
# - `gridstudy --version` against a bare Go binary (fmt.Println only),
#   both built here with the same toolchain: the ratio is the cost of
#   everything linked into the one binary (goal ≤ 2).
# - package initialisation: the sum of what GODEBUG=inittrace=1 reports,
#   and the packages that take most of it.
# - N runs of a no-op command through `gridstudy exec --index I` (one
#   runner process per run, as SLURM starts them; each also starts the
#   runner's guard, a /bin/sh, once) against the same command started
#   directly (goal: < 5 ms more per run);
# - the same N runs packed into one task, `gridstudy exec --task 0` with
#   runs_per_task = N (one runner and one guard for all): the overhead per
#   run inside a packed task;
# - peak memory: the exec process tree (GNU time reports the largest of the
#   runner, its guard and the command), the runner itself while its command
#   runs (VmHWM of the command's parent, read by the command), --version, a
#   packed task of 4 runs (goal < 15 MB per process).
#
# Usage: bench/runner_overhead.sh [N]    (default 200)
# GRIDSTUDY_BIN=path measures that binary instead of building one (for a
# before/after comparison).
set -euo pipefail
n=${1:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -n ${GRIDSTUDY_BIN:-} ]]; then
	cp "$GRIDSTUDY_BIN" "$work/gridstudy"
else
	CGO_ENABLED=0 go build -C "$root" -o "$work/gridstudy" ./cmd/gridstudy
fi
mkdir "$work/bare"
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("bare") }\n' > "$work/bare/main.go"
(cd "$work/bare" && printf 'module bare\n' > go.mod && CGO_ENABLED=0 go build -o "$work/bare-go" .)

cat > "$work/study.toml" <<TOML
name = "overhead"
trials = $n
[run]
args = ["/bin/true"]
TOML
"$work/gridstudy" plan "$work/study.toml" -o "$work/sd" > /dev/null

ns() { date +%s%N; }
# per N: milliseconds per call of the command, N calls in a row.
per() {
	local t0 t1
	t0=$(ns)
	for ((i = 0; i < n; i++)); do "$@" > /dev/null; done
	t1=$(ns)
	bc -l <<< "($t1 - $t0) / $n / 1000000"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
bare=$(per "$work/bare-go")
version=$(per "$work/gridstudy" --version)
printf 'bare Go binary:             %8.2f ms per process\n' "$bare"
printf 'gridstudy --version:        %8.2f ms per process: %.1fx the bare binary (goal <= 2)\n' "$version" "$(bc -l <<< "$version / $bare")"

trace=$(GODEBUG=inittrace=1 "$work/gridstudy" --version 2>&1 > /dev/null | grep '^init ')
printf 'package init (inittrace):   %s; largest: %s\n' \
	"$(awk '{t += $5; b += $8; a += $10} END {printf "%.2f ms, %d kB, %d allocs", t, b / 1024, a}' <<< "$trace")" \
	"$(sort -k5,5 -g -r <<< "$trace" | head -6 | awk '{printf "%s %s ms, ", $2, $5}')"

t0=$(ns)
for ((i = 0; i < n; i++)); do /bin/true; done
t1=$(ns)
for ((i = 0; i < n; i++)); do "$work/gridstudy" exec "$work/sd" --index "$i" > /dev/null; done
t2=$(ns)
direct=$(bc -l <<< "($t1 - $t0) / $n / 1000000")
runner=$(bc -l <<< "($t2 - $t1) / $n / 1000000")
printf 'direct /bin/true:           %8.2f ms per run\n' "$direct"
printf 'gridstudy exec /bin/true:   %8.2f ms per run (runner + guard + command)\n' "$runner"
printf 'runner overhead:            %8.2f ms per run (goal < 5)\n' "$(bc -l <<< "$runner - $direct")"
cat > "$work/task.toml" <<TOML
name = "task"
trials = $n
[run]
args = ["/bin/true"]
[slurm]
runs_per_task = $n
TOML
"$work/gridstudy" plan "$work/task.toml" -o "$work/task" > /dev/null
t0=$(ns)
"$work/gridstudy" exec "$work/task" --task 0 > /dev/null
t1=$(ns)
task=$(bc -l <<< "($t1 - $t0) / $n / 1000000")
printf 'packed task of %d runs:     %8.2f ms per run, %.2f ms more than /bin/true alone\n' "$n" "$task" "$(bc -l <<< "$task - $direct")"

peak() { /usr/bin/time -f %M "$@" 2>&1 > /dev/null | tail -1; }
mb() { bc -l <<< "$1 / 1024"; }
printf 'gridstudy --version peak RSS:         %6.1f MB\n' "$(mb "$(peak "$work/gridstudy" --version)")"
printf 'exec of 1 run, largest process:       %6.1f MB (goal < 15)\n' "$(mb "$(peak "$work/gridstudy" exec "$work/sd" --index 0 --force)")"
cat > "$work/hwm.toml" <<TOML
name = "hwm"
[run]
args = ["/bin/sh", "-c", "grep -E 'VmHWM|RssAnon|RssFile' /proc/\$PPID/status > hwm"]
TOML
"$work/gridstudy" plan "$work/hwm.toml" -o "$work/hwm" > /dev/null
"$work/gridstudy" exec "$work/hwm" --index 0 > /dev/null
hwm=$(cat "$work"/hwm/experiments/*/trial_1/hwm)
kb() { awk -v k="$1:" '$1 == k {print $2}' <<< "$hwm"; }
printf 'runner peak RSS (command running):    %6.1f MB (%.1f MB private, %.1f MB of the shared binary)\n' \
	"$(mb "$(kb VmHWM)")" "$(mb "$(kb RssAnon)")" "$(mb "$(kb RssFile)")"
cat > "$work/packed.toml" <<TOML
name = "packed"
trials = 4
[run]
args = ["/bin/true"]
[slurm]
runs_per_task = 4
TOML
"$work/gridstudy" plan "$work/packed.toml" -o "$work/packed" > /dev/null
printf 'exec of 4 packed runs, largest:       %6.1f MB\n' "$(mb "$(peak "$work/gridstudy" exec "$work/packed" --task 0)")"
