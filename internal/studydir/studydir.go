// Package studydir opens a planned study directory and names its parts:
// the resolved study file, the manifest, the run folders and their logs,
// the shards, data/, the SLURM scripts and journal, and the lock files that
// keep two gridstudy processes from doing the same work at once. Every verb
// that reads or writes a study directory finds its way through here, so
// the layout of DESIGN.md lives in one place.
package studydir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

// Names of the parts of a study directory.
const (
	StudyFile      = "study.toml"
	ShardsDir      = "shards"
	DataDir        = "data"
	SlurmDir       = "slurm"
	ReportsDir     = "reports"
	FiguresDir     = "visualizations"
	ExperimentsDir = "experiments"
	// RunLockFile is held by the local executor (gridstudy run) for as
	// long as it runs: one executor per study at a time.
	RunLockFile = ".run.lock"
	// CollectLockFile is held while collect writes data/, figures and
	// reports: two collects never mix their tables.
	CollectLockFile = ".collect.lock"
	// StdoutLog and StderrLog are the run logs in each run folder; every
	// attempt appends to them after a header line (AttemptHeader).
	StdoutLog = "stdout.log"
	StderrLog = "stderr.log"
)

// ErrNotStudy is returned by Open for a folder that is not a planned study
// directory.
var ErrNotStudy = errors.New("not a planned study directory")

// Dir is an opened study directory.
type Dir struct {
	// Path is the directory's absolute path: what runs on compute nodes
	// must not depend on the working directory.
	Path string
	// Study is the resolved study, DIR/study.toml.
	Study *study.Study
	// Layout maps manifest indices onto array tasks (slurm/layout.json).
	Layout slurm.Layout
}

// Open loads the study directory at path. A folder without study.toml or
// manifest.parquet gives an error that wraps ErrNotStudy and says to plan;
// one whose plan did not finish (no slurm/layout.json, which plan writes
// last) an error that wraps slurm.ErrIncompletePlan.
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{StudyFile, manifest.File} {
		if _, err := os.Stat(filepath.Join(abs, name)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w (no %s): run gridstudy plan first", path, ErrNotStudy, name)
		}
	}
	layout, err := slurm.ReadLayout(abs)
	if err != nil {
		return nil, err
	}
	st, err := study.Load(filepath.Join(abs, StudyFile), study.Overrides{})
	if err != nil {
		return nil, err
	}
	return &Dir{Path: abs, Study: st, Layout: layout}, nil
}

// Manifest returns the path of the manifest.
func (d *Dir) Manifest() string { return Manifest(d.Path) }

// Manifest returns the path of the manifest of the study in dir.
func Manifest(dir string) string { return filepath.Join(dir, manifest.File) }

// StudyFilePath returns the path of the resolved study file in dir.
func StudyFilePath(dir string) string { return filepath.Join(dir, StudyFile) }

// Data returns the path of the study's data/ folder.
func Data(dir string) string { return filepath.Join(dir, DataDir) }

// Lock returns the path of one of the study's lock files.
func Lock(dir, name string) string { return filepath.Join(dir, name) }

// Entries reads the whole manifest.
func (d *Dir) Entries() ([]manifest.Entry, error) { return manifest.Read(d.Manifest()) }

// Lookup returns the manifest entries whose index is among indices, in
// index order, and the largest index it read. It stops reading past the
// largest index wanted, so a task near the start of a big study reads little
// of its manifest. Indices with no entry (past the end, or dropped by a
// later plan) are simply absent from the result.
func (d *Dir) Lookup(indices []int) (entries []manifest.Entry, last int, err error) {
	if len(indices) == 0 {
		return nil, -1, nil
	}
	want := slices.Clone(indices)
	slices.Sort(want)
	top := want[len(want)-1]
	last = -1
	err = manifest.Scan(d.Manifest(), func(e manifest.Entry) error {
		last = e.Index
		if _, found := slices.BinarySearch(want, e.Index); found {
			entries = append(entries, e)
		}
		if e.Index >= top {
			return manifest.ErrStop
		}
		return nil
	})
	return entries, last, err
}

// RunDir returns the folder of one run.
func RunDir(dir string, e manifest.Entry) string { return filepath.Join(dir, e.Dir) }

// headerPrefix starts the line that marks each attempt in the run logs.
const headerPrefix = "=== gridstudy: run "

// AttemptHeader is the line that marks where an attempt's output begins in
// the run logs.
func AttemptHeader(runID string, attempt int, started string) string {
	return fmt.Sprintf("%s%s, attempt %d, started %s ===\n", headerPrefix, runID, attempt, started)
}

// LastLine returns the last non-empty line of a run log (stdout.log or
// stderr.log) after offset from, reading at most its last 4 KiB and cutting
// the line to 200 bytes: a one-line hint of why a run failed. An attempt's
// header line counts as empty, so an attempt that wrote nothing gives "".
func LastLine(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	start := max(from, fi.Size()-4096)
	buf := make([]byte, max(fi.Size()-start, 0))
	n, _ := f.ReadAt(buf, start)
	lines := strings.Split(strings.TrimRight(string(buf[:n]), "\r\n\t "), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if strings.HasPrefix(last, headerPrefix) {
		return ""
	}
	if len(last) > 200 {
		last = last[:200]
	}
	return last
}
