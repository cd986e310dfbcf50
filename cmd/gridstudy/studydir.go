package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

// openStudyDir loads a planned study directory: its resolved study.toml,
// with an absolute path for everything that runs on compute nodes.
func openStudyDir(dir string) (*study.Study, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(filepath.Join(abs, manifest.File)); err != nil {
		return nil, "", usagef("%s is not a planned study directory (no %s): run gridstudy plan first", dir, manifest.File)
	}
	st, err := study.Load(filepath.Join(abs, "study.toml"), study.Overrides{})
	if err != nil {
		return nil, "", fmt.Errorf("open study %s: %w", dir, err)
	}
	return st, abs, nil
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
