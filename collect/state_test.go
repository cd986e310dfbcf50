package collect

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// shardLikeRow is a run shard's row as the runner writes it, with three
// metrics: what collect keeps of each run of a big study.
func shardLikeRow(e manifest.Entry, i int) (table.Schema, []any) {
	schema := append(shard.RunColumns(), table.Column{Name: "psnr", Kind: table.Double},
		table.Column{Name: "ms_ssim", Kind: table.Double}, table.Column{Name: "mae", Kind: table.Double})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	row := []any{e.RunID, e.CellID, e.Model, int64(e.Trial), e.Seed, int64(1), shard.StatusOK, int64(0), nil,
		61.5, 58.25, 900.0, 4000.0, "node01", "123", "123", fmt.Sprint(i), t0, t0.Add(time.Minute), nil, int64(0), "v1", nil,
		20 + float64(i%97), 0.9, 0.01}
	return schema, row
}

// TestStateBytesPerRun bounds what the state keeps per run: typed columns
// and interned strings, not a row of boxed values and a map of metrics
// (about 1,000 bytes a run), so that 1.1 million runs fit in memory.
func TestStateBytesPerRun(t *testing.T) {
	const n = 20000
	entries := make([]manifest.Entry, n)
	for i := range entries {
		entries[i] = manifest.Entry{Index: i, RunID: fmt.Sprintf("r%07d", i), CellID: fmt.Sprintf("c%05d", i/5), Model: "pinn", Trial: i % 5, Seed: int64(i)}
	}
	schema, _ := shardLikeRow(entries[0], 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newState(entries)
	for i, e := range entries {
		_, row := shardLikeRow(e, i)
		s.keep(i, 1, schema, row, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRun := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes a run", perRun)
	if perRun > 400 {
		t.Errorf("the state takes %.0f bytes a run, want at most 400", perRun)
	}
	// The values read back as the shard held them.
	for _, i := range []int{0, n / 2, n - 1} {
		r := s.runs[i]
		_, row := shardLikeRow(entries[i], i)
		for j, c := range schema[:len(shard.RunColumns())] {
			if got := r.val(c.Name); got != row[j] && !(c.Kind == table.Timestamp && got.(time.Time).Equal(row[j].(time.Time))) {
				t.Errorf("run %d, column %s: %#v, want %#v", i, c.Name, got, row[j])
			}
		}
		if v, ok := r.value("psnr"); !ok || v != row[len(row)-3] {
			t.Errorf("run %d: psnr %v %v, want %v", i, v, ok, row[len(row)-3])
		}
	}
	runtime.KeepAlive(s)
}

// TestKeepReplaces checks that keeping a later attempt of a run leaves
// nothing of the earlier one: a metric only the first reported is gone,
// and the types the tables see follow.
func TestKeepReplaces(t *testing.T) {
	entries := []manifest.Entry{{RunID: "a", CellID: "c"}}
	s := newState(entries)
	s.keep(0, 1, table.Schema{{Name: "status", Kind: table.String}, {Name: "loss", Kind: table.String}, {Name: "flag", Kind: table.Bool}},
		[]any{shard.StatusFailed, "nan", true}, nil)
	if got := s.metricTypes(); got["loss"] != isString || got["flag"] != isBool {
		t.Fatalf("types after attempt 1: %v", got)
	}
	s.keep(0, 2, table.Schema{{Name: "status", Kind: table.String}, {Name: "loss", Kind: table.Int64}},
		[]any{shard.StatusOK, int64(3)}, nil)
	r := s.runs[0]
	if !r.ok || r.attempt != 2 || r.shard() != "a.a2.parquet" {
		t.Errorf("kept %+v (%s), want attempt 2 ok", *r, r.shard())
	}
	if v, ok := r.value("loss"); !ok || v != 3 {
		t.Errorf("loss = %v %v, want the number 3", v, ok)
	}
	if _, ok := r.boolMetric("flag"); ok || r.metric(table.Column{Name: "flag", Kind: table.Bool}) != nil {
		t.Error("flag of attempt 1 survived attempt 2")
	}
	if got := s.metricTypes(); got["loss"] != isNumber || got["flag"] != 0 {
		t.Errorf("types after attempt 2: %v", got)
	}
}

// TestPipeline checks that every result is folded exactly once, on the
// calling goroutine, and that a cancelled context stops handing out work.
func TestPipeline(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 64} {
		var got []int
		err := pipeline(context.Background(), 100, workers, func(i int) int { return i * i }, func(i, v int) {
			if v != i*i {
				t.Errorf("fold(%d, %d)", i, v)
			}
			got = append(got, i) // no lock: fold runs on this goroutine
		})
		slices.Sort(got)
		if err != nil || len(got) != 100 || got[0] != 0 || got[99] != 99 || len(slices.Compact(got)) != 100 {
			t.Errorf("workers %d: %d results, err %v", workers, len(got), err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	if err := pipeline(ctx, 100, 2, func(i int) int { return i }, func(int, int) { n++ }); err == nil || n != 0 {
		t.Errorf("cancelled: err %v, %d folded", err, n)
	}
}
