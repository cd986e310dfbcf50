// Package plan turns a validated study into a study directory: the
// resolved study file, the manifest and one sbatch array script per chunk.
package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/provenance"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// MaxRuns bounds a study so that a typo (a range with step 1e-9) is an
// error rather than a machine out of memory: ten million runs plan in about
// 20 s and 4 GB.
const MaxRuns = 10_000_000

// Plan is a study expanded into runs and array chunks.
type Plan struct {
	Study       *study.Study
	Cells       []*study.Cell
	Runs        []study.RunSpec // sorted by Index
	Chunks      []slurm.Chunk
	RunsPerTask int
	ChunkTasks  int // array tasks per chunk
	Dropped     int // cells removed by constraints
	// Stages are the stage tasks of the runs (empty when the study has no
	// stages).
	Stages *stage.Plan
	// Warnings are what Write has to say that does not stop it: a
	// [provenance] command that failed.
	Warnings []string
}

// New expands st. When dir already holds a manifest, runs that exist there
// keep their index and new runs are numbered after them, so that a study
// grown by a value keeps every submitted array task pointing at its run.
func New(st *study.Study, dir string, lim slurm.Limits) (*Plan, error) {
	if n := total(st) * st.Trials; n > MaxRuns {
		file := st.Path
		if file == "" {
			file = "flags"
		}
		return nil, &study.InvalidError{File: file, Problems: []study.Problem{{Key: "params",
			Msg: fmt.Sprintf("the grid has %d runs before constraints, more than %d: split the study or zip parameters", n, MaxRuns)}}}
	}
	cells, err := st.Cells()
	if err != nil {
		return nil, err
	}
	// A missing truth file would fail every run after its command, hours
	// of GPU time later: refuse the plan instead.
	if err := st.CheckTruth(dir, cells); err != nil {
		return nil, err
	}
	runs, err := st.Runs(cells)
	if err != nil {
		return nil, err
	}
	p := &Plan{Study: st, Cells: cells, Runs: runs, RunsPerTask: 1, Dropped: total(st) - len(cells)}
	if err := p.keepIndices(studydir.Manifest(dir)); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if p.Stages, err = stage.Build(st, p.Runs, abs); err != nil {
		return nil, err
	}
	if st.Slurm.RunsPerTask > 1 {
		p.RunsPerTask = int(st.Slurm.RunsPerTask)
	}
	if st.Slurm.MaxArraySize > 0 {
		lim.MaxArraySize = int(st.Slurm.MaxArraySize)
	}
	p.ChunkTasks = lim.MaxArraySize
	if lim.MaxArrayTasks > 0 && lim.MaxArrayTasks < p.ChunkTasks {
		p.ChunkTasks = lim.MaxArrayTasks
	}
	p.chunk()
	return p, nil
}

// total is the number of cells before constraints.
func total(st *study.Study) int {
	n := 0
	for _, m := range st.ModelNames() {
		c := 1
		zipped := map[string]int{}
		for g, names := range st.Zip {
			for _, name := range names {
				zipped[name] = g
			}
		}
		counted := map[int]bool{}
		for _, p := range st.ParamsFor(m) {
			if g, ok := zipped[p.Name]; ok {
				if counted[g] {
					continue
				}
				counted[g] = true
			}
			c *= len(p.Values)
		}
		n += c
	}
	return n
}

// keepIndices gives the runs that the manifest at path already holds their
// index there, and the others the indices after them.
func (p *Plan) keepIndices(path string) error {
	old := map[string]int{}
	err := manifest.Scan(path, func(e manifest.Entry) error {
		old[e.RunID] = e.Index
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &studydir.ManifestError{Path: path, Err: err}
	}
	if len(old) == 0 {
		return nil
	}
	next := 0
	for _, i := range old {
		next = max(next, i+1)
	}
	for i := range p.Runs {
		if idx, ok := old[p.Runs[i].ID]; ok {
			p.Runs[i].Index = idx
		} else {
			p.Runs[i].Index = next
			next++
		}
	}
	sort.Slice(p.Runs, func(a, b int) bool { return p.Runs[a].Index < p.Runs[b].Index })
	return nil
}

// Layout is how the plan maps manifest indices onto array tasks.
func (p *Plan) Layout() slurm.Layout {
	return slurm.Layout{RunsPerTask: p.RunsPerTask, ChunkTasks: p.ChunkTasks}
}

// chunk splits the runs into arrays by the plan's Layout.
func (p *Plan) chunk() {
	l := p.Layout()
	byChunk := map[int][]int{}
	for _, r := range p.Runs {
		c, task := l.Locate(r.Index)
		byChunk[c] = append(byChunk[c], task)
	}
	keys := make([]int, 0, len(byChunk))
	for k := range byChunk {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		tasks := slices.Compact(byChunk[k]) // sorted: indices ascend
		last := l.Indices(l.Offset(k), tasks[len(tasks)-1])
		ch := slurm.Chunk{Index: k, Name: slurm.ChunkName(k), Offset: l.Offset(k), Tasks: tasks,
			First: l.Indices(l.Offset(k), tasks[0])[0], Last: last[len(last)-1]}
		ch.Array = slurm.ArraySpec(tasks, p.Study.Slurm.MaxConcurrent)
		p.Chunks = append(p.Chunks, ch)
	}
}

// Tasks is the number of array tasks over all chunks.
func (p *Plan) Tasks() int {
	n := 0
	for _, c := range p.Chunks {
		n += len(c.Tasks)
	}
	return n
}

// Write writes the study directory: study.toml, manifest.parquet,
// slurm/array_*.sbatch, bin/gridstudy (a copy of binary) and, last,
// slurm/layout.json, which marks the plan complete. Every file is
// rendered before the first is written, so a template error writes nothing.
func (p *Plan) Write(dir, version, binary string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := checkDir(abs, p.Study.Name); err != nil {
		return err
	}
	scripts, err := p.Scripts(abs, version)
	if err != nil {
		return err
	}
	stageScripts, err := p.RenderStageScripts(abs, version) // stagescripts.go
	if err != nil {
		return err
	}
	for _, sub := range []string{"slurm", "logs", "shards", "experiments", "bin"} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o755); err != nil {
			return err
		}
	}
	// The layout file marks a complete plan: it goes first and comes back
	// last, so a plan cut short (a full disk, a kill) leaves a study that
	// submit, run and exec refuse rather than one whose tasks all fail.
	layout := slurm.LayoutPath(abs)
	if err := os.Remove(layout); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var resolved strings.Builder
	if err := p.Study.Encode(&resolved, version); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(studydir.StudyFilePath(abs), []byte(resolved.String()), 0o644, true); err != nil {
		return err
	}
	// Scripts first: file creation waits behind the journal commit of the
	// manifest's fsync on ext4, so doing both at once is slower.
	if err := p.writeScripts(abs, scripts); err != nil {
		return err
	}
	if err := stageScripts.Write(abs); err != nil {
		return err
	}
	if err := manifest.Write(studydir.Manifest(abs), p.Study, p.Runs); err != nil {
		return err
	}
	// The stage plan goes before the layout: a complete plan has it.
	if err := stage.Write(abs, p.Stages); err != nil {
		return fmt.Errorf("write the stage plan: %w", err)
	}
	if p.Warnings, err = provenance.Write(context.Background(), p.Study, abs); err != nil {
		return fmt.Errorf("record provenance: %w", err)
	}
	if binary != "" {
		if err := copyBinary(binary, filepath.Join(abs, "bin", "gridstudy")); err != nil {
			return fmt.Errorf("copy gridstudy into the study: %w", err)
		}
	}
	return atomicfile.WriteBytes(layout, p.Layout().Encode(), 0o644, true)
}

func (p *Plan) writeScripts(dir string, scripts []string) error {
	// Scripts of chunks that no longer exist would resubmit stale runs.
	old, _ := filepath.Glob(slurm.ScriptPath(dir, "array_*"))
	keep := map[string]bool{}
	for _, c := range p.Chunks {
		keep[slurm.ScriptPath(dir, c.Name)] = true
	}
	for _, f := range old {
		if !keep[f] {
			os.Remove(f)
		}
	}
	// Scripts are cheap to render again, so they skip the fsync, and
	// creating files is slow on some file systems, so several are written
	// at once. Each goes to a temporary name first: sbatch never reads half
	// a script.
	errs := make(chan error, len(p.Chunks))
	sem := make(chan struct{}, 8)
	for i, c := range p.Chunks {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- atomicfile.WriteBytes(slurm.ScriptPath(dir, c.Name), []byte(scripts[i]), 0o755, false)
		}()
	}
	for range p.Chunks {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// Scripts renders the sbatch script of every chunk for a study in dir.
func (p *Plan) Scripts(dir, version string) ([]string, error) {
	t, err := p.sbatchTemplate()
	if err != nil {
		return nil, err
	}
	jobName := slurm.JobName(p.Study)
	out := make([]string, len(p.Chunks))
	for i, c := range p.Chunks {
		out[i], err = slurm.RenderScript(t, slurm.ScriptData{Version: version, Study: p.Study.Name, JobName: jobName,
			Slurm: p.Study.Slurm, Chunk: c, StudyDir: dir, LogDir: filepath.Join(dir, "logs"),
			Binary: filepath.Join(dir, "bin", "gridstudy")})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkDir refuses to plan into a folder that holds something else: another
// study, or files that are not a study's.
func checkDir(dir, name string) error {
	b, err := os.ReadFile(studydir.StudyFilePath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(dir)
		if err == nil && len(entries) > 0 {
			return fmt.Errorf("%s is not empty and holds no study: choose another -o", dir)
		}
		return nil
	}
	if err != nil {
		return err
	}
	st, err := study.Parse(studydir.StudyFilePath(dir), string(b), dir, study.Overrides{})
	if err == nil && st.Name != name {
		return fmt.Errorf("%s holds study %q, not %q: choose another -o", dir, st.Name, name)
	}
	return nil
}

// copyBinary copies the gridstudy binary src to dst. It renames over the
// old copy: a running job keeps its open inode.
func copyBinary(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Write(dst, 0o755, false, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
