package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/study"
)

// Retain removes what [run] retain says, keeps what keep names, and the
// cell folders left empty, never the top folder or a sibling run's.
func TestRetain(t *testing.T) {
	files := []string{"stdout.log", "config.json", "model/w.h5", "model/opt.bin", "figs/a/b.png", "figs/c.txt"}
	tests := []struct {
		name   string
		run    study.Run
		ok     bool
		remain []string // files left under experiments/, sorted; nil: the run folder as it was
	}{
		{"all keeps", study.Run{Retain: study.RetainAll}, true, nil},
		{"failed keeps a failed run", study.Run{Retain: study.RetainFailed}, false, nil},
		{"failed removes an ok run", study.Run{Retain: study.RetainFailed}, true, []string{"c/trial_2/x"}},
		{"none removes a failed run", study.Run{Retain: study.RetainNone}, false, []string{"c/trial_2/x"}},
		{"keep", study.Run{Retain: study.RetainNone, Keep: []string{"model/*.h5", "**/*.png"}}, false,
			[]string{"c/trial_1/figs/a/b.png", "c/trial_1/model/w.h5", "c/trial_2/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range append(slices.Clone(files), "../trial_2/x") {
				p := filepath.Join(dir, "experiments/c/trial_1", f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			os.MkdirAll(filepath.Join(dir, "experiments/c/trial_1/empty"), 0o755)
			e := manifest.Entry{RunID: "r", Dir: "experiments/c/trial_1"}
			if err := Retain(&study.Study{Run: tt.run}, dir, e, tt.ok); err != nil {
				t.Fatal(err)
			}
			got := listFiles(t, filepath.Join(dir, "experiments"))
			want := tt.remain
			if want == nil {
				for _, f := range files {
					want = append(want, "c/trial_1/"+f)
				}
				want = append(want, "c/trial_2/x")
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("left %q, want %q", got, want)
			}
			if tt.remain != nil && len(tt.run.Keep) > 0 {
				if _, err := os.Stat(filepath.Join(dir, "experiments/c/trial_1/empty")); !os.IsNotExist(err) {
					t.Errorf("an emptied folder stayed: %v", err)
				}
			}
		})
	}
}

// A run's folder that was the only one of its cell takes the cell folder
// with it; the top folder stays.
func TestRetainRemovesEmptyCell(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "experiments/c/trial_1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	e := manifest.Entry{RunID: "r", Dir: "experiments/c/trial_1"}
	if err := Retain(&study.Study{Run: study.Run{Retain: study.RetainNone}}, dir, e, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "experiments/c")); !os.IsNotExist(err) {
		t.Errorf("empty cell folder stayed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "experiments")); err != nil {
		t.Errorf("top folder removed: %v", err)
	}
	// The next attempt makes it again.
	if err := mkdirRun(run); err != nil {
		t.Fatal(err)
	}
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// The shard's stderr tail: this attempt's output only, its last lines,
// bounded in lines and bytes, cut at a line boundary and valid UTF-8.
func TestStderrTail(t *testing.T) {
	const header = "=== attempt 2 ===\n"
	many := ""
	for i := range 30 {
		many += strings.Repeat("y", 5) + string(rune('a'+i%26)) + "\n"
	}
	long := strings.Repeat("é", 1500) + "\nlast\n" // a line over the byte bound, cut inside a character
	tests := []struct {
		name, before, after, want string
	}{
		{"nothing", "old attempt\n", "", ""},
		{"this attempt only", "old attempt\n", "one\ntwo\n\n", "one\ntwo"},
		{"last lines", "", many, strings.Join(strings.Split(strings.TrimSpace(many), "\n")[20:], "\n")},
		{"byte bound", "", long, "last"},
		{"one long line", "", strings.Repeat("z", 3000), strings.Repeat("z", tailBytes)},
		{"cut in a character", "", strings.Repeat("é", 1000) + "z", strings.Repeat("é", (tailBytes-1)/2) + "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "stderr.log")
			if err := os.WriteFile(p, []byte(tt.before+header+tt.after), 0o644); err != nil {
				t.Fatal(err)
			}
			got := stderrTail(p, int64(len(tt.before+header)))
			if got != tt.want {
				t.Errorf("tail %q, want %q", got, tt.want)
			}
			if len(got) > tailBytes || strings.Count(got, "\n") >= tailLines || !utf8.ValidString(got) {
				t.Errorf("tail over its bounds or not UTF-8: %d bytes, %d lines", len(got), strings.Count(got, "\n")+1)
			}
		})
	}
}
