package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/batch"
	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

func resumeCmd() *command {
	var (
		failed      bool
		maxAttempts int
		dryRun      bool
		collect     bool
	)
	return &command{
		name:  "resume",
		usage: "DIR [--failed [--max-attempts N]] [--dry-run] [--collect]",
		short: "resubmit exactly the runs that were lost",
		long: `Resume resubmits the runs that are missing, cancelled, timed out or
preempted (with --failed, also failed runs that have had fewer than
--max-attempts attempts), as compact index lists per array chunk. It never
resubmits a run that is pending or running, and it refuses, submitting
nothing, when squeue cannot be asked.`,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&failed, "failed", false, "also resubmit runs whose command failed")
			fs.IntVar(&maxAttempts, "max-attempts", 3, "with --failed: leave runs that already had this many attempts")
			fs.BoolVar(&dryRun, "dry-run", false, "print what would be submitted; submit nothing")
			fs.BoolVar(&collect, "collect", false, "queue 'gridstudy collect' after the resubmitted arrays")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usagef("want one study directory")
			}
			d, err := studydir.Open(args[0])
			if err != nil {
				return err
			}
			st, dir := d.Study, d.Path
			j := slurm.OpenJournal(dir)
			unlock, err := j.Lock()
			if err != nil {
				return err
			}
			defer unlock()
			c := &slurm.Client{}
			rep, err := state.Gather(ctx, dir, c)
			if err != nil {
				return err
			}
			if rep.QueueErr != nil {
				return fmt.Errorf("refusing to resume without the queue (%v): nothing was submitted", rep.QueueErr)
			}
			var indices []int
			for _, r := range rep.Runs {
				if lifecycle.Lost(r.State, failed && r.Attempts < maxAttempts) {
					indices = append(indices, r.Index)
				}
			}
			if len(indices) == 0 {
				fmt.Fprintf(e.stdout, "nothing to resume: %d runs, none lost\n", len(rep.Runs))
				if collect && !dryRun {
					_, err := batch.Submit(ctx, c, batch.Request{Dir: dir, Study: st, Collect: true, Out: e.stdout})
					return err
				}
				return nil
			}
			fmt.Fprintf(e.stdout, "resuming %d runs\n", len(indices))
			_, err = batch.Submit(ctx, c, batch.Request{Dir: dir, Study: st, Indices: indices, DryRun: dryRun, Collect: collect, Out: e.stdout})
			if err != nil {
				return fmt.Errorf("resume: %w", err)
			}
			return nil
		},
	}
}
