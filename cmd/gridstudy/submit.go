package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/batch"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

func submitCmd() *command {
	var (
		sf      studyFlags
		out     string
		dryRun  bool
		collect bool
	)
	return &command{
		name:  "submit",
		usage: "STUDY.toml|DIR [-o DIR] [--collect] [--dry-run]",
		short: "plan if needed and submit the study's arrays with sbatch",
		long: `Submit plans the study if it is given as a study file, then submits one
array job per chunk with sbatch and records each in slurm/submissions.jsonl.
A study that was already submitted is continued with resume instead.

With [slurm] max_concurrent, the study's arrays run one after another
(each waits for the study's queued arrays), so that no more than
max_concurrent tasks of the study run at once, across chunks and resumes.

With [slurm] max_queued, only what fits under the cap is submitted, and a
small feeder job runs 'gridstudy resume' later to submit the next batch:
once one of the study's arrays ends, or, when your queue is full of other
jobs, once your oldest job ends and a delay that doubles each time has
passed. The study advances with nothing running on the login node.
With --collect, a collect job runs after the arrays.

A study with stages submits each stage as arrays of its own
(slurm/stage_NAME_*.sbatch): first the stage tasks that did not already
end ok, then the runs, each array task waiting (afterok) for the stage
tasks its runs need, then the after-runs stages, waiting (afterany) for
the runs of their groups. A failed stage task cancels the runs that need
it (--kill-on-invalid-dep=yes); resume submits them again after it.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVarP(&out, "output", "o", "", "study directory when planning a study file (default: ./<name>)")
			fs.BoolVar(&dryRun, "dry-run", false, "print the sbatch commands; submit nothing")
			fs.BoolVar(&collect, "collect", false, "queue 'gridstudy collect' after the arrays")
			sf.register(fs)
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			st, dir, err := sf.load(args)
			if err != nil {
				return err
			}
			if err := requireCommand(st); err != nil {
				return err
			}
			if dir == "" {
				if dryRun {
					return usagef("--dry-run needs a planned study directory: run gridstudy plan first")
				}
				lim, _ := slurm.ClusterLimits(ctx)
				if dir, err = planInto(ctx, st, out, lim); err != nil {
					return err
				}
			}
			d, err := studydir.Open(dir)
			if err != nil {
				return err
			}
			st, abs := d.Study, d.Path
			j := slurm.OpenJournal(abs)
			unlock, err := j.Lock()
			if err != nil {
				return err
			}
			defer unlock()
			subs, err := j.Read()
			if err != nil {
				return err
			}
			if len(subs) > 0 {
				return fmt.Errorf("%s was already submitted (%d jobs in slurm/submissions.jsonl): use gridstudy resume %s", dir, len(subs), dir)
			}
			return submitAll(ctx, e, abs, st, dryRun, collect)
		},
	}
}

func submitAll(ctx context.Context, e *env, dir string, st *study.Study, dryRun, collect bool) error {
	c := &slurm.Client{}
	req, _, err := stagedRequest(ctx, c, dir, "submit", st, func(state.Run) bool { return true })
	if err != nil {
		return err
	}
	req.DryRun, req.Collect, req.Out = dryRun, collect, e.stdout
	n, err := batch.Submit(ctx, c, req)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if !dryRun {
		fmt.Fprintf(e.stdout, "%d of %d runs submitted; watch them with: gridstudy status %s\n", n, len(req.Indices), dir)
	}
	return nil
}

// stagedRequest gathers where the runs and stage tasks of the study in dir
// stand (one squeue call) and picks the runs for which want says yes, with
// the stage tasks they need and those that follow them (batch.Select).
// verb names the command in the refusal when squeue cannot be asked.
func stagedRequest(ctx context.Context, c *slurm.Client, dir, verb string, st *study.Study, want func(state.Run) bool) (batch.Request, *state.Report, error) {
	req := batch.Request{Dir: dir, Study: st}
	rep, err := state.Gather(ctx, dir, c)
	if err != nil {
		return req, nil, err
	}
	if rep.QueueErr != nil {
		return req, nil, fmt.Errorf("refusing to %s without the queue (%v): nothing was submitted", verb, rep.QueueErr)
	}
	if req.Stages, err = stage.Read(dir); err != nil {
		return req, nil, err
	}
	tasks, err := state.StageStates(dir, rep)
	if err != nil {
		return req, nil, err
	}
	batch.Select(&req, rep, tasks, want)
	return req, rep, nil
}
