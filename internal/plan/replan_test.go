package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/studydir"
	"github.com/gridstudy/gridstudy/internal/table"
)

// TestReplanKeepsOrRefusesManifest re-plans a grown study over the
// manifest that a smaller plan left: a readable one keeps every run's
// index; one that cannot be read is refused with a *ManifestError naming
// it, rather than numbering the runs afresh.
func TestReplanKeepsOrRefusesManifest(t *testing.T) {
	small := parse(t, "name = \"r\"\n[params.x]\nvalues = [2, 3]\n")
	grown := parse(t, "name = \"r\"\n[params.x]\nvalues = [1, 2, 3]\n")
	lim := slurm.Limits{MaxArraySize: 1001}
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string) // nil: leave the manifest as written
		wantErr string                          // "": the plan keeps indices
	}{
		{name: "readable"},
		{name: "no manifest", damage: func(t *testing.T, path string) { os.Remove(path) }},
		{name: "garbage", damage: func(t *testing.T, path string) {
			write(t, path, []byte("not a parquet file at all"))
		}, wantErr: "not a parquet file"},
		{name: "truncated", damage: func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			write(t, path, b[:len(b)/2])
		}, wantErr: "cannot read"},
		{name: "empty file", damage: func(t *testing.T, path string) { write(t, path, nil) }, wantErr: "not a parquet file"},
		{name: "another table", damage: func(t *testing.T, path string) {
			err := table.WriteFile(path, table.Schema{{Name: "a", Kind: table.Int64}}, func(w *table.Writer) error { return w.Write([]any{int64(1)}) })
			if err != nil {
				t.Fatal(err)
			}
		}, wantErr: "not a gridstudy manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := New(small, dir, lim)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Write(dir, "test", ""); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, manifest.File)
			if tt.damage != nil {
				tt.damage(t, path)
			}
			p, err = New(grown, dir, lim)
			if tt.wantErr != "" {
				var me *studydir.ManifestError
				if !errors.As(err, &me) || me.Path != path {
					t.Fatalf("New = %v, want a *ManifestError for %s", err, path)
				}
				for _, want := range []string{path, tt.wantErr, "restore it, or move it aside"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range p.Runs {
				got[r.Cell.Values[0].String()] = r.Index
			}
			want := map[string]int{"2": 0, "3": 1, "1": 2} // x = 1 comes after the runs that exist
			if tt.damage != nil {
				want = map[string]int{"1": 0, "2": 1, "3": 2} // nothing to keep: grid order
			}
			for x, i := range want {
				if got[x] != i {
					t.Errorf("run of x = %s has index %d, want %d", x, got[x], i)
				}
			}
		})
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
