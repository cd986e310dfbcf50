#!/usr/bin/env bash
# Start (or verify) a single-node SLURM test cluster on this machine, as root,
# from a private configuration folder: $GRIDSTUDY_SLURM_DIR (default
# /var/tmp/gridstudy-slurm) holds slurm.conf, gres.conf, the controller's
# state, slurmd's spool, the logs and the pid files. /etc/slurm is never
# written, and the daemons listen on ports 6917/6918, not SLURM's defaults.
# Clients reach the cluster with SLURM_CONF=$GRIDSTUDY_SLURM_DIR/slurm.conf
# (the Makefile exports it for make test-slurm).
#
# It refuses to run, changing nothing, when a slurmctld or slurmd that it did
# not start runs on this machine (a contributor's real SLURM): such a daemon
# reads another slurm.conf. The one exception is the test cluster that the
# earlier version of this script started from /etc/slurm/slurm.conf (its first
# line says "Written by .ci/slurm-up.sh"): that one is stopped, its jobs
# cancelled, and the private cluster started instead. The file itself is left.
#
# Installs Debian's slurm-wlm and munge when missing, writes a configuration for
# one node named after `hostname -s` (CPUs=8, RealMemory=16000, four fake GPUs
# declared as gres on /dev/tty[0-3]), starts munged (key /etc/munge/munge.key),
# slurmctld and slurmd, and waits until the node is usable. Idempotent: when the
# cluster already runs with the wanted configuration it only checks it and exits 0.
#
# Environment (each optional; when the resulting slurm.conf differs from the one in
# place, the running cluster is reconfigured, and restarted if that is not enough):
#   GRIDSTUDY_SLURM_DIR    the cluster's folder (default /var/tmp/gridstudy-slurm)
#   SLURM_MAX_ARRAY_SIZE   writes MaxArraySize=N (unset: SLURM's default, 1001)
#   SLURM_MAX_ARRAY_TASKS  writes SchedulerParameters=max_array_tasks=N
#   SLURM_MIN_JOB_AGE      writes MinJobAge=N seconds (unset: SLURM's default, 300)
#   SLURM_UP_TIMEOUT       seconds to wait for the node to become idle (default 60)
#
# Stop it with .ci/slurm-down.sh. Logs: $GRIDSTUDY_SLURM_DIR/log/{slurmctld,slurmd}.log.
set -euo pipefail

say() { printf 'slurm-up: %s\n' "$*"; }
die() {
	printf 'slurm-up: ERROR: %s\n' "$*" >&2
	for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
		if [[ -s $f ]]; then
			printf -- '--- last lines of %s ---\n' "$f" >&2
			tail -n 20 "$f" >&2
		fi
	done
	exit 1
}
# shellcheck source=slurm-paths.sh
. "$(dirname "$0")/slurm-paths.sh"
UP_TIMEOUT=${SLURM_UP_TIMEOUT:-60}

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"
for v in SLURM_MAX_ARRAY_SIZE SLURM_MAX_ARRAY_TASKS SLURM_MIN_JOB_AGE; do
	if [[ -n ${!v:-} ]] && ! is_uint "${!v}"; then
		die "$v must be a whole number, got '${!v}'"
	fi
done
is_uint "$UP_TIMEOUT" || die "SLURM_UP_TIMEOUT must be a whole number of seconds"

# ---------------------------------------------------------------- other SLURMs
# A daemon reading any slurm.conf but ours belongs to someone else, except the
# earlier test cluster (from /etc/slurm/slurm.conf, with our header).
ours=$(readlink -m -- "$CONF")
legacy=()
while read -r pid name conf; do
	[[ $conf == "$ours" ]] && continue
	if is_legacy "$conf"; then
		legacy+=("$pid:$name")
		continue
	fi
	printf 'slurm-up: REFUSED: a %s (pid %s) runs on this machine with %s, which .ci/slurm-up.sh did not write.\n' "$name" "$pid" "$conf" >&2
	printf 'slurm-up: The test cluster needs a machine (or a container) without another SLURM; nothing was changed.\n' >&2
	exit 1
done < <(slurm_daemons)

install -d -m 0755 "$SLURM_DIR" "$SLURM_DIR/run" "$LOG_DIR" "$CTLD_STATE" "$SLURMD_SPOOL"
# One run at a time: two concurrent calls would fight over the daemons. The daemons
# are started with fd 9 closed, or they would hold the lock for their lifetime.
exec 9>"$LOCK"
flock -w 300 9 || die "another slurm-up/slurm-down holds $LOCK for over 300 s"

HOST=$(hostname -s)
[[ -n $HOST ]] || die "hostname -s is empty"
t_start=$SECONDS

if ((${#legacy[@]} > 0)); then
	say "stopping the test cluster that the earlier slurm-up.sh started from $LEGACY_CONF (one-time migration to $SLURM_DIR)"
	if SLURM_CONF=$LEGACY_CONF scontrol ping >/dev/null 2>&1; then
		jobs=$(SLURM_CONF=$LEGACY_CONF squeue -h -o '%F' 2>/dev/null | sort -u | paste -sd' ' -) || jobs=
		if [[ -n $jobs ]]; then
			say "cancelling its jobs: $jobs"
			# shellcheck disable=SC2086 # a list of numeric job ids
			SLURM_CONF=$LEGACY_CONF scancel $jobs 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do
				[[ -z $(SLURM_CONF=$LEGACY_CONF squeue -h -t running,completing,configuring -o '%A' 2>/dev/null) ]] && break
				sleep 0.2
			done
		fi
	fi
	for d in slurmd slurmctld; do # slurmd first: no step outlives its controller's view
		for p in "${legacy[@]}"; do
			if [[ ${p#*:} == "$d" ]]; then
				stop_pid "${p%%:*}" "$d"
			fi
		done
	done
fi

# ---------------------------------------------------------------- packages
pkgs_missing() {
	local p
	for p in slurm-wlm slurmctld slurmd slurm-client munge; do
		[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || return 0
	done
	return 1
}

if pkgs_missing; then
	say "installing slurm-wlm and munge (apt-get update + install)"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' maintainer scripts from starting the daemons with
	# their own configuration; this script starts them itself.
	made_policy=
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt_log=$(mktemp)
	if ! { apt-get update -q && apt-get install -y -q --no-install-recommends slurm-wlm munge; } >"$apt_log" 2>&1; then
		tail -n 30 "$apt_log" >&2
		[[ -z $made_policy ]] || rm -f /usr/sbin/policy-rc.d
		die "apt-get failed installing slurm-wlm munge (output above)"
	fi
	rm -f "$apt_log"
	[[ -z $made_policy ]] || rm -f /usr/sbin/policy-rc.d
	pkgs_missing && die "packages still missing after apt-get install"
	say "installed $(dpkg-query -W -f='slurm-wlm ${Version}' slurm-wlm), $(dpkg-query -W -f='munge ${Version}' munge)"
else
	say "packages present: $(dpkg-query -W -f='slurm-wlm ${Version}' slurm-wlm), $(dpkg-query -W -f='munge ${Version}' munge)"
fi

# ---------------------------------------------------------------- munge
getent passwd munge >/dev/null || die "user munge missing (the munge package creates it)"
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge

key_changed=
if [[ ! -f $MUNGE_KEY || $(stat -c '%s %U %a' "$MUNGE_KEY") != "1024 munge 400" ]]; then
	say "writing a new 1024-byte munge key"
	tmpkey=$(mktemp /etc/munge/.key.XXXXXX)
	head -c 1024 /dev/urandom >"$tmpkey"
	chown munge:munge "$tmpkey"
	chmod 400 "$tmpkey"
	mv -f "$tmpkey" "$MUNGE_KEY"
	key_changed=1
fi

if [[ -n $key_changed ]] && pid_alive "$MUNGE_PID" munged; then
	stop_daemon "$MUNGE_PID" munged
fi
if ! pid_alive "$MUNGE_PID" munged; then
	say "starting munged as user munge"
	# --force: start even if a dead munged left its socket behind.
	runuser -u munge -- /usr/sbin/munged --force 9>&- ||
		die "munged failed to start"
fi
munge_ok=
deadline=$((SECONDS + 10)) # a failing `munge -n` itself takes about 2 s (it retries)
while :; do
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		munge_ok=1
		break
	fi
	((SECONDS < deadline)) || break
	sleep 0.2
done
[[ -n $munge_ok ]] || die "munge -n | unmunge fails: munged is not answering"

# ---------------------------------------------------------------- config
extra=""
[[ -z ${SLURM_MAX_ARRAY_SIZE:-} ]] || extra+="MaxArraySize=$SLURM_MAX_ARRAY_SIZE"$'\n'
[[ -z ${SLURM_MAX_ARRAY_TASKS:-} ]] || extra+="SchedulerParameters=max_array_tasks=$SLURM_MAX_ARRAY_TASKS"$'\n'
[[ -z ${SLURM_MIN_JOB_AGE:-} ]] || extra+="MinJobAge=$SLURM_MIN_JOB_AGE"$'\n'

slurm_conf="# Written by .ci/slurm-up.sh: a single-node test cluster with 4 fake GPUs.
# Edits are overwritten on the next run of that script.
ClusterName=gridstudy
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
SlurmdParameters=config_overrides
GresTypes=gpu
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$CTLD_STATE
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
${extra}NodeName=$HOST NodeAddr=127.0.0.1 CPUs=8 RealMemory=16000 Gres=gpu:4 State=UNKNOWN
PartitionName=gpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=debug Nodes=$HOST Default=NO MaxTime=INFINITE State=UP
"
gres_conf="# Written by .ci/slurm-up.sh: four fake GPUs (SLURM only needs device files).
NodeName=$HOST Name=gpu File=/dev/tty[0-3]
"
for t in /dev/tty0 /dev/tty1 /dev/tty2 /dev/tty3; do
	[[ -e $t ]] || die "$t is missing: gres.conf declares the fake GPUs on /dev/tty[0-3]"
done

conf_changed=
write_if_changed() { # FILE CONTENT
	if [[ ! -f $1 || $(<"$1")$'\n' != "$2" ]]; then
		printf '%s' "$2" >"$1.tmp"
		chmod 644 "$1.tmp"
		mv -f "$1.tmp" "$1"
		conf_changed=1
		say "wrote $1"
	fi
}
write_if_changed "$CONF" "$slurm_conf"
write_if_changed "$SLURM_DIR/gres.conf" "$gres_conf"

# ---------------------------------------------------------------- daemons
# Value of KEY in `scontrol show config` (empty if slurmctld does not answer).
config_value() {
	scontrol show config 2>/dev/null | awk -v k="$1" '$1 == k { sub(/^[^=]*= */, ""); print; exit }'
}

# The running slurmctld has the wanted settings.
config_applied() {
	local want_mas=${SLURM_MAX_ARRAY_SIZE:-1001} want_mja=${SLURM_MIN_JOB_AGE:-300} sp
	[[ $(config_value MaxArraySize) == "$want_mas" ]] || return 1
	[[ $(config_value MinJobAge) == "$want_mja sec" ]] || return 1
	sp=$(config_value SchedulerParameters)
	if [[ -n ${SLURM_MAX_ARRAY_TASKS:-} ]]; then
		[[ $sp == *"max_array_tasks=$SLURM_MAX_ARRAY_TASKS"* ]] || return 1
	else
		[[ $sp != *max_array_tasks* ]] || return 1
	fi
}

start_slurmctld() { # [extra args, e.g. -c]
	say "starting slurmctld $*"
	slurmctld -f "$CONF" "$@" 9>&- || die "slurmctld failed to start"
	local i
	for ((i = 0; i < 100; i++)); do
		scontrol ping >/dev/null 2>&1 && return 0
		pid_alive "$CTLD_PID" slurmctld || [[ $i -lt 20 ]] || die "slurmctld exited"
		sleep 0.2
	done
	die "slurmctld does not answer scontrol ping after 20 s"
}

start_slurmd() {
	say "starting slurmd"
	slurmd -f "$CONF" 9>&- || die "slurmd failed to start"
}

ctld_up=
pid_alive "$CTLD_PID" slurmctld && ctld_up=1

if [[ -n $ctld_up && -n $key_changed ]]; then
	# Daemons holding the old key cannot talk to a new munged.
	stop_daemon "$SLURMD_PID" slurmd
	stop_daemon "$CTLD_PID" slurmctld
	ctld_up=
fi

if [[ -z $ctld_up ]]; then
	stop_daemon "$SLURMD_PID" slurmd # a slurmd without its controller: start both anew
	start_slurmctld -c               # -c: a clean start, no jobs from an earlier run
elif [[ -n $conf_changed ]]; then
	# Not `scontrol reconfigure` alone: slurmctld caches MaxArraySize at its first
	# use, so after a reconfigure `scontrol show config` shows the new value while
	# sbatch is still checked against the old one. A restart without -c keeps jobs.
	say "slurm.conf changed: restarting slurmctld (queued and running jobs are kept)"
	stop_daemon "$CTLD_PID" slurmctld
	start_slurmctld
	if pid_alive "$SLURMD_PID" slurmd; then
		scontrol reconfigure || die "scontrol reconfigure failed" # slurmd rereads too
	fi
else
	scontrol ping >/dev/null 2>&1 || die "slurmctld runs (pid $(<"$CTLD_PID")) but does not answer scontrol ping"
fi

pid_alive "$SLURMD_PID" slurmd || start_slurmd

config_applied || die "slurmctld does not report the wanted settings (MaxArraySize=${SLURM_MAX_ARRAY_SIZE:-1001}, MinJobAge=${SLURM_MIN_JOB_AGE:-300})"

# ---------------------------------------------------------------- node
node_state() { sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null | head -n 1; }

deadline=$((SECONDS + UP_TIMEOUT))
resumed=
while :; do
	st=$(node_state)
	case $st in
	idle | mixed | allocated | completing) break ;;
	esac
	if [[ -z $resumed && -n $st && $st != *'*' ]]; then
		# The node registered (no '*': it responds) but is down or drained.
		if [[ $st == down* || $st == drain* ]]; then
			say "node $HOST is $st: scontrol update state=resume"
			scontrol update nodename="$HOST" state=resume 2>/dev/null || true
			resumed=1
		fi
	fi
	pid_alive "$SLURMD_PID" slurmd || die "slurmd exited (node state: ${st:-unknown})"
	((SECONDS < deadline)) || die "node $HOST is '${st:-unknown}', not idle, after ${UP_TIMEOUT}s; reason: $(sinfo -h -N -n "$HOST" -o '%E' 2>/dev/null)"
	sleep 0.5
done

gres=$(sinfo -h -N -n "$HOST" -o '%G' | head -n 1)
[[ $gres == gpu:4* ]] || die "node $HOST reports gres '$gres', expected gpu:4"

# The limit sbatch enforces (not only the one `scontrol show config` prints):
# index MaxArraySize-1 is accepted and MaxArraySize is refused. --test-only queues nothing.
mas=${SLURM_MAX_ARRAY_SIZE:-1001}
if ((mas > 0)); then
	sbatch --test-only --chdir=/tmp -o /dev/null --array="$((mas - 1))" --wrap true >/dev/null 2>&1 ||
		die "sbatch --test-only refuses --array=$((mas - 1)) with MaxArraySize=$mas"
	if sbatch --test-only --chdir=/tmp -o /dev/null --array="$mas" --wrap true >/dev/null 2>&1; then
		die "sbatch accepts --array=$mas although MaxArraySize=$mas: slurmctld runs with an old limit (restart it: .ci/slurm-down.sh --keep-munge, then this script)"
	fi
fi

say "cluster up in $((SECONDS - t_start))s: node $HOST $st, gres $gres, partitions $(sinfo -h -o '%P' | paste -sd, -), MaxArraySize=$(config_value MaxArraySize), MinJobAge=$(config_value MinJobAge), SLURM_CONF=$CONF"
