// Package state tells where each run of a study stands, from its shards and
// one squeue call: ok, failed, cancelled, timeout, preempted (its last
// shard), running, pending (the queue) or missing (neither).
package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/table"
)

// The states a run can be in, besides the shard statuses.
const (
	Running = "running"
	Pending = "pending"
	Missing = "missing"
)

// States lists every state in the order reports show them.
var States = []string{shard.StatusOK, shard.StatusFailed, shard.StatusCancelled, shard.StatusTimeout,
	shard.StatusPreempted, Running, Pending, Missing}

// Run is one run's state.
type Run struct {
	Index    int    `json:"index"`
	RunID    string `json:"run_id"`
	Model    string `json:"model,omitempty"`
	Trial    int    `json:"trial"`
	Dir      string `json:"dir"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`         // shards written so far
	JobID    string `json:"job_id,omitempty"` // the queued task, when queued
	Reason   string `json:"reason,omitempty"` // squeue's reason for a pending task
}

// Report is the state of a whole study.
type Report struct {
	Counts map[string]int `json:"counts"`
	Runs   []Run          `json:"runs"`
	// QueueErr says why squeue could not be asked; the states then come
	// from the shards alone and queued runs look missing.
	QueueErr error `json:"-"`
}

// Gather reads the manifest, the latest shard of each run and the queue.
// It asks squeue once, for every job the study's journal records.
func Gather(ctx context.Context, dir string, client *slurm.Client) (*Report, error) {
	entries, err := manifest.Read(filepath.Join(dir, manifest.File))
	if err != nil {
		return nil, err
	}
	shards, err := shard.Scan(dir)
	if err != nil {
		return nil, err
	}
	latest := map[string]int{} // run id -> latest attempt with a run shard
	for _, s := range shards {
		if !s.History && s.Attempt > latest[s.RunID] {
			latest[s.RunID] = s.Attempt
		}
	}
	statuses := readStatuses(dir, latest)

	subs, err := slurm.OpenJournal(dir).Read()
	if err != nil {
		return nil, err
	}
	rep := &Report{Counts: map[string]int{}}
	queued := map[int]slurm.Task{} // manifest index -> its queued task
	if client != nil && len(subs) > 0 {
		queued, rep.QueueErr = queuedRuns(ctx, client, subs)
	}
	for _, e := range entries {
		r := Run{Index: e.Index, RunID: e.RunID, Model: e.Model, Trial: e.Trial, Dir: e.Dir, Attempts: latest[e.RunID]}
		st, hasShard := statuses[e.RunID]
		task, isQueued := queued[e.Index]
		switch {
		case st == shard.StatusOK:
			r.State = st
		case isQueued && (task.State == "PENDING" || task.State == "REQUEUED" || task.State == "SUSPENDED"):
			r.State, r.JobID, r.Reason = Pending, task.JobID, task.Reason
		case isQueued:
			r.State, r.JobID = Running, task.JobID
		case hasShard:
			r.State = st
		default:
			r.State = Missing
		}
		rep.Counts[r.State]++
		rep.Runs = append(rep.Runs, r)
	}
	return rep, nil
}

// queuedRuns maps the study's queued array tasks to manifest indices.
func queuedRuns(ctx context.Context, client *slurm.Client, subs []slurm.Submission) (map[int]slurm.Task, error) {
	byJob := map[string]slurm.Submission{}
	var ids []string
	for _, s := range subs {
		if s.Kind == "array" {
			byJob[s.JobID] = s
			ids = append(ids, s.JobID)
		}
	}
	tasks, err := client.Queue(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("ask squeue: %w", err)
	}
	out := map[int]slurm.Task{}
	for _, t := range tasks {
		s, ok := byJob[t.ArrayJobID]
		if !ok || t.TaskID < 0 {
			continue
		}
		rpt := max(s.RunsPerTask, 1)
		for k := 0; k < rpt; k++ {
			out[s.Offset+t.TaskID*rpt+k] = t
		}
	}
	return out, nil
}

// cacheFile keeps the status of every shard already read. Shards never
// change once written (a new attempt is a new file), so a name identifies
// its status for good, and status reads only the shards that are new.
const cacheFile = ".status-cache"

// readStatuses reads the status column of each run's latest shard, in
// parallel, from the cache where it can.
func readStatuses(dir string, latest map[string]int) map[string]string {
	cachePath := filepath.Join(shard.Dir(dir), cacheFile)
	cache := loadCache(cachePath)
	type job struct {
		runID   string
		attempt int
	}
	out := make(map[string]string, len(latest))
	var todo []job
	for id, a := range latest {
		if st, ok := cache[shard.Name(id, a, false)]; ok {
			out[id] = st
		} else {
			todo = append(todo, job{id, a})
		}
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0)*2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				name := shard.Name(j.runID, j.attempt, false)
				st := readStatus(filepath.Join(shard.Dir(dir), name))
				mu.Lock()
				out[j.runID] = st
				cache[name] = st
				mu.Unlock()
			}
		}()
	}
	for _, j := range todo {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	if len(todo) > 0 {
		// A study folder may be read-only to whoever asks: then the next
		// call reads the shards again, which is only slower.
		_ = saveCache(cachePath, cache)
	}
	return out
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
	tmp, err := os.CreateTemp(filepath.Dir(path), ".status-cache.*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readStatus returns a shard's status; an unreadable shard counts as a
// failed attempt, so that resume --failed can retry it.
func readStatus(path string) string {
	r, err := table.Open(path)
	if err != nil {
		return shard.StatusFailed
	}
	defer r.Close()
	col := r.Schema().Index("status")
	row, err := r.Read()
	if col < 0 || err != nil && !errors.Is(err, io.EOF) || row == nil {
		return shard.StatusFailed
	}
	if s, ok := row[col].(string); ok && s != "" {
		return s
	}
	return shard.StatusFailed
}
