#!/usr/bin/env bash
# Stop the single-node SLURM test cluster that .ci/slurm-up.sh started.
#
#   .ci/slurm-down.sh               stop slurmd, slurmctld and munged
#   .ci/slurm-down.sh --keep-munge  leave munged running
#   .ci/slurm-down.sh --purge       also delete the controller's saved state, slurmd's
#                                   spool and the logs (configuration and packages stay)
#
# Only the processes named in the daemons' pid files (under $GRIDSTUDY_SLURM_DIR,
# default /var/tmp/gridstudy-slurm; see slurm-paths.sh) are signalled.
set -euo pipefail

say() { printf 'slurm-down: %s\n' "$*"; }
die() {
	printf 'slurm-down: ERROR: %s\n' "$*" >&2
	exit 1
}
# shellcheck source=slurm-paths.sh
. "$(dirname "$0")/slurm-paths.sh"

keep_munge=
purge=
for a in "$@"; do
	case $a in
	--keep-munge) keep_munge=1 ;;
	--purge) purge=1 ;;
	-h | --help)
		sed -n '2,10s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*) die "unknown argument '$a' (try --help)" ;;
	esac
done

[[ $(id -u) -eq 0 ]] || die "must run as root"
if [[ ! -d $SLURM_DIR ]]; then
	say "$SLURM_DIR does not exist: no test cluster to stop"
	exit 0
fi

exec 9>"$LOCK"
flock -w 300 9 || die "another slurm-up/slurm-down holds $LOCK for over 300 s"

# Cancel the queue first so that no job step (slurmstepd) outlives slurmd.
if pid_alive "$CTLD_PID" slurmctld && scontrol ping >/dev/null 2>&1; then
	jobs=$(squeue -h -o '%F' 2>/dev/null | sort -u | paste -sd' ' -) || jobs=
	if [[ -n $jobs ]]; then
		say "cancelling jobs: $jobs"
		# shellcheck disable=SC2086 # a list of numeric job ids
		scancel $jobs 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			[[ -z $(squeue -h -t running,completing,configuring -o '%A' 2>/dev/null) ]] && break
			sleep 0.2
		done
	fi
fi
pid_alive "$SLURMD_PID" slurmd || say "slurmd is not running"
stop_daemon "$SLURMD_PID" slurmd
pid_alive "$CTLD_PID" slurmctld || say "slurmctld is not running"
stop_daemon "$CTLD_PID" slurmctld
[[ -n $keep_munge ]] || stop_daemon "$MUNGE_PID" munged

if [[ -n $purge ]]; then
	say "removing $CTLD_STATE, $SLURMD_SPOOL and $LOG_DIR"
	rm -rf "$CTLD_STATE" "$SLURMD_SPOOL" "$LOG_DIR"
fi
say "done"
