package collect

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gridstudy/gridstudy/internal/table"
)

// writeTables writes the tables of data/, then the shard index: an index
// newer than its tables would make the next collect skip shards that the
// tables lack.
func writeTables(dir string, g *grid, s *state, a *analysis) error {
	if err := mkdirs(dir, "data"); err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	metrics := s.metrics()
	raw := rawSchema(g, metrics)
	rows := func(fn func([]any) error) error { return rawRows(g, s, metrics, a.outlierOf, fn) }
	if err := writeBoth(filepath.Join(data, rawFile), raw, rows); err != nil {
		return err
	}
	if err := writeHistory(filepath.Join(data, historyFile), g, s); err != nil {
		return err
	}
	agg, aggRows := aggregated(g, a)
	if err := writeBoth(filepath.Join(data, aggFile), agg, aggRows); err != nil {
		return err
	}
	if err := writeSpread(filepath.Join(data, summaryCSV), a); err != nil {
		return err
	}
	return writeIndex(dir, s)
}

// writeBoth writes the rows as base.parquet and base.csv.
func writeBoth(base string, schema table.Schema, rows func(fn func([]any) error) error) error {
	err := table.WriteFile(base+".parquet", schema, func(w *table.Writer) error { return rows(w.Write) })
	if err != nil {
		return err
	}
	return writeWith(base+".csv", func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		cw := csv.NewWriter(bw)
		rec := make([]string, len(schema))
		for i, c := range schema {
			rec[i] = c.Name
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		err := rows(func(row []any) error {
			for i, v := range row {
				rec[i] = csvValue(v)
			}
			return cw.Write(rec)
		})
		if err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// csvValue renders a table value for CSV: numbers as the user writes them
// and exactly (the shortest text that reads back to the same double: 1e6,
// 0.5, 1e-4), NULL as an empty field, times in RFC 3339 UTC.
func csvValue(v any) string {
	switch x := v.(type) {
	case float64, int64, string, bool, nil:
		return formatValue(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func writeHistory(path string, g *grid, s *state) error {
	schema := table.Schema{{Name: "run_id", Kind: table.String}, {Name: "attempt", Kind: table.Int64},
		{Name: "step", Kind: table.Int64}, {Name: "name", Kind: table.String}, {Name: "value", Kind: table.Double}}
	return table.WriteFile(path, schema, func(w *table.Writer) error {
		row := make([]any, len(schema))
		for pos, hs := range s.hist {
			r := s.runs[pos]
			if r == nil {
				continue
			}
			for _, h := range hs {
				row[0], row[1], row[2], row[3], row[4] = g.entries[pos].RunID, r.attempt, h.step, h.name, h.value
				if err := w.Write(row); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// aggregated returns the schema and rows of aggregated_results: one row per
// cell of the manifest, those never run included (n_lost says so).
func aggregated(g *grid, a *analysis) (table.Schema, func(fn func([]any) error) error) {
	schema := table.Schema{{Name: "cell_id", Kind: table.String}, {Name: "model", Kind: table.String}}
	schema = append(schema, g.params...)
	schema = append(schema, table.Column{Name: "n_ok", Kind: table.Int64}, table.Column{Name: "n_failed", Kind: table.Int64}, table.Column{Name: "n_lost", Kind: table.Int64})
	all := append(append([]string{}, a.metrics...), measures...)
	for _, m := range all {
		for _, sn := range statNames {
			schema = append(schema, table.Column{Name: m + "_" + sn, Kind: table.Double})
		}
	}
	return schema, func(fn func([]any) error) error {
		row := make([]any, len(schema))
		for ci, c := range g.cells {
			cs := a.cells[ci]
			row[0], row[1] = c.id, c.model
			k := 2 + copy(row[2:], c.values)
			row[k], row[k+1], row[k+2] = int64(cs.nOK), int64(cs.nFailed), int64(cs.nLost)
			k += 3
			for _, m := range all {
				for _, v := range cs.stats[m].values() {
					row[k] = nullNaN(v)
					k++
				}
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	}
}

// nullNaN maps an undefined statistic to NULL.
func nullNaN(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func writeSpread(path string, a *analysis) error {
	return writeWith(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		head := []string{"metric", "model", "direction", "n_cells", "n_runs"}
		head = append(head, statNames...)
		head = append(head, "cell_mean_min", "cell_mean_max")
		if err := cw.Write(head); err != nil {
			return err
		}
		for _, r := range a.spread {
			rec := []string{r.metric, r.model, direction(a.maximize[r.metric]), strconv.Itoa(r.nCells), strconv.Itoa(r.all.N)}
			for _, v := range r.all.values() {
				rec = append(rec, csvValue(nullNaN(v)))
			}
			rec = append(rec, csvValue(nullNaN(r.cellMin)), csvValue(nullNaN(r.cellMax)))
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

func direction(max bool) string {
	if max {
		return "maximize"
	}
	return "minimize"
}
