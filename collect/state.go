package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// Files of data/.
const (
	rawFile       = "raw_results_all_trials"
	historyFile   = "history.parquet"
	aggFile       = "aggregated_results"
	summaryCSV    = "statistical_summary.csv"
	indexFile     = "shard_index.json"
	indexFormat   = 1
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
}

func studyStamps(dir string) (stamp, stamp, error) {
	m, err := stampOf(manifestPath(dir))
	if err != nil {
		return stamp{}, stamp{}, err
	}
	s, err := stampOf(filepath.Join(dir, "study.toml"))
	return m, s, err
}

// loadPrevious reads the state of the last collect from data/, or returns
// nil and why it cannot be used (nothing at all for a first collect).
func loadPrevious(dir string, g *grid) (*state, string) {
	b, err := os.ReadFile(filepath.Join(dir, "data", indexFile))
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
	s := newState(len(g.entries))
	schema, rows, err := table.ReadFile(filepath.Join(dir, "data", rawFile+".parquet"))
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "data", indexFile)); err == nil {
		var idx index
		if json.Unmarshal(b, &idx) == nil {
			s.bad = idx.SetAside
		}
	}
	id, shardCol := schema.Index("run_id"), schema.Index(shardColumn)
	if id < 0 || shardCol < 0 {
		return nil, fmt.Errorf("data/%s.parquet: not a gridstudy results table", rawFile)
	}
	// Map each column of the file to a run column, or to a metric.
	fixed := map[string]bool{"run_id": true, "cell_id": true, "model": true, shardColumn: true, outlierColumn: true}
	for _, c := range g.params {
		fixed[c.Name] = true
	}
	for _, row := range rows {
		runID, _ := row[id].(string)
		pos, ok := g.byRun[runID]
		if !ok {
			return nil, fmt.Errorf("data/%s.parquet: run %s is not in the manifest", rawFile, runID)
		}
		rec := &runRec{vals: make([]any, len(runCol)), metrics: map[string]float64{}}
		rec.shard, _ = row[shardCol].(string)
		for i, c := range schema {
			if j, ok := runCol[c.Name]; ok {
				rec.vals[j] = row[i]
			} else if !fixed[c.Name] && row[i] != nil {
				f, ok := row[i].(float64)
				if !ok {
					return nil, fmt.Errorf("data/%s.parquet: column %q is %s, metrics are double", rawFile, c.Name, c.Kind)
				}
				rec.metrics[c.Name] = f
			}
		}
		rec.attempt, _ = rec.vals[runCol["attempt"]].(int64)
		rec.ok = rec.vals[runCol["status"]] == shard.StatusOK
		s.runs[pos] = rec
	}
	r, err := table.Open(filepath.Join(dir, "data", historyFile))
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

// rawSchema is the columns of raw_results_all_trials: the run's identity,
// its parameters, what the runner measured, then the metrics.
func rawSchema(g *grid, metrics []string) table.Schema {
	rc := shard.RunColumns()
	s := append(table.Schema{}, rc[:3]...) // run_id, cell_id, model
	s = append(s, g.params...)
	s = append(s, rc[3:]...)
	s = append(s, table.Column{Name: shardColumn, Kind: table.String}, table.Column{Name: outlierColumn, Kind: table.String})
	for _, m := range metrics {
		s = append(s, table.Column{Name: m, Kind: table.Double})
	}
	return s
}

// rawRows calls fn with each row of raw_results_all_trials, in manifest
// order. outliers maps a manifest position to the metrics in which the
// trial stands out.
func rawRows(g *grid, s *state, metrics []string, outliers map[int][]string, fn func(row []any) error) error {
	rc := shard.RunColumns()
	n := len(rc) + len(g.params) + 2 + len(metrics)
	row := make([]any, n)
	for pos, r := range s.runs {
		if r == nil {
			continue
		}
		c := g.cells[g.cellOf[pos]]
		k := copy(row, r.vals[:3])
		k += copy(row[k:], c.values)
		k += copy(row[k:], r.vals[3:])
		row[k] = r.shard
		row[k+1] = nil
		if o := outliers[pos]; len(o) > 0 {
			row[k+1] = strings.Join(o, ",")
		}
		k += 2
		for i, m := range metrics {
			row[k+i] = nil
			if v, ok := r.metrics[m]; ok {
				row[k+i] = v
			}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// writeIndex records the shard files behind the tables just written.
func writeIndex(dir string, s *state) error {
	m, st, err := studyStamps(dir)
	if err != nil {
		return err
	}
	idx := index{Format: indexFormat, Manifest: m, Study: st, SetAside: s.bad, Files: s.index}
	if idx.SetAside == nil {
		idx.SetAside = []BadShard{}
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "data", indexFile), b)
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so that a killed collect never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	return writeWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeWith writes path with fn through a temporary file and a rename.
func writeWith(path string, fn func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := fn(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
