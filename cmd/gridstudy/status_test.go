package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/state"
)

// TestPrintJSONStreamed: status --json writes its runs one at a time, and
// prints byte for byte what encoding the whole document at once prints,
// with no runs, one, or several (an error with characters JSON escapes
// included), filtered by state or not, with stages and a queue error.
func TestPrintJSONStreamed(t *testing.T) {
	runs := []state.Run{
		{Index: 0, RunID: "a_t1", Model: "m", Trial: 1, Dir: "experiments/a", State: "ok", Attempts: 1, Result: 1},
		{Index: 1, RunID: "b_t1", Trial: 1, Dir: "experiments/b", State: "failed", Attempts: 2, Result: 2, Error: "x < 1 & \"y\"\n\tz"},
		{Index: 2, RunID: "c_t1", Trial: 1, Dir: "experiments/c", State: "pending", JobID: "12_2", Reason: "Priority"},
	}
	tasks := []stage.TaskState{{Task: &stage.Task{Index: 0, ID: "s0", Label: "k", Dir: "stages/s/0"}, Stage: "s", State: "ok", Attempts: 1}}
	for _, tc := range []struct {
		name   string
		rep    *state.Report
		tasks  []stage.TaskState
		states []string
	}{
		{"no runs", &state.Report{Counts: map[string]int{}}, nil, nil},
		{"one run", &state.Report{Counts: map[string]int{"ok": 1}, Runs: runs[:1]}, nil, nil},
		{"runs", &state.Report{Counts: map[string]int{"ok": 1, "failed": 1, "pending": 1}, Runs: runs}, nil, nil},
		{"filtered", &state.Report{Counts: map[string]int{"ok": 1, "failed": 1, "pending": 1}, Runs: runs}, nil, []string{"failed", "pending"}},
		{"filtered to none", &state.Report{Counts: map[string]int{"ok": 1}, Runs: runs[:1]}, nil, []string{"failed"}},
		{"stages and queue error", &state.Report{Counts: map[string]int{"ok": 1}, Runs: runs[:2], QueueErr: errors.New("ask squeue: <down>")}, tasks, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := printJSON(&got, tc.rep, tc.tasks, false, tc.states); err != nil {
				t.Fatal(err)
			}
			// The document whole: the same with every run in it.
			var doc statusDoc
			if err := json.Unmarshal(got.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, got.Bytes())
			}
			doc.Runs = []state.Run{}
			for _, r := range tc.rep.Runs {
				if len(tc.states) == 0 || contains(tc.states, r.State) {
					doc.Runs = append(doc.Runs, r)
				}
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("printed\n%s\nwant\n%s", got.Bytes(), want.Bytes())
			}
		})
	}
}

// BenchmarkPrintJSON1M encodes status --json of a million runs, one in
// fifty failed with an error, to nowhere: the part of status --json that
// comes after Gather.
func BenchmarkPrintJSON1M(b *testing.B) {
	rep := &state.Report{Counts: map[string]int{}, Runs: make([]state.Run, 1_000_000)}
	for i := range rep.Runs {
		r := &rep.Runs[i]
		*r = state.Run{Index: i, RunID: fmt.Sprintf("%012x_t%d", i/5, i%5+1), Trial: i%5 + 1,
			Dir: fmt.Sprintf("experiments/x=%d/trial_%d", i/5, i%5+1), State: "ok", Attempts: 1, Result: 1}
		if i%50 == 0 {
			r.State, r.Error = "failed", "exit code 1: out of memory"
		}
	}
	for b.Loop() {
		if err := printJSON(io.Discard, rep, nil, false, nil); err != nil {
			b.Fatal(err)
		}
	}
}
