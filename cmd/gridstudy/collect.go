package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gridstudy/gridstudy/collect"
	"github.com/gridstudy/gridstudy/internal/shard"
)

// collectGCPercent is the garbage collector's GOGC for collect: the heap
// may grow this many percent over the live heap between collections.
const collectGCPercent = 70

func collectCmd() *command {
	var (
		reportOnly bool
		compact    bool
		workers    int
	)
	return &command{
		name:  "collect",
		usage: "DIR [--report-only] [--compact] [--workers N]",
		short: "merge the shards into tables, figures and reports",
		long: `Collect reads the shards of the study in DIR and writes the results:
data/ (raw_results_all_trials, aggregated_results, statistical_summary,
history), study_summary.toml, figures under visualizations/ and reports
under reports/ (executive_summary.md, detailed_analysis.html, latex_figures/).

For each run it keeps its result, the latest finished attempt, as status
and resume see it. A shard that cannot be used (truncated, from another
study, column types that disagree with the study) is set aside and named
with its reason, and its run counts that attempt as failed; the rest is
collected. A second collect reads only the shards that arrived since the
first. With --report-only, collect redraws the figures and reports from
data/ without reading shards. Exit status 1 only when no shard could be read.

With --compact, collect first folds every shard of its own (one per run
attempt) and every task shard (one per attempt of a packed task) into part
files, shards/part-NNNN.parquet of up to 10,000 runs each, and removes
them: a study's files then number in the tens, not one per run. A part is
synced before anything is removed, and each run's attempt counts once
wherever it lies, so a compaction killed at any point loses and doubles
nothing; the next --compact finishes it (docs/run-protocol.md).`,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&reportOnly, "report-only", false, "redraw figures and reports from data/; read no shard")
			fs.IntVar(&workers, "workers", 0, "shards read at once (default: one per CPU)")
			fs.BoolVar(&compact, "compact", false, "fold the shards into part files first, removing the originals")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usagef("want one study directory, got %d arguments", len(args))
			}
			if workers < 0 {
				return usagef("--workers %d: want 0 or more", workers)
			}
			dir := args[0]
			// No soft memory limit: collect's live heap grows with the
			// study (docs/benchmarks.md), and a fixed limit below it kept
			// the garbage collector running without pause. Headroom in
			// proportion to the live heap instead, less than Go's default
			// 100%: at 100,000 runs it cut the peak by a sixth for 5% more
			// CPU. A user's GOGC or GOMEMLIMIT still applies.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(collectGCPercent)
			}
			if compact && reportOnly {
				return usagef("--compact reads shards: give it without --report-only")
			}
			if compact {
				c, err := shard.Compact(dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "compacted %d shard files (%d runs' attempts) into %d part%s\n", c.Removed, c.Rows, c.Parts, plural(c.Parts))
			}
			opt := collect.Options{Workers: workers, ReportOnly: reportOnly, Version: version}
			// Progress redraws a line: only for a person at a terminal,
			// never into the log of a batch job.
			if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				opt.Progress = f
			}
			res, err := collect.Collect(ctx, dir, opt)
			printCollectNotes(e.stderr, "collect", res)
			if err != nil {
				return err
			}
			how := fmt.Sprintf("read %d of %d shard files", res.Read, res.Shards)
			if reportOnly {
				how = "from data/"
			} else if res.Why != "" {
				how += " (from scratch: " + res.Why + ")"
			}
			fmt.Fprintf(e.stdout, "collected %d runs in %d cells: %d ok, %d failed, %d lost; %d shard%s set aside; %s\n",
				res.Runs, res.Cells, res.OK, res.Failed, res.Lost, len(res.SetAside), plural(len(res.SetAside)), how)
			fmt.Fprintf(e.stdout, "tables %s, figures and reports %s (%d files) in %s\n",
				res.ReadTime.Round(time.Millisecond), res.ReportTime.Round(time.Millisecond), len(res.Figures), dir)
			return nil
		},
	}
}
