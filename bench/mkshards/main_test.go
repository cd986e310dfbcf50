package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
)

// TestRunSizes: -n plans that many runs and -shards writes the shards of
// the first runs only, each one a run shard that reads back as ok.
func TestRunSizes(t *testing.T) {
	for _, tc := range []struct{ n, shards int }{{1000, 3}, {2000, 0}} {
		dir := filepath.Join(t.TempDir(), "s")
		if err := run(dir, tc.n, tc.shards); err != nil {
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
