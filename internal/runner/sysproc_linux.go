package runner

import "syscall"

// sysProcAttr puts the command in a process group of its own, so that
// signals reach everything it started and nothing of the runner's, and has
// the kernel kill it if the runner dies first (SIGKILL, a crash): an
// orphaned training job would hold its GPU with no shard to show for it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// maxRSSBytes converts rusage's ru_maxrss, in KiB on Linux, to bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss << 10 }
