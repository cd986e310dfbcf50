package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/slurm"
)

// squeueState is the state squeue gives the job or task id, "" when it no
// longer lists it.
func squeueState(t *testing.T, id string) string {
	t.Helper()
	out, _ := exec.Command("squeue", "-h", "-r", "-j", id, "-o", "%T").Output()
	return strings.TrimSpace(string(out))
}

// heldJob submits an unrelated held array job of two tasks named name and
// returns its id; the test cancels it at the end.
func heldJob(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("sbatch", "--parsable", "--hold", "--array=0-1", "--job-name="+name,
		"--chdir=/tmp", "-o", "/dev/null", "--wrap", "true").Output()
	if err != nil {
		t.Fatalf("sbatch --hold: %v", err)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	t.Cleanup(func() { exec.Command("scancel", id).Run() })
	return id
}

// Job ids are reused once slurmctld's state is purged: a journaled id that
// now names another job (another name, or the study's name with another
// submit time) is not the study's. status does not show its tasks as the
// runs' and warns about it, cancel leaves it alone, and resume resubmits the runs it seemed
// to hold, which then end ok.
func TestSlurmReusedJobID(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "reused_id"
[run]
command = "echo '{\"x\": '{{ index .Params \"x\" }}'}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
values = [1, 2]
[slurm]
time = "00:05:00"
`)
	gs(t, bin, 0, "plan", path, "-o", dir)
	otherName := heldJob(t, "someone-else")
	sameName := heldJob(t, "reused_id")
	now := time.Now().UTC()
	j := slurm.OpenJournal(dir)
	for _, s := range []slurm.Submission{
		// The name differs; the submit time fits.
		{JobID: otherName, Kind: "array", Chunk: "array_000", Tasks: "0-1", RunsPerTask: 1, Name: "reused_id",
			Start: now.Add(-2 * time.Second), Time: now},
		// The name fits; the study's job was submitted an hour before.
		{JobID: sameName, Kind: "array", Chunk: "array_000", Tasks: "0-1", RunsPerTask: 1, Name: "reused_id",
			Start: now.Add(-time.Hour), Time: now.Add(-time.Hour + time.Second)},
	} {
		if err := j.Append(s); err != nil {
			t.Fatal(err)
		}
	}
	// Both ids are in the queue, but neither is the study's job.
	s := status(t, bin, dir)
	if s.Counts["missing"] != 2 {
		t.Fatalf("status with foreign jobs under journaled ids: %v, want 2 missing", s.Counts)
	}
	for _, r := range s.Runs {
		if r.JobID != "" {
			t.Errorf("run %d shown as job %s, which is not the study's", r.Index, r.JobID)
		}
	}
	// and says so, once per job.
	text := gs(t, bin, 0, "status", dir)
	for _, id := range []string{otherName, sameName} {
		if strings.Count(text, "warning: job "+id+" of the journal is now another job") != 1 {
			t.Errorf("status does not warn once that job %s is another job now:\n%s", id, text)
		}
	}
	if out := gs(t, bin, 0, "cancel", dir, "--runs", "0,1"); !strings.Contains(out, "nothing to cancel") {
		t.Errorf("cancel --runs: %s", out)
	}
	if out := gs(t, bin, 0, "cancel", dir); !strings.Contains(out, "nothing to cancel") {
		t.Errorf("cancel: %s", out)
	}
	for _, id := range []string{otherName, sameName} {
		if st := squeueState(t, id); !strings.HasPrefix(st, "PENDING") {
			t.Errorf("foreign job %s is %q after the study's cancel, want it still pending", id, st)
		}
	}
	if out := gs(t, bin, 0, "resume", dir); !strings.Contains(out, "resuming 2 runs") {
		t.Fatalf("resume: %s", out)
	}
	waitFor(t, bin, dir, 90*time.Second, "every run ok", allOK(2))
	okShardsOnce(t, bin, dir, 2)
}

// A task that SLURM requeues gets a new submit time: it is still the
// study's (its restart count says why), not a stranger under a reused id.
// The requeue comes more than a minute after the submission, beyond the
// tolerance for clock skew, so that the restart count is what decides.
func TestSlurmRequeuedTaskStaysTheStudys(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "requeued_identity"
[run]
command = "sleep 300"
[params.x]
values = [1]
[slurm]
time = "00:10:00"
`)
	submitted := time.Now()
	gs(t, bin, 0, "submit", path, "-o", dir)
	t.Cleanup(func() { exec.Command(bin, "cancel", dir).Run() })
	s := waitFor(t, bin, dir, 60*time.Second, "the run to start", func(s statusJSON) bool { return s.Counts["running"] == 1 })
	task := s.Runs[0].JobID
	time.Sleep(time.Until(submitted.Add(65 * time.Second)))
	if out, err := exec.Command("scontrol", "requeue", task).CombinedOutput(); err != nil {
		t.Fatalf("scontrol requeue %s: %v: %s", task, err, out)
	}
	s = waitFor(t, bin, dir, 30*time.Second, "the requeued task pending", func(s statusJSON) bool {
		return s.Runs[0].State == "pending"
	})
	if s.Runs[0].JobID != task {
		t.Fatalf("requeued run shows job %q, want %s", s.Runs[0].JobID, task)
	}
	if out := gs(t, bin, 0, "cancel", dir); !strings.Contains(out, "cancelled 1 job") {
		t.Errorf("cancel: %s", out)
	}
	if st := squeueState(t, task); st != "" && !strings.HasPrefix(st, "CANCELLED") {
		t.Errorf("requeued task %s is %q after cancel", task, st)
	}
}

// cancel leaves a foreign job alone and says so on stderr, also when it
// cancels the study's own jobs in the same call.
func TestSlurmCancelSkipsForeignJob(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, `name = "cancel_foreign"
[run]
command = "sleep 60"
[params.x]
values = [1, 2]
[slurm]
time = "00:05:00"
`)
	gs(t, bin, 0, "submit", path, "-o", dir)
	foreign := heldJob(t, "someone-else")
	now := time.Now().UTC()
	if err := slurm.OpenJournal(dir).Append(slurm.Submission{JobID: foreign, Kind: "feeder", Name: "cancel_foreign-feeder",
		Start: now, Time: now}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "cancel", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cancel: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(string(out), "cancelled 1 job") || !strings.Contains(stderr.String(), "job "+foreign+" of the journal is now another job") {
		t.Errorf("cancel said %q and %q, want 1 job cancelled and a warning about job %s", out, stderr.String(), foreign)
	}
	if st := squeueState(t, foreign); !strings.HasPrefix(st, "PENDING") {
		t.Errorf("foreign job %s is %q after cancel, want it still pending", foreign, st)
	}
	waitFor(t, bin, dir, 60*time.Second, "the study's runs to leave the queue", func(s statusJSON) bool {
		return s.Counts["running"] == 0 && s.Counts["pending"] == 0
	})
}
