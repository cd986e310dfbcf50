package local

import (
	"context"
	"fmt"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/runner"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
)

// blocked is the state of a node that will not start in this call.
const blocked = "blocked"

// node is a run or a stage task of the local executor's graph.
type node struct {
	stage *stage.Stage // nil for a run
	task  *stage.Task
	entry manifest.Entry
	// waits counts what must end ok before the node can start.
	waits      int
	dependents []*node
	// state is "" until the node ended (ok, or the status it ended
	// with) or was blocked; why says what blocked it.
	state, why string
}

// name says which run or task the node is, for messages.
func (n *node) name() string {
	if n.stage != nil {
		return fmt.Sprintf("stage %s task %d (%s)", n.stage.Name, n.task.Index, n.task.Label)
	}
	return "run " + n.entry.RunID
}

// Blocked is a run or stage task that did not start because something it
// needs did not end ok.
type Blocked struct {
	Entry manifest.Entry // the run; zero for a stage task
	Stage string
	Task  *stage.Task
	Why   string // "stage simulate task 0 (nphotons=1e6) is failed"
	stage *stage.Stage
}

// graph is what a local run must do and in which order.
type graph struct {
	dir   string
	plan  *stage.Plan
	runs  map[int]*node
	tasks map[string][]*node
	order []*node // every node, stages before runs before after-runs stages
	ready []*node
	// todo counts the nodes to execute, skipped those ok before.
	todo, skipped, runsOK int
	stageCounts           []StageCount
}

// newGraph builds the graph of the runs of entries (done: the ids of
// those ok already) and the tasks of plan (nil for none).
func newGraph(dir string, plan *stage.Plan, entries []manifest.Entry, done map[string]bool) *graph {
	if plan == nil {
		plan = &stage.Plan{}
	}
	g := &graph{dir: dir, plan: plan, runs: map[int]*node{}, tasks: map[string][]*node{}}
	add := func(n *node, ok bool) {
		if ok {
			n.state = shard.StatusOK
			g.skipped++
		} else {
			g.todo++
		}
		g.order = append(g.order, n)
	}
	var after []*stage.Stage
	for _, s := range plan.Stages {
		g.stageCounts = append(g.stageCounts, StageCount{Name: s.Name, Tasks: len(s.Tasks)})
		if s.After != "" {
			after = append(after, s)
			continue
		}
		g.addTasks(s, add)
	}
	for _, e := range entries {
		n := &node{entry: e}
		g.runs[e.Index] = n
		add(n, done[e.RunID])
		if done[e.RunID] {
			g.runsOK++
		}
	}
	for _, s := range after {
		g.addTasks(s, add)
	}
	// Edges: a node waits for what it needs that is not ok yet.
	need := func(n, pred *node) {
		if pred != nil && pred.state != shard.StatusOK {
			n.waits++
			pred.dependents = append(pred.dependents, n)
		}
	}
	for _, n := range g.order {
		if n.state != "" {
			continue
		}
		switch {
		case n.stage == nil:
			for _, s := range plan.Before() {
				if i, ok := plan.TaskOfRun(s.Name, n.entry.Index); ok {
					need(n, g.tasks[s.Name][i])
				}
			}
		case n.stage.After == "":
			for name, i := range n.task.Needs {
				need(n, g.tasks[name][i])
			}
		default:
			for _, r := range n.task.Runs {
				need(n, g.runs[r])
			}
		}
	}
	for _, n := range g.order {
		if n.state == "" && n.waits == 0 {
			g.ready = append(g.ready, n)
		}
	}
	return g
}

// addTasks adds the tasks of stage s, those ok already as cached.
func (g *graph) addTasks(s *stage.Stage, add func(*node, bool)) {
	for i, t := range s.Tasks {
		n := &node{stage: s, task: t}
		g.tasks[s.Name] = append(g.tasks[s.Name], n)
		ok := stage.TaskStatus(g.dir, s, i) == shard.StatusOK
		if ok {
			g.count(n, func(c *StageCount) { c.Cached++ }, nil)
		}
		add(n, ok)
	}
}

// count applies inStage to the count of n's stage, or inRun for a run.
func (g *graph) count(n *node, inStage func(*StageCount), inRun func()) {
	if n.stage == nil {
		if inRun != nil {
			inRun()
		}
		return
	}
	for i := range g.stageCounts {
		if g.stageCounts[i].Name == n.stage.Name {
			inStage(&g.stageCounts[i])
		}
	}
}

// finished records how n ended: what waits for it becomes ready when
// nothing else holds it back, or is blocked when n did not end ok.
func (g *graph) finished(n *node, ok bool, status string) {
	if !ok {
		if status == "" {
			status = shard.StatusFailed
		}
		n.state = status
		for _, d := range n.dependents {
			g.block(d, fmt.Sprintf("%s is %s", n.name(), status))
		}
		return
	}
	n.state = shard.StatusOK
	for _, d := range n.dependents {
		d.waits--
		if d.waits == 0 && d.state == "" {
			g.ready = append(g.ready, d)
		}
	}
}

// block marks n and what depends on it as blocked by why.
func (g *graph) block(n *node, why string) {
	if n.state != "" {
		return
	}
	n.state, n.why = blocked, why
	for _, d := range n.dependents {
		g.block(d, why)
	}
}

// blockedList lists the blocked nodes in graph order.
func (g *graph) blockedList() []Blocked {
	var out []Blocked
	for _, n := range g.order {
		if n.state != blocked {
			continue
		}
		b := Blocked{Entry: n.entry, Why: n.why, stage: n.stage, Task: n.task}
		if n.stage != nil {
			b.Stage = n.stage.Name
		}
		out = append(out, b)
	}
	return out
}

// execute runs node n.
func (g *graph) execute(ctx context.Context, n *node, st *study.Study, pool *gpuPool, opt Options, prog *progress) (runner.Result, error) {
	if n.stage == nil {
		job := runner.Job{StudyDir: g.dir, Study: st, Entry: n.entry, Stages: g.plan.RunStages(g.dir, n.entry.Index)}
		return runOne(ctx, job, true, pool, opt, prog)
	}
	// An after-runs task starts here only once every run of its group is
	// ok: its group is never blocked.
	job, err := runner.ForStage(g.dir, st, n.stage, n.task, func(int) string { return shard.StatusOK })
	if err != nil {
		return runner.Result{}, err
	}
	// A stage takes GPUs only when its gpu_per_run (its own or [local]'s)
	// asks for them: most stages prepare data on the CPU.
	return runOne(ctx, job, n.stage.Local.GPUPerRun > 0, pool, opt, prog)
}
