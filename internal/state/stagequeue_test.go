package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/slurm"
)

// The same squeue call finds the queued tasks of stage arrays: each under
// its stage and task index (array task id plus the chunk's offset), none
// taken for a run.
func TestGatherStageQueue(t *testing.T) {
	dir, _ := makeStudy(t, 4)
	j := slurm.OpenJournal(dir)
	for _, s := range []slurm.Submission{
		{JobID: "50", Kind: "stage", Stage: "sim", Chunk: "stage_sim_001", Offset: 2, RunsPerTask: 1, Tasks: "0-1"},
		{JobID: "51", Kind: "array", Chunk: "array_000", RunsPerTask: 1, Tasks: "0-3"},
	} {
		if err := j.Append(s); err != nil {
			t.Fatal(err)
		}
	}
	shim := t.TempDir()
	squeue := "#!/bin/sh\necho '50_1|50|1|PENDING|Dependency|2026-05-01T10:00:00|0|s-sim'\necho '51_3|51|3|RUNNING|None|2026-05-01T10:00:00|0|s'\n"
	if err := os.WriteFile(filepath.Join(shim, "squeue"), []byte(squeue), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", shim+string(os.PathListSeparator)+os.Getenv("PATH"))
	c := &slurm.Client{}
	rep, err := Gather(context.Background(), dir, c)
	if err != nil || rep.QueueErr != nil {
		t.Fatal(err, rep.QueueErr)
	}
	if c.Calls["squeue"] != 1 {
		t.Errorf("squeue called %d times, want once", c.Calls["squeue"])
	}
	if q := rep.StageQueue["sim"][3]; q.JobID != "50_1" || rep.StageQueued("sim", 3) != (lifecycle.Queued{State: "PENDING"}) {
		t.Errorf("stage sim task 3: %+v, want job 50_1 pending", q)
	}
	if rep.StageQueued("sim", 1) != (lifecycle.Queued{}) {
		t.Error("stage sim task 1 is queued, but no array holds it")
	}
	for _, r := range rep.Runs {
		want := lifecycle.Missing
		if r.Index == 3 {
			want = lifecycle.Running
		}
		if r.State != want {
			t.Errorf("run %d is %s, want %s", r.Index, r.State, want)
		}
	}
}
