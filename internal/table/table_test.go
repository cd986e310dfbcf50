package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// equalValue compares two row values, NaN equal to NaN and times by instant.
func equalValue(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	}
	if x, ok := a.(time.Time); ok {
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && y.Location() == time.UTC
	}
	return a == b
}

func equalRows(t *testing.T, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d has %d values, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !equalValue(got[i][j], want[i][j]) {
				t.Errorf("row %d column %d = %#v (%T), want %#v (%T)", i, j, got[i][j], got[i][j], want[i][j], want[i][j])
			}
		}
	}
}

func writeTable(t *testing.T, path string, s Schema, rows [][]any) {
	t.Helper()
	err := WriteFile(path, s, func(w *Writer) error {
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	utc := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	paris := time.FixedZone("CET", 3600)
	many := make([][]any, rowGroupRows+batchRows+3) // spans batches and row groups
	for i := range many {
		many[i] = []any{int64(i), fmt.Sprint(i), float64(i) / 3}
	}
	tests := []struct {
		name   string
		schema Schema
		in     [][]any
		want   [][]any // nil: same as in
	}{
		{
			name:   "zeros are values",
			schema: Schema{{"i", Int64}, {"d", Double}, {"s", String}, {"b", Bool}, {"t", Timestamp}},
			in:     [][]any{{int64(0), 0.0, "", false, time.Unix(0, 0).UTC()}},
		},
		{
			name:   "nulls",
			schema: Schema{{"i", Int64}, {"d", Double}, {"s", String}, {"b", Bool}, {"t", Timestamp}},
			in:     [][]any{{nil, nil, nil, nil, nil}, {int64(1), 1.5, "x", true, utc}, {nil, nil, nil, nil, nil}},
		},
		{
			name:   "special doubles",
			schema: Schema{{"d", Double}},
			in:     [][]any{{math.NaN()}, {math.Inf(1)}, {math.Inf(-1)}, {math.Copysign(0, -1)}, {math.MaxFloat64}, {math.SmallestNonzeroFloat64}},
		},
		{
			name:   "ints into double",
			schema: Schema{{"d", Double}, {"i", Int64}},
			in:     [][]any{{3, 4}, {int64(-7), int64(math.MinInt64)}, {0, 0}},
			want:   [][]any{{3.0, int64(4)}, {-7.0, int64(math.MinInt64)}, {0.0, int64(0)}},
		},
		{
			name:   "timestamps are UTC microseconds",
			schema: Schema{{"t", Timestamp}},
			in:     [][]any{{utc}, {utc.In(paris)}, {time.Time{}}},
			want:   [][]any{{utc.Truncate(time.Microsecond)}, {utc.Truncate(time.Microsecond)}, {time.Time{}.UTC()}},
		},
		{
			name:   "strings",
			schema: Schema{{"s", String}},
			in:     [][]any{{""}, {"it's \"q\"; $(touch X)"}, {"ünïcødé ✓"}, {strings.Repeat("long ", 10000)}},
		},
		{
			name:   "column order kept, dotted names",
			schema: Schema{{"zeta", String}, {"model.nll_weight", Double}, {"alpha", Int64}, {"Beta", Bool}},
			in:     [][]any{{"z", 0.5, int64(1), true}, {"y", nil, int64(2), false}},
		},
		{
			name:   "no rows",
			schema: Schema{{"a", Int64}, {"b", String}},
		},
		{
			name:   "many rows",
			schema: Schema{{"i", Int64}, {"s", String}, {"d", Double}},
			in:     many,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.parquet")
			writeTable(t, path, tt.schema, tt.in)
			s, rows, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s, tt.schema) {
				t.Errorf("ReadFile(%q) schema = %v, want %v", path, s, tt.schema)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			equalRows(t, rows, want)
		})
	}
}

func TestWriteWrongValue(t *testing.T) {
	schema := Schema{{"i", Int64}, {"d", Double}, {"s", String}, {"b", Bool}, {"t", Timestamp}}
	good := []any{int64(1), 1.0, "s", true, time.Unix(1, 0).UTC()}
	tests := []struct {
		col   int
		value any
	}{
		{0, "42"},
		{0, 1.0},
		{0, int32(1)},
		{1, "1.5"},
		{1, float32(1.5)},
		{2, []byte("s")},
		{2, 7},
		{3, 1},
		{3, "true"},
		{4, int64(0)},
		{4, &time.Time{}},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		row := append([]any(nil), good...)
		row[tt.col] = tt.value
		err := w.Write(row)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", schema[tt.col].Name)) {
			t.Errorf("Write(%#v into %s) = %v, want an error naming the column", tt.value, schema[tt.col].Kind, err)
		}
	}
	for _, row := range [][]any{good[:4], append(good, 1)} {
		if err := w.Write(row); err == nil {
			t.Errorf("Write(%d values) = nil, want an error", len(row))
		}
	}
	// Rejected rows are not written and the writer goes on.
	if err := w.Write(good); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	equalRows(t, rows, [][]any{good})
}

func TestNewWriterBadSchema(t *testing.T) {
	tests := []struct {
		schema Schema
		want   string
	}{
		{nil, "no columns"},
		{Schema{{"a", Int64}, {"a", Double}}, `"a" appears twice`},
		{Schema{{"", Int64}}, "no name"},
		{Schema{{"a", 0}}, "invalid kind"},
		{Schema{{"a", Timestamp + 1}}, "invalid kind"},
	}
	for _, tt := range tests {
		_, err := NewWriter(io.Discard, tt.schema)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewWriter(%v) = %v, want an error containing %q", tt.schema, err, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	base := Schema{{"a", Int64}, {"b", Double}, {"c", String}}
	tests := []struct {
		other Schema
		want  []string // substrings of the error; nil: no error
	}{
		{base, nil},
		{Schema{{"c", String}, {"d", Bool}}, nil},
		{nil, nil},
		{Schema{{"a", Double}}, []string{`"a" is int64 here and double there`}},
		{Schema{{"b", Int64}, {"c", Timestamp}}, []string{`"b" is double here and int64 there`, `"c" is string here and timestamp there`}},
	}
	for _, tt := range tests {
		err := base.Check(tt.other)
		if (err == nil) != (tt.want == nil) {
			t.Errorf("Check(%v) = %v, want error %v", tt.other, err, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Check(%v) = %v, want it to contain %q", tt.other, err, w)
			}
		}
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		k    Kind
		want string
	}{
		{Int64, "int64"}, {Double, "double"}, {String, "string"}, {Bool, "bool"}, {Timestamp, "timestamp"}, {0, "Kind(0)"}, {9, "Kind(9)"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.k), got, tt.want)
		}
	}
}

// shardLike is a one-row table shaped like a run shard.
func shardLike(t testing.TB, path string) {
	t.Helper()
	s := Schema{{"run_id", String}, {"status", String}, {"exit_code", Int64}, {"wall_s", Double}, {"ok", Bool}, {"started_at", Timestamp}}
	err := WriteFile(path, s, func(w *Writer) error {
		return w.Write([]any{"r1", "ok", int64(0), 1.25, true, time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	shardLike(t, good)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.parquet")
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"magic only", []byte("PAR1")},
		{"text", []byte("not a parquet file at all, just some text")},
		{"half", data[:len(data)/2]},
		{"no footer magic", data[:len(data)-1]},
		{"no footer", data[:len(data)-8]},
		{"huge footer length", append(bytes.Clone(data[:len(data)-5]), 0x7f, 'P', 'A', 'R', '1')},
	}
	for _, tt := range tests {
		if err := os.WriteFile(bad, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ReadFile(%s) = %v, want an error naming the file", tt.name, err)
		}
	}
	// Damage anywhere may go unnoticed (in a value), but must never panic.
	for i := range data {
		d := bytes.Clone(data)
		d[i] ^= 0xff
		if r, err := NewReader(bytes.NewReader(d), int64(len(d))); err == nil {
			for {
				if _, err := r.Read(); err != nil {
					break
				}
			}
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	schema := Schema{{"a", Int64}}
	errFill := errors.New("fill failed")
	tests := []struct {
		name string
		fill func(w *Writer) error
	}{
		{"fill error", func(w *Writer) error { w.Write([]any{int64(1)}); return errFill }},
		{"wrong value", func(w *Writer) error { return w.Write([]any{"x"}) }},
		{"panic", func(w *Writer) error { panic(errFill) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fresh := filepath.Join(dir, "fresh.parquet")
			old := filepath.Join(dir, "old.parquet")
			writeTable(t, old, schema, [][]any{{int64(7)}})
			for _, path := range []string{fresh, old} {
				func() {
					defer func() { recover() }()
					if err := WriteFile(path, schema, tt.fill); err == nil {
						t.Errorf("WriteFile(%s) = nil, want an error", path)
					}
				}()
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "old.parquet" {
				t.Errorf("files left: %v, want only old.parquet", entries)
			}
			_, rows, err := ReadFile(old)
			if err != nil {
				t.Fatal(err)
			}
			equalRows(t, rows, [][]any{{int64(7)}})
		})
	}
}

func TestWriteFileTempName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	err := WriteFile(path, Schema{{"a", Int64}}, func(w *Writer) error {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
		hidden, _ := filepath.Glob(filepath.Join(dir, ".x.parquet.*.tmp"))
		if len(matches) != 0 || len(hidden) != 1 {
			t.Errorf("while writing: visible %v, temporary %v; want none and one", matches, hidden)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "x.parquet" {
		t.Errorf("files left: %v, want only x.parquet", entries)
	}
}

func TestWriteAfterClose(t *testing.T) {
	w, err := NewWriter(io.Discard, Schema{{"a", Int64}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]any{int64(1)}); err == nil {
		t.Error("Write after Close = nil, want an error")
	}
	if err := w.Close(); err == nil {
		t.Error("second Close = nil, want an error")
	}
}

// TestReadColumns checks that ReadColumns returns what Read does, column by
// column, for every kind, NULLs included, over several row groups, in the
// order asked for; and that a missing column is an error.
func TestReadColumns(t *testing.T) {
	s := Schema{{Name: "i", Kind: Int64}, {Name: "d", Kind: Double}, {Name: "s", Kind: String}, {Name: "b", Kind: Bool}, {Name: "t", Kind: Timestamp}}
	n := rowGroupRows + 7
	rows := make([][]any, n)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	for r := range rows {
		rows[r] = []any{int64(r), float64(r) / 2, fmt.Sprint("run", r), r%2 == 0, t0.Add(time.Duration(r) * time.Second)}
		if r%5 == 3 {
			rows[r][(r/5)%len(s)] = nil // NULLs in every column
		}
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	writeTable(t, path, s, rows)
	cols, err := ReadColumns(path, "t", "s", "b", "i", "d")
	if err != nil {
		t.Fatal(err)
	}
	for ci, c := range cols {
		j := s.Index(c.Name)
		if c.Kind != s[j].Kind {
			t.Fatalf("column %s: kind %s, want %s", c.Name, c.Kind, s[j].Kind)
		}
		for r := range rows {
			var got any
			switch {
			case c.Null != nil && c.Null[r]:
				got = nil
			case c.Kind == Int64:
				got = c.Int[r]
			case c.Kind == Timestamp:
				got = goTime(c.Int[r])
			case c.Kind == Double:
				got = c.Double[r]
			case c.Kind == String:
				got = c.String[r]
			case c.Kind == Bool:
				got = c.Bool[r]
			}
			if !equalValue(got, rows[r][j]) {
				t.Fatalf("column %d (%s), row %d = %#v, want %#v", ci, c.Name, r, got, rows[r][j])
			}
		}
	}
	if _, err := ReadColumns(path, "i", "nope"); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("missing column: err = %v", err)
	}
}
