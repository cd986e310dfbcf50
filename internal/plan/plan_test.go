package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

func parse(t testing.TB, src string) *study.Study {
	t.Helper()
	st, err := study.Parse("s.toml", src, os.TempDir(), study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestChunks(t *testing.T) {
	tests := []struct {
		name       string
		extra      string
		lim        slurm.Limits
		wantArrays []string
	}{
		{"one chunk", "", slurm.Limits{MaxArraySize: 1001}, []string{"0-24%3"}},
		{"max array size", "", slurm.Limits{MaxArraySize: 10}, []string{"0-9%3", "0-9%3", "0-4%3"}},
		{"max array tasks", "", slurm.Limits{MaxArraySize: 1001, MaxArrayTasks: 20}, []string{"0-19%3", "0-4%3"}},
		{"study override", "max_array_size = 12\n", slurm.Limits{MaxArraySize: 1001}, []string{"0-11%3", "0-11%3", "0%3"}},
		{"packed", "runs_per_task = 2\n", slurm.Limits{MaxArraySize: 5}, []string{"0-4%3", "0-4%3", "0-2%3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parse(t, "name = \"c\"\n[params.x]\nrange = {start = 1, stop = 25, step = 1}\n[slurm]\nmax_concurrent = 3\n"+tt.extra)
			p, err := New(st, t.TempDir(), tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			covered := 0
			for _, c := range p.Chunks {
				got = append(got, c.Array)
				for _, task := range c.Tasks {
					if task >= tt.lim.MaxArraySize && st.Slurm.MaxArraySize == 0 {
						t.Errorf("task id %d not below MaxArraySize %d", task, tt.lim.MaxArraySize)
					}
					covered += p.RunsPerTask
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.wantArrays, " ") {
				t.Errorf("arrays = %v, want %v", got, tt.wantArrays)
			}
			if covered < len(p.Runs) {
				t.Errorf("chunks cover %d runs of %d", covered, len(p.Runs))
			}
		})
	}
}

func TestWriteRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := New(parse(t, "name = \"w\"\n[params.x]\nvalues = [1]\n"), dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "test", ""); err == nil {
		t.Fatal("Write into a folder with other files = nil error, want a refusal")
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.parquet")); err == nil {
		t.Error("a refused plan wrote a manifest")
	}
}

// bigStudy has 4 parameters, 2 models and 2 trials: 1.1 million runs.
const bigStudy = `name = "big"
trials = 2
[run]
command = "train --seed {{.Seed}}"
[params.nphotons]
range = {start = 1e2, stop = 1e10, num = 25, scale = "log"}
[params.n_images]
range = {start = 100, stop = 2200, step = 100}
[params.nll_weight]
range = {start = 0.01, stop = 1, num = 25, scale = "log"}
[params.optimizer]
values = ["adam", "sgd", "rmsprop", "adamw", "lion", "lamb", "nadam", "adagrad", "adadelta", "sophia",
  "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"]
[models.pinn]
[models.baseline]
`

// BenchmarkPlan1M plans a study of 1.1 million runs: "manifest" expands
// the grid, derives ids and seeds and writes the manifest; "full" also
// renders and writes the 1,100 array scripts (on this machine's ext4 disk,
// creating a file costs about 0.6 ms, whatever is in it).
func BenchmarkPlan1M(b *testing.B) {
	st := parse(b, bigStudy)
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "manifest", true: "full"}[full]
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
				p, err := New(st, dir, slurm.Limits{MaxArraySize: 1001})
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Runs) != 1_100_000 {
					b.Fatalf("%d runs, want 1,100,000", len(p.Runs))
				}
				if full {
					err = p.Write(dir, "bench", "")
				} else {
					err = os.MkdirAll(dir, 0o755)
					if err == nil {
						err = manifest.Write(filepath.Join(dir, manifest.File), st, p.Runs)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(1_100_000, "runs/op")
		})
	}
}

func TestPlanManifestMatchesRuns(t *testing.T) {
	dir := t.TempDir()
	st := parse(t, "name = \"m\"\ntrials = 2\n[params.x]\nvalues = [1, 2]\n[models.a.params.w]\nvalues = [0.5]\n[models.b]\n")
	p, err := New(st, dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "test", ""); err != nil {
		t.Fatal(err)
	}
	entries, err := manifest.Read(filepath.Join(dir, manifest.File))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(p.Runs) {
		t.Fatalf("manifest has %d rows, want %d", len(entries), len(p.Runs))
	}
	for i, e := range entries {
		r := p.Runs[i]
		if e.Index != r.Index || e.RunID != r.ID || e.Seed != r.Seed || e.Dir != r.Dir() || e.Model != r.Cell.Model {
			t.Errorf("row %d = %+v, want run %+v", i, e, r)
		}
		if _, has := e.Params["w"]; has != (e.Model == "a") {
			t.Errorf("row %d (%s): w present = %v", i, e.Model, has)
		}
	}
}
