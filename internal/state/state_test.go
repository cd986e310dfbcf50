package state

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// makeStudy plans a study of n runs and returns its folder and run ids,
// in manifest order.
func makeStudy(t testing.TB, n int) (string, []string) {
	t.Helper()
	d := plantest.Dir(t, fmt.Sprintf("name = \"s\"\n[params.x]\nrange = {start = 1, stop = %d, step = 1}\n", n))
	var ids []string
	for _, e := range plantest.Entries(t, d) {
		ids = append(ids, e.RunID)
	}
	return d.Path, ids
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
	dir, ids := makeStudy(t, 6)
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

// A live claim makes a run running, whatever its result; a claim whose
// runner died leaves the result as it was.
func TestGatherClaims(t *testing.T) {
	dir, ids := makeStudy(t, 3)
	writeShard(t, dir, ids[0], 1, shard.StatusOK)
	live, err := shard.TakeClaim(dir, ids[0]) // a forced re-run, running
	if err != nil {
		t.Fatal(err)
	}
	defer live.Release()
	writeShard(t, dir, ids[1], 1, shard.StatusFailed)
	dead, err := shard.TakeClaim(dir, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	dead.Abandon()
	dead2, err := shard.TakeClaim(dir, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	dead2.Abandon()
	rep, err := Gather(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		state            string
		attempts, result int
	}{{lifecycle.Running, 2, 1}, {shard.StatusFailed, 2, 1}, {lifecycle.Missing, 1, 0}}
	for i, w := range want {
		if r := rep.Runs[i]; r.State != w.state || r.Attempts != w.attempts || r.Result != w.result {
			t.Errorf("run %d = %s, %d attempts, result %d; want %s, %d, %d", i, r.State, r.Attempts, r.Result, w.state, w.attempts, w.result)
		}
	}
}

// BenchmarkGather100k measures status without squeue's own time: a study
// of 100,000 runs with 10,000 shards present.
func BenchmarkGather100k(b *testing.B) {
	dir, ids := makeStudy(b, 100_000)
	for i := 0; i < 10_000; i++ {
		writeShard(b, dir, ids[i*10], 1, shard.StatusOK)
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

// TestExplain: runs that stand failed, cancelled, timeout or preempted get
// the error of their result shard, the latest attempt's; others none.
func TestExplain(t *testing.T) {
	dir, ids := makeStudy(t, 5)
	write := func(runID string, attempt int, status, errText string) {
		t.Helper()
		cols := shard.RunColumns()
		row := make([]any, len(cols))
		row[cols.Index("run_id")] = runID
		row[cols.Index("attempt")] = int64(attempt)
		row[cols.Index("status")] = status
		row[cols.Index("started_at")] = time.Unix(0, 0)
		row[cols.Index("error")] = errText
		if err := table.WriteFile(shard.Path(dir, runID, attempt), cols, func(w *table.Writer) error { return w.Write(row) }); err != nil {
			t.Fatal(err)
		}
	}
	write(ids[0], 1, shard.StatusOK, "a note on an ok run")
	write(ids[1], 1, shard.StatusFailed, "image metrics: boom")
	write(ids[2], 1, shard.StatusFailed, "old")
	write(ids[2], 2, shard.StatusTimeout, "the run's timeout of 1s passed")
	if err := os.WriteFile(shard.Path(dir, ids[3], 1), []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Gather(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	Explain(dir, rep)
	want := []string{"", "image metrics: boom", "the run's timeout of 1s passed", "", ""}
	for i, r := range rep.Runs {
		if r.Error != want[i] {
			t.Errorf("run %d (%s) error = %q, want %q", i, r.State, r.Error, want[i])
		}
	}
}

// Attempts folded into task shards and parts count as those in one-row
// shards do, an attempt found twice counts once, and Explain reads a
// failed run's error from the file that holds its result.
func TestGatherFolded(t *testing.T) {
	dir, ids := makeStudy(t, 5)
	writeShard(t, dir, ids[0], 1, shard.StatusOK)
	cols := shard.RunColumns()
	row := make([]any, len(cols))
	row[cols.Index("run_id")], row[cols.Index("attempt")], row[cols.Index("status")] = ids[1], int64(1), shard.StatusFailed
	row[cols.Index("error")] = "boom"
	if err := table.WriteFile(shard.Path(dir, ids[1], 1), cols, func(w *table.Writer) error { return w.Write(row) }); err != nil {
		t.Fatal(err)
	}
	writeShard(t, dir, ids[2], 1, shard.StatusOK)
	writeShard(t, dir, ids[3], 1, shard.StatusFailed)
	if _, err := shard.FoldTask(dir, []shard.Key{{RunID: ids[0], Attempt: 1}, {RunID: ids[1], Attempt: 1}, {RunID: ids[2], Attempt: 1}, {RunID: ids[3], Attempt: 1}}); err != nil {
		t.Fatal(err)
	}
	writeShard(t, dir, ids[2], 2, shard.StatusFailed) // a forced re-run that failed
	writeShard(t, dir, ids[3], 1, shard.StatusFailed) // left twice by a fold killed midway
	want := []struct {
		state    string
		attempts int
	}{{shard.StatusOK, 1}, {shard.StatusFailed, 1}, {shard.StatusFailed, 2}, {shard.StatusFailed, 1}, {lifecycle.Missing, 0}}
	check := func(when string) {
		rep, err := Gather(context.Background(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		Explain(dir, rep)
		for i, r := range rep.Runs {
			if r.State != want[i].state || r.Attempts != want[i].attempts {
				t.Errorf("%s: run %d is %s after %d attempts, want %s after %d", when, i, r.State, r.Attempts, want[i].state, want[i].attempts)
			}
		}
		if rep.Runs[1].Error != "boom" {
			t.Errorf("%s: run 1's error %q, want the one its folded row records", when, rep.Runs[1].Error)
		}
	}
	check("task shard")
	if _, err := shard.Compact(dir); err != nil {
		t.Fatal(err)
	}
	check("compacted")
}
