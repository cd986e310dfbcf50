package state

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

// makeStudy plans a study of n runs in a temporary folder.
func makeStudy(t testing.TB, n int) (string, *plan.Plan) {
	t.Helper()
	dir := t.TempDir()
	src := fmt.Sprintf("name = \"s\"\n[params.x]\nrange = {start = 1, stop = %d, step = 1}\n", n)
	st, err := study.Parse("s.toml", src, dir, study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.New(st, dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "test", ""); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

// writeShard writes a minimal run shard with the given status.
func writeShard(t testing.TB, dir, runID string, attempt int, status string) {
	t.Helper()
	cols := shard.RunColumns()
	row := make([]any, len(cols))
	row[cols.Index("run_id")] = runID
	row[cols.Index("attempt")] = int64(attempt)
	row[cols.Index("status")] = status
	row[cols.Index("started_at")] = time.Unix(0, 0)
	if err := table.WriteFile(shard.Path(dir, runID, attempt), cols, func(w *table.Writer) error { return w.Write(row) }); err != nil {
		t.Fatal(err)
	}
}

func TestGatherFromShards(t *testing.T) {
	dir, p := makeStudy(t, 6)
	ids := make([]string, len(p.Runs))
	for i, r := range p.Runs {
		ids[i] = r.ID
	}
	writeShard(t, dir, ids[0], 1, shard.StatusOK)
	writeShard(t, dir, ids[1], 1, shard.StatusFailed)
	writeShard(t, dir, ids[2], 1, shard.StatusOK)
	writeShard(t, dir, ids[2], 2, shard.StatusFailed) // a later failed attempt of an ok run
	writeShard(t, dir, ids[3], 1, shard.StatusFailed)
	writeShard(t, dir, ids[3], 2, shard.StatusTimeout)
	if err := os.WriteFile(shard.Path(dir, ids[4], 1), []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Gather(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{shard.StatusOK, shard.StatusFailed, shard.StatusFailed, shard.StatusTimeout, shard.StatusFailed, lifecycle.Missing}
	for i, r := range rep.Runs {
		if r.State != want[i] {
			t.Errorf("run %d state = %s, want %s", i, r.State, want[i])
		}
	}
	if rep.Runs[3].Attempts != 2 {
		t.Errorf("run 3 attempts = %d, want 2", rep.Runs[3].Attempts)
	}
}

// BenchmarkGather100k measures status without squeue's own time: a study
// of 100,000 runs with 10,000 shards present.
func BenchmarkGather100k(b *testing.B) {
	dir, p := makeStudy(b, 100_000)
	for i := 0; i < 10_000; i++ {
		writeShard(b, dir, p.Runs[i*10].ID, 1, shard.StatusOK)
	}
	// The first status reads every shard; later ones only new shards.
	start := time.Now()
	if _, err := Gather(context.Background(), dir, nil); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(start).Seconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Gather(context.Background(), dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counts[shard.StatusOK] != 10_000 {
			b.Fatalf("ok = %d, want 10000", rep.Counts[shard.StatusOK])
		}
	}
	b.ReportMetric(cold, "cold-s")
}
