package state

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// BenchmarkGather1M times what status does for a study of 1,000,000 runs,
// squeue aside: read the manifest, list the shards, take the status of
// each run's latest shard from the status cache, and decide each run's
// state. One run in ten has a shard (ok, or failed for one in fifty); the
// first Gather, untimed, fills the cache, as status's first call does.
func BenchmarkGather1M(b *testing.B) {
	const n, done = 1_000_000, 10
	d := plantest.Dir(b, "name = \"s\"\ntrials = 5\n[params.x]\nrange = {start = 1, stop = 1000, step = 1}\n[params.y]\nrange = {start = 1, stop = 200, step = 1}\n")
	dir := d.Path
	var ids []string
	for _, e := range plantest.Entries(b, d) {
		ids = append(ids, e.RunID)
	}
	cols := shard.RunColumns()
	row := make([]any, len(cols))
	var buf bytes.Buffer
	for i := 0; i < n; i += done {
		row[cols.Index("run_id")] = ids[i]
		row[cols.Index("attempt")] = int64(1)
		row[cols.Index("status")] = shard.StatusOK
		if i%(5*done) == 0 {
			row[cols.Index("status")] = shard.StatusFailed
		}
		buf.Reset()
		w, err := table.NewWriter(&buf, cols)
		if err == nil {
			err = w.Write(row)
		}
		if err == nil {
			err = w.Close()
		}
		// The benchmark's shards need no fsync: they only have to be read.
		if err == nil {
			err = os.WriteFile(shard.Path(dir, ids[i], 1), buf.Bytes(), 0o644)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, err := Gather(ctx, dir, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := Gather(ctx, dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Runs) != n || rep.Counts[shard.StatusOK]+rep.Counts[shard.StatusFailed] != n/done {
			b.Fatalf("counts %v", rep.Counts)
		}
	}
}
