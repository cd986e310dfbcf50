package state

import (
	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/stage"
)

// StageStates lists the state of every task of the study's stages
// (DIR/stages/plan.json; none for a study without stages) by the rule of
// package stage: the tasks' shards and claims, the queue that Gather asked
// (rep.StageQueue), and, for the groups of after-runs stages, the runs'
// states in rep.
func StageStates(dir string, rep *Report) ([]stage.TaskState, error) {
	p, err := stage.Read(dir)
	if err != nil || len(p.Stages) == 0 {
		return nil, err
	}
	runs := make(map[int]string, len(rep.Runs))
	for _, r := range rep.Runs {
		runs[r.Index] = r.State
	}
	return stage.State(dir, p, stage.Sources{
		Runs:  func(i int) string { return runs[i] },
		Queue: rep.StageQueued,
	})
}

// StageCounts counts tasks by state, stage by stage: stage name → state
// (a lifecycle state or stage.Blocked) → tasks.
func StageCounts(tasks []stage.TaskState) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, t := range tasks {
		if out[t.Stage] == nil {
			out[t.Stage] = map[string]int{}
		}
		out[t.Stage][t.State]++
	}
	return out
}

// StageStateOrder lists the states a stage task can be in, in the order
// reports show them.
var StageStateOrder = append(append([]string(nil), lifecycle.States...), stage.Blocked)
