package state

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// BenchmarkGather1MFinished times status for a study of 1,000,000 runs
// that have all finished, one in fifty failed, squeue aside, with their
// rows where packed tasks and collect --compact leave them: 1,000 task
// shards of 1,000 runs, or 100 parts of 10,000. "explain" adds what
// status --json and --runs do on top: read the error of each failed run.
// The first Gather, untimed, fills the status cache, as status's first
// call does; its time is reported as cold-s.
func BenchmarkGather1MFinished(b *testing.B) {
	for _, tc := range []struct {
		name  string
		rows  int
		fname func(first shard.Key, n int) string
	}{
		{"tasks", 1000, func(first shard.Key, _ int) string { return shard.TaskName(first, false) }},
		{"parts", shard.PartRows, func(_ shard.Key, n int) string { return shard.PartName(n, false) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := finishedStudy(b, tc.rows, tc.fname)
			ctx := context.Background()
			start := time.Now()
			if _, err := Gather(ctx, dir, nil); err != nil {
				b.Fatal(err)
			}
			cold := time.Since(start).Seconds()
			for _, explain := range []bool{false, true} {
				name := "status"
				if explain {
					name = "explain"
				}
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						rep, err := Gather(ctx, dir, nil)
						if err != nil {
							b.Fatal(err)
						}
						if rep.Counts[shard.StatusOK] != 980_000 || rep.Counts[shard.StatusFailed] != 20_000 {
							b.Fatalf("counts %v", rep.Counts)
						}
						if explain {
							Explain(dir, rep)
							if r := rep.Runs[50]; r.Error != "exit status 1" {
								b.Fatalf("run 50 is %s with error %q", r.State, r.Error)
							}
						}
					}
					b.ReportMetric(cold, "cold-s")
				})
			}
		})
	}
}

// finishedStudy plans a study of 1,000,000 runs and writes every run's
// first attempt, ok or (every fiftieth) failed, in multi-row files of rows
// runs each, named by name from their first row and their number, with
// the run shard's columns and three metrics.
func finishedStudy(b *testing.B, rows int, name func(first shard.Key, n int) string) string {
	d := plantest.Dir(b, "name = \"s\"\ntrials = 5\n[params.x]\nrange = {start = 1, stop = 1000, step = 1}\n[params.y]\nrange = {start = 1, stop = 200, step = 1}\n")
	entries := plantest.Entries(b, d)
	cols := append(shard.RunColumns(), table.Column{Name: "psnr", Kind: table.Double},
		table.Column{Name: "ms_ssim", Kind: table.Double}, table.Column{Name: "mae", Kind: table.Double})
	id, at, st, msg := cols.Index("run_id"), cols.Index("attempt"), cols.Index("status"), cols.Index("error")
	for lo := 0; lo < len(entries); lo += rows {
		first := shard.Key{RunID: entries[lo].RunID, Attempt: 1}
		err := table.WriteFile(filepath.Join(shard.Dir(d.Path), name(first, lo/rows+1)), cols, func(w *table.Writer) error {
			for i, e := range entries[lo:min(lo+rows, len(entries))] {
				row := make([]any, len(cols))
				row[id], row[at], row[st] = e.RunID, int64(1), shard.StatusOK
				row[len(cols)-3], row[len(cols)-2], row[len(cols)-1] = 30.0+float64(i%7), 0.9, 0.01
				if e.Index%50 == 0 {
					row[st], row[msg] = shard.StatusFailed, "exit status 1"
					row[len(cols)-3], row[len(cols)-2], row[len(cols)-1] = nil, nil, nil
				}
				if err := w.Write(row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return d.Path
}
