package batch

import (
	"slices"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/state"
)

// Select fills in what req submits, from where every run (rep) and stage
// task (tasks, as stage.State gives them with rep's queue) stands: the
// runs for which want says yes, and the stage tasks that those need or
// that follow them:
//   - a before-runs task is submitted when a run or a stage task submitted
//     now needs it and it is neither ok nor queued (so a failed or lost
//     one runs again, and one whose runs are all done does not);
//   - an after-runs task is submitted when it is neither ok nor queued and
//     every run of its group is ok, queued or submitted now (a group with
//     a run that failed for good would only be blocked again).
//
// It also fills in req.Known, what the others are, for the dependencies.
func Select(req *Request, rep *state.Report, tasks []stage.TaskState, want func(state.Run) bool) {
	req.StageTasks = map[string][]int{}
	req.Indices = nil
	runState := make(map[int]string, len(rep.Runs))
	k := Known{StageOK: map[TaskRef]bool{}, StageQueued: map[TaskRef]string{}, RunQueued: map[int]string{}, RunEnded: map[int]bool{}}
	submitted := map[int]bool{}
	for _, r := range rep.Runs {
		runState[r.Index] = r.State
		switch {
		case want(r):
			req.Indices = append(req.Indices, r.Index)
			submitted[r.Index] = true
		case queued(r.State):
			if r.JobID != "" {
				k.RunQueued[r.Index] = r.JobID
			}
		case r.State != lifecycle.Missing:
			k.RunEnded[r.Index] = true
		}
	}
	byRef := map[TaskRef]stage.TaskState{}
	for _, ts := range tasks {
		ref := TaskRef{ts.Stage, ts.Task.Index}
		byRef[ref] = ts
		switch {
		case ts.State == shard.StatusOK:
			k.StageOK[ref] = true
		case queued(ts.State):
			if q, ok := rep.StageQueue[ts.Stage][ts.Task.Index]; ok {
				k.StageQueued[ref] = q.JobID
			}
		}
	}
	req.Known = k
	if req.Stages == nil {
		return
	}
	// Before-runs stages, last first: a task is needed by the runs
	// submitted now and by the tasks of later stages submitted now.
	needed := map[TaskRef]bool{}
	before := req.Stages.Before()
	for i := len(before) - 1; i >= 0; i-- {
		st := before[i]
		for _, t := range st.Tasks {
			ref := TaskRef{st.Name, t.Index}
			need := needed[ref] || slices.ContainsFunc(t.Runs, func(r int) bool { return submitted[r] })
			if !need || k.StageOK[ref] || queued(byRef[ref].State) {
				continue
			}
			req.StageTasks[st.Name] = append(req.StageTasks[st.Name], t.Index)
			for name, n := range t.Needs {
				needed[TaskRef{name, n}] = true
			}
		}
	}
	for _, st := range req.Stages.Stages {
		if st.After == "" {
			continue
		}
		for _, t := range st.Tasks {
			ref := TaskRef{st.Name, t.Index}
			if k.StageOK[ref] || queued(byRef[ref].State) {
				continue
			}
			ready := !slices.ContainsFunc(t.Runs, func(r int) bool {
				return !submitted[r] && !queued(runState[r]) && runState[r] != shard.StatusOK
			})
			if ready {
				req.StageTasks[st.Name] = append(req.StageTasks[st.Name], t.Index)
			}
		}
	}
}

// queued reports whether a state comes from the queue.
func queued(state string) bool { return state == lifecycle.Pending || state == lifecycle.Running }
