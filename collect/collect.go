// Package collect turns the shards of a study directory into the study's
// results: the merged tables under data/, the figures under visualizations/,
// the reports under reports/ and study_summary.toml.
//
// Collect reads the shards in parallel and streaming, keeps for each run its
// result (its latest finished attempt, by package lifecycle), aggregates each cell over its
// trials, and analyses the grid: the best cell per metric, outlier trials,
// the sensitivity of each metric to each parameter and the differences
// between models. A shard that cannot be used (truncated, from another
// study, with column types that disagree with the study) is set aside and
// named with its reason; it never stops the rest.
//
// Collecting is incremental: data/ holds the kept attempts and an index of
// the shard files already read (name, size, modification time), so a
// second collect reads only the shards that arrived since, and writes the
// same tables, byte for byte, as a collect from scratch.
package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/gridstudy/gridstudy/internal/lock"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// ErrNothingRead is returned (wrapped) when a study has no shard that could
// be read: there is nothing to aggregate or report.
var ErrNothingRead = errors.New("no shard could be read")

// Options control a collect.
type Options struct {
	// Workers is the number of shards read at once; 0 means one per CPU.
	Workers int
	// ReportOnly redraws the figures and reports from the tables already
	// in data/, reading no shard.
	ReportOnly bool
	// Progress receives a progress line (files read, rate, ETA) while
	// shards are read; nil for none. Pass a terminal only: the line is
	// redrawn with carriage returns.
	Progress io.Writer
	// Version is the gridstudy version recorded in study_summary.toml.
	Version string
	// Now stamps the summary and the reports; nil means time.Now.
	Now func() time.Time
}

// BadShard is a shard file that was set aside, and why.
type BadShard struct {
	Name   string // file name in shards/
	Reason string
}

// Result describes what a collect did.
type Result struct {
	Runs    int // runs in the manifest
	OK      int // runs whose kept attempt is ok
	Failed  int // runs whose kept attempt failed, timed out, was preempted or cancelled
	Lost    int // runs without any usable shard
	Cells   int
	Shards  int // shard files in shards/
	Read    int // shard files read by this collect (the rest were already in data/)
	Rebuilt bool
	// Why says why the collect started from scratch although data/ held
	// an earlier one ("" when it was incremental or the first).
	Why      string
	SetAside []BadShard
	Figures  []string // figure files written
	// Warnings name the metrics whose type changed between runs (kept
	// as text), then the figures that could not be drawn; the reports
	// list them too.
	Warnings []string
	// ReadTime is the time spent reading shards and writing the tables;
	// ReportTime the time spent on figures and reports.
	ReadTime, ReportTime time.Duration
}

// Collect collects the study in dir: it reads the shards that are new since
// the last collect, writes data/, study_summary.toml, visualizations/ and
// reports/, and says what it did. With Options.ReportOnly it reads data/
// instead of the shards. Bad shards are set aside and listed in the Result
// and the reports; an error means nothing usable was produced, or a
// table, figure or report could not be written.
func Collect(ctx context.Context, dir string, opt Options) (*Result, error) {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	d, err := studydir.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("collect %s: %w", dir, err)
	}
	// Two collects at once would each write tables and a shard index:
	// data/ could end with one's tables and the other's index, and miss
	// runs for good. The second waits for the first.
	held, err := lock.Wait(ctx, studydir.Lock(d.Path, studydir.CollectLockFile))
	if err != nil {
		return nil, fmt.Errorf("collect %s: %w", dir, err)
	}
	defer held.Unlock()
	st := d.Study
	entries, err := d.Entries()
	if err != nil {
		return nil, fmt.Errorf("collect %s: %w", dir, err)
	}
	g := newGrid(st, entries)
	// The grid has each cell's parameter values: a map per run would
	// only hold memory from here on.
	for i := range entries {
		entries[i].Params = nil
	}
	start := time.Now()
	res := &Result{Runs: len(entries), Cells: len(g.cells)}
	var s *state
	if opt.ReportOnly {
		s, err = loadData(dir, g)
		if err != nil {
			return nil, fmt.Errorf("collect %s --report-only: %w", dir, err)
		}
	} else {
		s, err = update(ctx, dir, g, opt, res)
		if err != nil {
			return nil, fmt.Errorf("collect %s: %w", dir, err)
		}
	}
	var stageWarnings []string
	if !opt.ReportOnly {
		// After-runs stages' metrics go on their runs' rows (stages.go).
		if stageWarnings, err = attachStageMetrics(dir, g, s); err != nil {
			return nil, fmt.Errorf("collect %s: %w", dir, err)
		}
	}
	res.SetAside = s.bad
	_, res.Warnings = s.retyped()
	res.Warnings = append(res.Warnings, stageWarnings...)
	if !slices.ContainsFunc(s.runs, func(r *runRec) bool { return r != nil && !r.aside }) {
		return res, fmt.Errorf("collect %s: %w (%d shard files, %d set aside)", dir, ErrNothingRead, res.Shards, len(s.bad))
	}
	a := analyse(st, g, s)
	res.OK, res.Failed, res.Lost = a.ok, a.failed, a.lost
	if !opt.ReportOnly {
		if err := writeTables(dir, g, s, a); err != nil {
			return res, fmt.Errorf("collect %s: %w", dir, err)
		}
	}
	res.ReadTime = time.Since(start)
	start = time.Now()
	if err := writeReports(ctx, dir, st, g, s, a, opt, res); err != nil {
		return res, fmt.Errorf("collect %s: %w", dir, err)
	}
	res.ReportTime = time.Since(start)
	return res, nil
}

// mkdirs creates the folders of dir that a collect writes into.
func mkdirs(dir string, subs ...string) error {
	for _, s := range subs {
		if err := os.MkdirAll(filepath.Join(dir, s), 0o755); err != nil {
			return err
		}
	}
	return nil
}
