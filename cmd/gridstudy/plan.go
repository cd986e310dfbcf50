package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

func planCmd() *command {
	var (
		sf     studyFlags
		out    string
		dryRun bool
	)
	return &command{
		name:  "plan",
		usage: "[STUDY.toml|DIR] [-o DIR] [flags]",
		short: "expand the grid and write the study directory",
		long: `Plan expands the study's grid and writes the study directory: the resolved
study.toml, manifest.parquet (one row per run) and one sbatch array script
per chunk of runs under slurm/. Nothing is submitted.

The study is read from STUDY.toml, from DIR/study.toml, or built from flags
alone (--param, --fixed, --models, --trials). Planning again after adding
values keeps every existing run's id, seed, folder and manifest index.
With --dry-run, plan prints the plan and writes nothing.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVarP(&out, "output", "o", "", "study directory to write (default: ./<name>, or DIR itself)")
			fs.BoolVar(&dryRun, "dry-run", false, "print the plan; write nothing")
			sf.register(fs)
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			st, dir, err := sf.load(args)
			if err != nil {
				return err
			}
			if out == "" {
				out = dir
			}
			if out == "" {
				out = st.Name
			}
			lim, _ := slurm.ClusterLimits(ctx)
			p, err := plan.New(st, out, lim)
			if err != nil {
				return fmt.Errorf("plan %s: %w", st.Name, err)
			}
			if dryRun {
				describe(e.stdout, p, out)
				return nil
			}
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the gridstudy binary to copy: %w", err)
			}
			if err := p.Write(out, version, bin); err != nil {
				return fmt.Errorf("plan %s: %w", out, err)
			}
			fmt.Fprintf(e.stdout, "planned %s: %d cells, %d runs in %d array script%s under %s\n",
				st.Name, len(p.Cells), len(p.Runs), len(p.Chunks), plural(len(p.Chunks)), filepath.Join(out, "slurm"))
			for _, s := range p.Stages.Stages {
				fmt.Fprintf(e.stdout, "stage %s: %d task%s\n", s.Name, len(s.Tasks), plural(len(s.Tasks)))
			}
			for _, w := range p.Warnings {
				fmt.Fprintf(e.stderr, "gridstudy plan: warning: %s\n", w)
			}
			return nil
		},
	}
}

// describe prints a plan for --dry-run.
func describe(w io.Writer, p *plan.Plan, out string) {
	st := p.Study
	fmt.Fprintf(w, "study %s: %d cells", st.Name, len(p.Cells))
	if p.Dropped > 0 {
		fmt.Fprintf(w, " (%d dropped by constraints)", p.Dropped)
	}
	fmt.Fprintf(w, " x %d trial%s = %d runs\n", st.Trials, plural(st.Trials), len(p.Runs))
	if len(st.AllParams()) > 0 {
		fmt.Fprintln(w, "parameters:")
		for _, prm := range st.AllParams() {
			applies := "all models"
			if prm.Model != "" {
				applies = prm.Model + " only"
			}
			fmt.Fprintf(w, "  %-20s %-6s %3d values  %-28s %s, %s\n", prm.Name, prm.Kind, len(prm.Values), span(prm.Values), prm.Scale, applies)
		}
	}
	if len(st.Models) > 0 {
		count := map[string]int{}
		for _, c := range p.Cells {
			count[c.Model]++
		}
		parts := make([]string, len(st.Models))
		for i, m := range st.Models {
			parts[i] = fmt.Sprintf("%s (%d cell%s)", m.Name, count[m.Name], plural(count[m.Name]))
		}
		fmt.Fprintf(w, "models: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "arrays: %d, %d tasks (at most %d per array", len(p.Chunks), p.Tasks(), p.ChunkTasks)
	if p.RunsPerTask > 1 {
		fmt.Fprintf(w, ", %d runs per task", p.RunsPerTask)
	}
	fmt.Fprintln(w, ")")
	for i, c := range p.Chunks {
		if i == 5 && len(p.Chunks) > 6 {
			fmt.Fprintf(w, "  ... %d more\n", len(p.Chunks)-5)
			break
		}
		fmt.Fprintf(w, "  %s  --array=%s  runs %d-%d\n", c.Name, c.Array, c.First, c.Last)
	}
	if st.Slurm.Time != "" && st.Slurm.GPUs > 0 {
		d, _ := study.ParseDuration(st.Slurm.Time)
		hours := float64(p.Tasks()) * d.Hours() * float64(st.Slurm.GPUs)
		fmt.Fprintf(w, "GPU-hours at most: %d tasks x %s x %d GPU = %.1f\n", p.Tasks(), d.Round(time.Second), st.Slurm.GPUs, hours)
	}
	fmt.Fprintf(w, "dry run: nothing written (would write %s)\n", out)
}

func span(vals []study.Value) string {
	if len(vals) <= 4 {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = v.String()
		}
		return strings.Join(parts, ", ")
	}
	return vals[0].String() + " ... " + vals[len(vals)-1].String()
}
