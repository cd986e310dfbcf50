package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/studydir"
	"github.com/gridstudy/gridstudy/internal/table"
)

// Files of data/.
const (
	rawFile     = "raw_results_all_trials"
	historyFile = "history.parquet"
	aggFile     = "aggregated_results"
	summaryCSV  = "statistical_summary.csv"
	indexFile   = "shard_index.json"
	// indexFormat 2 keeps metrics of every type: a data/ of format 1
	// set aside the shards with a metric that was no double (an integer,
	// a boolean, a string), so the next collect reads them all again.
	indexFormat   = 2
	outlierColumn = "outlier_metrics"
	shardColumn   = "shard"
)

// index is data/shard_index.json: the shard files that the tables in data/
// were built from, with the study files they were built against. Any
// difference from what is on disk (a changed manifest, a shard that changed
// or went) makes the next collect start from scratch.
type index struct {
	Format   int              `json:"format"`
	Manifest stamp            `json:"manifest"`
	Study    stamp            `json:"study"`
	SetAside []BadShard       `json:"set_aside"`
	Files    map[string]stamp `json:"files"`
	// Retyped holds, for each metric whose type changed between runs,
	// the runs whose value was a number or a boolean: the raw table holds
	// all its values as text, and the next collect needs their types to
	// tell whether the metric still changes type once more runs arrive.
	Retyped map[string]map[string]string `json:"retyped,omitempty"`
}

// The types of a value of a retyped metric in index.Retyped.
const (
	retypedNumber = "number"
	retypedBool   = "boolean"
)

func studyStamps(dir string) (stamp, stamp, error) {
	m, err := stampOf(studydir.Manifest(dir))
	if err != nil {
		return stamp{}, stamp{}, err
	}
	s, err := stampOf(studydir.StudyFilePath(dir))
	return m, s, err
}

// loadPrevious reads the state of the last collect from data/, or returns
// nil and why it cannot be used (nothing at all for a first collect).
func loadPrevious(dir string, g *grid) (*state, string) {
	b, err := os.ReadFile(filepath.Join(studydir.Data(dir), indexFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ""
	}
	var idx index
	if err == nil {
		err = json.Unmarshal(b, &idx)
	}
	if err != nil {
		return nil, "data/" + indexFile + " is unreadable: " + oneLine(err)
	}
	m, s, err := studyStamps(dir)
	switch {
	case err != nil:
		return nil, oneLine(err)
	case idx.Format != indexFormat:
		return nil, "data/ was written by another version of collect"
	case idx.Manifest != m || idx.Study != s:
		return nil, "the study was planned again since the last collect"
	}
	st, err := loadData(dir, g)
	if err != nil {
		return nil, oneLine(err)
	}
	st.bad = idx.SetAside
	st.index = idx.Files
	if st.index == nil {
		st.index = map[string]stamp{}
	}
	return st, ""
}

// loadData reads the kept attempts and their history from data/.
func loadData(dir string, g *grid) (*state, error) {
	s := newState(g.entries)
	raw, err := table.Open(filepath.Join(studydir.Data(dir), rawFile+".parquet"))
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	var idx index
	if b, err := os.ReadFile(filepath.Join(studydir.Data(dir), indexFile)); err == nil {
		if json.Unmarshal(b, &idx) == nil {
			s.bad = idx.SetAside
		}
	}
	schema := raw.Schema()
	id, attempt := schema.Index("run_id"), schema.Index("attempt")
	if id < 0 || attempt < 0 || schema.Index(shardColumn) < 0 {
		return nil, fmt.Errorf("data/%s.parquet: not a gridstudy results table", rawFile)
	}
	for {
		row, err := raw.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("data/%s.parquet: %w", rawFile, err)
		}
		runID, _ := row[id].(string)
		pos, ok := g.byRun[runID]
		if !ok {
			return nil, fmt.Errorf("data/%s.parquet: run %s is not in the manifest", rawFile, runID)
		}
		for i, c := range schema {
			if was := idx.Retyped[c.Name][runID]; was != "" && row[i] != nil {
				v, err := retype(row[i], was)
				if err != nil {
					return nil, fmt.Errorf("data/%s.parquet: column %q, run %s: %w", rawFile, c.Name, runID, err)
				}
				row[i] = v
			}
		}
		n, _ := row[attempt].(int64)
		s.keep(pos, n, schema, row, g.params)
	}
	r, err := table.Open(filepath.Join(studydir.Data(dir), historyFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	hs := r.Schema()
	hid, step, name, value := hs.Index("run_id"), hs.Index("step"), hs.Index("name"), hs.Index("value")
	if hid < 0 || step < 0 || name < 0 || value < 0 {
		return nil, fmt.Errorf("data/%s: not a gridstudy history table", historyFile)
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("data/%s: %w", historyFile, err)
		}
		runID, _ := row[hid].(string)
		pos, ok := g.byRun[runID]
		if !ok {
			return nil, fmt.Errorf("data/%s: run %s is not in the manifest", historyFile, runID)
		}
		h := histRow{}
		h.step, _ = row[step].(int64)
		h.name, _ = row[name].(string)
		h.value, _ = row[value].(float64)
		s.hist[pos] = append(s.hist[pos], h)
	}
}

// retype returns a value of the raw table as the shard held it: the text
// of a number or boolean of a retyped metric goes back to its type.
func retype(v any, was string) (any, error) {
	text, ok := v.(string)
	if !ok || was == "" {
		return v, nil
	}
	switch was {
	case retypedNumber:
		return strconv.ParseFloat(text, 64)
	case retypedBool:
		return strconv.ParseBool(text)
	}
	return nil, fmt.Errorf("unknown type %q in data/%s", was, indexFile)
}

// retypedIndex is index.Retyped of the state s.
func retypedIndex(g *grid, s *state) map[string]map[string]string {
	names, _ := s.retyped()
	if len(names) == 0 {
		return nil
	}
	out := map[string]map[string]string{}
	for _, m := range names {
		runs := map[string]string{}
		for pos, r := range s.runs {
			if r == nil {
				continue
			}
			switch s.metricCols[m].tag[pos] {
			case tagNumber:
				runs[g.entries[pos].RunID] = retypedNumber
			case tagBool:
				runs[g.entries[pos].RunID] = retypedBool
			}
		}
		out[m] = runs
	}
	return out
}

// rawSchema is the columns of raw_results_all_trials: the run's identity,
// its parameters, what the runner measured, then the metrics.
func rawSchema(g *grid, metrics table.Schema) table.Schema {
	rc := shard.RunColumns()
	s := append(table.Schema{}, rc[:3]...) // run_id, cell_id, model
	s = append(s, g.params...)
	s = append(s, rc[3:]...)
	s = append(s, table.Column{Name: shardColumn, Kind: table.String}, table.Column{Name: outlierColumn, Kind: table.String})
	return append(s, metrics...)
}

// rawRows calls fn with each row of raw_results_all_trials, in manifest
// order. outliers maps a manifest position to the metrics in which the
// trial stands out.
func rawRows(g *grid, s *state, metrics table.Schema, outliers map[int][]string, fn func(row []any) error) error {
	rc := shard.RunColumns()
	n := len(rc) + len(g.params) + 2 + len(metrics)
	row := make([]any, n)
	for pos, r := range s.runs {
		if r == nil {
			continue
		}
		c := g.cells[g.cellOf[pos]]
		k := 0
		for _, col := range rc[:3] {
			row[k] = r.val(col.Name)
			k++
		}
		k += copy(row[k:], c.values)
		for _, col := range rc[3:] {
			row[k] = r.val(col.Name)
			k++
		}
		row[k] = r.shard()
		row[k+1] = nil
		if o := outliers[pos]; len(o) > 0 {
			row[k+1] = strings.Join(o, ",")
		}
		k += 2
		for i, m := range metrics {
			row[k+i] = r.metric(m)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// writeIndex records the shard files behind the tables just written.
func writeIndex(dir string, g *grid, s *state) error {
	m, st, err := studyStamps(dir)
	if err != nil {
		return err
	}
	idx := index{Format: indexFormat, Manifest: m, Study: st, SetAside: s.bad, Files: s.index, Retyped: retypedIndex(g, s)}
	if idx.SetAside == nil {
		idx.SetAside = []BadShard{}
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(studydir.Data(dir), indexFile), b, 0o644, false)
}
