package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests submit to a real SLURM cluster: the private single-node
// cluster that .ci/slurm-up.sh starts (make test-slurm, CI). They run only
// when GRIDSTUDY_SLURM=1, because they need that cluster and take minutes,
// and with SLURM_CONF naming its slurm.conf, which every sbatch, squeue and
// scontrol they run (gridstudy's included) inherits.

func slurmOnly(t *testing.T) string {
	t.Helper()
	if os.Getenv("GRIDSTUDY_SLURM") != "1" {
		t.Skip("needs the test SLURM cluster: run make test-slurm (GRIDSTUDY_SLURM=1)")
	}
	if os.Getenv("SLURM_CONF") == "" {
		// Without it the tests would submit to whatever cluster
		// /etc/slurm/slurm.conf names: perhaps a real one.
		t.Fatal("GRIDSTUDY_SLURM=1 needs SLURM_CONF=<the test cluster's slurm.conf> (make test-slurm sets it)")
	}
	return buildGridstudy(t)
}

var built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// buildGridstudy builds the gridstudy binary once per test process, for
// tests that need it as a real process to kill or to submit.
func buildGridstudy(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "gridstudy-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "gridstudy")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build gridstudy: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// gs runs the gridstudy binary and returns its stdout; it fails the test
// when the exit code is not want.
func gs(t *testing.T, bin string, want int, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("gridstudy %v: %v", args, err)
	}
	if code != want {
		t.Fatalf("gridstudy %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

type statusJSON struct {
	Counts map[string]int `json:"counts"`
	Runs   []struct {
		RunID    string `json:"run_id"`
		Index    int    `json:"index"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		JobID    string `json:"job_id"`
	} `json:"runs"`
}

func status(t *testing.T, bin, dir string) statusJSON {
	t.Helper()
	var s statusJSON
	if err := json.Unmarshal([]byte(gs(t, bin, 0, "status", dir, "--json", "--runs")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls status until cond holds or the deadline passes.
func waitFor(t *testing.T, bin, dir string, d time.Duration, what string, cond func(statusJSON) bool) statusJSON {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := status(t, bin, dir)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, s.Counts)
		}
		time.Sleep(time.Second)
	}
}

func allOK(n int) func(statusJSON) bool {
	return func(s statusJSON) bool { return s.Counts["ok"] == n }
}

func writeStudy(t *testing.T, src string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "study.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, filepath.Join(dir, "out")
}

// okShardsOnce checks that every run has exactly one ok shard.
func okShardsOnce(t *testing.T, bin, dir string, n int) {
	t.Helper()
	s := status(t, bin, dir)
	if s.Counts["ok"] != n || len(s.Runs) != n {
		t.Fatalf("status: %v over %d runs, want %d ok", s.Counts, len(s.Runs), n)
	}
	out := gs(t, bin, 0, "collect", dir)
	if !strings.Contains(out, fmt.Sprintf("collected %d runs", n)) || !strings.Contains(out, fmt.Sprintf("%d ok, 0 failed, 0 lost", n)) {
		t.Fatalf("collect: %s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "raw_results_all_trials.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(strings.TrimSpace(string(b)), "\n"); rows != n {
		t.Fatalf("raw_results_all_trials.csv has %d rows, want %d", rows, n)
	}
}

func TestSlurmCancelAndResume(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "cancel_resume"
[run]
command = "sleep {{ index .Params \"sleep\" }}; echo '{\"value\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
values = [1, 2, 3, 4]
[params.sleep]
values = [10, 11]
[slurm]
gpus = 1
max_concurrent = 2
time = "00:05:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	out := gs(t, bin, 0, "submit", dir)
	if !strings.Contains(out, "submitted array_000") {
		t.Fatalf("submit: %s", out)
	}
	// With a throttle of 2, two tasks run and six pend.
	s := waitFor(t, bin, dir, 60*time.Second, "two running tasks", func(s statusJSON) bool { return s.Counts["running"] == 2 })
	if s.Counts["pending"] != 6 {
		t.Fatalf("counts %v, want 2 running and 6 pending", s.Counts)
	}
	var running, pending []string
	for _, r := range s.Runs {
		switch r.State {
		case "running":
			running = append(running, fmt.Sprint(r.Index))
		case "pending":
			if len(pending) < 2 {
				pending = append(pending, fmt.Sprint(r.Index))
			}
		}
	}
	// Let the runners start their commands; the commands run 10-11 s, so
	// the running one is cancelled mid-command even on a loaded machine.
	time.Sleep(2 * time.Second)
	cancelled := gs(t, bin, 0, "cancel", dir, "--runs", strings.Join(append(running[:1], pending...), ","))
	s = waitFor(t, bin, dir, 150*time.Second, "the rest to finish", func(s statusJSON) bool {
		return s.Counts["running"] == 0 && s.Counts["pending"] == 0
	})
	if s.Counts["cancelled"] != 1 || s.Counts["missing"] != 2 || s.Counts["ok"] != 5 {
		t.Fatalf("after cancelling 1 running and 2 pending tasks (%s): %v, want 1 cancelled, 2 missing, 5 ok", strings.TrimSpace(cancelled), s.Counts)
	}
	out = gs(t, bin, 0, "resume", dir)
	if !strings.Contains(out, "resuming 3 runs") {
		t.Fatalf("resume: %s", out)
	}
	waitFor(t, bin, dir, 90*time.Second, "every run ok", allOK(8))
	okShardsOnce(t, bin, dir, 8)
	if out := gs(t, bin, 0, "resume", dir); !strings.Contains(out, "nothing to resume") {
		t.Fatalf("second resume: %s", out)
	}
}

func TestSlurmChunkedAndMaxQueued(t *testing.T) {
	bin := slurmOnly(t)
	// 12 runs in arrays of at most 5 tasks, with at most 6 tasks queued:
	// feeder jobs alone must bring the study to the end.
	path, dir := writeStudy(t, `name = "chunks"
[run]
command = "echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
range = {start = 1, stop = 12, step = 1}
[slurm]
max_array_size = 5
max_queued = 6
time = "00:05:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	for _, f := range []string{"array_000", "array_001", "array_002"} {
		if _, err := os.Stat(filepath.Join(dir, "slurm", f+".sbatch")); err != nil {
			t.Fatalf("chunk %s: %v", f, err)
		}
	}
	out := gs(t, bin, 0, "submit", dir)
	if !strings.Contains(out, "left for a feeder job") {
		t.Fatalf("submit under max_queued: %s", out)
	}
	waitFor(t, bin, dir, 180*time.Second, "every run ok through feeders", allOK(12))
	okShardsOnce(t, bin, dir, 12)
}

func TestSlurmShellSafety(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "shell"
[run]
command = "printf '%s' {{ index .Params \"v\" }} > value.txt"
[params.v]
values = ["a; touch PWNED", "$(touch PWNED)", "`+"`touch PWNED`"+`", "it's \"q\""]
[slurm]
time = "00:05:00"
`)
	gs(t, bin, 0, "submit", path, "-o", dir)
	waitFor(t, bin, dir, 90*time.Second, "every run ok", allOK(4))
	matches, _ := filepath.Glob(filepath.Join(dir, "experiments", "*", "trial_1", "value.txt"))
	if len(matches) != 4 {
		t.Fatalf("%d value files, want 4", len(matches))
	}
	got := map[string]bool{}
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		got[string(b)] = true
	}
	for _, v := range []string{"a; touch PWNED", "$(touch PWNED)", "`touch PWNED`", `it's "q"`} {
		if !got[v] {
			t.Errorf("value %q did not reach the command literally; got %v", v, got)
		}
	}
	if found, _ := filepath.Glob(filepath.Join(dir, "experiments", "*", "*", "PWNED")); len(found) > 0 {
		t.Fatalf("a parameter value ran as shell code: %v", found)
	}
}

// TestSlurmClusterMaxArraySize runs against a cluster restarted with a
// small MaxArraySize (make test-slurm does it with SLURM_MAX_ARRAY_SIZE=5):
// plan reads the limit from scontrol and the chunks all finish.
func TestSlurmClusterMaxArraySize(t *testing.T) {
	want := os.Getenv("GRIDSTUDY_SLURM_MAX_ARRAY_SIZE")
	if want == "" {
		t.Skip("needs a cluster with a small MaxArraySize: GRIDSTUDY_SLURM_MAX_ARRAY_SIZE (make test-slurm)")
	}
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "cluster_limit"
[run]
command = "echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
range = {start = 1, stop = 12, step = 1}
[slurm]
time = "00:05:00"
`)
	out := gs(t, bin, 0, "plan", path, "-o", dir, "--dry-run")
	if !strings.Contains(out, "at most "+want+" per array") {
		t.Fatalf("plan did not take MaxArraySize %s from the cluster:\n%s", want, out)
	}
	gs(t, bin, 0, "submit", path, "-o", dir)
	waitFor(t, bin, dir, 120*time.Second, "every run ok", allOK(12))
	okShardsOnce(t, bin, dir, 12)
}

// A study folder with a space, %, quotes and non-ASCII letters: sbatch
// takes the scripts, each task's log lands under logs/ with SLURM's %A and
// %a expanded and the folder's % kept, and every run ends ok.
func TestSlurmOddStudyFolder(t *testing.T) {
	bin := slurmOnly(t)
	path, _ := writeStudy(t, `name = "odd_folder"
[run]
command = "echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\"; echo task output"
[params.x]
values = [1, 2, 3]
[slurm]
time = "00:05:00"
`)
	dir := filepath.Join(filepath.Dir(path), `my study %j "q" 'a' é`)
	out := gs(t, bin, 0, "submit", path, "-o", dir)
	if !strings.Contains(out, "submitted array_000") {
		t.Fatalf("submit: %s", out)
	}
	waitFor(t, bin, dir, 90*time.Second, "every run ok", allOK(3))
	okShardsOnce(t, bin, dir, 3)
	logs, err := filepath.Glob(filepath.Join(dir, "logs", "array_000_*_*.out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 3 {
		entries, _ := os.ReadDir(filepath.Dir(dir))
		t.Fatalf("%d task logs in %s/logs, want 3; beside the study: %v", len(logs), dir, entries)
	}
	for _, l := range logs {
		if strings.Contains(filepath.Base(l), "%") {
			t.Errorf("log %s: SLURM did not expand %%A/%%a", l)
		}
	}
}

// .ci/slurm-up.sh refuses, changing nothing, to touch a machine where a
// slurmctld it did not start runs: here a stand-in named slurmctld that
// reads another slurm.conf.
func TestSlurmUpRefusesForeignController(t *testing.T) {
	slurmOnly(t)
	dir := t.TempDir()
	fake := filepath.Join(dir, "slurmctld")
	b, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, b, 0o755); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "site.conf")
	if err := os.WriteFile(foreign, []byte("ClusterName=site\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// sh -c SCRIPT NAME ARGS: the arguments look like slurmctld's own; the
	// "; true" keeps the shell from exec-ing sleep, so it stays "slurmctld".
	ctld := exec.Command(fake, "-c", "sleep 60; true", "slurmctld", "-f", foreign)
	if err := ctld.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ctld.Process.Kill(); ctld.Wait() }()
	conf := os.Getenv("SLURM_CONF")
	before, err := os.Stat(conf)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "../../.ci/slurm-up.sh").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("slurm-up.sh beside a foreign slurmctld: %v, want exit 1\n%s", err, out)
	}
	want := fmt.Sprintf("REFUSED: a slurmctld (pid %d) runs on this machine with %s", ctld.Process.Pid, foreign)
	if !strings.Contains(string(out), want) {
		t.Errorf("slurm-up.sh said:\n%s\nwant %q", out, want)
	}
	after, err := os.Stat(conf)
	if err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("%s changed (or vanished: %v)", conf, err)
	}
	if out, err := exec.Command("scontrol", "ping").CombinedOutput(); err != nil {
		t.Errorf("the test cluster no longer answers: %v: %s", err, out)
	}
}
