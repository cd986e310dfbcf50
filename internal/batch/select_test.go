package batch

import (
	"fmt"
	"testing"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/study"
)

func TestSelect(t *testing.T) {
	// Two before-runs stages (prep needs sim), and compare after the runs:
	// runs 0,1 need sim/prep task 0 and form compare group 0; runs 2,3
	// task 1 and group 1.
	two := func() []*stage.Task {
		return []*stage.Task{{Index: 0, Runs: []int{0, 1}}, {Index: 1, Runs: []int{2, 3}}}
	}
	plan := &stage.Plan{Stages: []*stage.Stage{{Name: "sim", Tasks: two()}, {Name: "prep", Tasks: two()},
		{Name: "compare", After: study.AfterRuns, Tasks: two()}}}
	for _, st := range plan.Stages[1].Tasks {
		st.Needs = map[string]int{"sim": st.Index}
	}
	lost := func(r state.Run) bool { return lifecycle.Lost(r.State, false) }
	for _, tt := range []struct {
		name      string
		runs      [4]string
		sim, prep [2]string
		compare   [2]string
		want      string
	}{
		{"fresh study", [4]string{"missing", "missing", "missing", "missing"}, [2]string{"missing", "missing"},
			[2]string{"missing", "missing"}, [2]string{"missing", "missing"},
			"runs [0 1 2 3] sim [0 1] prep [0 1] compare [0 1]"},
		{"cached sim task", [4]string{"missing", "missing", "missing", "missing"}, [2]string{"ok", "missing"},
			[2]string{"ok", "missing"}, [2]string{"missing", "missing"},
			"runs [0 1 2 3] sim [1] prep [1] compare [0 1]"},
		{"a failed sim task blocked its runs and group", [4]string{"missing", "missing", "ok", "ok"}, [2]string{"failed", "ok"},
			[2]string{"blocked", "ok"}, [2]string{"failed", "ok"},
			"runs [0 1] sim [0] prep [0] compare [0]"},
		{"a lost stage task whose runs are done is left alone", [4]string{"ok", "ok", "ok", "missing"}, [2]string{"missing", "ok"},
			[2]string{"missing", "ok"}, [2]string{"ok", "missing"},
			"runs [3] sim [] prep [] compare [1]"},
		{"a group with a run failed for good waits; queued tasks are not resubmitted", [4]string{"failed", "ok", "missing", "pending"},
			[2]string{"ok", "running"}, [2]string{"ok", "pending"}, [2]string{"failed", "missing"},
			"runs [2] sim [] prep [] compare [1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := &state.Report{StageQueue: map[string]map[int]slurm.Task{}}
			for i, s := range tt.runs {
				r := state.Run{Index: i, State: s}
				if s == "pending" {
					r.JobID = fmt.Sprintf("91_%d", i)
				}
				rep.Runs = append(rep.Runs, r)
			}
			var tasks []stage.TaskState
			for si, states := range [][2]string{tt.sim, tt.prep, tt.compare} {
				st := plan.Stages[si]
				for i, s := range states {
					tasks = append(tasks, stage.TaskState{Stage: st.Name, Task: st.Tasks[i], State: s})
					if s == "pending" || s == "running" {
						rep.StageQueue[st.Name] = map[int]slurm.Task{i: {JobID: fmt.Sprintf("90_%d", i)}}
					}
				}
			}
			req := Request{Stages: plan}
			Select(&req, rep, tasks, lost)
			got := fmt.Sprintf("runs %v sim %v prep %v compare %v", req.Indices, req.StageTasks["sim"], req.StageTasks["prep"], req.StageTasks["compare"])
			if got != tt.want {
				t.Errorf("Select: %s\nwant:   %s", got, tt.want)
			}
			for ref, id := range req.Known.StageQueued {
				if id != fmt.Sprintf("90_%d", ref.Task) {
					t.Errorf("Known.StageQueued[%v] = %q", ref, id)
				}
			}
		})
	}
}
