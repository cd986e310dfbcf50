package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// openStudyDir loads a planned study directory: its resolved study.toml,
// with an absolute path for everything that runs on compute nodes. What
// checkStudyDir refuses is an input error: exit 2.
func openStudyDir(dir string) (*study.Study, string, error) {
	if err := checkStudyDir(dir); err != nil {
		return nil, "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	st, err := loadStudyFile(studydir.StudyFilePath(abs), dir, study.Overrides{})
	if err != nil {
		return nil, "", err
	}
	return st, abs, nil
}

// checkStudyDir refuses, with one message per kind whatever the verb, a
// study directory that is missing, is not a planned study's, or whose
// study.toml or manifest cannot be read (of the manifest, only the first
// row is read: a million-run manifest costs no more than a small one).
func checkStudyDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return inputErr(dir, "study directory", err)
	}
	if !info.IsDir() {
		return notStudyDir(dir, "a file")
	}
	for _, name := range []string{studydir.StudyFile, manifest.File} {
		if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			return notStudyDir(dir, "no "+name)
		}
	}
	f, err := os.Open(studydir.StudyFilePath(dir))
	if err != nil {
		return unreadable(studydir.StudyFilePath(dir), err)
	}
	f.Close()
	path := studydir.Manifest(dir)
	if err := manifest.Scan(path, func(manifest.Entry) error { return manifest.ErrStop }); err != nil {
		return &plan.ManifestError{Path: path, Err: err}
	}
	// Plan writes the layout last: without it the plan was cut short,
	// and every task it would submit might find the wrong run.
	if _, err := slurm.ReadLayout(dir); err != nil {
		return &inputError{msg: err.Error()}
	}
	return nil
}

// planInto plans st into out (default ./<name>) for verbs that take a study
// file where a study directory would do, and returns the directory.
func planInto(ctx context.Context, st *study.Study, out string, lim slurm.Limits) (string, error) {
	if out == "" {
		out = st.Name
	}
	p, err := plan.New(st, out, lim)
	if err != nil {
		return "", fmt.Errorf("plan %s: %w", st.Name, err)
	}
	bin, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the gridstudy binary to copy: %w", err)
	}
	if err := p.Write(out, version, bin); err != nil {
		return "", fmt.Errorf("plan %s: %w", out, err)
	}
	return out, nil
}

// requireCommand refuses to execute a study that says nothing to run: it
// may be planned, but every run would fail.
func requireCommand(st *study.Study) error {
	if st.Run.Command == "" && len(st.Run.Args) == 0 {
		return usagef("the study has no [run] command or args: nothing to run (plan works without one)")
	}
	return nil
}
