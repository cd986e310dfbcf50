package main

import (
	"encoding/csv"
	"os"
	"testing"
)

// csvRows reads a collected table: its rows, each by column name.
func csvRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("read %s: %v (%d rows)", path, err, len(rows))
	}
	out := make([]map[string]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		row := map[string]string{}
		for i, col := range rows[0] {
			row[col] = r[i]
		}
		out = append(out, row)
	}
	return out
}
