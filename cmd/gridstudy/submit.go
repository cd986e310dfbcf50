package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/batch"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/slurm"
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

With [slurm] max_queued, only what fits under the cap is submitted, and a
small feeder job runs 'gridstudy resume' after the last array to submit the
next batch: the study advances with nothing running on the login node.
With --collect, a collect job runs after the arrays.`,
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
	var indices []int
	err := manifest.Scan(dir+"/"+manifest.File, func(m manifest.Entry) error {
		indices = append(indices, m.Index)
		return nil
	})
	if err != nil {
		return err
	}
	n, err := batch.Submit(ctx, &slurm.Client{}, batch.Request{Dir: dir, Study: st, Indices: indices, DryRun: dryRun, Collect: collect, Out: e.stdout})
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if !dryRun {
		fmt.Fprintf(e.stdout, "%d of %d runs submitted; watch them with: gridstudy status %s\n", n, len(indices), dir)
	}
	return nil
}
