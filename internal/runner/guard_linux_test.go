package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/shard"
)

// TestRunnerKilledTakesItsTree kills a runner (a child process, as
// `gridstudy exec` or `gridstudy run` would be) with SIGKILL while its
// command has a child and a grandchild that writes into the run folder,
// and wants every process of the run gone within 2 s.
func TestRunnerKilledTakesItsTree(t *testing.T) {
	dir, _, entries := newStudy(t, `
name = "tree"
[run]
command = """
sleep 300 &
bash -c 'while :; do echo x >> grow.txt; sleep 0.1; done' &
wait
"""
`)
	runID := entries[0].RunID
	t.Cleanup(func() { KillLeftovers(dir, runID) }) // should the test fail
	runner := exec.Command(os.Args[0])
	runner.Env = append(os.Environ(), helperEnv+"="+dir)
	runner.Stderr = os.Stderr
	if err := runner.Start(); err != nil {
		t.Fatal(err)
	}
	grow := filepath.Join(dir, entries[0].Dir, "grow.txt")
	waitFile(t, grow)
	// The command's bash, sleep 300 and the loop's bash.
	waitProcs(t, dir, runID, func(n int) bool { return n >= 3 }, 10*time.Second)

	runner.Process.Kill()
	runner.Wait()
	waitProcs(t, dir, runID, func(n int) bool { return n == 0 }, 2*time.Second)
	fi, err := os.Stat(grow)
	if err != nil {
		t.Fatal(err)
	}
	// The loop wrote every 0.1 s: three periods without a line say that
	// nothing writes any more.
	time.Sleep(300 * time.Millisecond)
	if now, err := os.Stat(grow); err != nil || now.Size() != fi.Size() {
		t.Errorf("%s still grows after its runner was killed", grow)
	}
	if _, err := os.Stat(shard.Path(dir, runID, 1)); !os.IsNotExist(err) {
		t.Errorf("a runner killed outright wrote a shard (%v)", err)
	}
}

// waitProcs polls /proc until the number of the run's processes satisfies
// ok, and fails the test after timeout.
func waitProcs(t *testing.T, dir, runID string, ok func(int) bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pids, err := findRun(dir, runID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ok(len(pids)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the run has processes %v", timeout, pids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKillLeftovers leaves a process tree of run r_t1 outside any runner
// (its own session, as a survivor of a dead attempt), and wants
// KillLeftovers to kill it and nothing else.
func TestKillLeftovers(t *testing.T) {
	tmp := t.TempDir()
	study, other, link := filepath.Join(tmp, "sd"), filepath.Join(tmp, "other"), filepath.Join(tmp, "link")
	for _, d := range []string{study, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(study, link); err != nil {
		t.Fatal(err)
	}
	start := func(studyDir string) *exec.Cmd {
		cmd := exec.Command("bash", "-c", "sleep 300 & wait")
		cmd.Env = append(os.Environ(), "GRIDSTUDY_RUN_ID=r_t1", "GRIDSTUDY_STUDY_DIR="+studyDir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its session's group
			cmd.Wait()
		})
		return cmd
	}
	// The dead attempt spelt the study folder through a link.
	survivor := start(link)
	// The same run id in another study is not the run's.
	bystander := start(other)
	waitProcs(t, study, "r_t1", func(n int) bool { return n == 2 }, 10*time.Second)
	waitProcs(t, other, "r_t1", func(n int) bool { return n == 2 }, 10*time.Second)

	killed, err := KillLeftovers(study, "r_t1")
	if err != nil || killed != 2 {
		t.Errorf("KillLeftovers = %d, %v; want bash and its sleep killed", killed, err)
	}
	survivor.Wait()
	if ws, ok := survivor.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the survivor ended with %v, want SIGKILL", survivor.ProcessState)
	}
	waitProcs(t, study, "r_t1", func(n int) bool { return n == 0 }, 2*time.Second)
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the other study's process is gone: %v", err)
	}
	if killed, err := KillLeftovers(study, "r_t1"); killed != 0 || err != nil {
		t.Errorf("KillLeftovers with nothing left = %d, %v; want 0, nil", killed, err)
	}
}

// TestSignalRecorded checks that a command that dies of a signal is
// recorded with that signal, also for those that Go's runtime would turn
// into exit code 2 in a Go process between the runner and the command.
func TestSignalRecorded(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGSEGV, syscall.SIGABRT, syscall.SIGQUIT, syscall.SIGUSR2, syscall.SIGKILL} {
		// Bash ignores SIGQUIT itself: the signal is for the sleep that
		// it becomes, sent until it has become it.
		dir, st, entries := newStudy(t, fmt.Sprintf(`
name = "sig"
[run]
command = "(while kill -%d $$ 2>/dev/null; do sleep 0.05; done) & exec sleep 5"
`, sig))
		res := run(t, context.Background(), dir, st, entries[0], 0)
		if res.Status != shard.StatusFailed || res.Signal != signalName(sig) || res.ExitCode != -1 {
			t.Errorf("command killed by %s: Run = %+v, want failed by that signal", signalName(sig), res)
		}
	}
}

// TestUsageAfterKill has a command burn some CPU (0.6 s here), then
// ignore SIGTERM until it is killed after the grace period: its CPU time
// must still be measured.
func TestUsageAfterKill(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "busy"
[run]
command = "trap '' TERM; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo started > started.txt; sleep 30"
`)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFile(t, filepath.Join(dir, entries[0].Dir, "started.txt"))
		cancel()
	}()
	res := run(t, ctx, dir, st, entries[0], 300*time.Millisecond)
	v, _ := readShard(t, res.Shard)
	if cpu, _ := v["cpu_s"].(float64); res.Signal != "SIGKILL" || cpu < 0.1 {
		t.Errorf("Run = %+v, cpu_s %v: want killed with SIGKILL after its CPU time was spent", res, v["cpu_s"])
	}
}

// TestOneGuard runs several runs in one process, kills the guard by hand
// between two of them, and wants every run ok, a new guard started for the
// next run, and never more than one guard.
func TestOneGuard(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "guard"
trials = 4
[run]
args = ["/bin/true"]
`)
	for i, e := range entries {
		if res := run(t, context.Background(), dir, st, e, 0); res.Status != shard.StatusOK {
			t.Fatalf("run %d: %+v", i, res)
		}
		guards := guardPIDs(t)
		if len(guards) != 1 {
			t.Fatalf("after run %d the runner has guards %v, want one", i, guards)
		}
		if i == 1 {
			syscall.Kill(guards[0], syscall.SIGKILL)
			for len(guardPIDs(t)) > 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// guardPIDs lists this process's children that are guards.
func guardPIDs(t *testing.T) []int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var pid, ppid int
		var comm, state string
		// The guard is /bin/sh under argv[0] gridstudy-guard: comm is
		// the program's, so its argv is read from cmdline.
		if _, err := fmt.Sscanf(string(b), "%d %s %s %d", &pid, &comm, &state, &ppid); err != nil || ppid != os.Getpid() || state == "Z" {
			continue
		}
		argv, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		if strings.HasPrefix(string(argv), guardName+"\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// BenchmarkGuarded starts a no-op command under the guard, as the runner
// does: its difference to BenchmarkDirect is what the guard costs a run.
func BenchmarkGuarded(b *testing.B) {
	for b.Loop() {
		cmd := newCommand([]string{"/bin/true"})
		_, ended, err := startCommand(cmd)
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		ended()
	}
}

// TestGuardScript feeds the guard's program the lines a runner sends (three
// groups start, the first and last end) and closes its input, as a dying
// runner does: it must kill the group still in flight and spare those that
// ended, whose numbers may belong to someone else by then.
func TestGuardScript(t *testing.T) {
	var groups []*exec.Cmd
	for range 3 {
		cmd := exec.Command("sleep", "30")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		})
		groups = append(groups, cmd)
	}
	g := exec.Command("/bin/sh", "-c", guardScript)
	g.Stdin = strings.NewReader(fmt.Sprintf("+ %d\n+ %d\n- %d\n+ %d\n- %d\n- 99999999\n",
		groups[0].Process.Pid, groups[1].Process.Pid, groups[0].Process.Pid, groups[2].Process.Pid, groups[2].Process.Pid))
	if out, err := g.CombinedOutput(); err != nil {
		t.Fatalf("guard: %v: %s", err, out)
	}
	if err := groups[1].Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the group in flight ended with %v, want killed", err)
	}
	for _, i := range []int{0, 2} {
		if err := syscall.Kill(groups[i].Process.Pid, 0); err != nil {
			t.Errorf("group %d, which had ended for the guard, was killed: %v", i, err)
		}
	}
}
