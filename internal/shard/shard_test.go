package shard

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/table"
)

func TestPaths(t *testing.T) {
	tests := []struct {
		dir, id string
		attempt int
		want    string
		history string
	}{
		{"study", "c1a2b3-t0", 1, "study/shards/c1a2b3-t0.a1.parquet", "study/shards/c1a2b3-t0.a1.history.parquet"},
		{"/abs/dir/", "r", 12, "/abs/dir/shards/r.a12.parquet", "/abs/dir/shards/r.a12.history.parquet"},
	}
	for _, tt := range tests {
		if got := Path(tt.dir, tt.id, tt.attempt); got != tt.want {
			t.Errorf("Path(%q, %q, %d) = %q, want %q", tt.dir, tt.id, tt.attempt, got, tt.want)
		}
		if got := HistoryPath(tt.dir, tt.id, tt.attempt); got != tt.history {
			t.Errorf("HistoryPath(%q, %q, %d) = %q, want %q", tt.dir, tt.id, tt.attempt, got, tt.history)
		}
	}
}

func TestParse(t *testing.T) {
	type result struct {
		id      string
		attempt int
		history bool
		ok      bool
	}
	tests := []struct {
		name string
		want result
	}{
		{"c1-t0.a1.parquet", result{"c1-t0", 1, false, true}},
		{"c1-t0.a1.history.parquet", result{"c1-t0", 1, true, true}},
		{"c1-t0.a27.parquet", result{"c1-t0", 27, false, true}},
		{"data.a3.a2.parquet", result{"data.a3", 2, false, true}},
		{"x.history.a1.parquet", result{"x.history", 1, false, true}},
		{"r.a1.history.history.parquet", result{}},
		{"r.a0.parquet", result{}},
		{"r.a01.parquet", result{}},
		{"r.a-1.parquet", result{}},
		{"r.a+1.parquet", result{}},
		{"r.a1x.parquet", result{}},
		{"r.a.parquet", result{}},
		{"r.a99999999999999999999.parquet", result{}},
		{".a1.parquet", result{}},
		{".r.a1.parquet", result{}},
		{".r.a1.parquet.x1y2.tmp", result{}},
		{"r.a1.parquet.tmp", result{}},
		{"r.a1.csv", result{}},
		{"r.parquet", result{}},
		{"manifest.parquet", result{}},
		{"", result{}},
	}
	for _, tt := range tests {
		id, attempt, history, ok := Parse(tt.name)
		got := result{id, attempt, history, ok}
		if !tt.want.ok {
			tt.want = result{}
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseName(t *testing.T) {
	for _, id := range []string{"r", "c1a2b3-t0", "nphotons=1e6_n=512-t3", "a.a1", "x.history"} {
		for _, attempt := range []int{1, 2, 10, 123456} {
			for _, history := range []bool{false, true} {
				name := Name(id, attempt, history)
				gid, ga, gh, ok := Parse(name)
				if !ok || gid != id || ga != attempt || gh != history {
					t.Errorf("Parse(%q) = %q, %d, %v, %v, want %q, %d, %v, true", name, gid, ga, gh, ok, id, attempt, history)
				}
			}
		}
	}
}

func touch(t testing.TB, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScan(t *testing.T) {
	study := t.TempDir()
	touch(t, Dir(study),
		"b.a1.parquet", "a.a10.parquet", "a.a2.history.parquet", "a.a2.parquet", "a.a9.parquet",
		".b.a2.parquet.5x7.tmp", "notes.txt", "a.a0.parquet", "manifest.parquet",
		"part-0001.parquet", "task-b-a1.history.parquet", "task-b-a1.parquet", "part-x.parquet",
	)
	got, err := Scan(study)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Name: "part-0001.parquet", Multi: true, Part: true},
		{Name: "task-b-a1.parquet", Multi: true},
		{Name: "task-b-a1.history.parquet", History: true, Multi: true},
		{Name: "a.a2.parquet", RunID: "a", Attempt: 2},
		{Name: "a.a2.history.parquet", RunID: "a", Attempt: 2, History: true},
		{Name: "a.a9.parquet", RunID: "a", Attempt: 9},
		{Name: "a.a10.parquet", RunID: "a", Attempt: 10},
		{Name: "b.a1.parquet", RunID: "b", Attempt: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Scan(%q) = %v, want %v", study, got, want)
	}

	// List returns the same shards and, from the same listing, the claims.
	touch(t, Dir(study), "a.a11.claim", "c.a1.claim", "c.a01.claim", ".c.claim.123")
	shards, claims, err := List(study)
	if err != nil {
		t.Fatal(err)
	}
	wantClaims := map[string]bool{"a.a11.claim": true, "c.a1.claim": true}
	if !reflect.DeepEqual(shards, want) || len(claims) != 2 || !wantClaims[claims[0].Name] || !wantClaims[claims[1].Name] {
		t.Errorf("List = %v, %v; want %v and the claims of a11 and c1", shards, claims, want)
	}
}

func TestScanNoShards(t *testing.T) {
	got, err := Scan(t.TempDir())
	if err != nil || len(got) != 0 {
		t.Errorf("Scan(fresh study) = %v, %v, want nothing", got, err)
	}
	if _, err := Scan(filepath.Join(t.TempDir(), "file")); err != nil {
		t.Errorf("Scan(missing study) = %v, want no error", err)
	}
}

// TestShardRoundTrip writes a shard the way the runner will (run columns,
// then parameters, then metrics) and reads it back value by value.
func TestShardRoundTrip(t *testing.T) {
	study := t.TempDir()
	if err := os.MkdirAll(Dir(study), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 2, 10, 0, 0, 123456000, time.UTC)
	schema := append(RunColumns(), table.Column{Name: "nphotons", Kind: table.Double}, table.Column{Name: "psnr", Kind: table.Double})
	row := []any{
		"c1-t0", "c1", "pinn", int64(0), int64(42), int64(1), StatusFailed, nil, "SIGTERM",
		0.0, 0.0, 12.5, nil, "node1", nil, nil, nil, start, start.Add(time.Second), "", int64(0), "v0.1.0", "it broke",
		1e6, math.NaN(),
	}
	path := Path(study, "c1-t0", 1)
	if err := table.WriteFile(path, schema, func(w *table.Writer) error { return w.Write(row) }); err != nil {
		t.Fatal(err)
	}
	hist := [][]any{{"c1-t0", int64(0), "loss", 0.0}, {"c1-t0", int64(10), "loss", math.Inf(1)}}
	err := table.WriteFile(HistoryPath(study, "c1-t0", 1), HistoryColumns(), func(w *table.Writer) error {
		for _, r := range hist {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	gotSchema, rows, err := table.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotSchema, schema) {
		t.Errorf("schema = %v, want %v", gotSchema, schema)
	}
	if len(rows) != 1 {
		t.Fatalf("read %d rows, want 1", len(rows))
	}
	for i, want := range row {
		got := rows[0][i]
		switch w := want.(type) {
		case float64:
			if g, ok := got.(float64); !ok || !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
				t.Errorf("%s = %v, want %v", schema[i].Name, got, want)
			}
		case time.Time:
			if g, ok := got.(time.Time); !ok || !g.Equal(w) {
				t.Errorf("%s = %v, want %v", schema[i].Name, got, want)
			}
		default:
			if got != want {
				t.Errorf("%s = %#v, want %#v", schema[i].Name, got, want)
			}
		}
	}
	_, hrows, err := table.ReadFile(HistoryPath(study, "c1-t0", 1))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hrows) != fmt.Sprint(hist) {
		t.Errorf("history = %v, want %v", hrows, hist)
	}
	entries, err := Scan(study)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("after one attempt: Scan = %v, want 2 entries", entries)
	}
}

func TestColumns(t *testing.T) {
	for name, s := range map[string]table.Schema{"RunColumns": RunColumns(), "HistoryColumns": HistoryColumns()} {
		// Valid schemas: NewWriter rejects duplicates and missing kinds.
		if _, err := table.NewWriter(io.Discard, s); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Each call returns a new slice: extending one must not change the next.
	a := RunColumns()
	a[0].Name = "changed"
	if RunColumns()[0].Name != "run_id" {
		t.Error("RunColumns returns a shared slice")
	}
}

// BenchmarkScan lists a shards folder of 10,000 files.
func BenchmarkScan(b *testing.B) {
	study := b.TempDir()
	names := make([]string, 10_000)
	for i := range names {
		names[i] = Name(fmt.Sprintf("c%06x-t%d", i/5, i%5), 1+i%2, i%3 == 0)
	}
	touch(b, Dir(study), names...)
	b.ReportAllocs()
	for b.Loop() {
		entries, err := Scan(study)
		if err != nil || len(entries) != len(names) {
			b.Fatal(len(entries), err)
		}
	}
}
