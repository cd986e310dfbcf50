// Package manifest reads and writes a study's manifest.parquet: one row per
// run, the table that maps an array task to its run.
package manifest

import (
	"errors"
	"fmt"
	"io"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

// File is the manifest's name in a study directory.
const File = "manifest.parquet"

// Entry is one run as the manifest records it.
type Entry struct {
	Index  int
	RunID  string
	CellID string
	Model  string
	Trial  int
	Seed   int64
	Dir    string
	Params map[string]any // parameter -> value; absent when it does not apply to the model
}

// ColumnKind is the column type of a parameter's values.
func ColumnKind(k study.Kind) table.Kind {
	switch k {
	case study.Int:
		return table.Int64
	case study.Float:
		return table.Double
	case study.Bool:
		return table.Bool
	}
	return table.String
}

// ParamColumns lists one typed column per parameter of the study, each
// name once even when several models sweep it.
func ParamColumns(st *study.Study) table.Schema {
	var s table.Schema
	seen := map[string]bool{}
	for _, p := range st.AllParams() {
		if !seen[p.Name] {
			seen[p.Name] = true
			s = append(s, table.Column{Name: p.Name, Kind: ColumnKind(p.Kind)})
		}
	}
	return s
}

// Schema is the manifest's columns: index, run_id, cell_id, the
// parameters, model, trial, seed and dir.
func Schema(st *study.Study) table.Schema {
	s := table.Schema{{Name: "index", Kind: table.Int64}, {Name: "run_id", Kind: table.String}, {Name: "cell_id", Kind: table.String}}
	s = append(s, ParamColumns(st)...)
	return append(s, table.Column{Name: "model", Kind: table.String}, table.Column{Name: "trial", Kind: table.Int64},
		table.Column{Name: "seed", Kind: table.Int64}, table.Column{Name: "dir", Kind: table.String})
}

// Write writes the manifest of runs, atomically.
func Write(path string, st *study.Study, runs []study.RunSpec) error {
	s := Schema(st)
	params := s[3 : len(s)-4]
	err := table.WriteFile(path, s, func(w *table.Writer) error {
		row := make([]any, len(s))
		// Where each column's value sits in a cell, per model: cells of one
		// model share their parameter list.
		where := map[string][]int{}
		for i := range runs {
			r := &runs[i]
			row[0], row[1], row[2] = int64(r.Index), r.ID, r.Cell.ID
			pos, ok := where[r.Cell.Model]
			if !ok {
				pos = make([]int, len(params))
				for j, col := range params {
					pos[j] = -1
					for k, p := range r.Cell.Params {
						if p.Name == col.Name {
							pos[j] = k
						}
					}
				}
				where[r.Cell.Model] = pos
			}
			for j, k := range pos {
				row[3+j] = nil
				if k >= 0 {
					row[3+j] = r.Cell.Values[k].Any()
				}
			}
			n := len(s)
			row[n-4], row[n-3], row[n-2], row[n-1] = r.Cell.Model, int64(r.Trial), r.Seed, r.Dir()
			if err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// Read reads every entry of the manifest at path, in file order.
func Read(path string) ([]Entry, error) {
	var out []Entry
	err := Scan(path, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// ErrStop, returned by the function given to Scan, ends the scan early and
// makes Scan return nil. Entries come sorted by index, so a runner looking
// for its own runs stops once past them instead of reading a manifest of a
// million rows to its end.
var ErrStop = errors.New("stop scanning the manifest")

// Scan calls fn for each entry of the manifest at path, streaming, in file
// order (by index). An error from fn ends the scan and is returned, except
// ErrStop, which ends it with nil.
func Scan(path string, fn func(Entry) error) error {
	r, err := table.Open(path)
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	defer r.Close()
	s := r.Schema()
	col := func(name string) int { return s.Index(name) }
	idx, runID, cellID, model, trial, seed, dir := col("index"), col("run_id"), col("cell_id"), col("model"), col("trial"), col("seed"), col("dir")
	if idx < 0 || runID < 0 || cellID < 0 || model < 0 || trial < 0 || seed < 0 || dir < 0 {
		return fmt.Errorf("read manifest %s: not a gridstudy manifest (missing run columns)", path)
	}
	fixed := map[int]bool{idx: true, runID: true, cellID: true, model: true, trial: true, seed: true, dir: true}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read manifest %s: %w", path, err)
		}
		e := Entry{Params: map[string]any{}}
		e.Index = int(asInt(row[idx]))
		e.RunID, _ = row[runID].(string)
		e.CellID, _ = row[cellID].(string)
		e.Model, _ = row[model].(string)
		e.Trial = int(asInt(row[trial]))
		e.Seed = asInt(row[seed])
		e.Dir, _ = row[dir].(string)
		for i, c := range s {
			if !fixed[i] && row[i] != nil {
				e.Params[c.Name] = row[i]
			}
		}
		if err := fn(e); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
}

func asInt(v any) int64 {
	i, _ := v.(int64)
	return i
}
