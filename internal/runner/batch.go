package runner

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/study"
)

// When a Batch writes its task shard: once it holds batchRows rows, or
// batchEvery after its last write, and when the task ends. A runner killed
// outright (SIGKILL, a dead node) loses the rows it held, at most that
// much of the task's work: those runs read as attempts whose runner died,
// and resume runs them again.
const (
	batchRows  = 1000
	batchEvery = time.Minute
)

// Batch is what the runs of one packed task share so that the task writes
// few files: one claim file that each run's claim is a link to, and the
// runs' rows, held in memory and written together as a task shard rather
// than one shard per run. A run whose row waits in memory keeps its claim,
// live while the task lives, so every reader sees it running until its
// row is in a file; retention of its folder waits for that too.
//
// On a filesystem, creating and removing files is what a no-op run costs
// most: a one-row shard per run, folded into the task shard and removed,
// and a claim file per run, took most of the runner's time (see
// docs/benchmarks.md).
type Batch struct {
	studyDir string
	study    *study.Study
	holder   *shard.Holder

	mu      sync.Mutex
	pending []pending
	since   time.Time // the last write, or the start
	paths   []string  // the task shards written
	errs    []error   // rows not recorded, claims not released
	retain  []error   // folders [run] retain could not remove
}

// pending is a finished run whose row is not in a file yet.
type pending struct {
	row   shard.TaskRow
	claim *shard.Claim
	entry manifest.Entry
	ok    bool
}

// NewBatch starts the batch of one packed task of the study st in
// studyDir; Close ends it.
func NewBatch(studyDir string, st *study.Study) (*Batch, error) {
	studyDir, err := filepath.Abs(studyDir)
	if err != nil {
		return nil, err
	}
	h, err := shard.NewHolder(studyDir)
	if err != nil {
		return nil, err
	}
	return &Batch{studyDir: studyDir, study: st, holder: h, since: time.Now()}, nil
}

// add takes a finished run's row, and writes the rows held when due.
func (b *Batch) add(p pending) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, p)
	if len(b.pending) >= batchRows || time.Since(b.since) >= batchEvery {
		b.write()
	}
}

// write writes the rows held as a task shard, then applies retention to
// their folders and releases their claims; b.mu is held. Rows that could
// not be written are dropped with their claims left in place: once the
// task ends, those attempts read as ones whose runner died.
func (b *Batch) write() {
	b.since = time.Now()
	if len(b.pending) == 0 {
		return
	}
	rows := make([]shard.TaskRow, len(b.pending))
	for i, p := range b.pending {
		rows[i] = p.row
	}
	paths, err := shard.WriteTask(b.studyDir, rows)
	b.paths = append(b.paths, paths...)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("%d runs not recorded: %w", len(rows), err))
		b.pending = b.pending[:0]
		return
	}
	for _, p := range b.pending {
		// Retention while the claim is held, as for a run's own shard.
		if err := Retain(b.study, b.studyDir, p.entry, p.ok); err != nil {
			b.retain = append(b.retain, err)
		}
		if err := p.claim.Release(); err != nil {
			b.errs = append(b.errs, err)
		}
	}
	b.pending = b.pending[:0]
}

// Close writes the rows still held, drops the task's claim file and
// returns the task shards written, why [run] retain left folders (the runs
// are recorded all the same), and what kept runs from being recorded.
func (b *Batch) Close() (paths []string, retain, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.write()
	if err := b.holder.Close(); err != nil {
		b.errs = append(b.errs, err)
	}
	return b.paths, errors.Join(b.retain...), errors.Join(b.errs...)
}
