package stage

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/shard"
)

// Blocked is the state of a task that cannot run: an earlier stage task
// it needs did not end ok, or (after the runs) a run of its group did not.
const Blocked = "blocked"

// BlockedPrefix starts the error an after-runs task records when it did
// not run its command because a run of its group is not ok.
const BlockedPrefix = "blocked: "

// ModelSep joins a metric's name and its model in the shard of a stage
// task whose metric line said "model": "pinn" ("frc50@pinn"): collect
// puts the metric on that model's run of the group.
const ModelSep = "@"

// TaskState is where one stage task stands.
type TaskState struct {
	Stage string
	Task  *Task
	// State is a lifecycle state (ok, failed, running, missing, …) or
	// Blocked.
	State string
	// Attempts counts the task's attempts; Result is the number of the
	// one whose shard is its result (0: none).
	Attempts, Result int
	// Why says, for a blocked task, what blocks it.
	Why string
}

// Sources are what State knows besides the tasks' shards and claims;
// either may be nil.
type Sources struct {
	// Runs says where the run at a manifest index stands (a lifecycle
	// state), for the groups of after-runs stages.
	Runs func(index int) string
	// Queue says what the scheduler's queue holds for a task.
	Queue func(stage string, task int) lifecycle.Queued
}

// State returns the state of every task, stage by stage in plan order, by
// the lifecycle rule of runs. A task with no result that is not queued is
// Blocked when a task it needs ended not ok or is blocked, or, after the
// runs, when a run of its group ended not ok.
func State(studyDir string, p *Plan, src Sources) ([]TaskState, error) {
	var out []TaskState
	byStage := map[string][]TaskState{}
	for _, s := range p.Stages {
		states := make([]TaskState, len(s.Tasks))
		for i, t := range s.Tasks {
			var q lifecycle.Queued
			if src.Queue != nil {
				q = src.Queue(s.Name, t.Index)
			}
			d := decide(studyDir, s, t, q)
			ts := TaskState{Stage: s.Name, Task: t, State: d.State, Attempts: d.Attempts, Result: d.Result}
			if d.State == shard.StatusFailed {
				// An after-runs task that found its group not ok records
				// why, without running its command.
				if why, ok := strings.CutPrefix(shard.ReadError(shard.Path(Root(studyDir, s.Name), t.ID, d.Result)), BlockedPrefix); ok {
					ts.State, ts.Why = Blocked, why
				}
			}
			if d.State == lifecycle.Missing {
				ts.Why = blockedBy(s, t, byStage, src.Runs)
				if ts.Why != "" {
					ts.State = Blocked
				}
			}
			states[i] = ts
		}
		byStage[s.Name] = states
		out = append(out, states...)
	}
	return out, nil
}

// blockedBy says what keeps task t of s from running, or "".
func blockedBy(s *Stage, t *Task, done map[string][]TaskState, runs func(int) string) string {
	for _, name := range slices.Sorted(maps.Keys(t.Needs)) {
		i := t.Needs[name]
		if o := done[name][i]; o.State == Blocked || o.State != shard.StatusOK && lifecycle.Ended(o.State) {
			return fmt.Sprintf("stage %s task %d (%s) is %s", name, i, o.Task.Label, o.State)
		}
	}
	if s.After == "" || runs == nil {
		return ""
	}
	var bad []string
	for _, r := range t.Runs {
		if st := runs(r); st != shard.StatusOK && lifecycle.Ended(st) {
			bad = append(bad, fmt.Sprintf("run %d is %s", r, st))
		}
	}
	return strings.Join(bad, ", ")
}

// decide is where task t of stage s stands: the lifecycle rule of runs
// over its attempts and q, and the one rule of stages on top of it (see
// stale): an ok result does not count once the task's folder is gone.
// Status, run, submit and exec all ask here, so they agree.
func decide(studyDir string, s *Stage, t *Task, q lifecycle.Queued) lifecycle.Decision {
	attempts := lifecycle.Probe(Root(studyDir, s.Name), t.ID)
	d := lifecycle.Decide(attempts, q)
	if !stale(d, studyDir, t) {
		return d
	}
	// No finished attempt counts: not the ok one, nor an earlier failure
	// (the task did not fail, it lost its output). A live attempt is
	// still running, a queued task still queued.
	for i := range attempts {
		attempts[i].Status = ""
	}
	return lifecycle.Decide(attempts, q)
}

// stale says whether d, task t's decision, has an ok result whose folder
// is gone. Users delete a stage folder by hand to have it made again, and
// the runs that read it would fail. An error other than "does not exist"
// (a file system that does not answer) is not taken as gone: the task
// would run again for nothing.
func stale(d lifecycle.Decision, studyDir string, t *Task) bool {
	if d.ResultStatus != shard.StatusOK {
		return false
	}
	_, err := os.Stat(filepath.Join(studyDir, filepath.FromSlash(t.Dir)))
	return errors.Is(err, fs.ErrNotExist)
}

// Stale says whether task t of stage s ended ok but its folder is gone,
// so that State and TaskStatus do not count it ok: its runner runs it
// again instead of skipping it as ok.
func Stale(studyDir string, s *Stage, t *Task) bool {
	return stale(lifecycle.Decide(lifecycle.Probe(Root(studyDir, s.Name), t.ID), lifecycle.Queued{}), studyDir, t)
}

// TaskStatus is the lifecycle state of task i of stage s from its
// attempts and its folder (see decide), without the queue.
func TaskStatus(studyDir string, s *Stage, i int) string {
	return decide(studyDir, s, s.Tasks[i], lifecycle.Queued{}).State
}

// Unmet says which before-runs stage task that the run at manifest index
// runIndex needs is not ok ("stage simulate task 3 (nphotons=1e6) is
// failed"), or "" when all are.
func (p *Plan) Unmet(studyDir string, runIndex int) string {
	for _, s := range p.Before() {
		if i, ok := p.TaskOfRun(s.Name, runIndex); ok {
			if st := TaskStatus(studyDir, s, i); st != shard.StatusOK {
				return fmt.Sprintf("stage %s task %d (%s) is %s", s.Name, i, s.Tasks[i].Label, st)
			}
		}
	}
	return ""
}

// UnmetNeeds says which earlier stage task that t needs is not ok, or "".
func (p *Plan) UnmetNeeds(studyDir string, t *Task) string {
	for _, name := range slices.Sorted(maps.Keys(t.Needs)) {
		s, i := p.Stage(name), t.Needs[name]
		if s == nil || i >= len(s.Tasks) {
			return fmt.Sprintf("stage %s task %d is not in the plan", name, i)
		}
		if st := TaskStatus(studyDir, s, i); st != shard.StatusOK {
			return fmt.Sprintf("stage %s task %d (%s) is %s", name, i, s.Tasks[i].Label, st)
		}
	}
	return ""
}

// GroupUnmet says which runs of after-runs task t are not ok, given each
// run's state, or "".
func GroupUnmet(t *Task, runs func(index int) string) string {
	var bad []string
	for _, r := range t.Runs {
		if st := runs(r); st != shard.StatusOK {
			if st == "" {
				st = lifecycle.Missing
			}
			bad = append(bad, fmt.Sprintf("run %d is %s", r, st))
		}
	}
	return strings.Join(bad, ", ")
}
