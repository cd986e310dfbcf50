#!/usr/bin/env bash
# End-to-end on the local SLURM test cluster (.ci/slurm-up.sh): RUNS no-op
# runs (/bin/true) packed PER_TASK to an array task, planned, submitted,
# run, checked all ok, and collected. Prints the time of each phase and
# the total, the load average around them, and the files and folders the
# study left. Issue 15's goal: 100,000 runs, 1,000 per task, in <= 90 s.
#
#   plan     gridstudy plan
#   submit   gridstudy submit (sbatch of the array scripts)
#   queue    from the end of submit to the first task running
#   run      from there until no task of the study is queued or running
#   check    gridstudy status --json: every run must be ok
#   collect  gridstudy collect (tables, figures, reports)
#
# Cluster work (submit to check) runs under the exclusive lock
# /tmp/gridstudy-slurm-test.lock that the other SLURM tests take, so that
# no other job shares the node; the study's jobs are cancelled on any exit.
#
# Usage: bench/e2e_slurm.sh [RUNS [PER_TASK]]     (default 100000 1000)
# Environment (optional):
#   SLURM_CONF    default /var/tmp/gridstudy-slurm/slurm.conf
#   WORKDIR       where the study goes (default: a new folder in /var/tmp)
#   KEEP=1        keep WORKDIR afterwards
#   RETAIN        [run] retain: all (default), failed or none
#   RUNS_AT_ONCE  [slurm] runs_at_once, where the gridstudy built has it
#   CPUS_PER_TASK [slurm] cpus_per_task (default: SLURM's, 1)
#   TIMEOUT       seconds to wait for the jobs (default 1800)
set -euo pipefail
runs=${1:-100000}
per=${2:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
export SLURM_CONF=${SLURM_CONF:-/var/tmp/gridstudy-slurm/slurm.conf}
lockfile=/tmp/gridstudy-slurm-test.lock
timeout=${TIMEOUT:-1800}
if ((runs % 100 != 0)); then
	echo "e2e_slurm: RUNS must be a multiple of 100 (100 cells x RUNS/100 trials)" >&2
	exit 2
fi
work=${WORKDIR:-$(mktemp -d /var/tmp/gridstudy-e2e.XXXXXX)}
mkdir -p "$work"
jobs=()
cleanup() {
	if ((${#jobs[@]} > 0)); then
		scancel "${jobs[@]}" 2> /dev/null || true
	fi
	if [[ ${KEEP:-0} != 1 ]]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT

sinfo -h > /dev/null || {
	echo "e2e_slurm: no SLURM cluster answers at $SLURM_CONF: start it with .ci/slurm-up.sh" >&2
	exit 1
}
CGO_ENABLED=0 go build -C "$root" -o "$work/gridstudy" ./cmd/gridstudy
gs=$work/gridstudy

{
	echo 'name = "e2e"'
	echo "trials = $((runs / 100))"
	echo '[run]'
	echo 'args = ["/bin/true"]'
	[[ -n ${RETAIN:-} ]] && echo "retain = \"$RETAIN\""
	echo '[params.x]'
	echo 'range = {start = 1, stop = 100, num = 100}'
	echo '[slurm]'
	echo "runs_per_task = $per"
	echo 'time = "01:00:00"'
	[[ -n ${RUNS_AT_ONCE:-} ]] && echo "runs_at_once = $RUNS_AT_ONCE"
	[[ -n ${CPUS_PER_TASK:-} ]] && echo "cpus_per_task = $CPUS_PER_TASK"
	echo '[plots]'
	echo 'formats = ["png"]'
} > "$work/study.toml"

now() { date +%s.%N; }
secs() { printf '%.2f' "$(bc -l <<< "$2 - $1")"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

load0=$(load)
t0=$(now)
"$gs" plan "$work/study.toml" -o "$work/sd" > /dev/null
t1=$(now)

# The cluster from here to the check, alone.
exec 9> "$lockfile"
flock 9
tl=$(now)
"$gs" submit "$work/sd" > "$work/submit.out" 9>&-
t2=$(now)
mapfile -t jobs < <(sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p' "$work/sd/slurm/submissions.jsonl")
if ((${#jobs[@]} == 0)); then
	echo "e2e_slurm: submit journaled no job" >&2
	cat "$work/submit.out" >&2
	exit 1
fi
ids=$(IFS=,; echo "${jobs[*]}")
# squeue -j of only finished jobs fails ("Invalid job id"): no line left.
queued() { squeue -h -r -j "$ids" -o '%T' 2> /dev/null || true; }
t3=
while :; do
	states=$(queued)
	if [[ -z $t3 ]] && grep -q RUNNING <<< "$states"; then
		t3=$(now)
	fi
	[[ -z $states ]] && break
	if (($(bc <<< "$(now) - $t2 > $timeout"))); then
		echo "e2e_slurm: jobs still queued after $timeout s" >&2
		exit 1
	fi
	sleep 0.2
done
t4=$(now)
[[ -n $t3 ]] || t3=$t4 # every task ran between two looks
"$gs" status "$work/sd" --json > "$work/status.json" 9>&-
t5=$(now)
jobs=()
flock -u 9
load1=$(load)
ok=$(grep -o '"ok": *[0-9]*' "$work/status.json" | head -1 | grep -o '[0-9]*$' || echo 0)
"$gs" collect "$work/sd" > "$work/collect.out"
t6=$(now)

printf 'e2e_slurm: %d runs, %d per task, retain = %s, on %s (waited %s s for the cluster lock)\n' \
	"$runs" "$per" "${RETAIN:-all}" "$(nproc) cores" "$(secs "$t1" "$tl")"
printf '  plan     %8s s\n' "$(secs "$t0" "$t1")"
printf '  submit   %8s s\n' "$(secs "$tl" "$t2")"
printf '  queue    %8s s   (submit to the first task running)\n' "$(secs "$t2" "$t3")"
printf '  run      %8s s   (to the last task done)\n' "$(secs "$t3" "$t4")"
printf '  check    %8s s   (gridstudy status: %s of %d ok)\n' "$(secs "$t4" "$t5")" "$ok" "$runs"
printf '  collect  %8s s   (%s)\n' "$(secs "$t5" "$t6")" "$(grep -o 'tables [^(]*' "$work/collect.out" | head -1)"
total=$(bc -l <<< "($t1 - $t0) + ($t6 - $tl)")
printf '  total    %8.2f s   (goal <= 90 s at 100,000 runs, 1,000 per task)\n' "$total"
printf '  left     %d files, %d folders in the study folder\n' \
	"$(find "$work/sd" -type f | wc -l)" "$(find "$work/sd" -type d | wc -l)"
printf '  load average: %s before, %s after the cluster phases, %s at the end\n' "$load0" "$load1" "$(load)"
if [[ $ok != "$runs" ]]; then
	echo "e2e_slurm: only $ok of $runs runs ok" >&2
	exit 1
fi
