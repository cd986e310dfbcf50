package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/state"
	"github.com/gridstudy/gridstudy/internal/table"
)

// TestRunSizes: -n plans that many runs and -shards writes the shards of
// the first runs only, each one a run shard that reads back as ok.
func TestRunSizes(t *testing.T) {
	for _, tc := range []struct{ n, shards int }{{1000, 3}, {2000, 0}} {
		dir := filepath.Join(t.TempDir(), "s")
		if err := run(dir, tc.n, options{shards: tc.shards}); err != nil {
			t.Fatal(err)
		}
		entries, err := manifest.Read(filepath.Join(dir, manifest.File))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != tc.n {
			t.Errorf("-n %d planned %d runs", tc.n, len(entries))
		}
		files, err := os.ReadDir(shard.Dir(dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != tc.shards {
			t.Errorf("-shards %d wrote %d files", tc.shards, len(files))
		}
		for _, e := range entries[:tc.shards] {
			if st := shard.ReadStatus(shard.Path(dir, e.RunID, 1)); st != shard.StatusOK {
				t.Errorf("shard of run %d: status %q", e.Index, st)
			}
		}
	}
}

// TestTaskShards: -task writes the runs' rows as task shards of that many
// runs, -compact compacts them into parts, -failed makes every F-th run a
// failed one; the files hold each run's row once, under the runner's
// schema, and status counts every run once either way.
func TestTaskShards(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       options
		pattern string // the run files left
		files   int
	}{
		{"tasks", options{shards: 2000, failed: 50, task: 300}, "task-*.parquet", 7},
		{"parts", options{shards: 1500, failed: 50, task: 100, compact: true}, "part-*.parquet", 1},
		{"parts without tasks", options{shards: 2000, compact: true}, "part-*.parquet", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			if err := run(dir, 2000, tc.o); err != nil {
				t.Fatal(err)
			}
			runFiles, err := filepath.Glob(filepath.Join(shard.Dir(dir), "*.parquet"))
			if err != nil {
				t.Fatal(err)
			}
			multi, _ := filepath.Glob(filepath.Join(shard.Dir(dir), tc.pattern))
			if len(multi) != tc.files || len(runFiles) != tc.files {
				t.Errorf("%d files matching %s of %d run files, want %d: %v", len(multi), tc.pattern, len(runFiles), tc.files, runFiles)
			}
			checkRows(t, dir, multi, tc.o)
			rep, err := state.Gather(context.Background(), dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			if tc.o.failed > 0 {
				failed = (tc.o.shards + tc.o.failed - 1) / tc.o.failed // indices 0, F, 2F, …
			}
			want := map[string]int{shard.StatusOK: tc.o.shards - failed, shard.StatusFailed: failed, lifecycle.Missing: 2000 - tc.o.shards}
			for s, n := range want {
				if rep.Counts[s] != n {
					t.Errorf("%s: %d runs, want %d (%v)", s, rep.Counts[s], n, rep.Counts)
				}
			}
		})
	}
}

// checkRows reads files back: they hold attempt 1 of each of the first
// o.shards runs once, at most o.task rows a file when o.task is set (and
// not compacted), under RunColumns, the parameters and the metrics.
func checkRows(t *testing.T, dir string, files []string, o options) {
	t.Helper()
	entries, err := manifest.Read(filepath.Join(dir, manifest.File))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[shard.Key]int{}
	for _, f := range files {
		rows, err := shard.ReadRows(f)
		if err != nil {
			t.Fatal(err)
		}
		if o.task > 0 && !o.compact && len(rows) > o.task {
			t.Errorf("%s holds %d rows, more than -task %d", filepath.Base(f), len(rows), o.task)
		}
		for _, r := range rows {
			seen[r.Key]++
		}
	}
	if len(seen) != o.shards {
		t.Errorf("the files hold %d attempts, want %d", len(seen), o.shards)
	}
	for _, e := range entries[:o.shards] {
		if n := seen[shard.Key{RunID: e.RunID, Attempt: 1}]; n != 1 {
			t.Errorf("run %d (%s) attempt 1: %d rows, want 1", e.Index, e.RunID, n)
		}
	}
	schema, _, err := table.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range schema {
		got = append(got, c.Name)
	}
	var want []string
	for _, c := range shard.RunColumns() {
		want = append(want, c.Name)
	}
	want = append(want, "nphotons", "n_images", "nll_weight", "psnr", "ms_ssim", "mae")
	if !slices.Equal(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
}
