package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxLeftoverPasses bounds KillLeftovers' scans of /proc: a process that
// forks between a scan and its kill is found by the next scan, but a fork
// bomb must not keep the runner busy for ever.
const maxLeftoverPasses = 10

// KillLeftovers kills (SIGKILL) every process on this host that an
// earlier attempt of run runID of the study in studyDir left running, and
// returns how many it killed. Call it before a new attempt when an
// earlier one died without its shard, and only then: it kills whatever
// runs with that run's environment, as a live attempt's processes do too.
//
// Normally the runner's guard kills an attempt's processes when its
// runner dies; this catches what escaped it (a runner and its guard killed
// together, a process that left the group with setsid). Processes are known by the environment the
// runner gave them (GRIDSTUDY_RUN_ID and GRIDSTUDY_STUDY_DIR, read from
// /proc/<pid>/environ, which is the environment at exec time), so a
// process that execs with a new environment (`env -i`) is not found.
// Where there is no /proc it finds nothing. The calling process is never
// killed.
func KillLeftovers(studyDir, runID string) (killed int, err error) {
	seen := map[int]bool{os.Getpid(): true}
	for range maxLeftoverPasses {
		pids, err := findRun(studyDir, runID, seen)
		if err != nil || len(pids) == 0 {
			return killed, err
		}
		for _, pid := range pids {
			seen[pid] = true
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
	}
	return killed, nil
}

// findRun returns the pids of the processes not in skip that run with the
// environment the runner gives run runID of the study in studyDir.
// Processes it may not read (other users') and zombies (an empty environ)
// never match.
func findRun(studyDir, runID string, skip map[int]bool) ([]int, error) {
	studyDir, err := filepath.Abs(studyDir)
	if err != nil {
		return nil, err
	}
	study, statErr := os.Stat(studyDir)
	match := func(env []byte) bool {
		var id, dir string
		for kv := range bytes.SplitSeq(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("GRIDSTUDY_RUN_ID=")); ok {
				id = string(v)
			} else if v, ok := bytes.CutPrefix(kv, []byte("GRIDSTUDY_STUDY_DIR=")); ok {
				dir = string(v)
			}
		}
		if id != runID || dir == "" {
			return false
		}
		if dir == studyDir {
			return true
		}
		// The earlier attempt may have spelt the folder otherwise (through
		// a symbolic link).
		fi, err := os.Stat(dir)
		return err == nil && statErr == nil && os.SameFile(fi, study)
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil, nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var pids []int
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || skip[pid] {
			continue
		}
		env, err := os.ReadFile("/proc/" + name + "/environ")
		if err == nil && match(env) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
