package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

func statusCmd() *command {
	var (
		asJSON bool
		watch  time.Duration
		runs   bool
		states []string
	)
	return &command{
		name:  "status",
		usage: "DIR [--json] [--watch[=INTERVAL]] [--runs [--state S,...]]",
		short: "count runs by state, from squeue and the shards",
		long: `Status tells where each run of the study stands: ok, failed, cancelled,
timeout or preempted (from its last shard), running or pending (from squeue)
or missing (no shard and not queued: a node died, or a job was killed before
the runner could write). It asks squeue once per call, whatever the size of
the study. If squeue cannot be asked, status says so and shows what the
shards alone say. With --runs or --json, a run that failed, was cancelled,
timed out or was preempted comes with the error its result shard records
(a failed command, metrics that could not be computed, …).

A study with stages ([stages.NAME]) also gets a line per stage counting its
tasks by state; blocked is a task that cannot run because an earlier stage
task it needs, or (after the runs) a run of its group, did not end ok.
--json adds "stages": {NAME: {counts}} and "stage_tasks": [...].`,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&asJSON, "json", false, `print {"counts": {...}, "runs": [...]}`)
			fs.DurationVar(&watch, "watch", 0, "refresh every `INTERVAL` until interrupted")
			fs.Lookup("watch").NoOptDefVal = "10s"
			fs.BoolVar(&runs, "runs", false, "list the runs, one per line")
			fs.StringSliceVar(&states, "state", nil, "with --runs: only runs in these states")
		},
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			if len(args) != 1 {
				return usagef("want one study directory")
			}
			for _, s := range states {
				if !contains(lifecycle.States, s) {
					return usagef("--state %q: want one of %s", s, strings.Join(lifecycle.States, ", "))
				}
			}
			d, err := studydir.Open(args[0])
			if err != nil {
				return err
			}
			dir := d.Path
			for {
				rep, err := state.Gather(ctx, dir, &slurm.Client{})
				if err != nil {
					return err
				}
				if asJSON || runs {
					state.Explain(dir, rep)
				}
				tasks, err := state.StageStates(dir, rep)
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(e.stdout, rep, tasks, runs, states); err != nil {
						return err
					}
				} else {
					printStatus(e.stdout, rep, runs, states)
					printStages(e.stdout, tasks, runs, states)
				}
				if watch <= 0 {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(watch):
				}
			}
		},
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func printStatus(w io.Writer, rep *state.Report, runs bool, states []string) {
	if rep.QueueErr != nil {
		fmt.Fprintf(w, "warning: %v\nwarning: states below come from the shards alone; queued runs show as missing\n", rep.QueueErr)
	}
	warnForeign(w, rep.Foreign, "left out; its runs stand as their shards say")
	total := len(rep.Runs)
	var parts []string
	for _, s := range lifecycle.States {
		if n := rep.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	fmt.Fprintf(w, "%d runs: %s\n", total, strings.Join(parts, ", "))
	if !runs {
		return
	}
	for _, r := range rep.Runs {
		if len(states) > 0 && !contains(states, r.State) {
			continue
		}
		extra := r.JobID
		if r.Reason != "" && r.Reason != "None" {
			extra += " (" + r.Reason + ")"
		}
		fmt.Fprintf(w, "%6d  %-9s  %s  attempts %d  %s %s\n", r.Index, r.State, r.RunID, r.Attempts, r.Dir, extra)
		if r.Error != "" {
			fmt.Fprintf(w, "        %s\n", r.Error)
		}
	}
}

// stageTask is one stage task as status --json prints it.
type stageTask struct {
	Stage    string `json:"stage"`
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Key      string `json:"key"`
	Dir      string `json:"dir"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Why      string `json:"why,omitempty"`
}

// printStages writes a line per stage counting its tasks by state and,
// with runs, a line per task (only those in states, when given).
func printStages(w io.Writer, tasks []stage.TaskState, runs bool, states []string) {
	counts := state.StageCounts(tasks)
	seen := map[string]bool{}
	for _, t := range tasks {
		if seen[t.Stage] {
			continue
		}
		seen[t.Stage] = true
		var parts []string
		n := 0
		for _, s := range state.StageStateOrder {
			if c := counts[t.Stage][s]; c > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", s, c))
				n += c
			}
		}
		fmt.Fprintf(w, "stage %s: %d task%s: %s\n", t.Stage, n, plural(n), strings.Join(parts, ", "))
	}
	if !runs {
		return
	}
	for _, t := range tasks {
		if len(states) > 0 && !contains(states, t.State) {
			continue
		}
		fmt.Fprintf(w, "%6d  %-9s  stage %s (%s)  attempts %d  %s\n", t.Task.Index, t.State, t.Stage, t.Task.Label, t.Attempts, t.Task.Dir)
		if t.Why != "" {
			fmt.Fprintf(w, "        blocked by %s\n", t.Why)
		}
	}
}

// statusDoc is the document status --json prints.
type statusDoc struct {
	Counts     map[string]int            `json:"counts"`
	Runs       []state.Run               `json:"runs"`
	Stages     map[string]map[string]int `json:"stages,omitempty"`
	StageTasks []stageTask               `json:"stage_tasks,omitempty"`
	QueueError string                    `json:"queue_error,omitempty"`
}

func printJSON(w io.Writer, rep *state.Report, tasks []stage.TaskState, runs bool, states []string) error {
	out := statusDoc{Counts: map[string]int{}, Runs: []state.Run{}}
	if len(tasks) > 0 {
		counts := state.StageCounts(tasks)
		out.Stages = map[string]map[string]int{}
		for _, t := range tasks {
			if out.Stages[t.Stage] == nil {
				out.Stages[t.Stage] = map[string]int{}
				for _, s := range state.StageStateOrder {
					out.Stages[t.Stage][s] = counts[t.Stage][s]
				}
			}
			if len(states) == 0 || contains(states, t.State) {
				out.StageTasks = append(out.StageTasks, stageTask{Stage: t.Stage, Index: t.Task.Index, ID: t.Task.ID,
					Key: t.Task.Label, Dir: t.Task.Dir, State: t.State, Attempts: t.Attempts, Why: t.Why})
			}
		}
	}
	for _, s := range lifecycle.States {
		out.Counts[s] = rep.Counts[s]
	}
	if rep.QueueErr != nil {
		out.QueueError = rep.QueueErr.Error()
	}
	// The document is encoded with no runs, and the runs are written into
	// its empty list one at a time, as the whole document would have them:
	// at a million runs, the document built in memory took 270 MB more.
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(doc.Bytes(), []byte("\n  \"runs\": []"))
	if !ok {
		return fmt.Errorf("status --json: no runs list in %q", doc.Bytes())
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head)
	bw.WriteString("\n  \"runs\": [")
	n := 0
	for i := range rep.Runs {
		r := &rep.Runs[i]
		if len(states) > 0 && !contains(states, r.State) {
			continue
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		run, err := json.MarshalIndent(r, "    ", "  ")
		if err != nil {
			return err
		}
		bw.Write(run)
		n++
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteByte(']')
	bw.Write(tail)
	return bw.Flush()
}
