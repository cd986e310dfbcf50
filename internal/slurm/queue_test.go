package slurm

import (
	"testing"
	"time"
)

func TestParseQueue(t *testing.T) {
	out := "71_3|71|3|RUNNING|None|2026-11-27T10:58:13|0|dose\n" +
		"72|72|N/A|PENDING|JobHeldUser|2026-11-27T10:59:00|2|name | with | bars\n" +
		"\n" +
		"73_0|73|0|PENDING|BeginTime|N/A|x|s\n"
	got, err := parseQueue(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{
		{JobID: "71_3", ArrayJobID: "71", TaskID: 3, State: "RUNNING", Reason: "None", Name: "dose",
			Submit: time.Date(2026, 11, 27, 10, 58, 13, 0, time.Local)},
		{JobID: "72", ArrayJobID: "72", TaskID: -1, State: "PENDING", Reason: "JobHeldUser", Name: "name | with | bars",
			Submit: time.Date(2026, 11, 27, 10, 59, 0, 0, time.Local), Restarts: 2},
		{JobID: "73_0", ArrayJobID: "73", TaskID: 0, State: "PENDING", Reason: "BeginTime", Name: "s"},
	}
	if len(got) != len(want) {
		t.Fatalf("parseQueue = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("parseQueue line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"71_3|71|3|RUNNING", "71_x|71|x|RUNNING|None|2026-11-27T10:58:13|0|n"} {
		if tasks, err := parseQueue(bad); err == nil {
			t.Errorf("parseQueue(%q) = %+v, want an error", bad, tasks)
		}
	}
}

func TestSubmissionOwns(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 500e6, time.UTC)
	sub := Submission{JobID: "42", Kind: "array", Name: "dose", Start: start, Time: start.Add(2 * time.Second)}
	at := func(d time.Duration) time.Time { return start.Add(d).Truncate(time.Second).In(time.Local) }
	for _, tc := range []struct {
		what string
		sub  Submission
		task Task
		want bool
	}{
		{"same name, submitted during sbatch", sub, Task{Name: "dose", Submit: at(time.Second)}, true},
		{"squeue's whole seconds", sub, Task{Name: "dose", Submit: at(0)}, true},
		{"another name", sub, Task{Name: "other", Submit: at(time.Second)}, false},
		{"submitted an hour later: a reused id", sub, Task{Name: "dose", Submit: at(time.Hour)}, false},
		{"submitted a day earlier", sub, Task{Name: "dose", Submit: at(-24 * time.Hour)}, false},
		{"requeued later", sub, Task{Name: "dose", Submit: at(time.Hour), Restarts: 1}, true},
		{"requeued, another name", sub, Task{Name: "other", Submit: at(time.Hour), Restarts: 1}, false},
		{"no submit time", sub, Task{Name: "dose"}, false},
		{"an old journal line without a name", Submission{JobID: "42", Time: start}, Task{Name: "other"}, true},
	} {
		if got := tc.sub.Owns(tc.task); got != tc.want {
			t.Errorf("%s: Owns(%+v) = %v, want %v", tc.what, tc.task, got, tc.want)
		}
	}
}
