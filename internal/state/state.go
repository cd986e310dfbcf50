// Package state gathers what is known of every run of a study, from one
// listing of its shards folder, the latest shard of each run, the claims of
// running or dead attempts and one squeue call, and asks package lifecycle
// where each run stands.
package state

import (
	"context"
	"fmt"
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
}

// Report is the state of a whole study.
type Report struct {
	Counts map[string]int `json:"counts"`
	Runs   []Run          `json:"runs"`
	// QueueErr says why squeue could not be asked; the states then come
	// from the shards alone and queued runs look missing.
	QueueErr error `json:"-"`
}

// Gather reads the manifest, the latest shard of each run, the claims of
// attempts that are running or died, and the queue, and decides each run's
// state with lifecycle.Decide. It asks squeue once, for every job the
// study's journal records.
func Gather(ctx context.Context, dir string, client *slurm.Client) (*Report, error) {
	entries, err := manifest.Read(filepath.Join(dir, manifest.File))
	if err != nil {
		return nil, err
	}
	shards, claims, err := shard.List(dir)
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
	// Claims of attempts newer than the latest shard: running, or died.
	// Older claims cannot change the decision.
	extra := map[string][]lifecycle.Attempt{}
	for _, c := range claims {
		if c.Attempt > latest[c.RunID] {
			live := lock.Held(filepath.Join(shard.Dir(dir), c.Name))
			extra[c.RunID] = append(extra[c.RunID], lifecycle.Attempt{Number: c.Attempt, Live: live})
		}
	}

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
		attempts := extra[e.RunID]
		if a := latest[e.RunID]; a > 0 {
			attempts = append(attempts, lifecycle.Attempt{Number: a, Status: statuses[e.RunID]})
		}
		task, isQueued := queued[e.Index]
		d := lifecycle.Decide(attempts, lifecycle.Queued{State: task.State})
		r := Run{Index: e.Index, RunID: e.RunID, Model: e.Model, Trial: e.Trial, Dir: e.Dir,
			State: d.State, Attempts: d.Attempts, Result: d.Result}
		if isQueued && (d.State == lifecycle.Pending || d.State == lifecycle.Running) {
			r.JobID = task.JobID
			if d.State == lifecycle.Pending {
				r.Reason = task.Reason
			}
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
		for _, i := range (slurm.Layout{RunsPerTask: s.RunsPerTask}).Indices(s.Offset, t.TaskID) {
			out[i] = t
		}
	}
	return out, nil
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

// readStatuses reads the status column of each run's latest shard, in
// parallel, from the cache where it can.
func readStatuses(dir string, latest map[string]int) map[string]string {
	cachePath := filepath.Join(shard.Dir(dir), cacheFile)
	cache := loadCache(cachePath)
	type job struct{ runID, name string }
	jobs := make(chan job)
	out := make(map[string]string, len(latest))
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
					out[j.runID] = shard.StatusFailed
					mu.Unlock()
					continue
				}
				key := cacheKey(j.name, fi)
				st, hit := cache[key]
				if !hit {
					st = shard.ReadStatus(path)
				}
				mu.Lock()
				out[j.runID] = st
				fresh[key] = st
				if !hit {
					read++
				}
				mu.Unlock()
			}
		})
	}
	for id, a := range latest {
		jobs <- job{id, shard.Name(id, a, false)}
	}
	close(jobs)
	wg.Wait()
	if read > 0 || len(fresh) != len(cache) {
		// A study folder may be read-only to whoever asks: then the next
		// call reads the shards again, which is only slower.
		_ = saveCache(cachePath, fresh)
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
	return atomicfile.WriteBytes(path, []byte(b.String()), 0o644, false)
}
