# Sourced by .ci/slurm-{up,down,check}.sh: where the private test cluster
# keeps its configuration, state, logs and pid files, so that the three
# scripts can never disagree. Nothing here is under /etc/slurm or /run: a
# contributor's own SLURM installation is left alone.
#
#   GRIDSTUDY_SLURM_DIR  the cluster's folder (default /var/tmp/gridstudy-slurm)
#
# It exports SLURM_CONF, so that every SLURM command these scripts run (and
# their children) talks to the private cluster, whatever the caller had set.

SLURM_DIR=${GRIDSTUDY_SLURM_DIR:-/var/tmp/gridstudy-slurm}
[[ $SLURM_DIR == /* ]] || {
	printf 'GRIDSTUDY_SLURM_DIR must be an absolute path, got %s\n' "$SLURM_DIR" >&2
	exit 1
}
CONF=$SLURM_DIR/slurm.conf
LOG_DIR=$SLURM_DIR/log
CTLD_STATE=$SLURM_DIR/state
SLURMD_SPOOL=$SLURM_DIR/spool
CTLD_PID=$SLURM_DIR/run/slurmctld.pid
SLURMD_PID=$SLURM_DIR/run/slurmd.pid
LOCK=$SLURM_DIR/.daemons.lock
# Ports other than SLURM's defaults (6817, 6818): a client that reads
# /etc/slurm/slurm.conf never reaches this cluster by mistake, and the
# daemons never clash with a real installation's.
CTLD_PORT=6917
SLURMD_PORT=6918
# munge stays where Debian puts it: one munged serves any cluster.
MUNGE_KEY=/etc/munge/munge.key
MUNGE_PID=/run/munge/munged.pid
export SLURM_CONF=$CONF

# The first line of the slurm.conf that the earlier slurm-up.sh wrote into
# /etc/slurm: a cluster started from that file is ours to stop (migration).
LEGACY_CONF=/etc/slurm/slurm.conf
LEGACY_HEADER='# Written by .ci/slurm-up.sh: a single-node test cluster with 4 fake GPUs.'

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# pid_alive PIDFILE NAME: the pid in PIDFILE is a live process called NAME.
pid_alive() {
	local pid
	[[ -r $1 ]] || return 1
	pid=$(<"$1") || return 1
	proc_alive "$pid" "$2"
}

# proc_alive PID NAME: PID is a live process called NAME (not a zombie: a
# killed daemon can stay one for seconds here, PID 1 reaps it late).
proc_alive() {
	local stat
	is_uint "$1" || return 1
	[[ -r /proc/$1/comm && $(<"/proc/$1/comm") == "$2" ]] || return 1
	stat=$(<"/proc/$1/stat") || return 1
	[[ ${stat##*) } != Z* ]]
}

# stop_pid PID NAME: TERM the process, wait up to 15 s, then KILL it.
stop_pid() {
	local i
	proc_alive "$1" "$2" || return 0
	say "stopping $2 (pid $1)"
	kill -TERM "$1" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		proc_alive "$1" "$2" || return 0
		sleep 0.1
	done
	say "$2 (pid $1) ignored TERM for 15 s; sending KILL"
	kill -KILL "$1" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		proc_alive "$1" "$2" || return 0
		sleep 0.1
	done
	die "$2 (pid $1) survived KILL"
}

# stop_daemon PIDFILE NAME: stop the daemon named in PIDFILE, if it runs.
stop_daemon() {
	pid_alive "$1" "$2" || return 0
	stop_pid "$(<"$1")" "$2"
}

# daemon_conf PID: the slurm.conf a running slurmctld or slurmd reads: its
# -f argument, else SLURM_CONF in its environment, else the compiled-in
# default. Relative paths are resolved against the process's folder.
daemon_conf() {
	local pid=$1 conf= i
	local -a args=()
	mapfile -d '' args <"/proc/$pid/cmdline" 2>/dev/null || true
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		-f) conf=${args[i + 1]:-} ;;
		-f?*) conf=${args[i]#-f} ;;
		esac
	done
	if [[ -z $conf ]]; then
		conf=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^SLURM_CONF=//p' | head -n 1)
	fi
	conf=${conf:-$LEGACY_CONF}
	[[ $conf == /* ]] || conf=/proc/$pid/cwd/$conf
	readlink -m -- "$conf"
}

# slurm_daemons: "PID NAME CONF" for every running slurmctld and slurmd.
slurm_daemons() {
	local d pid name
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		{ name=$(<"$d/comm"); } 2>/dev/null || continue
		case $name in
		slurmctld | slurmd) proc_alive "$pid" "$name" && printf '%s %s %s\n' "$pid" "$name" "$(daemon_conf "$pid")" ;;
		esac
	done
}

# is_legacy CONF: CONF is the /etc/slurm/slurm.conf the earlier slurm-up.sh wrote.
is_legacy() {
	local first
	[[ $1 == "$LEGACY_CONF" && -r $1 ]] || return 1
	IFS= read -r first <"$1" || return 1
	[[ $first == "$LEGACY_HEADER" ]]
}
