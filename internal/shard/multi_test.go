package shard

import (
	"cmp"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/table"
)

func TestParseMulti(t *testing.T) {
	tests := []struct {
		name                string
		history, part, ok   bool
		parsesAsRunShardToo bool
	}{
		{"part-0001.parquet", false, true, true, false},
		{"part-12345.history.parquet", true, true, true, false},
		{"task-c1a2_t1-a3.parquet", false, false, true, false},
		{"task-c1a2_t1-a3.history.parquet", true, false, true, false},
		// A stage named "task" has shards such as task-<key>.a1.parquet:
		// a run shard, not a task shard.
		{"task-0123abcd.a1.parquet", false, false, false, true},
		{"part-x.parquet", false, false, false, false},
		{"part-.parquet", false, false, false, false},
		{"task-.parquet", false, false, false, false},
		{"part-0001.parquet.tmp", false, false, false, false},
		{"c1a2_t1.a1.parquet", false, false, false, true},
	}
	for _, tt := range tests {
		history, part, ok := ParseMulti(tt.name)
		if history != tt.history || part != tt.part || ok != tt.ok {
			t.Errorf("ParseMulti(%q) = %v, %v, %v; want %v, %v, %v", tt.name, history, part, ok, tt.history, tt.part, tt.ok)
		}
		if _, _, _, ok := Parse(tt.name); ok != tt.parsesAsRunShardToo {
			t.Errorf("Parse(%q) ok = %v, want %v", tt.name, ok, tt.parsesAsRunShardToo)
		}
	}
	for _, name := range []string{TaskName(Key{"c1_t1", 2}, false), TaskName(Key{"c1_t1", 2}, true), PartName(7, false), PartName(7, true)} {
		if _, _, ok := ParseMulti(name); !ok {
			t.Errorf("ParseMulti(%q) does not take a name that gridstudy writes", name)
		}
	}
}

// runRow returns an attempt's row with a metric of the given value (a
// float64 or a string: its column's type follows), and a history of one
// line.
func runRow(k Key, status string, metric any) TaskRow {
	kind := table.Double
	if _, ok := metric.(string); ok {
		kind = table.String
	}
	schema := table.Schema{{Name: "run_id", Kind: table.String}, {Name: "cell_id", Kind: table.String},
		{Name: "attempt", Kind: table.Int64}, {Name: "status", Kind: table.String}, {Name: "m", Kind: kind}}
	return TaskRow{Key: k, Schema: schema, Row: []any{k.RunID, "c", int64(k.Attempt), status, metric},
		History: [][]any{{k.RunID, int64(k.Attempt), "loss", 0.5}}}
}

// writeRun writes runRow's one-row shard and its history shard.
func writeRun(t *testing.T, study string, k Key, status string, metric any) {
	t.Helper()
	if err := os.MkdirAll(Dir(study), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runRow(k, status, metric)
	if err := table.WriteFile(Path(study, k.RunID, k.Attempt), r.Schema, func(w *table.Writer) error { return w.Write(r.Row) }); err != nil {
		t.Fatal(err)
	}
	err := table.WriteFile(HistoryPath(study, k.RunID, k.Attempt), HistoryColumns(), func(w *table.Writer) error {
		for _, h := range r.History {
			if err := w.Write(h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeTask writes rows as a task shard, as a packed task does.
func writeTask(t *testing.T, study string, rows ...TaskRow) {
	t.Helper()
	if _, err := WriteTask(study, rows); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, study string) []string {
	t.Helper()
	entries, err := os.ReadDir(Dir(study))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A metric that is a number in one run and a string in another cannot
// share a column: compaction writes a part for each kind.
func TestCompactTypeClash(t *testing.T) {
	study := t.TempDir()
	writeRun(t, study, Key{"a", 1}, StatusOK, 1.0)
	writeRun(t, study, Key{"b", 1}, StatusOK, "high")
	writeRun(t, study, Key{"c", 1}, StatusOK, 3.0)
	got, err := Compact(study)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Compacted{Parts: 2, Rows: 3, Removed: 3}) {
		t.Fatalf("Compact = %+v, want 2 parts of 3 rows from 3 files", got)
	}
	for part, want := range map[int][]Row{1: {{Key{"a", 1}, StatusOK}, {Key{"c", 1}, StatusOK}}, 2: {{Key{"b", 1}, StatusOK}}} {
		rows, err := ReadRows(filepath.Join(Dir(study), PartName(part, false)))
		if err != nil || !reflect.DeepEqual(rows, want) {
			t.Errorf("part %d rows %v, %v; want %v", part, rows, err, want)
		}
	}
}

// A folded attempt has no one-row shard, yet its number is taken: the next
// claim of the run gets the number after it.
func TestClaimAfterFold(t *testing.T) {
	study := t.TempDir()
	writeRun(t, study, Key{"a", 1}, StatusFailed, 1.0)
	writeTask(t, study, runRow(Key{"a", 2}, StatusFailed, 1.0), runRow(Key{"b", 1}, StatusOK, 1.0))
	if _, err := Compact(study); err != nil {
		t.Fatal(err)
	}
	c, err := TakeClaim(study, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.Attempt != 3 {
		t.Errorf("claim of a after attempts 1 and 2 were folded: attempt %d, want 3", c.Attempt)
	}
	if Claimed(study, "a", 3) != true {
		t.Error("the claim file of attempt 3 is not there")
	}
}

func TestCompact(t *testing.T) {
	study := t.TempDir()
	writeRun(t, study, Key{"a", 1}, StatusFailed, 1.0)
	writeTask(t, study, runRow(Key{"b", 1}, StatusOK, 2.0), runRow(Key{"c", 1}, StatusOK, 3.0))
	writeRun(t, study, Key{"a", 2}, StatusOK, 4.0)
	// c.a1 twice, as a compaction killed before it removed its sources
	// leaves an attempt.
	writeRun(t, study, Key{"c", 1}, StatusOK, 3.0)
	claim, err := TakeClaim(study, "d")
	if err != nil {
		t.Fatal(err)
	}
	defer claim.Release()
	got, err := Compact(study)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Compacted{Parts: 1, Rows: 4, Removed: 4}) {
		t.Errorf("Compact = %+v, want 1 part of 4 rows from 4 files", got)
	}
	want := []string{".compact.lock", ".folds", "d.a1.claim", "part-0001.history.parquet", "part-0001.parquet"}
	if got := names(t, study); !reflect.DeepEqual(got, want) {
		t.Fatalf("after compaction the shards folder holds %v, want %v", got, want)
	}
	rows, err := ReadRows(filepath.Join(Dir(study), "part-0001.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []Key
	for _, r := range rows {
		keys = append(keys, r.Key)
	}
	slices.SortFunc(keys, func(x, y Key) int {
		return cmp.Or(strings.Compare(x.RunID, y.RunID), cmp.Compare(x.Attempt, y.Attempt))
	})
	if want := []Key{{"a", 1}, {"a", 2}, {"b", 1}, {"c", 1}}; !reflect.DeepEqual(keys, want) {
		t.Errorf("part rows %v, want each attempt once: %v", keys, want)
	}
	// A second compaction finds nothing to fold, and a new shard goes to
	// the next part.
	writeRun(t, study, Key{"e", 1}, StatusOK, 5.0)
	writeRun(t, study, Key{"b", 1}, StatusOK, 2.0) // in part-0001 already: removed, not folded again
	got, err = Compact(study)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Compacted{Parts: 1, Rows: 1, Removed: 2}) {
		t.Errorf("second Compact = %+v, want 1 part of 1 row, 2 files removed", got)
	}
	if !slices.Contains(names(t, study), "part-0002.parquet") || slices.Contains(names(t, study), "b.a1.parquet") {
		t.Errorf("after the second compaction: %v", names(t, study))
	}
}

// TestFoldHandsOverFullGroups: a group that reaches maxRows goes to full at
// once and lets its rows go, so that compaction holds one part at a time.
func TestFoldHandsOverFullGroups(t *testing.T) {
	study := t.TempDir()
	var sources []Entry
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		k := Key{id, 1}
		writeRun(t, study, k, StatusOK, float64(i))
		sources = append(sources, Entry{Name: Name(id, 1, false), RunID: id, Attempt: 1})
	}
	var handed [][]Key
	full := func(g *group) error {
		var keys []Key
		for _, r := range g.rows {
			keys = append(keys, Key{r[0].(string), 1})
		}
		handed = append(handed, keys)
		return nil
	}
	groups, dups, err := fold(study, sources, map[Key]bool{}, 2, full)
	if err != nil || len(dups) != 0 {
		t.Fatal(err, dups)
	}
	if want := [][]Key{{{"a", 1}, {"b", 1}}, {{"c", 1}, {"d", 1}}}; !reflect.DeepEqual(handed, want) {
		t.Errorf("full got %v, want %v", handed, want)
	}
	if len(groups) != 3 || !groups[0].written || groups[0].rows != nil || groups[2].written || len(groups[2].rows) != 1 {
		t.Errorf("groups after the fold: %d, first written %v with %d rows, last written %v with %d rows",
			len(groups), groups[0].written, len(groups[0].rows), groups[2].written, len(groups[2].rows))
	}
	if len(groups[0].sources) != 2 {
		t.Errorf("a written group keeps its sources for removal: %v", groups[0].sources)
	}
}

// TestWriteTask writes rows held in memory, out of order and with a
// metric that changes kind, as task shards named after their first row in
// run id order, with the rows' history and each row's own attempt, and
// marks the fold so that Folded, which listed the multi-row files before,
// sees them.
func TestWriteTask(t *testing.T) {
	study := t.TempDir()
	if rows, err := Folded(study, "a"); err != nil || len(rows) != 0 {
		t.Fatalf("Folded before = %v, %v", rows, err)
	}
	row := func(id string, attempt int, v any, kind table.Kind) TaskRow {
		schema := append(RunColumns(), table.Column{Name: "score", Kind: kind})
		r := make([]any, len(schema))
		r[0], r[5], r[6] = id, int64(attempt), StatusOK
		r[len(r)-1] = v
		return TaskRow{Key: Key{id, attempt}, Schema: schema, Row: r, History: [][]any{{id, int64(1), "loss", 0.5}}}
	}
	paths, err := WriteTask(study, []TaskRow{row("c", 2, 3.0, table.Double), row("a", 1, 1.0, table.Double), row("b", 1, "high", table.String)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range paths {
		got = append(got, filepath.Base(p))
	}
	if want := []string{"task-a-a1.parquet", "task-b-a1.parquet"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("WriteTask wrote %v, want %v", got, want)
	}
	want := []string{".folds", "task-a-a1.history.parquet", "task-a-a1.parquet", "task-b-a1.history.parquet", "task-b-a1.parquet"}
	if got := names(t, study); !reflect.DeepEqual(got, want) {
		t.Errorf("after WriteTask the shards folder holds %v, want %v", got, want)
	}
	rows, err := ReadRows(paths[0])
	if err != nil || !reflect.DeepEqual(rows, []Row{{Key{"a", 1}, StatusOK}, {Key{"c", 2}, StatusOK}}) {
		t.Errorf("first task shard rows %v, %v", rows, err)
	}
	s, hist, err := table.ReadFile(filepath.Join(Dir(study), "task-a-a1.history.parquet"))
	if err != nil || len(hist) != 2 || s.Index("attempt") < 0 || hist[0][s.Index("attempt")] != int64(1) ||
		hist[1][s.Index("run_id")] != "c" || hist[1][s.Index("attempt")] != int64(2) {
		t.Errorf("history %v %v, %v: want a line per run with its attempt", s, hist, err)
	}
	for id, want := range map[string][]Row{"a": {{Key{"a", 1}, StatusOK}}, "b": {{Key{"b", 1}, StatusOK}}, "c": {{Key{"c", 2}, StatusOK}}} {
		if rows, err := Folded(study, id); err != nil || !reflect.DeepEqual(rows, want) {
			t.Errorf("Folded(%s) after WriteTask = %v, %v; want %v", id, rows, err, want)
		}
	}
}
