package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/study"
)

// ErrNotStudy is returned by OpenStudy for a folder without study.toml or
// manifest.parquet.
var ErrNotStudy = errors.New("not a study directory")

// OpenStudy loads the resolved study of the study directory dir.
func OpenStudy(dir string) (*study.Study, error) {
	for _, name := range []string{"study.toml", manifest.File} {
		if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w (no %s: run gridstudy plan first)", dir, ErrNotStudy, name)
		}
	}
	st, err := study.Load(filepath.Join(dir, "study.toml"), study.Overrides{})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Lookup returns the manifest entries of studyDir whose index is among
// indices, in index order, and the largest index it read. It stops reading
// past the largest index wanted, so a task near the start of a big study
// reads little of its manifest. Indices with no entry (past the end, or
// dropped by a later plan) are simply absent from the result.
func Lookup(studyDir string, indices []int) (entries []manifest.Entry, last int, err error) {
	if len(indices) == 0 {
		return nil, -1, nil
	}
	want := slices.Clone(indices)
	slices.Sort(want)
	top := want[len(want)-1]
	last = -1
	err = manifest.Scan(filepath.Join(studyDir, manifest.File), func(e manifest.Entry) error {
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
