// Package state gathers what is known of every run of a study, from one
// listing of its shards folder, the latest shard of each run, the claims of
// running or dead attempts and one squeue call, and asks package lifecycle
// where each run stands.
package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/lock"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
)

// Run is one run's state.
type Run struct {
	Index    int    `json:"index"`
	RunID    string `json:"run_id"`
	Model    string `json:"model,omitempty"`
	Trial    int    `json:"trial"`
	Dir      string `json:"dir"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`         // attempts so far: finished, running or died
	Result   int    `json:"result,omitempty"` // the attempt whose shard is the run's result
	JobID    string `json:"job_id,omitempty"` // the queued task, when queued
	Reason   string `json:"reason,omitempty"` // squeue's reason for a pending task
	// Error is why a run that stands failed, cancelled, timeout or
	// preempted ended so: its result shard's error (Explain fills it in).
	Error string `json:"error,omitempty"`
	// multi names the multi-row file that holds the result, when it is
	// not in a one-row shard of its own.
	multi string
}

// Report is the state of a whole study.
type Report struct {
	Counts map[string]int `json:"counts"`
	Runs   []Run          `json:"runs"`
	// QueueErr says why squeue could not be asked; the states then come
	// from the shards alone and queued runs look missing.
	QueueErr error `json:"-"`
	// StageQueue holds the queued tasks of the study's stage arrays, by
	// stage name and task index, from the same squeue call as the runs'.
	StageQueue map[string]map[int]slurm.Task `json:"-"`
	// Foreign holds the queue entries under journaled job ids that now
	// belong to other jobs (SLURM reuses ids): left out of the states.
	Foreign []slurm.Task `json:"-"`
}

// StageQueued says what the queue holds for task of stage: the Queue of
// stage.Sources.
func (r *Report) StageQueued(stage string, task int) lifecycle.Queued {
	return lifecycle.Queued{State: r.StageQueue[stage][task].State}
}

// Gather reads the manifest, the latest shard of each run, the claims of
// attempts that are running or died, and the queue, and decides each run's
// state with lifecycle.Decide. It asks squeue once, for every job the
// study's journal records.
func Gather(ctx context.Context, dir string, client *slurm.Client) (*Report, error) {
	// A shard folded away (by collect --compact) between
	// the listing and its reading is in another file by then: look again.
	for try := 0; ; try++ {
		rep, err := gather(ctx, dir, client)
		if !errors.Is(err, errFolded) || try == 3 {
			return rep, err
		}
	}
}

// errFolded says that a shard listed a moment before has gone, or that
// the manifest changed while status read it.
var errFolded = errors.New("a shard went while status read it (folded into another file): ask again")

func gather(ctx context.Context, dir string, client *slurm.Client) (*Report, error) {
	// The manifest is decoding work, the shards folder listing and
	// statting: one goroutine each, so that status at a million runs
	// takes the longer of the two, not their sum.
	rep := &Report{Counts: map[string]int{}}
	manifestPath := filepath.Join(dir, manifest.File)
	manifestKey := fileKey(manifestPath)
	manifestDone := make(chan error, 1)
	go func() {
		// The run columns alone, a column at a time: rows of boxed
		// values, each with a map of its parameters, took longer than
		// all the rest of status at a million runs.
		entries, err := manifest.ReadRuns(manifestPath)
		rep.Runs = make([]Run, len(entries))
		for i, e := range entries {
			rep.Runs[i] = Run{Index: e.Index, RunID: e.RunID, Model: e.Model, Trial: e.Trial, Dir: e.Dir}
		}
		manifestDone <- err
	}()
	fail := func(err error) (*Report, error) {
		<-manifestDone
		return nil, err
	}
	shards, claims, err := shard.List(dir)
	if err != nil {
		return fail(err)
	}
	cachePath := filepath.Join(shard.Dir(dir), cacheFile)
	cache, fresh := loadCache(cachePath), newStatusCache()
	fresh.manifest = manifestKey
	// run id -> its latest attempt with a one-row shard, and its status
	latest := map[string]lifecycle.Attempt{}
	for _, s := range shards {
		if !s.History && !s.Multi && s.Attempt > latest[s.RunID].Number {
			latest[s.RunID] = lifecycle.Attempt{Number: s.Attempt}
		}
	}
	readOne, gone := readStatuses(dir, shards, latest, cache, fresh)
	if gone {
		return fail(errFolded)
	}
	files, err := readMulti(dir, shards, cache, manifestKey)
	if err != nil {
		return fail(err)
	}
	subs, err := slurm.OpenJournal(dir).Read()
	if err != nil {
		return fail(err)
	}
	queued := map[int]slurm.Task{} // manifest index -> its queued task
	if client != nil && len(subs) > 0 {
		queued, rep.StageQueue, rep.Foreign, rep.QueueErr = queuedRuns(ctx, client, subs)
	}
	if err := <-manifestDone; err != nil {
		return nil, err
	}
	if fileKey(manifestPath) != manifestKey {
		return nil, errFolded
	}
	folded, readMany, err := placeMulti(dir, rep.Runs, files, fresh)
	if err != nil {
		return nil, err
	}
	if len(fresh.multi) == 0 {
		fresh.manifest = "" // positions of no file to tie to it
	}
	if readOne || readMany || !fresh.same(cache) {
		// A study folder may be read-only to whoever asks: then the next
		// call reads the shards again, which is only slower.
		_ = fresh.save(cachePath)
	}
	byRun := map[string][]shard.Entry{}
	for _, c := range claims {
		byRun[c.RunID] = append(byRun[c.RunID], c)
	}
	var attempts []lifecycle.Attempt
	for i := range rep.Runs {
		r := &rep.Runs[i]
		var f found
		if folded != nil {
			f = folded[i]
		}
		// A (run, attempt) found twice, in its one-row shard and in a
		// multi-row file (a fold killed between writing the one and
		// removing the other), counts once.
		if a, ok := latest[r.RunID]; ok && a.Number >= f.Number {
			f = found{Attempt: a}
		}
		attempts = attempts[:0]
		if f.Number > 0 {
			attempts = append(attempts, f.Attempt)
			r.multi = f.multi
		}
		// Claims of attempts newer than the latest shard: running, or
		// died. Older claims cannot change the decision.
		for _, c := range byRun[r.RunID] {
			if c.Attempt > f.Number {
				live := lock.Held(filepath.Join(shard.Dir(dir), c.Name))
				attempts = append(attempts, lifecycle.Attempt{Number: c.Attempt, Live: live})
			}
		}
		task, isQueued := queued[r.Index]
		d := lifecycle.Decide(attempts, lifecycle.Queued{State: task.State})
		r.State, r.Attempts, r.Result = d.State, d.Attempts, d.Result
		if isQueued && (d.State == lifecycle.Pending || d.State == lifecycle.Running) {
			r.JobID = task.JobID
			if d.State == lifecycle.Pending {
				r.Reason = task.Reason
			}
		}
		rep.Counts[r.State]++
	}
	return rep, nil
}

// fileKey is the cacheKey of the file at path; "" when it cannot be
// statted.
func fileKey(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return cacheKey(filepath.Base(path), fi)
}

// Explain fills in the Error of each run that stands failed, cancelled,
// timeout or preempted, from its result shard. It reads the shard of each
// such run, or each multi-row file that holds one once, so only the verbs
// that show the reasons ask for them.
func Explain(dir string, rep *Report) {
	var one []*Run                // runs whose result is a one-row shard
	byFile := map[string][]*Run{} // multi-row file -> runs whose result it holds
	var files []string
	for i := range rep.Runs {
		r := &rep.Runs[i]
		switch r.State {
		case shard.StatusFailed, shard.StatusCancelled, shard.StatusTimeout, shard.StatusPreempted:
			switch {
			case r.Result > 0 && r.multi != "":
				if byFile[r.multi] == nil {
					files = append(files, r.multi)
				}
				byFile[r.multi] = append(byFile[r.multi], r)
			case r.Result > 0:
				one = append(one, r)
			}
		}
	}
	// One task per file: each writes the Error of its own runs only.
	forEach(len(files)+len(one), func(i int) {
		if i < len(one) {
			one[i].Error = shard.ReadError(shard.Path(dir, one[i].RunID, one[i].Result))
			return
		}
		errs := shard.ReadRowErrors(filepath.Join(shard.Dir(dir), files[i-len(one)]))
		for _, r := range byFile[files[i-len(one)]] {
			r.Error = errs[shard.Key{RunID: r.RunID, Attempt: r.Result}]
		}
	})
}

// forEach calls fn(0), …, fn(n-1) on as many goroutines as there are
// processors, and returns when all have returned.
func forEach(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// queuedRuns maps the study's queued array tasks to manifest indices, and
// those of its stage arrays to stage task indices (array task id plus the
// chunk's offset). A queue entry under a journaled id that another job now
// holds (SLURM reuses ids) is not the study's: it is left out, so that its
// runs are judged by their shards alone, and returned as foreign.
func queuedRuns(ctx context.Context, client *slurm.Client, subs []slurm.Submission) (map[int]slurm.Task, map[string]map[int]slurm.Task, []slurm.Task, error) {
	var arrays []slurm.Submission
	for _, s := range subs {
		if s.Kind == "array" || s.Kind == "stage" {
			arrays = append(arrays, s)
		}
	}
	tasks, err := client.Queue(ctx, slurm.JobIDs(arrays))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ask squeue: %w", err)
	}
	own, foreign := slurm.Claim(arrays, tasks)
	out := map[int]slurm.Task{}
	stages := map[string]map[int]slurm.Task{}
	for _, t := range own {
		if t.TaskID < 0 {
			continue
		}
		if t.Sub.Kind == "stage" {
			if stages[t.Sub.Stage] == nil {
				stages[t.Sub.Stage] = map[int]slurm.Task{}
			}
			stages[t.Sub.Stage][t.Sub.Offset+t.TaskID] = t.Task
			continue
		}
		for _, i := range (slurm.Layout{RunsPerTask: t.Sub.RunsPerTask}).Indices(t.Sub.Offset, t.TaskID) {
			out[i] = t.Task
		}
	}
	return out, stages, foreign, nil
}

// found is what the shards say of a run's latest finished attempt.
type found struct {
	lifecycle.Attempt
	// multi names the multi-row file that holds it; "" for a one-row
	// shard.
	multi string
}

// multiFile is one multi-row file: its rows as the status cache holds
// them, or as read from the file.
type multiFile struct {
	name, key string
	cached    string // its cache line's rows, when hit
	hit       bool
	rows      []shard.Row // when not hit
}

// readMulti lists the multi-row files among shards, with their rows from
// the cache, if its positions index the manifest whose key is manifest,
// or else the run id, attempt and status of every row, read from the
// files in parallel. Multi-row files are few, a hundred runs or more
// each.
func readMulti(dir string, shards []shard.Entry, cache *statusCache, manifest string) ([]multiFile, error) {
	var files []multiFile
	var todo []int
	for _, e := range shards {
		if !e.Multi || e.History {
			continue
		}
		fi, err := os.Lstat(filepath.Join(shard.Dir(dir), e.Name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errFolded
		}
		if err != nil {
			return nil, err
		}
		f := multiFile{name: e.Name, key: cacheKey(e.Name, fi)}
		if cache.manifest == manifest {
			f.cached, f.hit = cache.multi[f.key]
		}
		if !f.hit {
			todo = append(todo, len(files))
		}
		files = append(files, f)
	}
	errs := make([]error, len(files))
	forEach(len(todo), func(t int) {
		i := todo[t]
		files[i].rows, errs[i] = shard.ReadRows(filepath.Join(shard.Dir(dir), files[i].name))
	})
	for i, f := range files {
		switch {
		case errors.Is(errs[i], fs.ErrNotExist):
			return nil, errFolded
		case errs[i] != nil:
			return nil, fmt.Errorf("read %s: %w", f.name, errs[i])
		}
	}
	return files, nil
}

// placeMulti returns, for each of runs (by manifest position), the latest
// attempt that files hold, with its status and file (the zero found for
// none; nil when there are no files), and puts each file's rows into
// fresh. read reports whether a file was read rather than found in the
// cache. A (run, attempt) found in two files counts once, and a row of a
// run that the manifest does not have counts for none.
func placeMulti(dir string, runs []Run, files []multiFile, fresh *statusCache) (out []found, read bool, err error) {
	if len(files) == 0 {
		return nil, false, nil
	}
	out = make([]found, len(runs))
	place := func(pos, attempt int, status, file string) {
		if attempt > out[pos].Number {
			out[pos] = found{Attempt: lifecycle.Attempt{Number: attempt, Status: status}, multi: file}
		}
	}
	var byID map[string]int // run id -> position, made for the first file read
	for _, f := range files {
		if f.hit {
			if ranges, ok := decodeRows(f.cached, len(runs)); ok {
				for _, r := range ranges {
					for p := r.pos; p < r.pos+r.n; p++ {
						place(p, r.attempt, r.status, f.name)
					}
				}
				fresh.multi[f.key] = f.cached
				continue
			}
			// A line spoiled by hand: read the file after all.
			f.rows, err = shard.ReadRows(filepath.Join(shard.Dir(dir), f.name))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, false, errFolded
			}
			if err != nil {
				return nil, false, fmt.Errorf("read %s: %w", f.name, err)
			}
		}
		read = true
		if byID == nil {
			byID = make(map[string]int, len(runs))
			for i, r := range runs {
				byID[r.RunID] = i
			}
		}
		rows := make([]posRow, 0, len(f.rows))
		for _, r := range f.rows {
			if p, ok := byID[r.RunID]; ok {
				place(p, r.Attempt, r.Status, f.name)
				rows = append(rows, posRow{pos: p, attempt: r.Attempt, status: r.Status})
			}
		}
		if enc, ok := encodeRows(rows); ok {
			fresh.multi[f.key] = enc
		}
	}
	return out, read, nil
}

// readStatuses fills in the Status of each run's latest attempt in latest
// (one-row shards among shards), from the shard, read in parallel, or from
// the cache where it can, and puts each in fresh. It reports whether it
// read a shard, and whether a shard had gone.
func readStatuses(dir string, shards []shard.Entry, latest map[string]lifecycle.Attempt, cache, fresh *statusCache) (read, gone bool) {
	type job struct{ runID, name string }
	// The jobs are listed before the workers start: they write to latest.
	var todo []job
	for _, s := range shards {
		if !s.History && !s.Multi && latest[s.RunID].Number == s.Attempt {
			todo = append(todo, job{s.RunID, s.Name})
		}
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0)*2; w++ {
		wg.Go(func() {
			for j := range jobs {
				path := filepath.Join(shard.Dir(dir), j.name)
				fi, err := os.Lstat(path)
				if err != nil {
					mu.Lock()
					gone = gone || errors.Is(err, fs.ErrNotExist)
					latest[j.runID] = lifecycle.Attempt{Number: latest[j.runID].Number, Status: shard.StatusFailed}
					mu.Unlock()
					continue
				}
				key := cacheKey(j.name, fi)
				st, hit := cache.status[key]
				if !hit {
					st = shard.ReadStatus(path)
				}
				mu.Lock()
				latest[j.runID] = lifecycle.Attempt{Number: latest[j.runID].Number, Status: st}
				fresh.status[key] = st
				read = read || !hit
				mu.Unlock()
			}
		})
	}
	for _, j := range todo {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	return read, gone
}
