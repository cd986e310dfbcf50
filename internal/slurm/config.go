package slurm

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxArraySize is SLURM's MaxArraySize when the cluster says
// nothing: array task ids run from 0 to 1000.
const DefaultMaxArraySize = 1001

// KillWaitEnv names the environment variable through which submit hands
// an array job the cluster's KillWait in seconds, read once per submit
// from `scontrol show config`; the runner derives its grace from it.
const KillWaitEnv = "GRIDSTUDY_KILL_WAIT"

// Limits are the cluster settings that shape array jobs and how their
// tasks are stopped.
type Limits struct {
	MaxArraySize  int // task ids must be below it
	MaxArrayTasks int // tasks per array (SchedulerParameters=max_array_tasks); 0: no separate cap
	// KillWait is the time between SLURM's SIGTERM and its SIGKILL of a
	// job (scancel, time limit, requeue); 0 when the cluster did not say.
	KillWait time.Duration
}

// ClusterLimits asks `scontrol show config` for the array limits and
// KillWait. Without
// scontrol (planning on a laptop), or when it fails, it returns SLURM's
// defaults and false.
func ClusterLimits(ctx context.Context) (Limits, bool) {
	lim := Limits{MaxArraySize: DefaultMaxArraySize}
	if _, err := exec.LookPath("scontrol"); err != nil {
		return lim, false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "scontrol", "show", "config").Output()
	if err != nil {
		return lim, false
	}
	return parseLimits(out), true
}

func parseLimits(out []byte) Limits {
	lim := Limits{MaxArraySize: DefaultMaxArraySize}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "MaxArraySize":
			if n, err := strconv.Atoi(val); err == nil && n > 0 {
				lim.MaxArraySize = n
			}
		case "KillWait":
			// "30 sec"
			if n, err := strconv.Atoi(strings.TrimSuffix(val, " sec")); err == nil && n > 0 {
				lim.KillWait = time.Duration(n) * time.Second
			}
		case "SchedulerParameters":
			for _, p := range strings.Split(val, ",") {
				if v, ok := strings.CutPrefix(p, "max_array_tasks="); ok {
					if n, err := strconv.Atoi(v); err == nil && n > 0 {
						lim.MaxArrayTasks = n
					}
				}
			}
		}
	}
	return lim
}
