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

// Names of the parts of a study directory that more than one package
// finds; the shards folder is package shard's, the journal package
// slurm's.
const (
	StudyFile = "study.toml"
	DataDir   = "data"
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

// ErrNotStudy is wrapped by Open's error for a folder that is not a
// planned study directory.
var ErrNotStudy = errors.New("not a planned study directory")

// InputError is an input that is missing or cannot be read: a study
// directory, a study file, a manifest, a plan cut short. Every verb says
// each kind the same way, and exits 2 for it (the command line was well
// formed, the input was not).
type InputError struct {
	Msg string
	Err error // the cause, for errors.Is
}

func (e *InputError) Error() string { return e.Msg }

func (e *InputError) Unwrap() error { return e.Err }

// Missing is the InputError of a path that cannot be reached; what names
// what the verb wanted there ("study directory").
func Missing(path, what string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &InputError{Msg: fmt.Sprintf("%s: no such %s", path, what), Err: err}
	}
	return Unreadable(path, err)
}

// Unreadable is the InputError of a path that exists but cannot be read;
// the path inside err, if any, is not repeated.
func Unreadable(path string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	return &InputError{Msg: fmt.Sprintf("cannot read %s: %v", path, cause), Err: err}
}

// notStudy is the InputError of a path that is not a planned study
// directory, and why.
func notStudy(dir, why string) error {
	return &InputError{Msg: fmt.Sprintf("%s is not a planned study directory (%s): run gridstudy plan first", dir, why), Err: ErrNotStudy}
}

// ManifestError is a study directory's manifest that exists but cannot be
// read. Planning over it would number the runs afresh, so that array tasks
// already submitted would run other runs than their own: plan refuses it,
// and so does every verb that opens the directory.
type ManifestError struct {
	Path string
	Err  error
}

func (e *ManifestError) Error() string {
	// The innermost error says what is wrong without repeating the path.
	cause := e.Err
	for next := errors.Unwrap(cause); next != nil; next = errors.Unwrap(cause) {
		cause = next
	}
	return fmt.Sprintf("cannot read %s: %v: restore it, or move it aside and plan again (runs then get new manifest indices)", e.Path, cause)
}

func (e *ManifestError) Unwrap() error { return e.Err }

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

// Open loads the study directory at path. What it refuses it refuses with
// one message per kind: an *InputError for a path that is missing, is not
// a planned study directory (wrapping ErrNotStudy), whose study file cannot
// be read, or whose plan did not finish (no slurm/layout.json, which plan
// writes last; wrapping slurm.ErrIncompletePlan); a *ManifestError for a
// manifest whose first row cannot be read (only that row: a million-run
// manifest costs no more than a small one); the loader's
// *study.InvalidError for a bad study file.
func Open(path string) (*Dir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, Missing(path, "study directory", err)
	}
	if !info.IsDir() {
		return nil, notStudy(path, "a file")
	}
	for _, name := range []string{StudyFile, manifest.File} {
		if _, err := os.Stat(filepath.Join(abs, name)); errors.Is(err, fs.ErrNotExist) {
			return nil, notStudy(path, "no "+name)
		}
	}
	if err := manifest.Scan(Manifest(abs), func(manifest.Entry) error { return manifest.ErrStop }); err != nil {
		return nil, &ManifestError{Path: Manifest(path), Err: err}
	}
	layout, err := slurm.ReadLayout(abs)
	if err != nil {
		return nil, &InputError{Msg: err.Error(), Err: err}
	}
	st, err := LoadStudy(StudyFilePath(abs), path, study.Overrides{})
	if err != nil {
		return nil, err
	}
	return &Dir{Path: abs, Study: st, Layout: layout}, nil
}

// LoadStudy loads the study file at path, with the overrides of ov; the
// study directory dir holds it unless dir is "". A file that is missing or
// cannot be read is an *InputError; a bad study is the loader's
// *study.InvalidError.
func LoadStudy(path, dir string, ov study.Overrides) (*study.Study, error) {
	st, err := study.Load(path, ov)
	var inv *study.InvalidError
	switch {
	case err == nil || errors.As(err, &inv):
		return st, err
	case dir != "" && errors.Is(err, fs.ErrNotExist):
		return nil, notStudy(dir, "no "+StudyFile)
	}
	return nil, Unreadable(path, err)
}

// Manifest returns the path of the manifest.
func (d *Dir) Manifest() string { return Manifest(d.Path) }

// Manifest returns the path of the manifest of the study in dir.
func Manifest(dir string) string { return filepath.Join(dir, manifest.File) }

// StudyFilePath returns the path of the resolved study file in dir.
func StudyFilePath(dir string) string { return filepath.Join(dir, StudyFile) }

// Data returns the path of the study's data/ folder, where collect writes
// its tables.
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
	return Hint(string(buf[:n]))
}

// Hint returns the one-line hint of why a run failed that the end of a
// run log gives: its last non-empty line, cut to 200 bytes, "" when that
// line is an attempt's header.
func Hint(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\r\n\t "), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if strings.HasPrefix(last, headerPrefix) {
		return ""
	}
	if len(last) > 200 {
		last = last[:200]
	}
	return last
}
