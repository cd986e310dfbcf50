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
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
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
	// A shard folded away (by a packed task or collect --compact) between
	// the listing and its reading is in another file by then: look again.
	for try := 0; ; try++ {
		rep, err := gather(ctx, dir, client)
		if !errors.Is(err, errFolded) || try == 3 {
			return rep, err
		}
	}
}

// errFolded says that a shard listed a moment before has gone.
var errFolded = errors.New("a shard went while status read it (folded into another file): ask again")

func gather(ctx context.Context, dir string, client *slurm.Client) (*Report, error) {
	// The manifest is decoding work, the shards folder listing and
	// statting: one goroutine each, so that status at a million runs
	// takes the longer of the two, not their sum.
	rep := &Report{Counts: map[string]int{}}
	manifestDone := make(chan error, 1)
	go func() {
		// The run columns alone, a column at a time: rows of boxed
		// values, each with a map of its parameters, took longer than
		// all the rest of status at a million runs.
		entries, err := manifest.ReadRuns(filepath.Join(dir, manifest.File))
		rep.Runs = make([]Run, len(entries))
		for i, e := range entries {
			rep.Runs[i] = Run{Index: e.Index, RunID: e.RunID, Model: e.Model, Trial: e.Trial, Dir: e.Dir}
		}
		manifestDone <- err
	}()
	shards, claims, err := shard.List(dir)
	if err != nil {
		<-manifestDone
		return nil, err
	}
	// run id -> its latest attempt with a run shard, and that shard's status
	latest := map[string]lifecycle.Attempt{}
	for _, s := range shards {
		if !s.History && !s.Multi && s.Attempt > latest[s.RunID].Number {
			latest[s.RunID] = lifecycle.Attempt{Number: s.Attempt}
		}
	}
	multi, err := readMulti(dir, shards, latest)
	if err != nil {
		<-manifestDone
		return nil, err
	}
	if readStatuses(dir, latest) {
		<-manifestDone
		return nil, errFolded
	}
	// Claims of attempts newer than the latest shard: running, or died.
	// Older claims cannot change the decision.
	extra := map[string][]lifecycle.Attempt{}
	for _, c := range claims {
		if c.Attempt > latest[c.RunID].Number {
			live := lock.Held(filepath.Join(shard.Dir(dir), c.Name))
			extra[c.RunID] = append(extra[c.RunID], lifecycle.Attempt{Number: c.Attempt, Live: live})
		}
	}
	subs, err := slurm.OpenJournal(dir).Read()
	if err != nil {
		<-manifestDone
		return nil, err
	}
	queued := map[int]slurm.Task{} // manifest index -> its queued task
	if client != nil && len(subs) > 0 {
		queued, rep.StageQueue, rep.QueueErr = queuedRuns(ctx, client, subs)
	}
	if err := <-manifestDone; err != nil {
		return nil, err
	}
	var attempts []lifecycle.Attempt
	for i := range rep.Runs {
		r := &rep.Runs[i]
		attempts = append(attempts[:0], extra[r.RunID]...)
		if a, ok := latest[r.RunID]; ok {
			attempts = append(attempts, a)
		}
		r.multi = multi[r.RunID]
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

// Explain fills in the Error of each run that stands failed, cancelled,
// timeout or preempted, from its result shard. It reads one shard per such
// run, so only the verbs that show the reasons ask for them.
func Explain(dir string, rep *Report) {
	for i := range rep.Runs {
		r := &rep.Runs[i]
		switch r.State {
		case shard.StatusFailed, shard.StatusCancelled, shard.StatusTimeout, shard.StatusPreempted:
			switch {
			case r.Result > 0 && r.multi != "":
				r.Error = shard.ReadRowError(filepath.Join(shard.Dir(dir), r.multi), shard.Key{RunID: r.RunID, Attempt: r.Result})
			case r.Result > 0:
				r.Error = shard.ReadError(shard.Path(dir, r.RunID, r.Result))
			}
		}
	}
}

// queuedRuns maps the study's queued array tasks to manifest indices, and
// those of its stage arrays to stage task indices (array task id plus the
// chunk's offset). A queue entry under a journaled id that another job now
// holds (SLURM reuses ids) is not the study's: it is left out, so that its
// runs are judged by their shards alone.
func queuedRuns(ctx context.Context, client *slurm.Client, subs []slurm.Submission) (map[int]slurm.Task, map[string]map[int]slurm.Task, error) {
	var arrays []slurm.Submission
	for _, s := range subs {
		if s.Kind == "array" || s.Kind == "stage" {
			arrays = append(arrays, s)
		}
	}
	tasks, err := client.Queue(ctx, slurm.JobIDs(arrays))
	if err != nil {
		return nil, nil, fmt.Errorf("ask squeue: %w", err)
	}
	own, _ := slurm.Claim(arrays, tasks)
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
	return out, stages, nil
}

// cacheFile keeps the status of the shards already read, each under its
// name, inode, size and modification time: a shard deleted, replaced or
// rewritten by hand never matches its old entry, so the cache can only
// spare reading a file that is still the same file. Entries of shards no
// longer the latest of their run are dropped on each save.
const cacheFile = ".status-cache"

// cacheKey identifies one shard file's content as far as stat can tell.
func cacheKey(name string, fi os.FileInfo) string {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	return fmt.Sprintf("%s %d %d %d", name, ino, fi.Size(), fi.ModTime().UnixNano())
}

// readMulti adds the attempts that the multi-row files among shards hold
// to latest, with their status, where they are later than what latest
// holds, and returns, for each run whose latest attempt is such a row, the
// file's name. A (run, attempt) found twice (a fold killed between writing
// a file and removing its sources) counts once. Multi-row files are few,
// a hundred runs or more each, and read whole.
func readMulti(dir string, shards []shard.Entry, latest map[string]lifecycle.Attempt) (map[string]string, error) {
	where := map[string]string{}
	for _, e := range shards {
		if !e.Multi || e.History {
			continue
		}
		rows, err := shard.ReadRows(filepath.Join(shard.Dir(dir), e.Name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errFolded
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name, err)
		}
		for _, r := range rows {
			if r.Attempt > latest[r.RunID].Number {
				latest[r.RunID] = lifecycle.Attempt{Number: r.Attempt, Status: r.Status}
				where[r.RunID] = e.Name
			}
		}
	}
	return where, nil
}

// readStatuses fills in the Status of each run's latest attempt in latest
// from its shard, read in parallel, or from the cache where it can. It
// reports whether a shard had gone.
func readStatuses(dir string, latest map[string]lifecycle.Attempt) (gone bool) {
	cachePath := filepath.Join(shard.Dir(dir), cacheFile)
	cache := loadCache(cachePath)
	type job struct{ runID, name string }
	// The jobs are listed before the workers start: they write to latest,
	// which must not be ranged over meanwhile.
	todo := make([]job, 0, len(latest))
	for id, a := range latest {
		if a.Status == "" { // not known from a multi-row file
			todo = append(todo, job{id, shard.Name(id, a.Number, false)})
		}
	}
	jobs := make(chan job)
	fresh := make(map[string]string, len(latest))
	read := 0
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
					a := latest[j.runID]
					a.Status = shard.StatusFailed
					latest[j.runID] = a
					mu.Unlock()
					continue
				}
				key := cacheKey(j.name, fi)
				st, hit := cache[key]
				if !hit {
					st = shard.ReadStatus(path)
				}
				mu.Lock()
				a := latest[j.runID]
				a.Status = st
				latest[j.runID] = a
				fresh[key] = st
				if !hit {
					read++
				}
				mu.Unlock()
			}
		})
	}
	for _, j := range todo {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	if read > 0 || len(fresh) != len(cache) {
		// A study folder may be read-only to whoever asks: then the next
		// call reads the shards again, which is only slower.
		_ = saveCache(cachePath, fresh)
	}
	return gone
}

func loadCache(path string) map[string]string {
	cache := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return cache
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, st, ok := strings.Cut(line, "\t"); ok {
			cache[name] = st
		}
	}
	return cache
}

func saveCache(path string, cache map[string]string) error {
	names := make([]string, 0, len(cache))
	for n := range cache {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\t" + cache[n] + "\n")
	}
	return atomicfile.WriteBytes(path, []byte(b.String()), 0o644, false)
}
