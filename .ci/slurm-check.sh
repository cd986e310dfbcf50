#!/usr/bin/env bash
# Smoke test of the cluster that .ci/slurm-up.sh started (about 15 s, as root).
#
# Submits `--array=0-7%4 --gres=gpu:1`, cancels task 3 while it pends, and checks
# that squeue lists the tasks, that four run at once, that each gets a distinct
# CUDA_VISIBLE_DEVICES in 0..3 among those running, and that the other seven finish.
# Then switches the cluster to SLURM_MAX_ARRAY_SIZE=20, checks that sbatch enforces
# it, and switches back to the setting the caller's environment asks for.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=slurm-paths.sh
. "$here/slurm-paths.sh" # SLURM_CONF: the private test cluster
say() { printf 'slurm-check: %s\n' "$*"; }
fail() {
	printf 'slurm-check: FAILED: %s\n' "$*" >&2
	exit 1
}

command -v sbatch >/dev/null || fail "sbatch not found: run .ci/slurm-up.sh first"
scontrol ping >/dev/null 2>&1 || fail "slurmctld does not answer: run .ci/slurm-up.sh first"

dir=$(mktemp -d /tmp/slurm-check.XXXXXX)
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT

# --- an array of 8 tasks, 4 at a time, one fake GPU each
# shellcheck disable=SC2016 # expanded by the job, not here
out=$(sbatch --parsable --array=0-7%4 --gres=gpu:1 --chdir="$dir" -o "$dir/%a.out" \
	--wrap 'echo $SLURM_ARRAY_TASK_ID ${CUDA_VISIBLE_DEVICES-unset} $(date +%s.%N); sleep 3; date +%s.%N') ||
	fail "sbatch failed"
id=${out%%;*}
[[ $id =~ ^[0-9]+$ ]] || fail "sbatch --parsable printed '$out'"
say "submitted array job $id"

listing=$(squeue -h -r -j "$id" -o '%i|%F|%K|%T|%r')
printf '%s\n' "$listing" | sed 's/^/  squeue: /'
[[ $(printf '%s\n' "$listing" | grep -c "^${id}_[0-7]|${id}|[0-7]|") -eq 8 ]] ||
	fail "squeue -r does not list the 8 tasks of job $id"

scancel "${id}_3" || fail "scancel ${id}_3 failed"
say "cancelled ${id}_3"

max_running=0
deadline=$((SECONDS + 60))
while :; do
	running=$(squeue -h -r -j "$id" -t running -o '%K' 2>/dev/null | wc -l) || running=0
	((running > max_running)) && max_running=$running
	[[ -z $(squeue -h -r -j "$id" -t pending,running,completing,configuring -o '%i' 2>/dev/null) ]] && break
	((SECONDS < deadline)) || fail "job $id not finished after 60 s: $(squeue -h -r -j "$id" -o '%i|%T|%r' | paste -sd' ' -)"
	sleep 0.2
done
say "at most $max_running tasks ran at once"
((max_running == 4)) || fail "expected 4 tasks at once (4 GPUs, %4), saw $max_running"

[[ ! -e $dir/3.out ]] || fail "cancelled task 3 ran anyway"
for i in 0 1 2 4 5 6 7; do
	[[ -s $dir/$i.out ]] || fail "task $i left no output"
	read -r idx cvd _ <"$dir/$i.out"
	[[ $idx == "$i" ]] || fail "task $i printed index '$idx'"
	[[ $cvd =~ ^[0-3]$ ]] || fail "task $i got CUDA_VISIBLE_DEVICES='$cvd'"
	say "task $i: CUDA_VISIBLE_DEVICES=$cvd"
done
# Tasks that overlapped in time must have had different GPUs.
overlap=$(for i in 0 1 2 4 5 6 7; do
	{
		read -r _ cvd start
		read -r end
	} <"$dir/$i.out"
	echo "$start $end $cvd"
done | awk '{ s[NR] = $1; e[NR] = $2; g[NR] = $3 }
	END { for (a = 1; a <= NR; a++) for (b = a + 1; b <= NR; b++)
		if (s[a] < e[b] && s[b] < e[a] && g[a] == g[b]) n++; print n + 0 }')
[[ $overlap -eq 0 ]] || fail "$overlap pairs of concurrent tasks shared a GPU"

config=$(scontrol show config | grep -i MaxArraySize) || fail "scontrol show config has no MaxArraySize"
say "$config"

# --- MaxArraySize override and back
caller_mas=${SLURM_MAX_ARRAY_SIZE:-}
SLURM_MAX_ARRAY_SIZE=20 bash "$here/slurm-up.sh" | sed 's/^/  /'
[[ $(scontrol show config | awk '$1 == "MaxArraySize" { print $3 }') == 20 ]] ||
	fail "MaxArraySize is not 20 after SLURM_MAX_ARRAY_SIZE=20"
if sbatch --parsable --hold --chdir="$dir" -o /dev/null --array=20 --wrap true >/dev/null 2>&1; then
	fail "sbatch accepted --array=20 with MaxArraySize=20"
fi
held=$(sbatch --parsable --hold --chdir="$dir" -o /dev/null --array=0-19 --wrap true) ||
	fail "sbatch refused --array=0-19 with MaxArraySize=20"
scancel "${held%%;*}"
say "MaxArraySize=20: --array=0-19 accepted, --array=20 refused"

SLURM_MAX_ARRAY_SIZE=$caller_mas bash "$here/slurm-up.sh" | sed 's/^/  /'
want=${caller_mas:-1001}
[[ $(scontrol show config | awk '$1 == "MaxArraySize" { print $3 }') == "$want" ]] ||
	fail "MaxArraySize did not switch back to $want"
say "switched back: MaxArraySize=$want"
say "ok"
