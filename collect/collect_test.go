package collect

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

const testStudy = `name = "known"
trials = 4
seed = 1
[run]
command = "true"
[params.x]
values = [1, 2]
[params.y]
values = [0.5, 1e6]
[models.a]
[models.b]
[collect]
maximize = ["psnr"]
`

// newStudy plans testStudy into a fresh directory and returns it with its
// manifest.
func newStudy(t *testing.T) (string, []manifest.Entry) {
	t.Helper()
	d := plantest.Dir(t, testStudy)
	return d.Path, plantest.Entries(t, d)
}

// writeShard writes the run shard of one attempt, as the runner does, with
// the given status and metrics (float64 values, or anything to provoke a
// type conflict).
func writeShard(t *testing.T, dir string, e manifest.Entry, attempt int, status string, metrics map[string]any) {
	t.Helper()
	schema := shard.RunColumns()
	for _, name := range []string{"x", "y"} {
		k := table.Double
		if name == "x" {
			k = table.Int64
		}
		schema = append(schema, table.Column{Name: name, Kind: k})
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for m := range metrics {
			if !yield(m) {
				return
			}
		}
	})
	for _, m := range names {
		k := table.Double
		switch metrics[m].(type) {
		case int64:
			k = table.Int64
		case string:
			k = table.String
		case bool:
			k = table.Bool
		}
		schema = append(schema, table.Column{Name: m, Kind: k})
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	exit := any(int64(0))
	if status != shard.StatusOK {
		exit = int64(1)
	}
	row := []any{e.RunID, e.CellID, e.Model, int64(e.Trial), e.Seed, int64(attempt), status, exit, nil,
		10.0 + float64(e.Index), 9.5, 100.0, nil, "node1", nil, nil, nil, start, start.Add(10 * time.Second), nil, int64(0), "test", nil,
		e.Params["x"], e.Params["y"]}
	for _, m := range names {
		row = append(row, metrics[m])
	}
	err := table.WriteFile(shard.Path(dir, e.RunID, attempt), schema, func(w *table.Writer) error { return w.Write(row) })
	if err != nil {
		t.Fatal(err)
	}
}

// psnrOf is the known metric value of a run: it depends on the cell and the
// trial, and trial 4 of the first cell stands far out of its cell.
func psnrOf(e manifest.Entry) float64 {
	v := 20 + 3*float64(e.Params["x"].(int64)) + math.Log10(e.Params["y"].(float64)) + 0.37*float64(e.Trial*e.Trial)
	if e.Model == "b" {
		v -= 1.5
	}
	if e.Index == 3 {
		v += 40
	}
	return v
}

func maeOf(e manifest.Entry) float64 { return 1 / psnrOf(e) }

func writeHistoryShard(t *testing.T, dir string, e manifest.Entry, attempt int) {
	t.Helper()
	err := table.WriteFile(shard.HistoryPath(dir, e.RunID, attempt), shard.HistoryColumns(), func(w *table.Writer) error {
		for step := int64(0); step < 3; step++ {
			if err := w.Write([]any{e.RunID, step * 10, "loss", 1 / float64(step+1+int64(e.Trial))}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fillStudy writes the shards of a study with known values: every run ok
// except the runs of cell 1 (trial 1 failed then ok; trial 2 ok then
// failed; trial 3 failed only; trial 4 lost), plus a truncated shard, a
// foreign shard and one whose metric is an integer. Beside the numbers psnr
// and mae, runs report a boolean (converged: all but trial 2), a string
// (ckpt: t1.pt for odd trials, t0.pt for even ones) and tag, a number in
// the runs of even index and a string in the others.
func fillStudy(t *testing.T, dir string, entries []manifest.Entry, keep func(i int) bool) {
	t.Helper()
	for i, e := range entries {
		if !keep(i) {
			continue
		}
		m := map[string]any{"psnr": psnrOf(e), "mae": maeOf(e), "converged": e.Trial != 2, "ckpt": fmt.Sprintf("t%d.pt", e.Trial%2), "tag": tagOf(i)}
		switch i {
		case 4:
			writeShard(t, dir, e, 1, shard.StatusFailed, nil)
			writeShard(t, dir, e, 2, shard.StatusOK, m)
		case 5:
			writeShard(t, dir, e, 1, shard.StatusOK, m)
			writeShard(t, dir, e, 2, shard.StatusTimeout, nil)
		case 6:
			writeShard(t, dir, e, 1, shard.StatusFailed, nil)
			os.MkdirAll(filepath.Join(dir, e.Dir), 0o755)
			os.WriteFile(filepath.Join(dir, e.Dir, "stderr.log"), []byte("loading\nRuntimeError: CUDA out of memory\n\n"), 0o644)
		case 7:
			// lost
		case 8:
			// A truncated shard: the run is lost.
			writeShard(t, dir, e, 1, shard.StatusOK, m)
			p := shard.Path(dir, e.RunID, 1)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		case 9:
			// The metric as an integer: kept as the number 30.
			writeShard(t, dir, e, 1, shard.StatusOK, map[string]any{"psnr": int64(30), "mae": maeOf(e)})
		default:
			writeShard(t, dir, e, 1, shard.StatusOK, m)
			writeHistoryShard(t, dir, e, 1)
		}
	}
	if keep(len(entries)) {
		// A shard of another study's run.
		foreign := manifest.Entry{RunID: "0123456789ab_t1", CellID: "0123456789ab", Model: "a", Trial: 1, Params: map[string]any{"x": int64(1), "y": 0.5}}
		writeShard(t, dir, foreign, 1, shard.StatusOK, map[string]any{"psnr": 1.0})
	}
}

// tagOf is the value of metric tag in run i: its type changes between runs.
func tagOf(i int) any {
	if i%2 == 0 {
		return float64(i)
	}
	return fmt.Sprintf("s%d", i)
}

func all(int) bool { return true }

func run(t *testing.T, dir string, opt Options) *Result {
	t.Helper()
	opt.Version = "test"
	opt.Now = func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }
	res, err := Collect(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// independent statistics, computed the plain way.
func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func sampleStd(xs []float64) float64 {
	m, s := mean(xs), 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

// type7 is numpy.percentile's default: rank p·(n−1), interpolated.
func type7(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	r := p * float64(len(s)-1)
	i := int(r)
	if i == len(s)-1 {
		return s[i]
	}
	return s[i]*(1-(r-float64(i))) + s[i+1]*(r-float64(i))
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

func TestAggregatesKnownValues(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	res := run(t, dir, Options{})
	// Runs kept ok: all but 5 (its latest attempt timed out), 6 (failed
	// only), 7 (lost) and 8 (set aside: a failed attempt, as status counts
	// it). Run 9 reported its psnr as the integer 30.
	ok := map[int]bool{}
	for i := range entries {
		if i < 5 || i > 8 {
			ok[i] = true
		}
	}
	if res.OK != len(ok) || res.Failed != 3 || res.Lost != 1 {
		t.Errorf("ok, failed, lost = %d, %d, %d; want %d, 3, 1", res.OK, res.Failed, res.Lost, len(ok))
	}
	psnr := func(i int) float64 {
		if i == 9 {
			return 30
		}
		return psnrOf(entries[i])
	}
	schema, rows, err := table.ReadFile(filepath.Join(dir, "data", "aggregated_results.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("aggregated rows = %d, want 8 cells", len(rows))
	}
	col := func(row []any, name string) any {
		i := schema.Index(name)
		if i < 0 {
			t.Fatalf("no column %s in %v", name, schema)
		}
		return row[i]
	}
	for ci, row := range rows {
		var psnrs, mae, wall []float64
		nOK, nFailed, nLost := 0, 0, 0
		for i, e := range entries {
			if e.CellID != col(row, "cell_id") {
				continue
			}
			switch {
			case ok[i]:
				nOK++
				psnrs = append(psnrs, psnr(i))
				mae = append(mae, maeOf(e))
				wall = append(wall, 10+float64(e.Index))
			case i != 7:
				nFailed++
			default:
				nLost++
			}
		}
		if got := [3]any{col(row, "n_ok"), col(row, "n_failed"), col(row, "n_lost")}; got != [3]any{int64(nOK), int64(nFailed), int64(nLost)} {
			t.Errorf("cell %d: n = %v, want %d %d %d", ci, got, nOK, nFailed, nLost)
		}
		for m, xs := range map[string][]float64{"psnr": psnrs, "mae": mae, "wall_s": wall} {
			want := map[string]float64{"mean": mean(xs), "std": sampleStd(xs), "sem": sampleStd(xs) / math.Sqrt(float64(len(xs))),
				"min": slices.Min(xs), "p25": type7(xs, 0.25), "median": type7(xs, 0.5), "p75": type7(xs, 0.75), "max": slices.Max(xs)}
			for s, w := range want {
				v := col(row, m+"_"+s)
				got, _ := v.(float64)
				if math.IsNaN(w) && v == nil {
					continue // one value has no spread: NULL
				}
				if !near(got, w) {
					t.Errorf("cell %d: %s_%s = %v, want %v", ci, m, s, got, w)
				}
			}
		}
		if col(row, "gpu_mem_mb_mean") != nil {
			t.Errorf("gpu_mem_mb_mean = %v, want NULL (no GPU)", col(row, "gpu_mem_mb_mean"))
		}
	}
	// The raw table keeps the latest attempt: attempt 2 of run 4 (ok after
	// a failure) and attempt 2 of run 5 (a timeout after an ok).
	raw, rrows, err := table.ReadFile(filepath.Join(dir, "data", "raw_results_all_trials.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string][2]any{}
	for _, r := range rrows {
		kept[r[raw.Index("run_id")].(string)] = [2]any{r[raw.Index("attempt")], r[raw.Index("status")]}
	}
	for i, want := range map[int][2]any{4: {int64(2), "ok"}, 5: {int64(2), "timeout"}, 6: {int64(1), "failed"}, 8: {int64(1), "failed"}} {
		if got := kept[entries[i].RunID]; got != want {
			t.Errorf("run %d kept %v, want %v", i, got, want)
		}
	}
	if len(rrows) != 31 {
		t.Errorf("raw rows = %d, want 31 (all runs but the lost one)", len(rrows))
	}
	// Trial 4 of the first cell stands far out, but four trials are too
	// few to tell an outlier from noise (outlierMinN): none is flagged.
	for _, r := range rrows {
		if flag := r[raw.Index(outlierColumn)]; flag != nil {
			t.Errorf("run %v: outlier_metrics = %v, want none flagged in cells of 4 trials", r[raw.Index("run_id")], flag)
		}
	}
}

func TestBadShardsSetAside(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	res := run(t, dir, Options{})
	want := map[string]string{
		shard.Name(entries[8].RunID, 1, false):  "unreadable",
		shard.Name("0123456789ab_t1", 1, false): "from another study",
	}
	if len(res.SetAside) != len(want) {
		t.Errorf("set aside %v, want %d shards", res.SetAside, len(want))
	}
	md, err := os.ReadFile(filepath.Join(dir, "reports", "executive_summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "reports", "detailed_analysis.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range res.SetAside {
		w, ok := want[b.Name]
		if !ok || !strings.Contains(b.Reason, w) {
			t.Errorf("set aside %s: %s; want reason %q", b.Name, b.Reason, w)
		}
		if !strings.Contains(string(md), mdEscape(b.Name)) || !strings.Contains(string(html), b.Name) {
			t.Errorf("reports do not name %s", b.Name)
		}
	}
	if !strings.Contains(string(md), "RuntimeError: CUDA out of memory") {
		t.Errorf("executive summary lacks the failed run's last stderr line:\n%s", md)
	}
	if strings.Contains(string(html), "<script src") || strings.Contains(string(html), "http://") || strings.Contains(string(html), "https://") {
		t.Errorf("HTML report refers to something outside itself")
	}
}

// dataFiles returns the bytes of every table in data/.
func dataFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range []string{"raw_results_all_trials.parquet", "raw_results_all_trials.csv", "aggregated_results.parquet", "aggregated_results.csv", "statistical_summary.csv", "history.parquet"} {
		b, err := os.ReadFile(filepath.Join(dir, "data", f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func sameFiles(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	for f := range want {
		if !bytes.Equal(got[f], want[f]) {
			t.Errorf("%s: data/%s differs", what, f)
		}
	}
}

func TestIncrementalIdentical(t *testing.T) {
	scratch, entries := newStudy(t)
	fillStudy(t, scratch, entries, all)
	run(t, scratch, Options{Workers: 3})
	want := dataFiles(t, scratch)

	// Collecting again reads nothing and changes nothing.
	res := run(t, scratch, Options{})
	if res.Read != 0 || res.Rebuilt {
		t.Errorf("second collect read %d files (rebuilt %v), want 0", res.Read, res.Rebuilt)
	}
	sameFiles(t, "second collect", dataFiles(t, scratch), want)

	// Half the shards, then the rest: the same tables.
	inc, _ := newStudy(t)
	fillStudy(t, inc, entries, func(i int) bool { return i%2 == 0 && i != 4 })
	run(t, inc, Options{Workers: 1})
	fillStudy(t, inc, entries, func(i int) bool { return i%2 == 1 || i == 4 })
	res = run(t, inc, Options{})
	if res.Rebuilt {
		t.Errorf("incremental collect started from scratch: %s", res.Why)
	}
	sameFiles(t, "incremental collect", dataFiles(t, inc), want)
	if fmt.Sprint(res.SetAside) == "" {
		t.Error("no shard set aside after incremental collect")
	}

	// --report-only reads data/ alone.
	if err := os.Rename(shard.Dir(inc), shard.Dir(inc)+".away"); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(inc, "reports", "executive_summary.md"))
	res = run(t, inc, Options{ReportOnly: true})
	if _, err := os.Stat(filepath.Join(inc, "reports", "executive_summary.md")); err != nil || res.OK != 28 {
		t.Errorf("--report-only: %v, %d ok", err, res.OK)
	}
	sameFiles(t, "report-only", dataFiles(t, inc), want)
}

func TestNothingRead(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, func(i int) bool { return i == 8 })
	_, err := Collect(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), ErrNothingRead.Error()) {
		t.Errorf("Collect of a study with one corrupt shard: %v, want %v", err, ErrNothingRead)
	}
}

// TestTypedMetrics: booleans and strings are kept in the raw table and
// counted per cell, an integer is a number, and a metric whose type
// changes between runs is kept as text with one warning; none of them sets
// a shard aside or reaches a figure.
func TestTypedMetrics(t *testing.T) {
	dir, entries := newStudy(t)
	fillStudy(t, dir, entries, all)
	res := run(t, dir, Options{})
	for _, b := range res.SetAside {
		if strings.Contains(b.Reason, "column types") {
			t.Errorf("set aside for a metric's type: %v", b)
		}
	}
	var tagWarnings []string
	for _, w := range res.Warnings {
		if strings.Contains(w, "metric") && strings.Contains(w, "text") {
			tagWarnings = append(tagWarnings, w)
		}
	}
	if len(tagWarnings) != 1 || !strings.Contains(tagWarnings[0], `"tag"`) {
		t.Errorf("warnings about types = %q, want one naming tag", tagWarnings)
	}
	for _, f := range res.Figures {
		for _, m := range []string{"converged", "ckpt", "tag"} {
			if strings.Contains(filepath.Base(f), m) {
				t.Errorf("figure %s draws metric %s, which is no number", f, m)
			}
		}
	}

	raw, rows, err := table.ReadFile(filepath.Join(dir, "data", rawFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]table.Kind{"psnr": table.Double, "converged": table.Bool, "ckpt": table.String, "tag": table.String} {
		if i := raw.Index(name); i < 0 || raw[i].Kind != k {
			t.Errorf("raw column %s: %v, want %s", name, raw, k)
		}
	}
	byRun := map[string][]any{}
	for _, r := range rows {
		byRun[r[raw.Index("run_id")].(string)] = r
	}
	for i, want := range map[int][3]any{0: {true, "t1.pt", "0"}, 1: {false, "t0.pt", "s1"}, 10: {true, "t1.pt", "10"}} {
		r := byRun[entries[i].RunID]
		if got := [3]any{r[raw.Index("converged")], r[raw.Index("ckpt")], r[raw.Index("tag")]}; got != want {
			t.Errorf("run %d: converged, ckpt, tag = %v, want %v", i, got, want)
		}
	}
	if got := byRun[entries[9].RunID][raw.Index("psnr")]; got != 30.0 {
		t.Errorf("run 9: psnr = %v, want the integer 30 as a number", got)
	}

	// The first cell holds runs 0 to 3, all ok: trial 2 did not
	// converge; ckpt is t1.pt twice and t0.pt twice (the first in byte
	// order wins the tie); tag has four values.
	agg, arows, err := table.ReadFile(filepath.Join(dir, "data", aggFile+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"converged_mean", "ckpt_mean", "tag_mean"} {
		if agg.Index(absent) >= 0 {
			t.Errorf("aggregated_results has %s: only numbers have statistics", absent)
		}
	}
	want := map[string]any{"converged_n_true": int64(3), "converged_frac_true": 0.75, "ckpt_mode": "t0.pt", "ckpt_n_distinct": int64(2),
		"tag_mode": "0", "tag_n_distinct": int64(4)}
	for _, r := range arows {
		if r[agg.Index("cell_id")] != entries[0].CellID {
			continue
		}
		for name, w := range want {
			if i := agg.Index(name); i < 0 || r[i] != w {
				t.Errorf("first cell: %s = %v, want %v", name, r[max(i, 0)], w)
			}
		}
	}

	// A collect that reads nothing new keeps the tag's values as text
	// and warns again: data/ remembers which were numbers.
	again := run(t, dir, Options{})
	if again.Read != 0 || again.Rebuilt || !slices.Equal(again.Warnings, res.Warnings) {
		t.Errorf("second collect: read %d, rebuilt %v, warnings %q; want 0, false, %q", again.Read, again.Rebuilt, again.Warnings, res.Warnings)
	}
}
