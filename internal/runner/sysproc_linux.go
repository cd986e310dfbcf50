package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// superviseEnv marks a process that the runner started as a run's
// supervisor; its value is the runner's pid.
const superviseEnv = "GRIDSTUDY_SUPERVISE"

// supervisorName is the supervisor's argv[0]: what ps shows for it.
const supervisorName = "gridstudy-supervisor"

// parentPoll is how often the supervisor checks that its runner is alive,
// in case the parent-death signal was spent early (it fires when the
// runner's thread that started it ends, not only the runner).
const parentPoll = 200 * time.Millisecond

// newCommand returns the command that runs argv under a supervisor: this
// binary again (/proc/self/exe, which still works when the binary on disk
// was replaced mid-run), marked by superviseEnv once startCommand adds it.
//
// Go cannot fork without exec, and a process group alone is not enough:
// its members outlive a runner killed with SIGKILL, and the kernel's
// parent-death signal reaches only the runner's direct child. So the
// child is a supervisor, in a process group of its own (a kill of the
// runner's group spares it), which starts the command in another group,
// learns of the runner's death and kills that group; see supervise.
func newCommand(argv []string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", append([]string{"--"}, argv...)...)
	cmd.Args[0] = supervisorName
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	return cmd
}

// startCommand starts a command made by newCommand and returns once the
// user's command itself has started, or with the error that kept it from
// starting. pgid is the command's process group, which the supervisor is
// not in: signals to it reach the command and never kill the supervisor
// before it has waited for the command. usage, called once cmd.Wait has
// returned, gives the command's resource usage, as if the runner had
// waited for it itself.
//
// The supervisor reports on its fd 3, the write end of a pipe: a line with
// the command's pid (or the error, and nothing else), and once the
// command has ended a line with its rusage.
func startCommand(cmd *exec.Cmd) (pgid int, usage func() *syscall.Rusage, err error) {
	if _, ok := os.LookupEnv(superviseEnv); ok {
		// This process was started to supervise and did not: running a
		// supervisor again would recurse (a test binary running its tests).
		return 0, nil, errors.New("this binary does not call runner.MaybeSupervise first thing in main (or TestMain)")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, nil, fmt.Errorf("pipe for the supervisor: %w", err)
	}
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(cmd.Env, superviseEnv+"="+strconv.Itoa(os.Getpid()))
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return 0, nil, err
	}
	report := bufio.NewReader(pr)
	line, _ := report.ReadString('\n')
	pid, err := strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil {
		rest, _ := io.ReadAll(report)
		pr.Close()
		cmd.Wait()
		if msg := line + string(rest); msg != "" {
			return 0, nil, errors.New(msg)
		}
		return 0, nil, fmt.Errorf("the supervisor ended (%v) before the command started", cmd.ProcessState)
	}
	return pid, func() *syscall.Rusage {
		defer pr.Close()
		var ru syscall.Rusage
		if _, err := fmt.Fscan(report, &ru.Utime.Sec, &ru.Utime.Usec, &ru.Stime.Sec, &ru.Stime.Usec, &ru.Maxrss); err == nil {
			return &ru
		}
		// The supervisor was killed before it could tell: its own
		// usage, which holds the command's if it had waited for it.
		if cmd.ProcessState == nil {
			return nil
		}
		own, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return own
	}, nil
}

// MaybeSupervise returns at once, unless the runner started this process
// as a run's supervisor: then it supervises the run's command and exits as
// the command did. Every binary that runs runner.Run must call it first
// thing in main, and test binaries in TestMain, because the runner starts
// its own binary again as the supervisor.
func MaybeSupervise() {
	runnerPID, ok := os.LookupEnv(superviseEnv)
	if !ok {
		return
	}
	os.Exit(supervise(runnerPID, os.Args[1:]))
}

// jobSignals are the signals that SLURM or a user send to every process
// of a job to stop it. The supervisor must outlive them and leave their
// effect to the command; each is also a moment to check that the runner
// is still there.
var jobSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGCONT}

// supervise runs args ("--", then the command's argv) in a new process
// group and waits for it, and returns its exit code or dies of the signal
// that killed it. When the runner (pid runnerPID) dies, it kills the
// command's whole group: the kernel's SIGKILL for the command (Pdeathsig)
// would miss the command's own children.
func supervise(runnerPID string, args []string) int {
	report := os.NewFile(3, "report")
	// The command must not hold the report pipe open.
	syscall.CloseOnExec(3)
	parent, err := strconv.Atoi(runnerPID)
	if err != nil || len(args) < 2 || args[0] != "--" {
		fmt.Fprintf(report, "%s: bad invocation %s=%q %q", supervisorName, superviseEnv, runnerPID, args)
		return 2
	}
	os.Unsetenv(superviseEnv) // a gridstudy that the command runs is not a supervisor
	sigs := make(chan os.Signal, len(jobSignals))
	signal.Notify(sigs, jobSignals...)
	if os.Getppid() != parent {
		return 1 // the runner died while this started: nobody to run for
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		io.WriteString(report, err.Error())
		return 127
	}
	fmt.Fprintf(report, "%d\n", cmd.Process.Pid)
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	poll := time.NewTicker(parentPoll)
	for {
		select {
		case <-done:
			// What the command left in its group goes with it, as the
			// runner would see to next: here no moment is left in which
			// the runner's death would spare it.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			fmt.Fprintf(report, "%d %d %d %d %d\n", ru.Utime.Sec, ru.Utime.Usec, ru.Stime.Sec, ru.Stime.Usec, ru.Maxrss)
			report.Close()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				dieOf(ws.Signal())
			}
			return ws.ExitStatus()
		case <-sigs:
		case <-poll.C:
		}
		if os.Getppid() != parent {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return 1 // to nobody
		}
	}
}

// dieOf ends the supervisor with signal sig, the way its command ended,
// so that the runner reads the same wait status as without a supervisor.
// Go's runtime turns many signals (SIGSEGV, SIGABRT, SIGQUIT, …) sent to
// it into a goroutine dump and exit code 2, so the default action is put
// back with rt_sigaction itself, and the signal sent to this very thread:
// one sent to the process could be taken by another thread while this one
// exits.
func dieOf(sig syscall.Signal) {
	// A core of the supervisor, in the run folder, would pass for the
	// command's.
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	// struct sigaction with SIG_DFL, no flags and an empty mask is zeros
	// on every Linux architecture; 64 bytes cover the largest.
	var dfl [8]uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	runtime.LockOSThread()
	syscall.Tgkill(os.Getpid(), syscall.Gettid(), sig)
	// Reached only if the signal could not be delivered (blocked since
	// the runner started).
	os.Exit(128 + int(sig))
}

// maxRSSBytes converts rusage's ru_maxrss, in KiB on Linux, to bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) << 10 }
