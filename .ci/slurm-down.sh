#!/usr/bin/env bash
# Stop the single-node SLURM test cluster that .ci/slurm-up.sh started.
#
#   .ci/slurm-down.sh               stop slurmd, slurmctld and munged
#   .ci/slurm-down.sh --keep-munge  leave munged running
#   .ci/slurm-down.sh --purge       also delete the controller's saved state, slurmd's
#                                   spool and the logs (configuration and packages stay)
#
# Only the processes named in the daemons' pid files are signalled.
set -euo pipefail

CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
LOCK=/run/gridstudy-slurm.lock

say() { printf 'slurm-down: %s\n' "$*"; }
die() {
	printf 'slurm-down: ERROR: %s\n' "$*" >&2
	exit 1
}

keep_munge=
purge=
for a in "$@"; do
	case $a in
	--keep-munge) keep_munge=1 ;;
	--purge) purge=1 ;;
	-h | --help)
		sed -n '2,9s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*) die "unknown argument '$a' (try --help)" ;;
	esac
done

[[ $(id -u) -eq 0 ]] || die "must run as root"

exec 9>"$LOCK"
flock -w 300 9 || die "another slurm-up/slurm-down holds $LOCK for over 300 s"

pid_alive() {
	local pid stat
	[[ -r $1 ]] || return 1
	pid=$(<"$1") || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$2" ]] || return 1
	# A killed daemon can stay a zombie for seconds here (PID 1 reaps it late).
	stat=$(<"/proc/$pid/stat") || return 1
	[[ ${stat##*) } != Z* ]]
}

stop_daemon() { # PIDFILE NAME
	local pid i
	if ! pid_alive "$1" "$2"; then
		say "$2 is not running"
		return 0
	fi
	pid=$(<"$1")
	say "stopping $2 (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		pid_alive "$1" "$2" || return 0
		sleep 0.1
	done
	say "$2 (pid $pid) ignored TERM for 15 s; sending KILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pid_alive "$1" "$2" || return 0
		sleep 0.1
	done
	die "$2 (pid $pid) survived KILL"
}

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
stop_daemon "$SLURMD_PID" slurmd
stop_daemon "$CTLD_PID" slurmctld
[[ -n $keep_munge ]] || stop_daemon "$MUNGE_PID" munged

if [[ -n $purge ]]; then
	say "removing /var/spool/slurmctld, /var/spool/slurmd and /var/log/slurm"
	rm -rf /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
fi
say "done"
