package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/table"
)

// These tests submit studies with stages to the test SLURM cluster (see
// slurm_test.go): each stage is an array, runs wait (afterok) for their
// stage tasks, after-runs stages (afterany) for their groups' runs.

// stagedStudy is two settings x, each simulated once by a before-runs
// stage that succeeds only when the file ok_<x> exists beside the study
// file, two models trained on it, and an after-runs stage comparing them
// per setting. Every command sleeps a little, so that a run started before
// its stage task ended could not go unnoticed.
const stagedStudy = `name = "%s"
[run]
command = "sleep 1; test -s {{ .Stages.sim }}/data.txt && echo '{\"v\": 1}' >> \"$GRIDSTUDY_METRICS\""
[params.x]
values = [1, 2]
[models.a]
[models.b]
[stages.sim]
key = ["x"]
command = "sleep 2; test -f {{ .StudyFileDir }}/ok_{{ .Params.x }} && echo {{ .Params.x }} > {{ .StageDir }}/data.txt"
[stages.sim.slurm]
time = "00:03:00"
[stages.compare]
key = ["x"]
after = "runs"
command = "echo ran >> {{ .StageDir }}/ran.txt; echo '{\"model\": \"a\", \"gap\": 0.5}' >> \"$GRIDSTUDY_METRICS\""
[slurm]
time = "00:05:00"
`

// attemptTimes is what one attempt's shard says of its end and times.
type attemptTimes struct {
	status            string
	started, finished time.Time
}

// shardTimes returns the attempts whose shards lie under root (a study
// directory, or a stage's root) for id, in attempt order.
func shardTimes(t *testing.T, root, id string) []attemptTimes {
	t.Helper()
	var out []attemptTimes
	for a := 1; ; a++ {
		path := shard.Path(root, id, a)
		if _, err := os.Stat(path); err != nil {
			return out
		}
		schema, rows, err := table.ReadFile(path)
		if err != nil || len(rows) != 1 {
			t.Fatalf("shard %s: %v, %d rows", path, err, len(rows))
		}
		row := rows[0]
		at := attemptTimes{status: row[schema.Index("status")].(string)}
		at.started, _ = row[schema.Index("started_at")].(time.Time)
		at.finished, _ = row[schema.Index("finished_at")].(time.Time)
		out = append(out, at)
	}
}

// stageDone waits until every task of stage name has an attempt that
// ended ok, or fails the test, and returns the attempts by task.
func stageDone(t *testing.T, dir, name string, within time.Duration) (*stage.Stage, [][]attemptTimes) {
	t.Helper()
	p, err := stage.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Stage(name)
	if s == nil {
		t.Fatalf("the plan has no stage %s", name)
	}
	deadline := time.Now().Add(within)
	for {
		var all [][]attemptTimes
		done := 0
		for _, task := range s.Tasks {
			at := shardTimes(t, stage.Root(dir, name), task.ID)
			if len(at) > 0 && at[len(at)-1].status == shard.StatusOK {
				done++
			}
			all = append(all, at)
		}
		if done == len(s.Tasks) {
			return s, all
		}
		if time.Now().After(deadline) {
			t.Fatalf("stage %s: %d of %d tasks ok after %s: %+v", name, done, len(s.Tasks), within, all)
		}
		time.Sleep(time.Second)
	}
}

// checkOrder checks, from the shards, that no run started before the sim
// task it needs ended, and that each compare task ran once, after the runs
// of its group ended.
func checkOrder(t *testing.T, bin, dir string) {
	t.Helper()
	runID := map[int]string{}
	for _, r := range status(t, bin, dir).Runs {
		runID[r.Index] = r.RunID
	}
	lastOK := func(at []attemptTimes) attemptTimes {
		t.Helper()
		if len(at) == 0 || at[len(at)-1].status != shard.StatusOK {
			t.Fatalf("attempts %+v: want the last one ok", at)
		}
		return at[len(at)-1]
	}
	sim, simAt := stageDone(t, dir, "sim", 30*time.Second)
	for i, task := range sim.Tasks {
		simEnd := lastOK(simAt[i]).finished
		for _, r := range task.Runs {
			for _, a := range shardTimes(t, dir, runID[r]) {
				if a.started.Before(simEnd) {
					t.Errorf("run %d started at %s, before its sim task %d ended at %s", r, a.started, i, simEnd)
				}
			}
		}
	}
	cmp, cmpAt := stageDone(t, dir, "compare", 30*time.Second)
	for i, task := range cmp.Tasks {
		start := lastOK(cmpAt[i]).started
		for _, r := range task.Runs {
			if end := lastOK(shardTimes(t, dir, runID[r])).finished; start.Before(end) {
				t.Errorf("compare task %d started at %s, before run %d ended at %s", i, start, r, end)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, task.Dir, "ran.txt"))
		if err != nil || string(b) != "ran\n" {
			t.Errorf("compare task %d ran %d times (%v), want once", i, strings.Count(string(b), "ran"), err)
		}
	}
}

// stageCounts returns status --json's counts of stage tasks by stage and
// state.
func stageCounts(t *testing.T, bin, dir string) map[string]map[string]int {
	t.Helper()
	var s struct {
		Stages map[string]map[string]int `json:"stages"`
	}
	if err := json.Unmarshal([]byte(gs(t, bin, 0, "status", dir, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s.Stages
}

func TestSlurmStagesOrder(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, strings.Replace(stagedStudy, "%s", "stages_order", 1))
	for _, x := range []string{"1", "2"} {
		if err := os.WriteFile(filepath.Join(filepath.Dir(path), "ok_"+x), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := gs(t, bin, 0, "submit", path, "-o", dir)
	for _, want := range []string{"submitted stage_sim_000: job", "submitted array_000", "submitted stage_compare_000"} {
		if !strings.Contains(out, want) {
			t.Fatalf("submit said:\n%s\nwant %q", out, want)
		}
	}
	waitFor(t, bin, dir, 120*time.Second, "every run ok", allOK(4))
	checkOrder(t, bin, dir)
	if c := stageCounts(t, bin, dir); c["sim"]["ok"] != 2 || c["compare"]["ok"] != 2 {
		t.Errorf("stage counts %v, want every task ok", c)
	}
	// resume finds nothing to do: every stage task and run ended ok.
	if out := gs(t, bin, 0, "resume", dir); !strings.Contains(out, "nothing to resume") {
		t.Fatalf("resume of a finished study: %s", out)
	}
	okShardsOnce(t, bin, dir, 4)
}

func TestSlurmStagesFailedStageResume(t *testing.T) {
	bin := slurmOnly(t)
	path, dir := writeStudy(t, strings.Replace(stagedStudy, "%s", "stages_resume", 1))
	// Only x = 1 can be simulated: the sim task of x = 2 fails.
	okFile := func(x string) string { return filepath.Join(filepath.Dir(path), "ok_"+x) }
	if err := os.WriteFile(okFile("1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	gs(t, bin, 0, "submit", path, "-o", dir)
	// SLURM cancels the runs of x = 2, whose dependency can no longer be
	// met: they never start, and show as missing.
	s := waitFor(t, bin, dir, 120*time.Second, "the runs of x = 1 ok and those of x = 2 cancelled", func(s statusJSON) bool {
		return s.Counts["ok"] == 2 && s.Counts["missing"] == 2
	})
	for _, r := range s.Runs {
		if r.State == "missing" && r.Attempts != 0 {
			t.Errorf("run %d: %d attempts, want none (its stage task failed)", r.Index, r.Attempts)
		}
	}
	p, err := stage.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	sim := p.Stage("sim")
	if at := shardTimes(t, stage.Root(dir, "sim"), sim.Tasks[1].ID); len(at) != 1 || at[0].status != shard.StatusFailed {
		t.Fatalf("sim task 1: attempts %+v, want one failed", at)
	}
	// The compare task of x = 2 is blocked by the failed sim task: it ran
	// nothing. status shows both stages.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		c := stageCounts(t, bin, dir)
		if c["sim"]["ok"] == 1 && c["sim"]["failed"] == 1 && c["compare"]["ok"] == 1 && c["compare"]["blocked"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stage counts %v, want sim ok 1 and failed 1, compare ok 1 and blocked 1", c)
		}
	}
	cmp := p.Stage("compare")
	if _, err := os.Stat(filepath.Join(dir, cmp.Tasks[1].Dir, "ran.txt")); err == nil {
		t.Error("the compare task of x = 2 ran its command although its runs never ran")
	}
	// Nothing of the study stays queued: the dependents were cancelled,
	// not left pending forever.
	time.Sleep(2 * time.Second)
	if out := gs(t, bin, 0, "cancel", dir); !strings.Contains(out, "nothing to cancel") {
		t.Fatalf("cancel after the failed stage: %s", out)
	}
	// Fix the stage's failure; resume re-runs the failed sim task, then the
	// runs that need it, then their compare task.
	if err := os.WriteFile(okFile("2"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := gs(t, bin, 0, "resume", dir)
	if !strings.Contains(out, "resuming 2 runs and 2 stage tasks") || !strings.Contains(out, "submitted stage_sim_000") {
		t.Fatalf("resume: %s", out)
	}
	waitFor(t, bin, dir, 120*time.Second, "every run ok", allOK(4))
	checkOrder(t, bin, dir)
	if at := shardTimes(t, stage.Root(dir, "sim"), sim.Tasks[0].ID); len(at) != 1 {
		t.Errorf("sim task 0 ran %d times, want once: resume re-runs only the failed task", len(at))
	}
	okShardsOnce(t, bin, dir, 4)
}

// Under max_concurrent and max_queued, stage tasks count as tasks: the
// feeder jobs bring a study with stages to the end, stage tasks before the
// runs that need them.
func TestSlurmStagesMaxQueued(t *testing.T) {
	bin := slurmOnly(t)
	src := strings.Replace(stagedStudy, "%s", "stages_queued", 1) + "max_queued = 3\nmax_concurrent = 2\n"
	path, dir := writeStudy(t, src)
	for _, x := range []string{"1", "2"} {
		if err := os.WriteFile(filepath.Join(filepath.Dir(path), "ok_"+x), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := gs(t, bin, 0, "submit", path, "-o", dir)
	if !strings.Contains(out, "left for a feeder job") {
		t.Fatalf("submit under max_queued: %s", out)
	}
	s := waitFor(t, bin, dir, 240*time.Second, "every run ok through feeders", allOK(4))
	checkOrder(t, bin, dir)
	// max_concurrent holds for the study as a whole, stage tasks included.
	var all []attemptTimes
	for _, r := range s.Runs {
		all = append(all, shardTimes(t, dir, r.RunID)...)
	}
	p, err := stage.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Stages {
		for _, task := range st.Tasks {
			all = append(all, shardTimes(t, stage.Root(dir, st.Name), task.ID)...)
		}
	}
	if len(all) != 8 {
		t.Fatalf("%d attempts of runs and stage tasks, want 8", len(all))
	}
	for _, a := range all {
		n := 0
		for _, b := range all {
			if !b.started.After(a.started) && b.finished.After(a.started) {
				n++
			}
		}
		if n > 2 {
			t.Errorf("%d attempts ran at %s, more than max_concurrent = 2", n, a.started)
		}
	}
	if c := stageCounts(t, bin, dir); c["sim"]["ok"] != 2 || c["compare"]["ok"] != 2 {
		t.Errorf("stage counts %v, want every task ok", c)
	}
	okShardsOnce(t, bin, dir, 4)
}
