package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gridstudy/gridstudy/internal/manifest"
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
