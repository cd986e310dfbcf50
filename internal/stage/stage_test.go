package stage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/runner"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

const base = `
name = "s"
trials = 2
[run]
command = "true"
[params.nphotons]
values = [1e6, 1e7]
[params.n]
values = [64]
[models.pinn]
[models.baseline]
`

// build plans src's stages for the study directory /sd.
func build(t *testing.T, src string) (*study.Study, []study.RunSpec, *stage.Plan) {
	t.Helper()
	return buildIn(t, src, t.TempDir(), "/sd")
}

// buildIn plans src, a study file in folder fileDir, for the study
// directory dir.
func buildIn(t *testing.T, src, fileDir, dir string) (*study.Study, []study.RunSpec, *stage.Plan) {
	t.Helper()
	st, err := study.Parse("study.toml", src, fileDir, study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := st.Cells()
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(cells)
	if err != nil {
		t.Fatal(err)
	}
	p, err := stage.Build(st, runs, dir)
	if err != nil {
		t.Fatal(err)
	}
	return st, runs, p
}

func TestTasksPerKey(t *testing.T) {
	tests := []struct {
		key    string
		tasks  int
		folder string // of task 0, before the cache key
		label  string
	}{
		{`[]`, 1, "all", "all"},
		{`["nphotons"]`, 2, "nphotons=1e6", "nphotons=1e6"},
		{`["nphotons", "n"]`, 2, "nphotons=1e6_n=64", "nphotons=1e6 n=64"},
		{`["model", "nphotons"]`, 4, "pinn_nphotons=1e6", "model=pinn nphotons=1e6"},
		{`["nphotons", "trial"]`, 4, "nphotons=1e6_trial_1", "nphotons=1e6 trial=1"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			_, runs, p := build(t, base+"[stages.sim]\nkey = "+tc.key+"\ncommand = \"sim {{.StageDir}}\"\n")
			s := p.Stage("sim")
			if len(s.Tasks) != tc.tasks {
				t.Fatalf("%d tasks, want %d", len(s.Tasks), tc.tasks)
			}
			t0 := s.Tasks[0]
			if want := "stages/sim/" + tc.folder + "-" + t0.CacheKey[:10]; t0.Dir != want {
				t.Errorf("dir %q, want %q", t0.Dir, want)
			}
			if t0.ID != "sim-"+t0.CacheKey[:16] || t0.Label != tc.label {
				t.Errorf("id %q label %q", t0.ID, t0.Label)
			}
			// The command names the task's own folder, absolute.
			if !strings.Contains(t0.Argv[2], "/sd/"+t0.Dir) {
				t.Errorf("argv %q does not name /sd/%s", t0.Argv, t0.Dir)
			}
			// Every run is in exactly one task, and TaskOfRun finds it.
			seen := 0
			for _, task := range s.Tasks {
				for _, r := range task.Runs {
					seen++
					if i, ok := p.TaskOfRun("sim", r); !ok || i != task.Index {
						t.Errorf("TaskOfRun(%d) = %d, %v; want %d", r, i, ok, task.Index)
					}
				}
			}
			if seen != len(runs) {
				t.Errorf("%d runs in tasks, want %d", seen, len(runs))
			}
		})
	}
}

// The cache key depends on the stage, the key values and the command, not
// on the folder the command names, the models, trials or other values.
func TestCacheKey(t *testing.T) {
	stageTOML := "[stages.sim]\nkey = [\"nphotons\"]\ncommand = \"sim {{.Params.nphotons}} {{.StageDir}}\"\n"
	_, _, p := build(t, base+stageTOML)
	first := p.Stage("sim").Tasks[0].CacheKey
	grown := strings.Replace(base, "values = [1e6, 1e7]", "values = [1e7, 1e6, 1e8]", 1)
	grown = strings.Replace(grown, "trials = 2", "trials = 5", 1) + "[models.third]\n"
	_, _, p2 := build(t, grown+stageTOML)
	var again string
	for _, task := range p2.Stage("sim").Tasks {
		if task.Key["nphotons"] == p.Stage("sim").Tasks[0].Key["nphotons"] {
			again = task.CacheKey
		}
	}
	if again != first {
		t.Errorf("cache key of nphotons=1e6 changed from %s to %s after adding values, trials and a model", first, again)
	}
	_, _, p3 := build(t, base+strings.Replace(stageTOML, "sim {{", "sim --v2 {{", 1))
	if p3.Stage("sim").Tasks[0].CacheKey == first {
		t.Error("a changed command kept its cache key")
	}
	_, _, p4 := build(t, base+strings.Replace(stageTOML, "stages.sim]", "stages.other]", 1))
	if p4.Stage("other").Tasks[0].CacheKey == first {
		t.Error("another stage's task has the same cache key")
	}
	if a, b := stage.CacheKey("s", "k=1", []string{"a b"}), stage.CacheKey("s", "k=1", []string{"a", "b"}); a == b {
		t.Error("args are not kept apart in the cache key")
	}
}

func TestNeedsAndRunStages(t *testing.T) {
	_, runs, p := build(t, base+`
[stages.sim]
key = ["nphotons"]
command = "sim"
[stages.prep]
key = ["nphotons", "trial"]
command = "prep {{.Stages.sim}}"
`)
	prep := p.Stage("prep")
	for _, task := range prep.Tasks {
		sim := p.Stage("sim").Tasks[task.Needs["sim"]]
		if sim.Key["nphotons"] != task.Key["nphotons"] {
			t.Errorf("prep %s needs sim %s", task.Label, sim.Label)
		}
		if want := "prep '/sd/" + sim.Dir + "'"; task.Argv[2] != want {
			t.Errorf("argv %q, want %q", task.Argv[2], want)
		}
	}
	got := p.RunStages("/sd", runs[0].Index)
	if len(got) != 2 || !strings.HasPrefix(got["sim"], "/sd/stages/sim/nphotons=") || !strings.Contains(got["prep"], "trial_1") {
		t.Errorf("RunStages = %v", got)
	}
}

func TestAfterRunsGroups(t *testing.T) {
	_, runs, p := build(t, base+`
[stages.cmp]
after = "runs"
key = ["nphotons", "trial"]
command = "cmp {{index .Runs \"pinn\"}} {{index .Runs \"baseline\"}}"
`)
	cmp := p.Stage("cmp")
	if len(cmp.Tasks) != 4 {
		t.Fatalf("%d groups, want 4", len(cmp.Tasks))
	}
	for _, task := range cmp.Tasks {
		if len(task.RunsByModel) != 2 || len(task.Runs) != 2 {
			t.Errorf("group %s: %v", task.Label, task.RunsByModel)
		}
		pinn := runs[task.RunsByModel["pinn"]]
		if pinn.Cell.Model != "pinn" || !strings.Contains(task.Argv[2], pinn.Dir()) {
			t.Errorf("group %s: argv %q lacks pinn's folder %s", task.Label, task.Argv[2], pinn.Dir())
		}
	}
}

// A model-only parameter in an after-runs key: the other model's run joins
// every group of its setting.
func TestAfterRunsModelParameter(t *testing.T) {
	src := strings.Replace(base, "[models.pinn]\n", "[models.pinn.params.tv]\nvalues = [1, 2, 3]\n", 1)
	_, runs, p := build(t, src+`
[stages.cmp]
after = "runs"
key = ["nphotons", "tv", "trial"]
command = "cmp {{.Params.tv}}"
`)
	cmp := p.Stage("cmp")
	if len(cmp.Tasks) != 12 {
		t.Fatalf("%d groups, want 12", len(cmp.Tasks))
	}
	in := map[int]int{}
	for _, task := range cmp.Tasks {
		if len(task.RunsByModel) != 2 {
			t.Errorf("group %s: %v", task.Label, task.RunsByModel)
		}
		for _, r := range task.Runs {
			in[r]++
		}
	}
	for _, r := range runs {
		want := 1
		if r.Cell.Model == "baseline" {
			want = 3
		}
		if in[r.Index] != want {
			t.Errorf("run %s (%s) in %d groups, want %d", r.ID, r.Cell.Model, in[r.Index], want)
		}
	}
}

func TestAfterRunsTwoRunsOfOneModel(t *testing.T) {
	st, err := study.Parse("study.toml", base+"[stages.cmp]\nafter = \"runs\"\nkey = [\"nphotons\"]\ncommand = \"true\"\n", t.TempDir(), study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := st.Cells()
	runs, _ := st.Runs(cells)
	_, err = stage.Build(st, runs, "/sd")
	var inv *study.InvalidError
	if err == nil || !strings.Contains(err.Error(), "stages.cmp.key: the group nphotons=1e6 holds two runs of model") {
		t.Fatalf("err = %v", err)
	}
	if !errors.As(err, &inv) {
		t.Errorf("%T is not a study.InvalidError (exit 2)", err)
	}
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	_, _, p := build(t, base+"[stages.sim]\nkey = [\"nphotons\"]\ncommand = \"true\"\n")
	if err := stage.Write(dir, p); err != nil {
		t.Fatal(err)
	}
	got, err := stage.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Stages, p.Stages) {
		t.Errorf("read back %+v, want %+v", got.Stages[0], p.Stages[0])
	}
	// No stages: no plan file, and Read gives an empty plan.
	if err := stage.Write(dir, &stage.Plan{}); err != nil {
		t.Fatal(err)
	}
	if got, err := stage.Read(dir); err != nil || len(got.Stages) != 0 {
		t.Errorf("after removing the stages: %v, %v", got, err)
	}
}

// State: a failed task blocks the tasks that need it; an after-runs task
// is blocked by a run of its group that ended not ok.
func TestState(t *testing.T) {
	dir := t.TempDir()
	st, runs, p := buildIn(t, base+`
[stages.sim]
key = ["nphotons"]
command = "[ {{.Params.nphotons}} = 1e6 ]"
[stages.prep]
key = ["nphotons"]
command = "true"
[stages.cmp]
after = "runs"
key = ["nphotons", "n", "trial"]
command = "true"
`, dir, dir)
	sim := p.Stage("sim")
	for _, task := range sim.Tasks {
		job, err := runner.ForStage(dir, st, sim, task, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = runner.Run(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
	}
	failedRun := runs[0].Index
	states, err := stage.State(dir, p, stage.Sources{Runs: func(i int) string {
		if i == failedRun {
			return shard.StatusFailed
		}
		return lifecycle.Missing
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range states {
		got[s.Stage+" "+s.Task.Label] = s.State
	}
	want := map[string]string{
		"sim nphotons=1e6": "ok", "sim nphotons=1e7": "failed",
		"prep nphotons=1e6": "missing", "prep nphotons=1e7": stage.Blocked,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s is %q, want %q", k, got[k], v)
		}
	}
	// cmp's group of the failed run is blocked by it; groups whose runs
	// are missing (not ended) wait, unless a stage they need failed.
	blocked := 0
	for _, s := range states {
		if s.Stage == "cmp" && s.State == stage.Blocked {
			blocked++
		}
	}
	if blocked != 1+2 { // the failed run's group, and nphotons=1e7's two trials (sim failed)
		t.Errorf("%d cmp groups blocked, want 3: %v", blocked, got)
	}
	if why := p.Unmet(dir, runs[2].Index); !strings.Contains(why, "stage sim task 1 (nphotons=1e7) is failed") {
		t.Errorf("Unmet = %q", why)
	}
	if why := p.Unmet(dir, runs[0].Index); why != "stage prep task 0 (nphotons=1e6) is missing" {
		t.Errorf("Unmet = %q", why)
	}
}

// writeAttempt records attempt a of task t of stage s with status, as
// far as the lifecycle reads it: a shard holding the status.
func writeAttempt(t *testing.T, dir string, s *stage.Stage, task *stage.Task, a int, status string) {
	t.Helper()
	root := stage.Root(dir, s.Name)
	if err := os.MkdirAll(shard.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	err := table.WriteFile(shard.Path(root, task.ID, a), table.Schema{{Name: "run_id", Kind: table.String}, {Name: "status", Kind: table.String}},
		func(w *table.Writer) error { return w.Write([]any{task.ID, status}) })
	if err != nil {
		t.Fatal(err)
	}
}

// TestStateFolderGone: a task that ended ok but whose folder was deleted
// (by hand, to have it made again) is not ok for State, TaskStatus and
// Unmet, and Stale says its runner must not skip it; a live or queued
// attempt still counts as such, and a task that did not end ok keeps its
// state.
func TestStateFolderGone(t *testing.T) {
	ok, failed := shard.StatusOK, shard.StatusFailed
	tests := []struct {
		name     string
		attempts []string // statuses of attempts 1, 2, …
		folder   bool
		queue    string
		want     string
		stale    bool
	}{
		{"ok, folder there", []string{ok}, true, "", ok, false},
		{"ok, folder gone", []string{ok}, false, "", lifecycle.Missing, true},
		{"failed then ok, folder gone", []string{failed, ok}, false, "", lifecycle.Missing, true},
		{"ok, folder gone, queued again", []string{ok}, false, "PENDING", lifecycle.Pending, true},
		{"failed, folder gone", []string{failed}, false, "", failed, false},
		{"never ran", nil, false, "", lifecycle.Missing, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, p := buildIn(t, base+`
[stages.sim]
key = ["nphotons"]
command = "true"
`, dir, dir)
			sim := p.Stage("sim")
			task := sim.Tasks[0]
			for i, status := range tt.attempts {
				writeAttempt(t, dir, sim, task, i+1, status)
			}
			if tt.folder {
				if err := os.MkdirAll(filepath.Join(dir, task.Dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			states, err := stage.State(dir, p, stage.Sources{Queue: func(s string, i int) lifecycle.Queued {
				if i == task.Index {
					return lifecycle.Queued{State: tt.queue}
				}
				return lifecycle.Queued{}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if got := states[0]; got.State != tt.want || got.Attempts != len(tt.attempts) {
				t.Errorf("State: %s after %d attempts, want %s after %d", got.State, got.Attempts, tt.want, len(tt.attempts))
			}
			if got := stage.Stale(dir, sim, task); got != tt.stale {
				t.Errorf("Stale = %v, want %v", got, tt.stale)
			}
			if tt.queue != "" {
				return
			}
			if got := stage.TaskStatus(dir, sim, 0); got != tt.want {
				t.Errorf("TaskStatus = %s, want %s", got, tt.want)
			}
			want := ""
			if tt.want != ok {
				want = "stage sim task 0 (nphotons=1e6) is " + tt.want
			}
			if got := p.Unmet(dir, task.Runs[0]); got != want {
				t.Errorf("Unmet = %q, want %q", got, want)
			}
		})
	}
}

// TestStaleTaskRunsAgain: the runner of a task whose folder was deleted
// runs it again (attempt 2) instead of skipping it as ok, and makes the
// folder again; then it is ok, and a runner skips it.
func TestStaleTaskRunsAgain(t *testing.T) {
	dir := t.TempDir()
	st, _, p := buildIn(t, base+`
[stages.sim]
key = ["nphotons"]
command = "echo {{.Params.nphotons}} > {{.StageDir}}/data"
`, dir, dir)
	sim := p.Stage("sim")
	task := sim.Tasks[0]
	runTask := func() runner.Result {
		t.Helper()
		job, err := runner.ForStage(dir, st, sim, task, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := runner.Run(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := runTask(); res.Skipped || res.Attempt != 1 || res.Status != shard.StatusOK {
		t.Fatalf("first run: %+v", res)
	}
	if err := os.RemoveAll(filepath.Join(dir, task.Dir)); err != nil {
		t.Fatal(err)
	}
	if res := runTask(); res.Skipped || res.Attempt != 2 || res.Status != shard.StatusOK {
		t.Fatalf("after the folder was deleted: %+v, want attempt 2 run and ok", res)
	}
	if b, err := os.ReadFile(filepath.Join(dir, task.Dir, "data")); err != nil || string(b) != "1e6\n" {
		t.Errorf("the task's folder holds %q, %v; want its data again", b, err)
	}
	if got := stage.TaskStatus(dir, sim, 0); got != shard.StatusOK {
		t.Errorf("TaskStatus = %s, want ok", got)
	}
	if res := runTask(); !res.Skipped || res.Attempt != 2 {
		t.Errorf("third run: %+v, want attempt 2 skipped as ok", res)
	}
}
