package collect

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/studydir"
	"github.com/gridstudy/gridstudy/internal/table"
)

// writeTables writes the tables of data/, then the shard index: an index
// newer than its tables would make the next collect skip shards that the
// tables lack.
func writeTables(dir string, g *grid, s *state, a *analysis) error {
	if err := mkdirs(dir, studydir.DataDir); err != nil {
		return err
	}
	data := studydir.Data(dir)
	metrics := s.metricColumns()
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
	return writeIndex(dir, g, s)
}

// writeBoth writes the rows as base.parquet and base.csv.
func writeBoth(base string, schema table.Schema, rows func(fn func([]any) error) error) error {
	err := table.WriteFile(base+".parquet", schema, func(w *table.Writer) error { return rows(w.Write) })
	if err != nil {
		return err
	}
	return atomicfile.Write(base+".csv", 0o644, false, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		cw := csv.NewWriter(bw)
		rec := make([]string, len(schema))
		for i, c := range schema {
			rec[i] = csvCell(c.Name)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		err := rows(func(row []any) error {
			for i, v := range row {
				rec[i] = csvCell(v)
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

// csvCell is csvValue for a cell of a CSV file: every CSV writer of collect
// writes each value and name through it. Spreadsheets (Excel, LibreOffice,
// Google Sheets) run a cell that starts with =, +, -, @, a tab or a carriage
// return as a formula, and parameter values, metric names and error
// messages are text that the study and its command chose: such text gets a
// leading ' (OWASP's advice on CSV injection), so that it opens as text.
// Only strings are guarded: a number such as -1.5 stays a number.
func csvCell(v any) string {
	s := csvValue(v)
	if _, text := v.(string); text && s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
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
	// Each metric or measure has a group of columns under its name as
	// stem: the statistics of a number, the counts of another type.
	type group struct {
		name     string
		suffixes []string
		kinds    []table.Kind
		values   func(cs cellStats) []any
	}
	statKinds := slices.Repeat([]table.Kind{table.Double}, len(statNames))
	stats := func(m string) group {
		return group{m, statNames, statKinds, func(cs cellStats) []any {
			var out []any
			for _, v := range cs.stats[m].values() {
				out = append(out, nullNaN(v))
			}
			return out
		}}
	}
	var groups []group
	for _, m := range a.metrics {
		// A metric's statistics leave out its NaN and ±Inf values (a
		// diverged run); <metric>_n_nonfinite counts them.
		gr := stats(m)
		gr.suffixes = append(slices.Clone(gr.suffixes), nonFiniteSuffix)
		gr.kinds = append(slices.Clone(gr.kinds), table.Int64)
		statsOf := gr.values
		gr.values = func(cs cellStats) []any { return append(statsOf(cs), int64(cs.nonFinite[m])) }
		groups = append(groups, gr)
	}
	for _, c := range a.others {
		if c.Kind == table.Bool {
			groups = append(groups, group{c.Name, boolTallyNames, []table.Kind{table.Int64, table.Double},
				func(cs cellStats) []any { return cs.tallies[c.Name].boolValues() }})
		} else {
			groups = append(groups, group{c.Name, textTallyNames, []table.Kind{table.String, table.Int64},
				func(cs cellStats) []any { return cs.tallies[c.Name].textValues() }})
		}
	}
	for _, m := range measures {
		groups = append(groups, stats(m))
	}
	taken := map[string]bool{}
	for _, c := range schema {
		taken[c.Name] = true
	}
	for _, gr := range groups {
		stem := gr.name
		// A parameter may be named like a statistic of a metric (psnr_max
		// beside a metric psnr): that metric's columns then take the
		// runner's spelling of a clashing metric, all of them, so that
		// the table has each name once and a metric's statistics one stem.
		for slices.ContainsFunc(gr.suffixes, func(sn string) bool { return taken[stem+"_"+sn] }) {
			stem = shard.MetricPrefix + stem
		}
		for i, sn := range gr.suffixes {
			taken[stem+"_"+sn] = true
			schema = append(schema, table.Column{Name: stem + "_" + sn, Kind: gr.kinds[i]})
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
			for _, gr := range groups {
				k += copy(row[k:], gr.values(cs))
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
	return atomicfile.Write(path, 0o644, false, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		head := []string{"metric", "model", "direction", "n_cells", "n_runs"}
		head = append(head, statNames...)
		head = append(head, "cell_mean_min", "cell_mean_max")
		if err := cw.Write(head); err != nil {
			return err
		}
		for _, r := range a.spread {
			rec := []string{csvCell(r.metric), csvCell(r.model), a.direction[r.metric], strconv.Itoa(r.nCells), strconv.Itoa(r.all.N)}
			for _, v := range r.all.values() {
				rec = append(rec, csvCell(nullNaN(v)))
			}
			rec = append(rec, csvCell(nullNaN(r.cellMin)), csvCell(nullNaN(r.cellMax)))
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}
