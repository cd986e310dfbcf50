package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

func cancelCmd() *command {
	var runs []string
	return &command{
		name:  "cancel",
		usage: "DIR [--runs RUN_ID|INDEX,...]",
		short: "scancel the study's queued and running jobs",
		long: `Cancel runs scancel on every job the study submitted (arrays, stage arrays, feeder and
collect jobs) that is still queued, or with --runs only on the array tasks
of the given runs (by run id or manifest index). Cancelled runs can be
resubmitted with resume.

A job id in slurm/submissions.jsonl that SLURM has since given to another
job (its name or submit time differ from the journal's) is left alone.
Cancel asks squeue once, and cancels nothing when squeue cannot be asked.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringSliceVar(&runs, "runs", nil, "only these runs: run ids or manifest indices")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usagef("want one study directory")
			}
			d, err := studydir.Open(args[0])
			if err != nil {
				return err
			}
			dir := d.Path
			c := &slurm.Client{}
			var ids []string
			if len(runs) == 0 {
				if ids, err = studyJobs(ctx, e, c, dir); err != nil {
					return err
				}
			} else {
				rep, err := state.Gather(ctx, dir, c)
				if err != nil {
					return err
				}
				// A run that is not in the manifest is a typo: saying
				// "nothing to cancel" would hide it.
				known := map[string]bool{}
				for _, r := range rep.Runs {
					known[r.RunID] = true
					known[strconv.Itoa(r.Index)] = true
				}
				for _, r := range runs {
					if !known[r] {
						return usagef("--runs: %s has no run %q (give run ids or manifest indices, as gridstudy status --runs lists them)", args[0], r)
					}
				}
				if rep.QueueErr != nil {
					return rep.QueueErr
				}
				want := map[string]bool{}
				for _, r := range runs {
					want[r] = true
				}
				for _, r := range rep.Runs {
					if (want[r.RunID] || want[strconv.Itoa(r.Index)]) && r.JobID != "" {
						ids = append(ids, r.JobID)
					}
				}
			}
			if len(ids) == 0 {
				fmt.Fprintln(e.stdout, "nothing to cancel")
				return nil
			}
			if err := c.Cancel(ctx, ids); err != nil {
				return fmt.Errorf("cancel: %w", err)
			}
			fmt.Fprintf(e.stdout, "cancelled %d job%s\n", len(ids), plural(len(ids)))
			return nil
		},
	}
}

// studyJobs returns the ids of the study's jobs that are still queued,
// from one squeue call over its journal. Ids that now belong to other jobs
// are left out, and named on e.stderr.
func studyJobs(ctx context.Context, e *env, c *slurm.Client, dir string) ([]string, error) {
	subs, err := slurm.OpenJournal(dir).Read()
	if err != nil {
		return nil, err
	}
	tasks, err := c.Queue(ctx, slurm.JobIDs(subs))
	if err != nil {
		return nil, fmt.Errorf("ask squeue which of the study's jobs are queued (nothing was cancelled): %w", err)
	}
	own, foreign := slurm.Claim(subs, tasks)
	var ids []string
	seen := map[string]bool{}
	for _, t := range own {
		// The array job's id cancels all its tasks, pending ones included.
		if !seen[t.ArrayJobID] {
			seen[t.ArrayJobID] = true
			ids = append(ids, t.ArrayJobID)
		}
	}
	warnForeign(e.stderr, foreign, "left alone")
	return ids, nil
}

// warnForeign says, once per job, that a journaled job id now names
// another job (SLURM reuses ids), and what the verb did about it.
func warnForeign(w io.Writer, foreign []slurm.Task, did string) {
	warned := map[string]bool{}
	for _, t := range foreign {
		if !warned[t.ArrayJobID] {
			warned[t.ArrayJobID] = true
			fmt.Fprintf(w, "warning: job %s of the journal is now another job (%q, submitted %s): %s\n",
				t.ArrayJobID, t.Name, t.Submit.Format("2006-01-02 15:04:05"), did)
		}
	}
}
