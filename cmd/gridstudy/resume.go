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
nothing, when squeue cannot be asked.

Stage tasks that failed or were lost run again (whatever --failed says:
fix the cause first), before the runs that need them; a run cancelled
because its stage task failed is missing, and is resubmitted to wait for
the new stage task. An after-runs stage task runs again once every run of
its group is ok or resubmitted.`,
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
			req, rep, err := stagedRequest(ctx, c, dir, "resume", st, func(r state.Run) bool {
				return lifecycle.Lost(r.State, failed && r.Attempts < maxAttempts)
			})
			if err != nil {
				return err
			}
			req.DryRun, req.Collect, req.Out = dryRun, collect, e.stdout
			stageTasks := 0
			for _, ts := range req.StageTasks {
				stageTasks += len(ts)
			}
			if len(req.Indices) == 0 && stageTasks == 0 {
				fmt.Fprintf(e.stdout, "nothing to resume: %d runs, none lost\n", len(rep.Runs))
				if collect && !dryRun {
					_, err := batch.Submit(ctx, c, req)
					return err
				}
				return nil
			}
			msg := fmt.Sprintf("resuming %d runs", len(req.Indices))
			if stageTasks > 0 {
				msg += fmt.Sprintf(" and %d stage task%s", stageTasks, plural(stageTasks))
			}
			fmt.Fprintln(e.stdout, msg)
			_, err = batch.Submit(ctx, c, req)
			if err != nil {
				return fmt.Errorf("resume: %w", err)
			}
			return nil
		},
	}
}
