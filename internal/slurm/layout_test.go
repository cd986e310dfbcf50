package slurm

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLayoutRoundTrip(t *testing.T) {
	tests := []struct {
		l     Layout
		index int
		chunk int
		task  int
	}{
		{Layout{RunsPerTask: 1, ChunkTasks: 1001}, 0, 0, 0},
		{Layout{RunsPerTask: 1, ChunkTasks: 1001}, 1001, 1, 0},
		{Layout{RunsPerTask: 1, ChunkTasks: 5}, 12, 2, 2},
		{Layout{RunsPerTask: 3, ChunkTasks: 5}, 14, 0, 4},
		{Layout{RunsPerTask: 3, ChunkTasks: 5}, 15, 1, 0},
		{Layout{RunsPerTask: 2, ChunkTasks: 4}, 17, 2, 0},
	}
	for _, tt := range tests {
		c, task := tt.l.Locate(tt.index)
		if c != tt.chunk || task != tt.task {
			t.Errorf("%+v.Locate(%d) = %d, %d; want %d, %d", tt.l, tt.index, c, task, tt.chunk, tt.task)
		}
		// The task that runs an index lists it among its indices.
		if got := tt.l.Indices(tt.l.Offset(c), task); !slices.Contains(got, tt.index) || len(got) != tt.l.RunsPerTask {
			t.Errorf("%+v.Indices(%d, %d) = %v, want %d indices including %d", tt.l, tt.l.Offset(c), task, got, tt.l.RunsPerTask, tt.index)
		}
	}
}

func TestReadLayout(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadLayout(dir); !errors.Is(err, ErrIncompletePlan) {
		t.Fatalf("ReadLayout without the file = %v, want ErrIncompletePlan", err)
	}
	os.MkdirAll(filepath.Join(dir, "slurm"), 0o755)
	want := Layout{RunsPerTask: 2, ChunkTasks: 7}
	os.WriteFile(filepath.Join(dir, "slurm", LayoutFile), want.Encode(), 0o644)
	if got, err := ReadLayout(dir); err != nil || got != want {
		t.Fatalf("ReadLayout = %+v, %v; want %+v", got, err, want)
	}
	os.WriteFile(filepath.Join(dir, "slurm", LayoutFile), []byte(`{"runs_per_task": 0, "chunk_tasks": 3}`), 0o644)
	if _, err := ReadLayout(dir); err == nil {
		t.Fatal("ReadLayout of a zero runs_per_task: no error")
	}
}

// A stage's tasks are chunked like the runs, one task per array task,
// whatever the runs pack.
func TestLayoutStages(t *testing.T) {
	l := Layout{RunsPerTask: 3, ChunkTasks: 4}.Stages()
	if k, task := l.Locate(9); k != 2 || task != 1 || l.Offset(2) != 8 {
		t.Errorf("stage task 9: chunk %d task %d, offset %d; want chunk 2 task 1, offset 8", k, task, l.Offset(2))
	}
	if got := StageChunkName("sim", 2); got != "stage_sim_002" {
		t.Errorf("StageChunkName = %q", got)
	}
}
