package table

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// duckdbScript runs one query through DuckDB's node bindings and prints the
// rows as JSON. "FILE" in the query stands for the quoted file name.
const duckdbScript = `
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const file = "'" + process.argv[2].replaceAll("'", "''") + "'";
  const r = await c.runAndReadAll(process.argv[3].replaceAll('FILE', file));
  console.log(JSON.stringify(r.getRowsJS()));
})().catch(e => { console.error(String(e)); process.exit(1); });
`

// duckdb returns a function that runs a query through DuckDB, or skips the
// test where DuckDB is not available: it is not a Debian package, so it comes
// from npm (npm install @duckdb/node-api, with NODE_PATH naming the
// node_modules folder).
func duckdb(t *testing.T) func(file, query string) [][]any {
	if testing.Short() {
		t.Skip("short mode: no DuckDB")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: no DuckDB")
	}
	if err := exec.Command(node, "-e", "require.resolve('@duckdb/node-api')").Run(); err != nil {
		t.Skip("@duckdb/node-api not found (npm install @duckdb/node-api; NODE_PATH=…/node_modules)")
	}
	script := filepath.Join(t.TempDir(), "duckdb.cjs")
	if err := os.WriteFile(script, []byte(duckdbScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(file, query string) [][]any {
		t.Helper()
		out, err := exec.Command(node, script, file, query).Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				t.Fatalf("duckdb %s: %v\n%s", query, err, ee.Stderr)
			}
			t.Fatal(err)
		}
		var rows [][]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatalf("duckdb output %q: %v", out, err)
		}
		return rows
	}
}

// TestDuckDBReads checks that DuckDB, an independent reader, sees the types
// and values that were written: zeros as values, NULLs as NULL, NaN and
// infinities, timestamps as UTC instants, row groups past the first.
func TestDuckDBReads(t *testing.T) {
	query := duckdb(t)
	ts := time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)
	schema := Schema{{"i", Int64}, {"model.nll_weight", Double}, {"s", String}, {"b", Bool}, {"t", Timestamp}}
	rows := [][]any{
		{int64(0), 0.0, "", false, time.Unix(0, 0)},
		{nil, nil, nil, nil, nil},
		{int64(-5), math.NaN(), "it's", true, ts},
		{int64(math.MaxInt64), math.Inf(1), "ünï", nil, nil},
		{nil, math.Inf(-1), nil, false, nil},
		{int64(7), 3, "x", true, ts},
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	writeTable(t, path, schema, rows)

	gotTypes := query(path, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(FILE))")
	wantTypes := [][]any{
		{"i", "BIGINT"}, {"model.nll_weight", "DOUBLE"}, {"s", "VARCHAR"}, {"b", "BOOLEAN"}, {"t", "TIMESTAMP WITH TIME ZONE"},
	}
	// DuckDB lists columns in file order, which is the schema's.
	if !reflect.DeepEqual(gotTypes, wantTypes) {
		t.Errorf("DuckDB types = %v, want %v (in this order)", gotTypes, wantTypes)
	}

	got := query(path, `SELECT i::VARCHAR, "model.nll_weight"::VARCHAR, s, b::VARCHAR, epoch_us(t)::VARCHAR FROM read_parquet(FILE)`)
	want := [][]any{
		{"0", "0.0", "", "false", "0"},
		{nil, nil, nil, nil, nil},
		{"-5", "nan", "it's", "true", "1773500966535897"},
		{"9223372036854775807", "inf", "ünï", nil, nil},
		{nil, "-inf", nil, "false", nil},
		{"7", "3.0", "x", "true", "1773500966535897"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DuckDB read\n%v\nwant\n%v", got, want)
	}

	// Several row groups.
	const n = rowGroupRows*2 + 10
	big := filepath.Join(t.TempDir(), "big.parquet")
	err := WriteFile(big, Schema{{"i", Int64}, {"s", String}}, func(w *Writer) error {
		for i := range n {
			var s any
			if i%3 != 0 {
				s = "v"
			}
			if err := w.Write([]any{i, s}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = query(big, "SELECT count(*)::VARCHAR, sum(i)::VARCHAR, count(s)::VARCHAR FROM read_parquet(FILE)")
	want = [][]any{{"262154", "34362228781", "174769"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DuckDB aggregates = %v, want %v", got, want)
	}
}
