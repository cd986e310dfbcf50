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
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// Options configure a local run.
type Options struct {
	Workers     int     // 0: the study's [local] workers, else the CPU count
	GPUs        []int   // GPU indices to share out; nil: none
	GPUPerRun   float64 // 0: the study's gpu_per_run, else 1 when there are GPUs
	MemPerRun   int64   // bytes; 0: no memory limit on concurrency
	MaxAttempts int     // attempts per run in this call; 0: the study's, else 1
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

// Failure is a run that did not end ok.
type Failure struct {
	Entry  manifest.Entry
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
}

// Run executes every run of entries that has no ok shard, at most
// opt.Workers at a time. Cancelling ctx stops the running commands (their
// runs are recorded as cancelled) and starts no new ones; running it again
// continues where it stopped.
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
	if opt.MemPerRun > 0 {
		if avail := availableMemory(); avail > 0 {
			workers = max(1, min(workers, int(avail/opt.MemPerRun)))
		}
	}

	done, err := okRuns(ctx, dir)
	if err != nil {
		return nil, err
	}
	var todo []manifest.Entry
	for _, e := range entries {
		if !done[e.RunID] {
			todo = append(todo, e)
		}
	}
	sum := &Summary{Total: len(entries), Skipped: len(entries) - len(todo)}
	prog := newProgress(opt.Progress, opt.Terminal, len(todo), sum.Skipped)
	start := time.Now()

	jobs := make(chan manifest.Entry)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				res, err := runOne(ctx, dir, st, e, pool, opt, prog)
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = err
					}
				case res.Busy:
					sum.Busy++
				case res.Status == shard.StatusOK:
					sum.OK++
				default:
					why := res.LastStderr
					if why == "" {
						why = res.Error // the runner's own reason: a start failure, a stop
					}
					sum.Failures = append(sum.Failures, Failure{Entry: e, Status: res.Status, Reason: why})
				}
				mu.Unlock()
				prog.finished(res.Status == shard.StatusOK && err == nil || res.Busy)
			}
		}()
	}
feed:
	for _, e := range todo {
		select {
		case jobs <- e:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	prog.close()
	sum.Elapsed = time.Since(start)
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

// runOne runs one run, retrying a failure up to opt.MaxAttempts times.
func runOne(ctx context.Context, dir string, st *study.Study, e manifest.Entry, pool *gpuPool, opt Options, prog *progress) (runner.Result, error) {
	var env []string
	if pool != nil {
		got := pool.acquire()
		defer pool.release(got)
		env = append(env, "CUDA_VISIBLE_DEVICES="+pool.visible(got))
	}
	prog.started()
	defer prog.stopped()
	var res runner.Result
	var err error
	for attempt := 1; attempt <= opt.MaxAttempts; attempt++ {
		res, err = runner.Run(ctx, runner.Job{StudyDir: dir, Study: st, Entry: e, Env: env, Version: opt.Version})
		if err != nil || ctx.Err() != nil || res.Busy || !lifecycle.Retry(res.Status) {
			break
		}
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

func newProgress(w io.Writer, term bool, total, skipped int) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w, term: term, total: total, skipped: skipped, start: time.Now(), lastPct: -1}
	if skipped > 0 {
		fmt.Fprintf(w, "%d runs already ok; %d to run\n", skipped, total)
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

// Describe writes the summary of a local run: counts and the failed runs
// with the last line of their stderr.
func (s *Summary) Describe(w io.Writer) {
	fmt.Fprintf(w, "%d runs: %d ok now, %d ok before, %d not ok, in %s\n", s.Total, s.OK, s.Skipped, len(s.Failures), s.Elapsed.Round(time.Millisecond))
	if s.Busy > 0 {
		fmt.Fprintf(w, "  %d left alone: another runner (gridstudy exec) was executing them\n", s.Busy)
	}
	for i, f := range s.Failures {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more (gridstudy status DIR --runs --state failed)\n", len(s.Failures)-20)
			break
		}
		last := strings.TrimSpace(f.Reason)
		if last == "" {
			last = "(no stderr)"
		}
		fmt.Fprintf(w, "  %-9s %s  %s\n      %s\n", f.Status, f.Entry.RunID, f.Entry.Dir, last)
	}
}
