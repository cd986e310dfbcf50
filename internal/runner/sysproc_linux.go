package runner

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// guardScript is the guard's program (see guard). It reads lines "+ PGID"
// and "- PGID" from its stdin, the runner's pipe, and keeps the set of
// process groups in flight; at end of file, which comes only when the
// runner has exited or died, it kills every group left in the set. It
// ignores the signals that scancel, preemption or a Ctrl-C send to a whole
// job or terminal, so that it outlives the runner they stop, and leaves
// their effect to the commands.
//
// A shell rather than this binary again: the guard must be in place before
// the first command, and dash starts in a tenth of the time a 37 MB Go
// binary takes (0.5 against 5 ms). Nothing but the runner's own integers
// reaches it.
const guardScript = `trap '' HUP INT QUIT TERM USR1 USR2 PIPE
g=' '
while read -r op pg; do
	case $op in
	+) g="$g$pg " ;;
	-) case $g in *" $pg "*) g="${g%% $pg *} ${g#* $pg }" ;; esac ;;
	esac
done
for pg in $g; do kill -s KILL -- "-$pg" 2>/dev/null; done
`

// guardName is the guard's argv[0]: what ps shows for it.
const guardName = "gridstudy-guard"

// guard is the one process per runner process that kills the commands'
// process groups when the runner dies.
//
// Go cannot fork without exec, and a process group alone is not enough:
// its members outlive a runner killed with SIGKILL, and the kernel's
// parent-death signal reaches only the runner's direct child, not what
// that child starts. So the runner keeps a guard, started on its first
// command, in a process group of its own (a kill of the runner's group
// spares it), and tells it each command's group as the command starts and
// ends. When the runner dies, of anything, the kernel closes its end of
// the guard's pipe, and the guard kills the groups still in flight. One
// guard serves every run of a packed task or of `gridstudy run`: a
// command start costs a line on a pipe, not a process.
var guard struct {
	mu  sync.Mutex
	w   *os.File // the write end of the guard's stdin; nil before the start
	err error    // why the guard could not be started or written to
}

// tellGuard sends the guard one line, starting the guard first if there is
// none. A guard that went away (killed by hand) is started again.
func tellGuard(line string) error {
	guard.mu.Lock()
	defer guard.mu.Unlock()
	for try := 0; try < 2; try++ {
		if guard.w == nil {
			if err := startGuard(); err != nil {
				return fmt.Errorf("start the guard that kills the command if the runner dies: %w", err)
			}
		}
		if _, err := guard.w.WriteString(line); err == nil {
			return nil
		}
		guard.w.Close()
		guard.w = nil
	}
	return fmt.Errorf("the guard that kills the command if the runner dies does not listen")
}

// startGuard starts the guard; guard.mu is held.
func startGuard() error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", guardScript)
	cmd.Args[0] = guardName
	cmd.Stdin = pr
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	pr.Close()
	if err != nil {
		pw.Close()
		return err
	}
	// Reap it should it end while the runner lives (killed by hand):
	// the next line to it then fails, and a new guard is started.
	go cmd.Wait()
	guard.w = pw
	return nil
}

// newCommand returns the command that runs argv in a process group of its
// own, so that signals reach everything it started and nothing of the
// runner's.
func newCommand(argv []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	// The parent-death signal covers the moment between the start and
	// the guard learning of the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// startCommand starts a command made by newCommand under the guard and
// returns its process group and a function that, once cmd.Wait has
// returned, gives its resource usage and tells the guard the group has
// ended. The caller kills what is left of the group before calling it.
func startCommand(cmd *exec.Cmd) (pgid int, done func() *syscall.Rusage, err error) {
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	pgid = cmd.Process.Pid
	if err := tellGuard("+ " + strconv.Itoa(pgid) + "\n"); err != nil {
		// Unguarded, a runner's death would leave the command running
		// unseen: run nothing rather than that.
		syscall.Kill(-pgid, syscall.SIGKILL)
		cmd.Wait()
		return 0, nil, err
	}
	return pgid, func() *syscall.Rusage {
		tellGuard("- " + strconv.Itoa(pgid) + "\n")
		if cmd.ProcessState == nil {
			return nil
		}
		ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return ru
	}, nil
}

// maxRSSBytes converts rusage's ru_maxrss, in KiB on Linux, to bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) << 10 }
