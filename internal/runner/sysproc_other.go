//go:build unix && !linux

package runner

import (
	"os/exec"
	"syscall"
)

// newCommand returns the command that runs argv in a process group of its
// own, so that signals reach everything it started and nothing of the
// runner's. Without Linux there is no guard: a runner killed outright
// leaves the group running.
func newCommand(argv []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// startCommand starts a command made by newCommand and returns its
// process group and a function that, once cmd.Wait has returned, gives its
// resource usage.
func startCommand(cmd *exec.Cmd) (pgid int, done func() *syscall.Rusage, err error) {
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	return cmd.Process.Pid, func() *syscall.Rusage {
		if cmd.ProcessState == nil {
			return nil
		}
		ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return ru
	}, nil
}

// maxRSSBytes returns rusage's ru_maxrss, in bytes on the BSDs and macOS.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss }
