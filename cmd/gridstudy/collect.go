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
)

func collectCmd() *command {
	var (
		reportOnly bool
		workers    int
	)
	return &command{
		name:  "collect",
		usage: "DIR [--report-only] [--workers N]",
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
data/ without reading shards. Exit status 1 only when no shard could be read.`,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&reportOnly, "report-only", false, "redraw figures and reports from data/; read no shard")
			fs.IntVar(&workers, "workers", 0, "shards read at once (default: one per CPU)")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usagef("want one study directory, got %d arguments", len(args))
			}
			if workers < 0 {
				return usagef("--workers %d: want 0 or more", workers)
			}
			dir := args[0]
			// Collect runs on shared login nodes: a soft limit makes the
			// garbage collector keep the heap of thousands of short-lived
			// shard readers near 100 MB rather than doubling it. A user's
			// GOMEMLIMIT wins.
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(100 << 20)
			}
			opt := collect.Options{Workers: workers, ReportOnly: reportOnly, Version: version}
			// Progress redraws a line: only for a person at a terminal,
			// never into the log of a batch job.
			if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				opt.Progress = f
			}
			res, err := collect.Collect(ctx, dir, opt)
			if res != nil {
				for _, line := range res.SetAsideLines() {
					fmt.Fprintf(e.stderr, "gridstudy collect: %s\n", line)
				}
				for _, w := range res.Warnings {
					fmt.Fprintf(e.stderr, "gridstudy collect: %s\n", w)
				}
			}
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
