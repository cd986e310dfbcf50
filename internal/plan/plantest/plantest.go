// Package plantest plans study files into temporary study directories, for
// the tests of the packages that read them.
package plantest

import (
	"path/filepath"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// Dir plans the study file text src (paths in it relative to a fresh
// temporary folder) into a study directory in that folder, as gridstudy
// plan does on a cluster whose MaxArraySize is 1001, and opens it.
func Dir(t testing.TB, src string) *studydir.Dir {
	t.Helper()
	tmp := t.TempDir()
	st, err := study.Parse(filepath.Join(tmp, "study.toml"), src, tmp, study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "sd")
	p, err := plan.New(st, dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "test", ""); err != nil {
		t.Fatal(err)
	}
	d, err := studydir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Entries is d's manifest.
func Entries(t testing.TB, d *studydir.Dir) []manifest.Entry {
	t.Helper()
	entries, err := d.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
