package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/runner"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// execOptions are the flags of gridstudy exec.
type execOptions struct {
	task   int
	offset int
	index  int
	force  bool
	grace  time.Duration
	stage  string
}

func execCmd() *command {
	var o execOptions
	return &command{
		name:  "exec",
		usage: "DIR [--stage NAME] [--task N] [--offset O] [--index I] [--force] [--grace D]",
		short: "run the runs of one array task (called by the sbatch scripts)",
		long: `Exec is the in-job runner: it runs the runs of one array task of the study
in DIR and writes one shard per run into DIR/shards. The sbatch scripts call
it as 'gridstudy exec DIR --offset O'; the task id comes from --task or from
SLURM_ARRAY_TASK_ID. With runs_per_task K, task t runs the manifest indices
O + t*K ... O + t*K + K-1, at most [slurm] runs_at_once of them at a time
(default: cpus_per_task, else 1) while the others wait in the task, each in
its own process group with its own shard; once all have ended, their shards
are folded into one task shard, DIR/shards/task-<run_id>-a<N>.parquet, with
a row per run (docs/run-protocol.md). --index runs one manifest index alone.

A run that already has an ok shard is skipped unless --force. SIGTERM,
SIGINT and SIGUSR1 are passed on to the runs' commands, which are killed
after --grace; every run's shard is written before exec exits, with status
timeout, preempted or cancelled. Exit status 0 when every run is ok, 1
otherwise: a signal that stopped the runs gives 1, not 130, since the
stop is recorded in their shards and the task did not succeed.

A run whose stage task (a [stages.NAME] before the runs) is not ok is not
started: exec says which and exits 1, recording nothing. With --stage NAME
exec runs task N of that stage instead (N = --offset + --task, or
SLURM_ARRAY_TASK_ID), with the same claims and shards as runs, under
DIR/stages/NAME/shards. A stage task whose earlier stage task is not ok is
not started (exit 1); an after-runs task whose group has a run that is not
ok records itself as failed with "blocked: …" and exits 0 without running
its command.`,
		flags: func(fs *pflag.FlagSet) {
			fs.IntVar(&o.task, "task", 0, "array task id (default: $SLURM_ARRAY_TASK_ID)")
			fs.IntVar(&o.offset, "offset", 0, "manifest index of the array's task 0 (its chunk's offset)")
			fs.IntVar(&o.index, "index", 0, "run the run at this manifest index alone")
			fs.BoolVar(&o.force, "force", false, "run even when an ok shard exists")
			fs.StringVar(&o.stage, "stage", "", "run a task of this stage instead of runs")
			fs.DurationVar(&o.grace, "grace", runner.DefaultGrace, "time a signalled command has to exit before it is killed; unset, two thirds of the KillWait that submit passed on, if any")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			return runExec(ctx, e, fs, o, args)
		},
	}
}

// execIndices returns the manifest indices the task must run.
func execIndices(fs *pflag.FlagSet, o execOptions, layout slurm.Layout) ([]int, error) {
	if fs.Changed("index") {
		if fs.Changed("task") || fs.Changed("offset") {
			return nil, usagef("--index names a run directly: give it without --task and --offset")
		}
		if o.index < 0 {
			return nil, usagef("--index %d: manifest indices start at 0", o.index)
		}
		return []int{o.index}, nil
	}
	if o.offset < 0 {
		return nil, usagef("--offset %d: offsets start at 0", o.offset)
	}
	task := o.task
	if !fs.Changed("task") {
		v := os.Getenv("SLURM_ARRAY_TASK_ID")
		if v == "" {
			return nil, usagef("no array task: give --task N or --index I, or run inside a SLURM array job (SLURM_ARRAY_TASK_ID)")
		}
		t, err := strconv.Atoi(v)
		if err != nil {
			return nil, usagef("SLURM_ARRAY_TASK_ID=%q is not a task id", v)
		}
		task = t
	}
	if task < 0 {
		return nil, usagef("task %d: array task ids start at 0", task)
	}
	return layout.Indices(o.offset, task), nil
}

func runExec(ctx context.Context, e *env, fs *pflag.FlagSet, o execOptions, args []string) error {
	if len(args) != 1 {
		return usagef("exec takes one study directory, got %d arguments", len(args))
	}
	if o.grace <= 0 {
		return usagef("--grace %s: give a positive duration", o.grace)
	}
	dir := args[0]
	d, err := studydir.Open(dir)
	if err != nil {
		return err
	}
	st := d.Study
	if !fs.Changed("grace") {
		// Inside a job submitted by gridstudy: follow the cluster's KillWait.
		o.grace = runner.ClusterGrace(os.Getenv)
	}
	stages, err := stage.Read(d.Path)
	if err != nil {
		return err
	}
	if fs.Changed("stage") {
		return execStage(ctx, e, fs, o, d, stages)
	}
	indices, err := execIndices(fs, o, d.Layout)
	if err != nil {
		return err
	}
	entries, last, err := d.Lookup(indices)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return usagef("no run at manifest index %s: the manifest's indices end at %d", span2(indices), last)
	}
	// A run whose stage task is not ok would fail for want of its input:
	// it is not started, and stays missing for resume.
	for _, entry := range entries {
		if why := stages.Unmet(d.Path, entry.Index); why != "" {
			return fmt.Errorf("run %s (index %d) not started: %s", entry.RunID, entry.Index, why)
		}
	}

	// The runs get their own signal handling, not main's context: main
	// cancels on SIGTERM without saying why, and the shards must record
	// timeout or preemption where SLURM meant one.
	runCtx, stop := runner.StopOnSignals(context.WithoutCancel(ctx), runner.Classifier{Lead: st.Slurm.SignalLead()})
	defer stop()
	var stdout, stderr io.Writer
	if len(entries) == 1 {
		// One run per task: its output also goes to the SLURM log, where
		// users look first. Packed runs would interleave there.
		stdout, stderr = e.stdout, e.stderr
	}
	var batch *runner.Batch
	if len(entries) > 1 {
		// One file per task attempt rather than per run, and one claim
		// file: the runs' rows wait in memory for the task shard.
		if batch, err = runner.NewBatch(dir, st); err != nil {
			return err
		}
	}
	var (
		mu     sync.Mutex
		failed int
		wg     sync.WaitGroup
	)
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(e.stdout, format, args...)
	}
	// At most runs_at_once runs hold a slot; the others wait here, in
	// manifest order, for one to end.
	slots := make(chan struct{}, st.Slurm.RunsAtOnceOrDefault())
	for _, entry := range entries {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			res, err := runner.Run(runCtx, runner.Job{StudyDir: dir, Study: st, Entry: entry, Stdout: stdout, Stderr: stderr,
				Force: o.force, Grace: o.grace, Version: version, Stages: stages.RunStages(d.Path, entry.Index), Batch: batch})
			switch {
			case err != nil:
				say("gridstudy exec: run %s (index %d): %v\n", entry.RunID, entry.Index, err)
			case res.Skipped:
				say("skip %s (index %d): attempt %d is ok already; --force runs it again\n", res.RunID, entry.Index, res.Attempt)
				return
			case res.Busy:
				say("skip %s (index %d): another runner is executing it now\n", res.RunID, entry.Index)
				return
			default:
				say("%s\n", summary(entry.Index, res))
				if res.Status == shard.StatusOK {
					return
				}
			}
			mu.Lock()
			failed++
			mu.Unlock()
		})
	}
	wg.Wait()
	if batch != nil {
		paths, retain, err := batch.Close()
		for _, p := range paths {
			say("task shard: %s\n", p)
		}
		if retain != nil {
			say("gridstudy exec: retention: %v\n", retain)
		}
		if err != nil {
			// Rows not written leave their runs to be run again: the
			// task did not succeed.
			say("gridstudy exec: %v\n", err)
			failed = max(failed, 1)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d run%s did not succeed", failed, len(entries), plural(len(entries)))
	}
	return nil
}

// summary is the line exec prints for a finished run.
func summary(index int, r runner.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (index %d) attempt %d in %.1fs", r.Status, r.RunID, index, r.Attempt, r.Wall.Seconds())
	switch {
	case r.Signal != "":
		fmt.Fprintf(&b, ", killed by %s", r.Signal)
	case r.ExitCode > 0:
		fmt.Fprintf(&b, ", exit code %d", r.ExitCode)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, ": %s", r.Error)
	}
	if r.Status != shard.StatusOK && r.LastStderr != "" {
		fmt.Fprintf(&b, "\n  last stderr line: %s", r.LastStderr)
	}
	if r.Shard != "" {
		fmt.Fprintf(&b, "\n  shard: %s", r.Shard)
	}
	if r.RetainError != nil {
		fmt.Fprintf(&b, "\n  retention: %v", r.RetainError)
	}
	return b.String()
}

// span2 prints a list of consecutive indices as "a" or "a-b".
func span2(indices []int) string {
	if len(indices) == 1 {
		return strconv.Itoa(indices[0])
	}
	return fmt.Sprintf("%d-%d", indices[0], indices[len(indices)-1])
}

// execStage runs one task of stage o.stage: the task at --offset plus the
// array task id.
func execStage(ctx context.Context, e *env, fs *pflag.FlagSet, o execOptions, d *studydir.Dir, p *stage.Plan) error {
	s := p.Stage(o.stage)
	if s == nil {
		return usagef("--stage %s: the study has no such stage", o.stage)
	}
	if fs.Changed("index") {
		return usagef("--index names a run: give --task N for a stage task")
	}
	indices, err := execIndices(fs, o, slurm.Layout{RunsPerTask: 1})
	if err != nil {
		return err
	}
	i := indices[0]
	if i >= len(s.Tasks) {
		return usagef("stage %s has %d tasks: no task %d", s.Name, len(s.Tasks), i)
	}
	t := s.Tasks[i]
	if why := p.UnmetNeeds(d.Path, t); why != "" {
		return fmt.Errorf("stage %s task %d (%s) not started: %s", s.Name, i, t.Label, why)
	}
	// An after-runs task decides about its group itself (SLURM starts it
	// once its runs ended, whatever their end).
	states := map[int]string{}
	if s.After != "" {
		entries, _, err := d.Lookup(t.Runs)
		if err != nil {
			return err
		}
		for _, en := range entries {
			states[en.Index] = lifecycle.Decide(lifecycle.Probe(d.Path, en.RunID), lifecycle.Queued{}).State
		}
	}
	job, err := runner.ForStage(d.Path, d.Study, s, t, func(i int) string { return states[i] })
	if err != nil {
		return err
	}
	job.Version = version
	runCtx, stop := runner.StopOnSignals(context.WithoutCancel(ctx), runner.Classifier{Lead: d.Study.Slurm.SignalLead()})
	defer stop()
	job.Stdout, job.Stderr, job.Grace = e.stdout, e.stderr, o.grace
	job.Force = job.Force || o.force // ForStage forces a task whose folder is gone
	if !fs.Changed("grace") {
		job.Grace = runner.ClusterGrace(os.Getenv)
	}
	res, err := runner.Run(runCtx, job)
	switch {
	case err != nil:
		return fmt.Errorf("stage %s task %d: %w", s.Name, i, err)
	case res.Skipped:
		fmt.Fprintf(e.stdout, "skip stage %s task %d (%s): attempt %d is ok already; --force runs it again\n", s.Name, i, t.Label, res.Attempt)
		return nil
	case res.Busy:
		fmt.Fprintf(e.stdout, "skip stage %s task %d (%s): another runner is executing it now\n", s.Name, i, t.Label)
		return nil
	}
	fmt.Fprintf(e.stdout, "stage %s task %d: %s\n", s.Name, i, summary(i, res))
	if res.Status != shard.StatusOK && job.Stage.Blocked == "" {
		return fmt.Errorf("stage %s task %d (%s) did not succeed", s.Name, i, t.Label)
	}
	return nil
}
