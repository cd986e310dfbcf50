package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Real-SLURM tests of the limits a study must keep: the study-wide
// throttle, the feeder under a full queue, time limits and requeues. Like
// slurm_test.go they run only with GRIDSTUDY_SLURM=1.

// uniqueName makes a study (and so job) name no other test's jobs carry,
// so that squeue -n counts this test's tasks only.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1_000_000)
}

// cancelAtEnd cancels whatever the study still has queued when the test
// ends, failed or not, so that no job of it blocks the shared cluster.
func cancelAtEnd(t *testing.T, bin, dir string) {
	t.Cleanup(func() { exec.Command(bin, "cancel", dir).Run() })
}

// journalKinds counts the study's journal entries (one per sbatch call)
// by kind.
func journalKinds(t *testing.T, dir string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "slurm", "submissions.jsonl"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if _, rest, ok := strings.Cut(line, `"kind":"`); ok {
			kind, _, _ := strings.Cut(rest, `"`)
			kinds[kind]++
		}
	}
	return kinds
}

// sampleRunning counts the RUNNING tasks of the jobs named name every half
// second until stop is closed, and returns the largest count seen.
func sampleRunning(t *testing.T, name string, stop <-chan struct{}) func() int {
	var (
		mu   sync.Mutex
		peak int
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		for {
			out, err := exec.Command("squeue", "-h", "-r", "-n", name, "-t", "RUNNING", "-o", "%i").Output()
			if err == nil {
				n := len(strings.Fields(string(out)))
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	return func() int {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// max_concurrent holds for the whole study: across its chunks (three
// arrays) and across a resume submitted while the first array still runs.
func TestSlurmLimitsThrottleAcrossResume(t *testing.T) {
	bin := slurmOnly(t)
	name := uniqueName("thr")
	path, dir := writeStudy(t, `name = "`+name+`"
[run]
command = "sleep 6; echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
range = {start = 1, stop = 8, step = 1}
[slurm]
max_array_size = 3
max_concurrent = 2
time = "00:05:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	cancelAtEnd(t, bin, dir)
	stop := make(chan struct{})
	peak := sampleRunning(t, name, stop)
	out := gs(t, bin, 0, "submit", dir)
	if !strings.Contains(out, "8 of 8 runs submitted") || strings.Count(out, "submitted array_") != 3 {
		t.Fatalf("submit: %s", out)
	}
	s := waitFor(t, bin, dir, 60*time.Second, "two running tasks", func(s statusJSON) bool { return s.Counts["running"] == 2 })
	// Lose two pending runs of the first array, then resume them while
	// that array still runs: the resumed array must wait for it.
	if s.Runs[2].State != "pending" || s.Runs[6].State != "pending" {
		t.Fatalf("want runs 2 (first array) and 6 (last array) pending: %+v", s.Runs)
	}
	lost := []string{"2", "6"}
	gs(t, bin, 0, "cancel", dir, "--runs", strings.Join(lost, ","))
	waitFor(t, bin, dir, 30*time.Second, "the cancelled runs to leave the queue", func(s statusJSON) bool { return s.Counts["missing"] == 2 })
	if out := gs(t, bin, 0, "resume", dir); !strings.Contains(out, "resuming 2 runs") {
		t.Fatalf("resume: %s", out)
	}
	waitFor(t, bin, dir, 180*time.Second, "every run ok", allOK(8))
	close(stop)
	if p := peak(); p != 2 {
		t.Fatalf("at most %d tasks of the study ran at once, want exactly max_concurrent = 2", p)
	}
	okShardsOnce(t, bin, dir, 8)
}

// With the user's queue held full (max_queued jobs on hold), submit queues
// one feeder that waits, and no flood of sbatch calls follows; once the
// held jobs are released the feeders finish the study in a few calls.
func TestSlurmFeederFullQueue(t *testing.T) {
	bin := slurmOnly(t)
	var held []string
	t.Cleanup(func() {
		if len(held) > 0 {
			exec.Command("scancel", held...).Run()
		}
	})
	for range 4 {
		out, err := exec.Command("sbatch", "--parsable", "--hold", "--job-name=gridstudy-test-hold", "--time=00:02:00",
			"--output=/dev/null", "--wrap", "sleep 2").Output()
		if err != nil {
			t.Fatalf("sbatch --hold: %v", err)
		}
		id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
		held = append(held, id)
	}
	path, dir := writeStudy(t, `name = "`+uniqueName("feed")+`"
[run]
command = "echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
range = {start = 1, stop = 6, step = 1}
[slurm]
max_queued = 4
time = "00:05:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	cancelAtEnd(t, bin, dir)
	out := gs(t, bin, 0, "submit", dir)
	if !strings.Contains(out, "0 of 6 runs submitted") || !strings.Contains(out, "until your job "+held[0]) {
		t.Fatalf("submit into a full queue: %s", out)
	}
	// The feeder waits for the oldest held job: 40 s on, it is still the
	// only job the study submitted.
	time.Sleep(40 * time.Second)
	if k := journalKinds(t, dir); k["feeder"] != 1 || len(k) != 1 {
		t.Fatalf("with the queue full for 40 s the study made these sbatch calls: %v, want one feeder", k)
	}
	if out, err := exec.Command("scontrol", append([]string{"release"}, held...)...).CombinedOutput(); err != nil {
		t.Fatalf("scontrol release: %v: %s", err, out)
	}
	waitFor(t, bin, dir, 240*time.Second, "every run ok through feeders", allOK(6))
	// 3 runs fit per round (4 minus the feeder's slot): two arrays and
	// their feeders, at most one more feeder if a round found the queue
	// still busy.
	k := journalKinds(t, dir)
	if k["array"] != 2 || k["feeder"] > 3 {
		t.Fatalf("sbatch calls %v: want 2 arrays and at most 3 feeders", k)
	}
	okShardsOnce(t, bin, dir, 6)
}

// A 50 s run under a 2-minute limit ends ok: the warning comes 12 s (a
// tenth of the limit) before the end, not 2 minutes, i.e. at once.
func TestSlurmLimitsShortTimeLimit(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "`+uniqueName("lim")+`"
[run]
command = "sleep 50; echo '{\"x\": 1}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
values = [1]
[slurm]
time = "00:02:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	cancelAtEnd(t, bin, dir)
	b, err := os.ReadFile(filepath.Join(dir, "slurm", "array_000.sbatch"))
	if err != nil || !strings.Contains(string(b), "\n#SBATCH --signal=B:USR1@12\n") {
		t.Fatalf("array script (%v) lacks --signal=B:USR1@12:\n%s", err, b)
	}
	gs(t, bin, 0, "submit", dir)
	waitFor(t, bin, dir, 150*time.Second, "the run to end", func(s statusJSON) bool {
		return s.Counts["running"] == 0 && s.Counts["pending"] == 0
	})
	okShardsOnce(t, bin, dir, 1)
}

// scontrol requeue of a running task: the attempt is recorded as
// preempted (the job was requeued), not cancelled; status shows the run
// pending while SLURM holds it back, resume leaves it to SLURM, and SLURM's
// rerun completes it.
func TestSlurmLimitsRequeue(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "`+uniqueName("rq")+`"
[run]
command = "sleep 15; echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
values = [1, 2]
[slurm]
time = "00:05:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	cancelAtEnd(t, bin, dir)
	gs(t, bin, 0, "submit", dir)
	s := waitFor(t, bin, dir, 60*time.Second, "run 0 running", func(s statusJSON) bool { return s.Runs[0].State == "running" })
	time.Sleep(3 * time.Second) // let the runner start the command
	if out, err := exec.Command("scontrol", "requeue", s.Runs[0].JobID).CombinedOutput(); err != nil {
		t.Fatalf("scontrol requeue %s: %v: %s", s.Runs[0].JobID, err, out)
	}
	// SLURM holds a requeued job back for a while (BeginTime): the first
	// attempt's shard is written and the run waits, pending.
	s = waitFor(t, bin, dir, 60*time.Second, "run 0 pending after its first attempt", func(s statusJSON) bool {
		return s.Runs[0].State == "pending" && s.Runs[0].Attempts == 1
	})
	if c := s.Counts["cancelled"] + s.Counts["missing"]; c != 0 {
		t.Fatalf("after a requeue: %v, want nothing cancelled or missing", s.Counts)
	}
	if out := gs(t, bin, 0, "resume", dir); !strings.Contains(out, "nothing to resume") {
		t.Fatalf("resume resubmitted a requeued run: %s", out)
	}
	gs(t, bin, 0, "collect", dir)
	row := csvRow(t, filepath.Join(dir, "data", "raw_results_all_trials.csv"), s.Runs[0].RunID)
	if row["status"] != "preempted" || !strings.Contains(row["error"], "requeued (restart 1)") {
		t.Fatalf("the requeued attempt was recorded as %q (%q), want preempted and requeued", row["status"], row["error"])
	}
	s = waitFor(t, bin, dir, 240*time.Second, "every run ok", allOK(2))
	if s.Runs[0].Attempts != 2 || s.Runs[1].Attempts != 1 {
		t.Fatalf("attempts %d and %d, want 2 for the requeued run and 1 for the other", s.Runs[0].Attempts, s.Runs[1].Attempts)
	}
	if k := journalKinds(t, dir); k["array"] != 1 {
		t.Fatalf("sbatch calls %v: the requeued run was submitted again", k)
	}
	okShardsOnce(t, bin, dir, 2)
}

// csvRow returns the row of a collected table whose run_id is id, by
// column name.
func csvRow(t *testing.T, path, id string) map[string]string {
	t.Helper()
	for _, row := range csvRows(t, path) {
		if row["run_id"] == id {
			return row
		}
	}
	t.Fatalf("%s has no row for run %s", path, id)
	return nil
}
