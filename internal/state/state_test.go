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

// runRow returns a minimal run shard row (shard.RunColumns) of runID's
// attempt with the given status.
func runRow(runID string, attempt int, status string) []any {
	cols := shard.RunColumns()
	row := make([]any, len(cols))
	row[cols.Index("run_id")] = runID
	row[cols.Index("attempt")] = int64(attempt)
	row[cols.Index("status")] = status
	row[cols.Index("started_at")] = time.Unix(0, 0)
	return row
}

// writeShard writes a minimal run shard with the given status.
func writeShard(t testing.TB, dir, runID string, attempt int, status string) {
	t.Helper()
	writeOneRow(t, dir, runRow(runID, attempt, status))
}

// rowKey returns the attempt that row (shard.RunColumns) records.
func rowKey(row []any) shard.Key {
	cols := shard.RunColumns()
	return shard.Key{RunID: row[cols.Index("run_id")].(string), Attempt: int(row[cols.Index("attempt")].(int64))}
}

// writeOneRow writes row (shard.RunColumns) as its attempt's one-row shard.
func writeOneRow(t testing.TB, dir string, row []any) {
	t.Helper()
	k := rowKey(row)
	if err := table.WriteFile(shard.Path(dir, k.RunID, k.Attempt), shard.RunColumns(), func(w *table.Writer) error { return w.Write(row) }); err != nil {
		t.Fatal(err)
	}
}

// writeTask writes rows (shard.RunColumns) as a task shard, as a packed
// task does, and returns its path.
func writeTask(t testing.TB, dir string, rows ...[]any) string {
	t.Helper()
	trs := make([]shard.TaskRow, len(rows))
	for i, r := range rows {
		trs[i] = shard.TaskRow{Key: rowKey(r), Schema: shard.RunColumns(), Row: r}
	}
	paths, err := shard.WriteTask(dir, trs)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 {
		t.Fatalf("WriteTask wrote %v, want one task shard", paths)
	}
	return paths[0]
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

// Attempts in task shards and parts count as those in one-row shards do,
// an attempt found twice counts once, and Explain reads a failed run's
// error from the file that holds its result.
func TestGatherFolded(t *testing.T) {
	dir, ids := makeStudy(t, 5)
	failed := runRow(ids[1], 1, shard.StatusFailed)
	failed[shard.RunColumns().Index("error")] = "boom"
	writeTask(t, dir, runRow(ids[0], 1, shard.StatusOK), failed, runRow(ids[2], 1, shard.StatusOK), runRow(ids[3], 1, shard.StatusFailed))
	writeShard(t, dir, ids[2], 2, shard.StatusFailed) // a forced re-run that failed
	writeShard(t, dir, ids[3], 1, shard.StatusFailed) // in two files, as a compaction killed midway leaves it
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
