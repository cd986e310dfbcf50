package table

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// readAll reads every row of r.
func readAll(t *testing.T, r *Reader) [][]any {
	t.Helper()
	var rows [][]any
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

// viaParquetGo reads data with parquet-go, as Open does for big files.
func viaParquetGo(t *testing.T, data []byte) (Schema, [][]any) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return r.Schema(), readAll(t, r)
}

// TestSmallMatchesParquetGo checks that the fast path reads what Writer
// writes exactly as parquet-go does.
func TestSmallMatchesParquetGo(t *testing.T) {
	utc := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	all := Schema{{"i", Int64}, {"d", Double}, {"s", String}, {"b", Bool}, {"t", Timestamp}}
	var mixed [][]any
	for i := range smallRows {
		row := []any{int64(i - 500), float64(i) / 7, fmt.Sprint("v", i), i%3 == 0, utc.Add(time.Duration(i) * time.Hour)}
		for j := range row {
			if (i+j)%5 == 0 {
				row[j] = nil
			}
		}
		mixed = append(mixed, row)
	}
	tests := []struct {
		name   string
		schema Schema
		rows   [][]any
	}{
		{"one row", all, [][]any{{int64(-3), math.Inf(-1), "ok", true, utc}}},
		{"zeros", all, [][]any{{int64(0), 0.0, "", false, time.Unix(0, 0)}}},
		{"nulls", all, [][]any{{nil, nil, nil, nil, nil}}},
		{"no rows", all, nil},
		{"nulls and values", all, mixed},
		{"booleans", Schema{{"b", Bool}}, [][]any{{true}, {false}, {nil}, {true}, {true}, {false}, {true}, {nil}, {true}, {false}}},
		{"order kept", Schema{{"zeta", String}, {"alpha", Int64}, {"mid.dle", Double}}, [][]any{{"z", int64(1), 0.5}}},
		{"same columns, other order", Schema{{"alpha", Int64}, {"mid.dle", Double}, {"zeta", String}}, [][]any{{int64(1), 0.5, "z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.parquet")
			writeTable(t, path, tt.schema, tt.rows)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := decodeSmall(data)
			if r == nil {
				t.Fatal("decodeSmall declined a file that Writer wrote")
			}
			got := readAll(t, r)
			schema, want := viaParquetGo(t, data)
			if !reflect.DeepEqual(r.Schema(), schema) || !reflect.DeepEqual(schema, tt.schema) {
				t.Errorf("schema %v, parquet-go %v, written %v", r.Schema(), schema, tt.schema)
			}
			equalRows(t, got, want)
		})
	}
}

// TestSmallDeclines checks that files the fast path does not handle are
// still read, by parquet-go.
func TestSmallDeclines(t *testing.T) {
	type row struct {
		ID   string  `parquet:"id,optional,snappy"`
		Sum  float64 `parquet:"sum,optional,dict"`
		Flag bool    `parquet:"flag"`
	}
	in := []row{{"a", 1.5, true}, {"b", 1.5, false}, {"c", -2, true}}
	want := [][]any{{"a", 1.5, true}, {"b", 1.5, false}, {"c", -2.0, true}}
	for _, opts := range [][]parquet.WriterOption{{parquet.DataPageVersion(2)}, {parquet.DataPageVersion(1)}} {
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[row](&buf, opts...)
		if _, err := w.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if decodeSmall(buf.Bytes()) != nil {
			t.Errorf("decodeSmall read snappy and dictionary pages")
		}
		path := filepath.Join(t.TempDir(), "other.parquet")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		schema, rows, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if w := (Schema{{"id", String}, {"sum", Double}, {"flag", Bool}}); !reflect.DeepEqual(schema, w) {
			t.Errorf("schema %v, want %v", schema, w)
		}
		equalRows(t, rows, want)
	}
}

// TestSmallCorrupt flips each byte of a shard: the fast path must never
// panic, and what it reads is either what parquet-go reads or, where
// parquet-go rejects damaged metadata that the fast path does not use (it
// checks page checksums and every offset and size it uses), the original.
func TestSmallCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shard.parquet")
	shardLike(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schema, rows := viaParquetGo(t, data)
	for i := range data {
		d := bytes.Clone(data)
		d[i] ^= 0xff
		r := decodeSmall(d)
		if r == nil {
			continue
		}
		got := readAll(t, r)
		wantSchema, want := schema, rows
		if g, err := NewReader(bytes.NewReader(d), int64(len(d))); err == nil {
			var gotAll [][]any
			for {
				row, err := g.Read()
				if err != nil {
					if err == io.EOF {
						wantSchema, want = g.Schema(), gotAll
					}
					break
				}
				gotAll = append(gotAll, row)
			}
		}
		if !reflect.DeepEqual(r.Schema(), wantSchema) {
			t.Errorf("byte %d flipped: schema %v, want %v", i, r.Schema(), wantSchema)
		}
		equalRows(t, got, want)
	}
}

// TestSmallRequired reads a file of required (non-nullable) columns, which
// other writers make, through the fast path.
func TestSmallRequired(t *testing.T) {
	type row struct {
		ID   string  `parquet:"id"`
		N    int64   `parquet:"n"`
		Sum  float64 `parquet:"sum,optional"`
		Flag bool    `parquet:"flag"`
	}
	in := []row{{"a", -1, 1.5, true}, {"", 0, 0, false}, {"c", 1 << 40, -2, true}}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, parquet.Compression(&parquet.Zstd), parquet.DataPageVersion(1),
		parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.Plain))
	if _, err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := decodeSmall(buf.Bytes())
	if r == nil {
		t.Fatal("decodeSmall declined a file of required columns")
	}
	got := readAll(t, r)
	schema, want := viaParquetGo(t, buf.Bytes())
	if !reflect.DeepEqual(r.Schema(), schema) {
		t.Errorf("schema %v, parquet-go %v", r.Schema(), schema)
	}
	equalRows(t, got, want)
	// parquet-go's GenericWriter stores the zero of an optional column as
	// NULL (see FACTS.md).
	equalRows(t, got, [][]any{{"a", int64(-1), 1.5, true}, {"", int64(0), nil, false}, {"c", int64(1 << 40), -2.0, true}})
}
