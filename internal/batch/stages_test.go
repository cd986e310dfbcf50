package batch

import (
	"context"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
)

// stagedStudy is four runs with a before-runs stage (runs 0 and 1 need
// its task 0, runs 2 and 3 its task 1) and an after-runs stage with the
// same two groups.
func stagedStudy(t *testing.T, extra string) Request {
	t.Helper()
	d := plantest.Dir(t, "name = \"st\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2, 3, 4]\n[slurm]\n"+extra)
	// As the plan resolves them: the stages have no [slurm] of their own.
	p := &stage.Plan{Stages: []*stage.Stage{
		{Name: "sim", Slurm: d.Study.Slurm, Tasks: []*stage.Task{{Index: 0, Runs: []int{0, 1}}, {Index: 1, Runs: []int{2, 3}}}},
		{Name: "compare", After: study.AfterRuns, Slurm: d.Study.Slurm,
			Tasks: []*stage.Task{{Index: 0, Runs: []int{0, 1}}, {Index: 1, Runs: []int{2, 3}}}},
	}}
	return Request{Dir: d.Path, Study: d.Study, Stages: p}
}

// sbatchArgs returns the options of each sbatch call, without
// --parsable, the job name, the script and the kill wait.
func sbatchArgs(calls []string) []string {
	var out []string
	for _, c := range calls {
		var keep []string
		for _, f := range strings.Fields(c) {
			if strings.HasPrefix(f, "--array") || strings.HasPrefix(f, "--dependency") || strings.HasPrefix(f, "--kill-on") {
				keep = append(keep, f)
			}
			if strings.HasSuffix(f, ".sbatch") {
				keep = append(keep, f[strings.LastIndex(f, "/")+1:])
			}
		}
		out = append(out, strings.Join(keep, " "))
	}
	return out
}

func TestSubmitStageDependencies(t *testing.T) {
	for _, tt := range []struct {
		name   string
		extra  string
		stages map[string][]int
		known  Known
		runs   []int
		want   []string
		out    string
	}{
		{
			name:   "fresh: runs wait for their own stage task, after-runs tasks for their runs' arrays",
			stages: map[string][]int{"sim": {0, 1}, "compare": {0, 1}},
			runs:   []int{0, 1, 2, 3},
			want: []string{
				"--array=0-1 stage_sim_000.sbatch",
				"--array=0-1 --dependency=afterok:100_0 --kill-on-invalid-dep=yes array_000.sbatch",
				"--array=2-3 --dependency=afterok:100_1 --kill-on-invalid-dep=yes array_000.sbatch",
				"--array=0 --dependency=afterany:101 stage_compare_000.sbatch",
				"--array=1 --dependency=afterany:102 stage_compare_000.sbatch",
			},
		},
		{
			name:   "cached stage task: its runs need no dependency",
			stages: map[string][]int{"sim": {1}, "compare": {0, 1}},
			known:  Known{StageOK: map[TaskRef]bool{{"sim", 0}: true}},
			runs:   []int{0, 1, 2, 3},
			want: []string{
				"--array=1 stage_sim_000.sbatch",
				"--array=0-1 array_000.sbatch",
				"--array=2-3 --dependency=afterok:100_1 --kill-on-invalid-dep=yes array_000.sbatch",
				"--array=0 --dependency=afterany:101 stage_compare_000.sbatch",
				"--array=1 --dependency=afterany:102 stage_compare_000.sbatch",
			},
		},
		{
			name:   "resume: a queued stage task and queued or ended runs",
			stages: map[string][]int{"compare": {0, 1}},
			known: Known{StageQueued: map[TaskRef]string{{"sim", 1}: "90_1"}, StageOK: map[TaskRef]bool{{"sim", 0}: true},
				RunQueued: map[int]string{3: "91_3"}, RunEnded: map[int]bool{0: true, 1: true}},
			runs: []int{2},
			want: []string{
				"--array=2 --dependency=afterok:90_1 --kill-on-invalid-dep=yes array_000.sbatch",
				"--array=0 stage_compare_000.sbatch",
				"--array=1 --dependency=afterany:100:91 stage_compare_000.sbatch",
			},
		},
		{
			name:   "throttled: one chain through stages and runs",
			extra:  "max_concurrent = 2\n",
			stages: map[string][]int{"sim": {0, 1}, "compare": {1}},
			known:  Known{RunEnded: map[int]bool{0: true, 1: true}},
			runs:   []int{2, 3},
			want: []string{
				"--array=0-1%2 stage_sim_000.sbatch",
				"--array=2-3%2 --dependency=afterany:100,afterok:100_1 --kill-on-invalid-dep=yes array_000.sbatch",
				"--array=1%2 --dependency=afterany:101 stage_compare_000.sbatch",
			},
		},
		{
			name:   "max_queued: stage tasks go first; runs and groups without them are held for the feeder",
			extra:  "max_queued = 4\n",
			stages: map[string][]int{"sim": {0, 1}, "compare": {0, 1}},
			runs:   []int{0, 1, 2, 3},
			want: []string{
				"--array=0-1 stage_sim_000.sbatch",
				"--array=0 --dependency=afterok:100_0 --kill-on-invalid-dep=yes array_000.sbatch",
				"--dependency=afterany:100?afterany:101",
			},
			out: "max_queued 4: 0 of your jobs queued, 3 runs and 2 stage tasks left for a feeder job",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := stagedStudy(t, tt.extra)
			_, calls := shim(t, "", "")
			var out strings.Builder
			req.StageTasks, req.Known, req.Indices, req.Out = tt.stages, tt.known, tt.runs, &out
			if _, err := Submit(context.Background(), &slurm.Client{}, req); err != nil {
				t.Fatal(err)
			}
			got := sbatchArgs(calls())
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("sbatch calls:\n%s\nwant:\n%s\noutput: %s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), out.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("output %q, want %q", out.String(), tt.out)
			}
		})
	}
}

// Stage arrays are journaled as kind "stage" with their stage's name and
// job name, so that status can tell their tasks from runs.
func TestSubmitJournalsStages(t *testing.T) {
	req := stagedStudy(t, "")
	shim(t, "", "")
	var out strings.Builder
	req.StageTasks, req.Out = map[string][]int{"sim": {1}}, &out
	if _, err := Submit(context.Background(), &slurm.Client{}, req); err != nil {
		t.Fatal(err)
	}
	subs, err := slurm.OpenJournal(req.Dir).Read()
	if err != nil || len(subs) != 1 {
		t.Fatalf("journal %v, %v; want one submission", subs, err)
	}
	s := subs[0]
	if s.Kind != "stage" || s.Stage != "sim" || s.Chunk != "stage_sim_000" || s.Tasks != "1" || s.Offset != 0 || s.Name != "st-sim" || s.RunsPerTask != 1 {
		t.Errorf("journaled %+v", s)
	}
}

// A before-runs task waits for the tasks of earlier stages it needs, and
// is cancelled with them when one fails; runs wait for the tasks of every
// before-runs stage.
func TestSubmitStageNeeds(t *testing.T) {
	req := stagedStudy(t, "")
	prep := &stage.Stage{Name: "prep", Slurm: req.Study.Slurm, Tasks: []*stage.Task{
		{Index: 0, Runs: []int{0, 1}, Needs: map[string]int{"sim": 0}}, {Index: 1, Runs: []int{2, 3}, Needs: map[string]int{"sim": 1}}}}
	req.Stages.Stages = []*stage.Stage{req.Stages.Stages[0], prep}
	_, calls := shim(t, "", "")
	var out strings.Builder
	req.Out = &out
	req.Indices = []int{0, 1, 2, 3}
	req.StageTasks = map[string][]int{"sim": {0}, "prep": {0, 1}}
	req.Known = Known{StageOK: map[TaskRef]bool{{"sim", 1}: true}}
	if _, err := Submit(context.Background(), &slurm.Client{}, req); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--array=0 stage_sim_000.sbatch",
		"--array=0 --dependency=afterok:100_0 --kill-on-invalid-dep=yes stage_prep_000.sbatch",
		"--array=1 stage_prep_000.sbatch",
		"--array=0-1 --dependency=afterok:100_0:101_0 --kill-on-invalid-dep=yes array_000.sbatch",
		"--array=2-3 --dependency=afterok:102_1 --kill-on-invalid-dep=yes array_000.sbatch",
	}
	if got := sbatchArgs(calls()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sbatch calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Under max_concurrent a queued stage array of an earlier submission is
// one of the study's arrays: what is submitted now waits for it, besides
// waiting for the stage task it needs.
func TestSubmitThrottleWaitsForQueuedStageArray(t *testing.T) {
	req := stagedStudy(t, "max_concurrent = 2\n")
	if err := slurm.OpenJournal(req.Dir).Append(slurm.Submission{JobID: "40", Kind: "stage", Stage: "sim", Chunk: "stage_sim_000", Tasks: "0"}); err != nil {
		t.Fatal(err)
	}
	_, calls := shim(t, "", "40_0|40|0|RUNNING|None|2026-05-01T10:00:00|0|st-sim\n")
	var out strings.Builder
	req.Out, req.Indices = &out, []int{0, 1}
	req.Known = Known{StageQueued: map[TaskRef]string{{"sim", 0}: "40_0"}}
	if _, err := Submit(context.Background(), &slurm.Client{}, req); err != nil {
		t.Fatal(err)
	}
	want := "--array=0-1%2 --dependency=afterany:40,afterok:40_0 --kill-on-invalid-dep=yes array_000.sbatch"
	if got := sbatchArgs(calls()); len(got) != 1 || got[0] != want {
		t.Errorf("sbatch calls %q, want %q", got, want)
	}
}
