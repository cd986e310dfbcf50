package slurm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LayoutFile is where plan records a study's Layout, in DIR/slurm/. Plan
// writes it last, so its presence also says that the plan is complete.
const LayoutFile = "layout.json"

// Layout is how a study's manifest indices map onto array jobs: chunk k
// covers the indices [k*Span, (k+1)*Span), and its task t runs the
// RunsPerTask indices from k*Span + t*RunsPerTask. It is the one place that
// arithmetic lives; plan writes it, and submit, exec and status read it.
type Layout struct {
	RunsPerTask int `json:"runs_per_task"`
	ChunkTasks  int `json:"chunk_tasks"` // array tasks per chunk, at most MaxArraySize
}

// Span is the number of manifest indices one chunk covers.
func (l Layout) Span() int { return l.ChunkTasks * max(l.RunsPerTask, 1) }

// Stages is the layout of a stage's tasks: one stage task per array task,
// in chunks of as many tasks as the runs' chunks.
func (l Layout) Stages() Layout { return Layout{RunsPerTask: 1, ChunkTasks: l.ChunkTasks} }

// Offset is the manifest index of task 0 of chunk k.
func (l Layout) Offset(k int) int { return k * l.Span() }

// ChunkName is the name of chunk k's script (without .sbatch) in the
// journal and in slurm/.
func ChunkName(k int) string { return fmt.Sprintf("array_%03d", k) }

// StageChunkName is the name of chunk k's script of stage stage (without
// .sbatch) in the journal and in slurm/. A stage's tasks are chunked like
// runs, one task per array task.
func StageChunkName(stage string, k int) string { return fmt.Sprintf("stage_%s_%03d", stage, k) }

// ScriptPath is the path of the array script of the chunk named name in
// the study directory studyDir.
func ScriptPath(studyDir, name string) string {
	return filepath.Join(studyDir, "slurm", name+".sbatch")
}

// LayoutPath is the path of the layout file in the study directory
// studyDir.
func LayoutPath(studyDir string) string { return filepath.Join(studyDir, "slurm", LayoutFile) }

// Locate returns the chunk and the task id within it that run index.
func (l Layout) Locate(index int) (chunk, task int) {
	chunk = index / l.Span()
	return chunk, (index - l.Offset(chunk)) / max(l.RunsPerTask, 1)
}

// Indices returns the manifest indices that task runs in the array whose
// task 0 starts at offset.
func (l Layout) Indices(offset, task int) []int {
	rpt := max(l.RunsPerTask, 1)
	out := make([]int, rpt)
	for i := range out {
		out[i] = offset + task*rpt + i
	}
	return out
}

// ErrIncompletePlan is returned by ReadLayout when the study directory's
// plan did not finish (or predates the layout file).
var ErrIncompletePlan = errors.New("the plan is incomplete")

// ReadLayout reads the layout that plan recorded in studyDir.
func ReadLayout(studyDir string) (Layout, error) {
	var l Layout
	path := LayoutPath(studyDir)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, fmt.Errorf("%s: %w (no slurm/%s): run gridstudy plan again", studyDir, ErrIncompletePlan, LayoutFile)
	}
	if err == nil {
		err = json.Unmarshal(b, &l)
	}
	if err == nil && (l.ChunkTasks < 1 || l.RunsPerTask < 1) {
		err = fmt.Errorf("chunk_tasks %d, runs_per_task %d: both must be at least 1", l.ChunkTasks, l.RunsPerTask)
	}
	if err != nil {
		return l, fmt.Errorf("read %s: %w", path, err)
	}
	return l, nil
}

// Encode returns the layout as written to LayoutFile.
func (l Layout) Encode() []byte {
	b, _ := json.Marshal(l) // two ints: cannot fail
	return append(b, '\n')
}
