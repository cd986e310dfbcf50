package studydir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

func planned(t *testing.T, src string) *studydir.Dir {
	t.Helper()
	tmp := t.TempDir()
	path := filepath.Join(tmp, "study.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := study.Load(path, study.Overrides{})
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

func TestOpenNotStudy(t *testing.T) {
	_, err := studydir.Open(t.TempDir())
	if !errors.Is(err, studydir.ErrNotStudy) {
		t.Fatalf("Open(empty folder) = %v, want ErrNotStudy", err)
	}
}

func TestLookupStopsEarly(t *testing.T) {
	d := planned(t, "name = \"look\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2, 3, 4, 5]\n")
	got, last, err := d.Lookup([]int{2, 1, 9})
	if err != nil || len(got) != 2 || got[0].Index != 1 || got[1].Index != 2 || last != 4 {
		t.Errorf("Lookup(2, 1, 9) = %d entries, last %d, %v; want indices 1 and 2, last 4", len(got), last, err)
	}
	got, last, err = d.Lookup([]int{1})
	if err != nil || len(got) != 1 || last != 1 {
		t.Errorf("Lookup(1) = %d entries, last %d, %v; want 1 entry and no row read past index 1", len(got), last, err)
	}
}
