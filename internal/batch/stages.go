package batch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
)

// TaskRef names one stage task.
type TaskRef struct {
	Stage string
	Task  int
}

// Known is what the shards and the queue say of the stage tasks and runs
// that are not submitted now, for those submitted to wait for.
type Known struct {
	StageOK     map[TaskRef]bool   // stage tasks that ended ok: nothing to wait for
	StageQueued map[TaskRef]string // queued stage tasks: their job id (123_4)
	RunQueued   map[int]string     // queued runs, by manifest index: their job id (123_4)
	RunEnded    map[int]bool       // runs that ended, ok or not: nothing to wait for
}

// submitter submits the arrays of one Submit call in order, so that each
// can name the jobs of those before it in its dependencies.
type submitter struct {
	ctx    context.Context
	c      *slurm.Client
	req    Request
	j      *slurm.Journal
	layout slurm.Layout
	env    []string
	budget int      // tasks that may still be queued under max_queued; -1: no cap
	after  []string // what the next array waits for under max_concurrent

	stageJob map[TaskRef]string // stage tasks submitted now: 123_4
	runJob   map[int]string     // runs submitted now: their array job, 123
	arrayIDs []string           // every array submitted now
	dryRuns  map[string]int     // --dry-run: arrays printed per chunk

	runs int // runs of req.Indices submitted
	// runs and stage tasks held back: no room under max_queued, or
	// something they need is neither ok, queued nor submitted now
	leftRuns, leftStage int
}

// group is one array to submit: tasks of one chunk with the same
// dependencies.
type group struct {
	chunk    int
	tasks    []int    // task ids within the chunk, ascending
	afterOK  []string // jobs (123) or tasks (123_4) that must end ok
	afterAny []string // jobs or tasks that must end
}

// grouper collects tasks into groups by chunk and dependencies, in the
// order the groups first appear.
type grouper struct {
	byKey map[string]*group
	order []*group
}

func (g *grouper) add(chunk, task int, afterOK, afterAny []string) {
	slices.Sort(afterOK)
	slices.Sort(afterAny)
	afterOK, afterAny = slices.Compact(afterOK), slices.Compact(afterAny)
	key := strconv.Itoa(chunk) + "|" + strings.Join(afterOK, ":") + "|" + strings.Join(afterAny, ":")
	if g.byKey == nil {
		g.byKey = map[string]*group{}
	}
	gr, ok := g.byKey[key]
	if !ok {
		gr = &group{chunk: chunk, afterOK: afterOK, afterAny: afterAny}
		g.byKey[key] = gr
		g.order = append(g.order, gr)
	}
	gr.tasks = append(gr.tasks, task)
}

// all submits the before-runs stages, the runs and the after-runs stages.
func (s *submitter) all() error {
	for _, st := range s.req.Stages.Before() {
		if err := s.stage(st); err != nil {
			return err
		}
	}
	if err := s.runArrays(); err != nil {
		return err
	}
	for _, st := range s.req.Stages.Stages {
		if st.After != "" {
			if err := s.stage(st); err != nil {
				return err
			}
		}
	}
	return nil
}

// needStage returns what a dependent of stage task r waits for: its job
// when it is submitted now or queued, nothing when it ended ok; ok is
// false when it is none of these, so that the dependent cannot run.
func (s *submitter) needStage(r TaskRef) (dep string, ok bool) {
	if id, ok := s.stageJob[r]; ok {
		return id, true
	}
	if s.req.Known.StageOK[r] {
		return "", true
	}
	if id, ok := s.req.Known.StageQueued[r]; ok {
		return id, true
	}
	return "", false
}

// needRun returns what an after-runs stage task waits for of run idx:
// the array job that holds it when it is submitted now or queued (the
// whole array, which keeps the dependency short; the task decides about
// its group itself), nothing when it ended.
func (s *submitter) needRun(idx int) (dep string, ok bool) {
	if id, ok := s.runJob[idx]; ok {
		return id, true
	}
	if id, ok := s.req.Known.RunQueued[idx]; ok {
		job, _, _ := strings.Cut(id, "_")
		return job, true
	}
	return "", s.req.Known.RunEnded[idx]
}

// stage submits the tasks of st that the request names. A before-runs
// task waits (afterok) for the tasks of earlier stages it needs; an
// after-runs task waits (afterany) for the runs of its group.
func (s *submitter) stage(st *stage.Stage) error {
	l := s.layout.Stages()
	var g grouper
	for _, t := range slices.Sorted(slices.Values(s.req.StageTasks[st.Name])) {
		if t < 0 || t >= len(st.Tasks) {
			return fmt.Errorf("stage %s has no task %d", st.Name, t)
		}
		var deps []string
		ready := true
		if st.After != "" {
			for _, r := range st.Tasks[t].Runs {
				d, ok := s.needRun(r)
				ready = ready && ok
				if d != "" {
					deps = append(deps, d)
				}
			}
		} else {
			for _, name := range slices.Sorted(maps.Keys(st.Tasks[t].Needs)) {
				d, ok := s.needStage(TaskRef{name, st.Tasks[t].Needs[name]})
				ready = ready && ok
				if d != "" {
					deps = append(deps, d)
				}
			}
		}
		if !ready {
			s.leftStage++
			continue
		}
		k, task := l.Locate(t)
		if st.After != "" {
			g.add(k, task, nil, deps)
		} else {
			g.add(k, task, deps, nil)
		}
	}
	for _, gr := range g.order {
		name := slurm.StageChunkName(st.Name, gr.chunk)
		offset := l.Offset(gr.chunk)
		done, err := s.submit(gr, st, name, offset, func([]int) int { return 0 })
		if err != nil {
			return err
		}
		for t, id := range done {
			s.stageJob[TaskRef{st.Name, offset + t}] = id + "_" + strconv.Itoa(t)
		}
		s.leftStage += len(gr.tasks) - len(done)
	}
	return nil
}

// runArrays submits the runs of the request, each array task waiting
// (afterok) for the stage tasks its runs need.
func (s *submitter) runArrays() error {
	l := s.layout
	before := s.req.Stages.Before()
	type taskKey struct{ chunk, task int }
	runsOf := map[taskKey][]int{} // the runs of req.Indices each task runs
	var keys []taskKey
	for _, idx := range slices.Sorted(slices.Values(s.req.Indices)) {
		k, t := l.Locate(idx)
		if runsOf[taskKey{k, t}] == nil {
			keys = append(keys, taskKey{k, t})
		}
		runsOf[taskKey{k, t}] = append(runsOf[taskKey{k, t}], idx)
	}
	var g grouper
	for _, key := range keys {
		var deps []string
		ready := true
		// A task that packs several runs waits for the stage tasks of all
		// of them, those of runs not asked for included: it runs them.
		for _, idx := range l.Indices(l.Offset(key.chunk), key.task) {
			for _, st := range before {
				t, ok := s.req.Stages.TaskOfRun(st.Name, idx)
				if !ok {
					continue
				}
				d, ok := s.needStage(TaskRef{st.Name, t})
				ready = ready && ok
				if d != "" {
					deps = append(deps, d)
				}
			}
		}
		if !ready {
			s.leftRuns += len(runsOf[key])
			continue
		}
		g.add(key.chunk, key.task, deps, nil)
	}
	count := func(k int) func([]int) int {
		return func(tasks []int) int {
			n := 0
			for _, t := range tasks {
				n += len(runsOf[taskKey{k, t}])
			}
			return n
		}
	}
	for _, gr := range g.order {
		done, err := s.submit(gr, nil, slurm.ChunkName(gr.chunk), l.Offset(gr.chunk), count(gr.chunk))
		if err != nil {
			return err
		}
		for _, t := range gr.tasks {
			if id, ok := done[t]; ok {
				for _, idx := range l.Indices(l.Offset(gr.chunk), t) {
					s.runJob[idx] = id
				}
			} else {
				s.leftRuns += len(runsOf[taskKey{gr.chunk, t}])
			}
		}
	}
	return nil
}

// submit submits the tasks of gr that max_queued leaves room for, as one
// array (more when the index list is too long), and returns the job id of
// each task submitted: tasks of stage st, or runs when st is nil. runs
// counts the runs of req.Indices among tasks.
func (s *submitter) submit(gr *group, st *stage.Stage, name string, offset int, runs func([]int) int) (map[int]string, error) {
	kind, res, stageName := "array", s.req.Study.Slurm, ""
	if st != nil {
		kind, res, stageName = "stage", st.Slurm, st.Name
	}
	ids := gr.tasks
	if s.budget >= 0 {
		take := min(s.budget, len(ids))
		ids = ids[:take]
		s.budget -= take
	}
	done := map[int]string{}
	script := slurm.ScriptPath(s.req.Dir, name)
	throttle := s.req.Study.Slurm.MaxConcurrent > 0
	for _, part := range splitList(ids) {
		args := []string{"--array=" + slurm.ArraySpec(part, res.MaxConcurrent)}
		afterAny := gr.afterAny
		if throttle {
			afterAny = slices.Concat(s.after, afterAny)
			slices.Sort(afterAny)
			afterAny = slices.Compact(afterAny)
		}
		if dep := dependency(gr.afterOK, afterAny); dep != "" {
			args = append(args, "--dependency="+dep)
		}
		if len(gr.afterOK) > 0 {
			// A dependency that can no longer be met (its stage task
			// failed) cancels the task rather than leaving it pending
			// forever; status then shows its runs missing, and resume
			// submits them again after their stage task.
			args = append(args, "--kill-on-invalid-dep=yes")
		}
		n := runs(part)
		if s.req.DryRun {
			fmt.Fprintf(s.req.Out, "sbatch --parsable %s %s\n", strings.Join(args, " "), script)
			// A chunk may be submitted as several arrays: each gets a
			// placeholder of its own, so dependencies say which.
			s.dryRuns[name]++
			id := "<job of " + name + ">"
			if n := s.dryRuns[name]; n > 1 {
				id = fmt.Sprintf("<job %d of %s>", n, name)
			}
			s.after = []string{id}
			for _, t := range part {
				done[t] = id
			}
			continue
		}
		jobName, rpt := slurm.JobName(s.req.Study), s.layout.RunsPerTask
		if kind == "stage" {
			jobName, rpt = jobName+"-"+stageName, 1
		}
		sub, err := s.j.Submit(s.ctx, s.c, slurm.Submission{Kind: kind, Stage: stageName, Chunk: name, Offset: offset,
			RunsPerTask: rpt, Tasks: slurm.FormatIndexList(part), Name: jobName},
			s.env, script, args...)
		if err != nil {
			return done, err
		}
		id := sub.JobID
		if kind == "stage" {
			fmt.Fprintf(s.req.Out, "submitted %s: job %s, %d task%s\n", name, id, len(part), plural(len(part)))
		} else {
			fmt.Fprintf(s.req.Out, "submitted %s: job %s, %s\n", name, id, countRuns(len(part), n))
			s.runs += n
		}
		s.after = []string{id}
		s.arrayIDs = append(s.arrayIDs, id)
		for _, t := range part {
			done[t] = id
		}
	}
	return done, nil
}

// dependency is the --dependency value for jobs that must end ok and
// jobs that must end: both, joined by "," (SLURM's "and").
func dependency(afterOK, afterAny []string) string {
	var parts []string
	if len(afterAny) > 0 {
		parts = append(parts, "afterany:"+strings.Join(afterAny, ":"))
	}
	if len(afterOK) > 0 {
		parts = append(parts, "afterok:"+strings.Join(afterOK, ":"))
	}
	return strings.Join(parts, ",")
}
