// Package local runs a study on one machine: a pool of workers that calls
// the same runner as `gridstudy exec` for every run that is not yet ok,
// sharing out GPUs and memory, with progress and a summary.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/lock"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/runner"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// Options configure a local run.
type Options struct {
	Workers   int     // 0: the study's [local] workers, else the CPU count
	GPUs      []int   // GPU indices to share out; nil: none
	GPUPerRun float64 // 0: the study's gpu_per_run, else 1 when there are GPUs
	// MemPerRun is what a run draws from the memory budget, in bytes, and
	// a stage task whose stage sets no local.mem_per_run of its own; 0:
	// nothing.
	MemPerRun int64
	// MemBudget is the memory, in bytes, that runs and stage tasks draw
	// from; 0: the memory available when Run starts (MemAvailable). Tests
	// set it to a fixed amount.
	MemBudget   int64
	MaxAttempts int         // attempts per run in this call; 0: the study's, else 1
	Stages      *stage.Plan // the study's stage tasks; nil for none
	Version     string
	Progress    io.Writer // where progress goes
	Terminal    bool      // Progress is a terminal: one live line
}

// ErrBusy is returned by Lock when another local executor holds the study.
var ErrBusy = errors.New("another 'gridstudy run' is running this study (use --wait to wait for it)")

// Lock takes the study's run lock, which a local executor holds from
// planning to collecting: two executors would each run every run that is
// not ok, the runners' claims only keeping them from running one run at
// the same moment. With wait it waits for the other executor, else it
// fails at once with ErrBusy.
func Lock(ctx context.Context, dir string, wait bool) (unlock func(), err error) {
	path := studydir.Lock(dir, studydir.RunLockFile)
	var held *lock.Lock
	if wait {
		held, err = lock.Wait(ctx, path)
	} else {
		held, err = lock.Try(path)
	}
	if errors.Is(err, lock.ErrBusy) {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, err
	}
	return func() { held.Unlock() }, nil
}

// Failure is a run or stage task that did not end ok.
type Failure struct {
	Entry manifest.Entry // the run; zero for a stage task
	// Stage and Task name a stage task; "" and nil for a run.
	Stage  string
	Task   *stage.Task
	Status string
	Reason string // the last line of its stderr, else the runner's error
}

// Summary is what a local run did.
type Summary struct {
	Total    int // runs in the study
	Skipped  int // already ok before this call
	OK       int // ok in this call
	Busy     int // being executed by another runner (gridstudy exec)
	Failures []Failure
	Elapsed  time.Duration
	// Stages counts each stage's tasks, in plan order.
	Stages        []StageCount
	StageFailures []Failure
	// Blocked are the runs and stage tasks that did not start because
	// something they need did not end ok.
	Blocked []Blocked
}

// StageCount is what a local run did with one stage's tasks.
type StageCount struct {
	Name                string
	Tasks               int
	OK, Cached, Blocked int
}

// Run executes every run of entries that has no ok shard, at most
// opt.Workers at a time, and the study's stage tasks (opt.Stages) with
// them: a stage task before the runs once the earlier tasks it needs are
// ok, a run once its stage tasks are ok, an after-runs task once every run
// of its group is ok. A task or run that fails blocks what depends on it
// and nothing else; running again retries what is not ok. Cancelling ctx
// stops the running commands (recorded as cancelled) and starts no new
// ones; running it again continues where it stopped.
func Run(ctx context.Context, dir string, st *study.Study, entries []manifest.Entry, opt Options) (*Summary, error) {
	opt = defaults(st, opt)
	pool, err := newGPUPool(opt.GPUs, opt.GPUPerRun)
	if err != nil {
		return nil, err
	}
	workers := opt.Workers
	if pool != nil {
		workers = min(workers, pool.capacity())
	}
	mem, err := newMemory(st, opt)
	if err != nil {
		return nil, err
	}

	done, err := okRuns(ctx, dir)
	if err != nil {
		return nil, err
	}
	g := newGraph(dir, opt.Stages, entries, done)
	sum := &Summary{Total: len(entries), Skipped: g.runsOK}
	noun := "runs"
	if opt.Stages != nil && len(opt.Stages.Stages) > 0 {
		noun = "runs and stage tasks"
	}
	prog := newProgress(opt.Progress, opt.Terminal, g.todo, g.skipped, noun)
	start := time.Now()

	type result struct {
		n   *node
		res runner.Result
		err error
	}
	results := make(chan result)
	running := 0
	warned := false
	var firstErr error
	for {
		for ctx.Err() == nil && running < workers && len(g.ready) > 0 {
			n := g.ready[0]
			// The head of the ready queue waits until its memory is free,
			// and nothing behind it passes it: small runs queued after a
			// big stage task cannot keep it waiting for ever.
			if !mem.take(n) {
				break
			}
			if mem.oversize(n) && !warned && opt.Progress != nil {
				warned = true
				fmt.Fprintf(opt.Progress, "gridstudy run: warning: %s needs %s, more than the %s of memory available: it runs alone (so does any other that needs more than there is)\n",
					n.name(), gib(mem.need(n)), gib(mem.budget))
			}
			g.ready = g.ready[1:]
			running++
			go func() {
				res, err := g.execute(ctx, n, st, pool, opt, prog)
				results <- result{n, res, err}
			}()
		}
		if running == 0 {
			break
		}
		r := <-results
		running--
		mem.release(r.n)
		ok := r.err == nil && r.res.Status == shard.StatusOK
		switch {
		case r.err != nil:
			if firstErr == nil {
				firstErr = r.err
			}
		case r.res.Busy:
			sum.Busy++
		case ok:
			g.count(r.n, func(c *StageCount) { c.OK++ }, func() { sum.OK++ })
		default:
			why := r.res.LastStderr
			if why == "" {
				why = r.res.Error // the runner's own reason: a start failure, a stop
			}
			f := Failure{Status: r.res.Status, Reason: why}
			if r.n.task != nil {
				f.Stage, f.Task = r.n.stage.Name, r.n.task
				sum.StageFailures = append(sum.StageFailures, f)
			} else {
				f.Entry = r.n.entry
				sum.Failures = append(sum.Failures, f)
			}
		}
		g.finished(r.n, ok, r.res.Status)
		prog.finished(ok || r.res.Busy)
	}
	prog.close()
	sum.Elapsed = time.Since(start)
	if ctx.Err() == nil {
		sum.Blocked = g.blockedList()
		for _, b := range sum.Blocked {
			if b.Task != nil {
				g.count(&node{stage: b.stage}, func(c *StageCount) { c.Blocked++ }, nil)
			}
		}
	}
	sum.Stages = g.stageCounts
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].Entry.Index < sum.Failures[j].Entry.Index })
	if firstErr != nil {
		return sum, firstErr
	}
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, nil
}

func defaults(st *study.Study, opt Options) Options {
	if opt.Workers <= 0 {
		opt.Workers = int(st.Local.Workers)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.NumCPU()
	}
	if opt.GPUPerRun <= 0 {
		opt.GPUPerRun = st.Local.GPUPerRun
	}
	if opt.GPUPerRun <= 0 && len(opt.GPUs) > 0 {
		opt.GPUPerRun = 1
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = max(int(st.Local.MaxAttempts), 1)
	}
	return opt
}

// runOne runs one job (a run or a stage task), retrying a failure up to
// opt.MaxAttempts times. gpus says whether it takes GPUs from the pool.
func runOne(ctx context.Context, job runner.Job, gpus bool, pool *gpuPool, opt Options, prog *progress) (runner.Result, error) {
	var env []string
	if pool != nil && !gpus {
		// Hide the GPUs from a stage that asks for none.
		env = append(env, "CUDA_VISIBLE_DEVICES=")
	}
	if pool != nil && gpus {
		got := pool.acquire()
		defer pool.release(got)
		env = append(env, "CUDA_VISIBLE_DEVICES="+pool.visible(got))
	}
	prog.started()
	defer prog.stopped()
	var res runner.Result
	var err error
	for attempt := 1; attempt <= opt.MaxAttempts; attempt++ {
		job.Env, job.Version = env, opt.Version
		res, err = runner.Run(ctx, job)
		if err != nil || ctx.Err() != nil || res.Busy || !lifecycle.Retry(res.Status) {
			break
		}
	}
	if res.RetainError != nil && opt.Progress != nil {
		// The run is recorded; its folder, or part of it, stayed.
		fmt.Fprintf(opt.Progress, "gridstudy run: %v\n", res.RetainError)
	}
	return res, err
}

// okRuns lists the runs that already have an ok shard.
func okRuns(ctx context.Context, dir string) (map[string]bool, error) {
	rep, err := state.Gather(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	ok := map[string]bool{}
	for _, r := range rep.Runs {
		if lifecycle.Done(r.State) {
			ok[r.RunID] = true
		}
	}
	return ok, nil
}

// progress reports counts, rate and ETA: a live line on a terminal, a line
// every 5% in a log.
type progress struct {
	mu                    sync.Mutex
	w                     io.Writer
	term                  bool
	total, skipped        int
	done, failed, running int
	start, lastDraw       time.Time
	lastPct               int
}

// newProgress counts total things to do; noun names them ("runs", or
// "runs and stage tasks" when the graph holds stages).
func newProgress(w io.Writer, term bool, total, skipped int, noun string) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w, term: term, total: total, skipped: skipped, start: time.Now(), lastPct: -1}
	if skipped > 0 {
		fmt.Fprintf(w, "%d %s already ok; %d to run\n", skipped, noun, total)
	}
	return p
}

func (p *progress) started() {
	p.mu.Lock()
	p.running++
	p.draw(false)
	p.mu.Unlock()
}

func (p *progress) stopped() {
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
}

func (p *progress) finished(ok bool) {
	p.mu.Lock()
	p.done++
	if !ok {
		p.failed++
	}
	p.draw(false)
	p.mu.Unlock()
}

func (p *progress) close() {
	p.mu.Lock()
	p.draw(true)
	if p.term {
		fmt.Fprintln(p.w)
	}
	p.mu.Unlock()
}

func (p *progress) draw(final bool) {
	if p.total == 0 {
		return
	}
	now := time.Now()
	elapsed := now.Sub(p.start)
	rate := float64(p.done) / max(elapsed.Seconds(), 1e-9)
	eta := "?"
	if p.done > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	line := fmt.Sprintf("%d/%d done (%d not ok), %d running, %.1f runs/s, ETA %s", p.done, p.total, p.failed, p.running, rate, eta)
	if p.term {
		if !final && now.Sub(p.lastDraw) < 100*time.Millisecond {
			return
		}
		p.lastDraw = now
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	pct := p.done * 100 / p.total
	if final || pct/5 > p.lastPct/5 || p.lastPct < 0 {
		if final && pct == p.lastPct {
			return
		}
		p.lastPct = pct
		fmt.Fprintln(p.w, line)
	}
}

// Describe writes the summary of a local run: counts per stage and of the
// runs, the failed ones with the last line of their stderr, and what did
// not start because something it needs failed.
func (s *Summary) Describe(w io.Writer) {
	for _, c := range s.Stages {
		tasks := "tasks"
		if c.Tasks == 1 {
			tasks = "task"
		}
		fmt.Fprintf(w, "stage %s: %d %s: %d ok now, %d cached (ok before), %d not ok, %d blocked\n",
			c.Name, c.Tasks, tasks, c.OK, c.Cached, c.failed(s.StageFailures), c.Blocked)
	}
	fmt.Fprintf(w, "%d runs: %d ok now, %d ok before, %d not ok, in %s\n", s.Total, s.OK, s.Skipped, len(s.Failures), s.Elapsed.Round(time.Millisecond))
	if s.Busy > 0 {
		fmt.Fprintf(w, "  %d left alone: another runner (gridstudy exec) was executing them\n", s.Busy)
	}
	for _, f := range s.StageFailures {
		fmt.Fprintf(w, "  %-9s stage %s task %d (%s)  %s\n      %s\n", f.Status, f.Stage, f.Task.Index, f.Task.Label, f.Task.Dir, reason(f.Reason))
	}
	for i, f := range s.Failures {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more (gridstudy status DIR --runs --state failed)\n", len(s.Failures)-20)
			break
		}
		fmt.Fprintf(w, "  %-9s %s  %s\n      %s\n", f.Status, f.Entry.RunID, f.Entry.Dir, reason(f.Reason))
	}
	for i, b := range s.Blocked {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more blocked\n", len(s.Blocked)-20)
			break
		}
		what := b.Entry.RunID + "  " + b.Entry.Dir
		if b.Task != nil {
			what = fmt.Sprintf("stage %s task %d (%s)", b.Stage, b.Task.Index, b.Task.Label)
		}
		fmt.Fprintf(w, "  blocked   %s\n      blocked by %s\n", what, b.Why)
	}
}

// failed counts the failures of the stage's tasks among fs.
func (c StageCount) failed(fs []Failure) int {
	n := 0
	for _, f := range fs {
		if f.Stage == c.Name {
			n++
		}
	}
	return n
}

// reason is a failure's reason as one line, or "(no stderr)".
func reason(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "(no stderr)"
	}
	return s
}
