//go:build unix && !linux

package runner

import "syscall"

// sysProcAttr puts the command in a process group of its own, so that
// signals reach everything it started and nothing of the runner's.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// maxRSSBytes returns rusage's ru_maxrss, in bytes on the BSDs and macOS.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss }
