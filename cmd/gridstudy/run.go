package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gridstudy/gridstudy/collect"
	"github.com/gridstudy/gridstudy/internal/local"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// errRunsFailed makes run exit 1 once the summary is printed.
var errRunsFailed = errors.New("some runs did not end ok")

func runCmd() *command {
	var (
		sf          studyFlags
		out         string
		workers     int
		gpus        string
		gpuPerRun   float64
		memPerRun   string
		maxAttempts int
		noCollect   bool
		wait        bool
	)
	return &command{
		name:  "run",
		usage: "STUDY.toml|DIR [-o DIR] [--workers N] [--gpus auto|none|0,1] [flags]",
		short: "run the study on this machine, then collect",
		long: `Run executes the study here, with the same runner as the cluster: it plans
the study if it is given as a study file, runs every run that is not yet ok
with a pool of workers, then collects (unless --no-collect).

GPUs are shared out by CUDA_VISIBLE_DEVICES: --gpus auto detects them with
nvidia-smi; gpu_per_run = 0.5 lets two runs share a GPU, 2 gives a run two.
mem_per_run limits concurrency to the memory available. Ctrl-C stops
cleanly: running commands are signalled and recorded as cancelled, finished
runs are kept, and running gridstudy run again continues where it stopped.

Stages ([stages.NAME]) share the workers: a stage task runs once its
earlier stage tasks are ok, a run once its stage tasks are ok, an
after-runs task once every run of its group is ok. A stage task that fails
blocks only what needs it; the summary lists what was blocked and by what.
Running again re-runs failed stage tasks, then the runs they blocked.
One 'gridstudy run' per study at a time: a second one refuses (exit 1), or
waits for the first with --wait.

Exit code 0 when every run is ok, 1 when some are not, 2 for bad usage or a
bad study.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVarP(&out, "output", "o", "", "study directory when planning a study file (default: ./<name>)")
			fs.IntVar(&workers, "workers", 0, "runs at once (default: [local] workers, else the CPU count)")
			fs.StringVar(&gpus, "gpus", "", "GPUs to use: auto, none or a list such as 0,1 (default: [local] gpus, else auto)")
			fs.Float64Var(&gpuPerRun, "gpu-per-run", 0, "GPUs per run; 0.5 shares a GPU between two runs (default: [local] gpu_per_run)")
			fs.StringVar(&memPerRun, "mem-per-run", "", "memory per run, such as 8G (default: [local] mem_per_run)")
			fs.IntVar(&maxAttempts, "max-attempts", 0, "attempts per failed run in this call (default: [local] max_attempts, else 1)")
			fs.BoolVar(&noCollect, "no-collect", false, "do not collect after the runs")
			fs.BoolVar(&wait, "wait", false, "wait for another 'gridstudy run' of the same study to end, instead of refusing")
			sf.register(fs)
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if workers < 0 || maxAttempts < 0 || gpuPerRun < 0 {
				return usagef("--workers, --max-attempts and --gpu-per-run must not be negative")
			}
			st, dir, err := sf.load(args)
			if err != nil {
				return err
			}
			if err := requireCommand(st); err != nil {
				return err
			}
			if dir == "" {
				// A workstation has no cluster limits to read. Two runs
				// planning one study at once write the same files, each
				// atomically: the lock can wait until the plan exists.
				if dir, err = planInto(ctx, st, out, slurm.Limits{MaxArraySize: slurm.DefaultMaxArraySize}); err != nil {
					return err
				}
			}
			unlock, err := local.Lock(ctx, dir, wait)
			if err != nil {
				return err
			}
			defer unlock()
			d, err := studydir.Open(dir)
			if err != nil {
				return err
			}
			st, abs := d.Study, d.Path
			opt := local.Options{Workers: workers, GPUPerRun: gpuPerRun, MaxAttempts: maxAttempts, Version: version, Progress: e.stderr}
			if gpus == "" {
				gpus = "auto"
				switch g := st.Local.GPUs.(type) {
				case string:
					gpus = g
				case []any:
					gpus = ""
					for i, x := range g {
						if i > 0 {
							gpus += ","
						}
						gpus += fmt.Sprint(x)
					}
				}
			}
			if opt.GPUs, err = local.ParseGPUs(ctx, gpus); err != nil {
				return usagef("%v", err)
			}
			if memPerRun == "" {
				memPerRun = st.Local.MemPerRun
			}
			if memPerRun != "" {
				if opt.MemPerRun, err = local.ParseSize(memPerRun); err != nil {
					return usagef("%v", err)
				}
			}
			if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				opt.Terminal = true
			}
			entries, err := manifest.Read(filepath.Join(abs, manifest.File))
			if err != nil {
				return err
			}
			if opt.Stages, err = stage.Read(abs); err != nil {
				return err
			}
			sum, runErr := local.Run(ctx, abs, st, entries, opt)
			if sum != nil {
				sum.Describe(e.stdout)
			}
			if runErr != nil {
				return runErr
			}
			if !noCollect {
				copt := collect.Options{Version: version}
				if opt.Terminal {
					copt.Progress = e.stderr
				}
				res, err := collect.Collect(ctx, abs, copt)
				printCollectNotes(e.stderr, "run", res)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "collected %d runs in %d cells (%d ok, %d failed, %d lost): tables in %s, figures in %s, reports in %s\n",
					res.Runs, res.Cells, res.OK, res.Failed, res.Lost, filepath.Join(dir, "data"), filepath.Join(dir, "visualizations"), filepath.Join(dir, "reports"))
			}
			if len(sum.Failures) > 0 || len(sum.StageFailures) > 0 || len(sum.Blocked) > 0 {
				return errRunsFailed
			}
			return nil
		},
	}
}

// printCollectNotes writes what collect says besides its tables, on
// stderr: the shards it set aside and why, then its warnings (a metric
// whose type changed, a figure that could not be drawn, …). Both collect and run print them, so that a study run here
// warns as much as one collected by hand.
func printCollectNotes(w io.Writer, verb string, res *collect.Result) {
	if res == nil {
		return
	}
	for _, line := range res.SetAsideLines() {
		fmt.Fprintf(w, "gridstudy %s: %s\n", verb, line)
	}
	for _, line := range res.Warnings {
		fmt.Fprintf(w, "gridstudy %s: %s\n", verb, line)
	}
}
