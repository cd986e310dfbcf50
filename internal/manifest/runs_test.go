package manifest_test

import (
	"path/filepath"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
)

// TestReadRunsIsReadWithoutParams: ReadRuns gives the entries Read does,
// field for field, Params aside.
func TestReadRunsIsReadWithoutParams(t *testing.T) {
	d := plantest.Dir(t, "name = \"s\"\ntrials = 3\n[params.x]\nvalues = [1, 2.5]\n[params.tag]\nvalues = [\"a\", \"b\"]\n[models.pinn]\n[models.baseline]\n")
	path := filepath.Join(d.Path, manifest.File)
	want, err := manifest.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.ReadRuns(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 24 {
		t.Fatalf("%d entries, Read has %d (want 24)", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Params = nil
		g := got[i]
		if g.Index != w.Index || g.RunID != w.RunID || g.CellID != w.CellID || g.Model != w.Model || g.Trial != w.Trial || g.Seed != w.Seed || g.Dir != w.Dir || g.Params != nil {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := manifest.ReadRuns(filepath.Join(d.Path, "study.toml")); err == nil {
		t.Error("ReadRuns of a file that is no manifest: no error")
	}
}
