package studydir_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/studydir"
)

// Open refuses each kind of bad input with its own error; the CLI says each
// kind the same way whatever the verb (input_missing.txtar and friends).
func TestOpenRefusals(t *testing.T) {
	src := "name = \"o\"\n[run]\ncommand = \"true\"\n"
	tests := []struct {
		name   string
		damage func(dir string)
		is     error  // errors.Is target, if any
		msg    string // in the message
	}{
		{"missing", func(dir string) { os.RemoveAll(dir) }, fs.ErrNotExist, "no such study directory"},
		{"a file", func(dir string) { os.RemoveAll(dir); os.WriteFile(dir, nil, 0o644) }, studydir.ErrNotStudy, "(a file)"},
		{"no manifest", func(dir string) { os.Remove(studydir.Manifest(dir)) }, studydir.ErrNotStudy, "no manifest.parquet"},
		{"no study file", func(dir string) { os.Remove(studydir.StudyFilePath(dir)) }, studydir.ErrNotStudy, "no study.toml"},
		{"corrupt manifest", func(dir string) { os.WriteFile(studydir.Manifest(dir), []byte("PAR1 garbage"), 0o644) }, nil, "move it aside and plan again"},
		{"plan cut short", func(dir string) { os.Remove(filepath.Join(dir, "slurm", slurm.LayoutFile)) }, slurm.ErrIncompletePlan, "run gridstudy plan again"},
	}
	for _, tt := range tests {
		d := plantest.Dir(t, src)
		tt.damage(d.Path)
		_, err := studydir.Open(d.Path)
		var ie *studydir.InputError
		var me *studydir.ManifestError
		switch {
		case err == nil:
			t.Errorf("%s: Open succeeded", tt.name)
			continue
		case !errors.As(err, &ie) && !errors.As(err, &me):
			t.Errorf("%s: Open = %T %v, want an *InputError or *ManifestError", tt.name, err, err)
		case tt.is != nil && !errors.Is(err, tt.is):
			t.Errorf("%s: Open = %v, want it to wrap %v", tt.name, err, tt.is)
		case !strings.Contains(err.Error(), tt.msg):
			t.Errorf("%s: Open = %q, want it to say %q", tt.name, err, tt.msg)
		}
	}
}

func TestLookupStopsEarly(t *testing.T) {
	d := plantest.Dir(t, "name = \"look\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1, 2, 3, 4, 5]\n")
	got, last, err := d.Lookup([]int{2, 1, 9})
	if err != nil || len(got) != 2 || got[0].Index != 1 || got[1].Index != 2 || last != 4 {
		t.Errorf("Lookup(2, 1, 9) = %d entries, last %d, %v; want indices 1 and 2, last 4", len(got), last, err)
	}
	got, last, err = d.Lookup([]int{1})
	if err != nil || len(got) != 1 || last != 1 {
		t.Errorf("Lookup(1) = %d entries, last %d, %v; want 1 entry and no row read past index 1", len(got), last, err)
	}
}
