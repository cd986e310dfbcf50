package collect

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unique"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// runRec is the kept attempt of one run.
type runRec struct {
	attempt int64
	ok      bool
	vals    []any // values of shard.RunColumns(), in its order
	metrics map[string]float64
	// other holds the final metrics that are no number: a bool or a
	// string each. It stays nil for a run without any, as most are.
	other map[string]any
	shard string // file name it came from
	aside bool   // stands for a shard that was set aside
}

// better reports whether attempt a should be kept over b: whether, of the
// two, a is the run's result by lifecycle's rule. The rule is a total
// order on the attempts of a run, so folding shards in any order, or some
// now and the rest later, keeps the same attempt.
func better(a, b *runRec) bool {
	status := func(r *runRec) string { s, _ := r.vals[runCol["status"]].(string); return s }
	d := lifecycle.Decide([]lifecycle.Attempt{
		{Number: int(a.attempt), Status: status(a)},
		{Number: int(b.attempt), Status: status(b)},
	}, lifecycle.Queued{})
	return d.Result == int(a.attempt)
}

// unreadable stands for an attempt whose shard was set aside: status,
// resume and the runner count such an attempt as failed
// (shard.ReadStatus), and so do the tables, with the reason as its error.
func unreadable(g *grid, pos int, e shard.Entry, reason string) *runRec {
	want := g.entries[pos]
	rec := &runRec{attempt: int64(e.Attempt), vals: make([]any, len(runCol)), metrics: map[string]float64{}, shard: e.Name, aside: true}
	rec.vals[runCol["run_id"]] = want.RunID
	rec.vals[runCol["cell_id"]] = want.CellID
	rec.vals[runCol["model"]] = want.Model
	rec.vals[runCol["trial"]] = int64(want.Trial)
	rec.vals[runCol["seed"]] = want.Seed
	rec.vals[runCol["attempt"]] = int64(e.Attempt)
	rec.vals[runCol["status"]] = shard.StatusFailed
	rec.vals[runCol["error"]] = "its shard " + e.Name + " was set aside: " + reason
	return rec
}

// setMetric records the value v of final metric m, whatever its type: a
// metric's type is the command's choice (docs/run-protocol.md), so none
// sets a run aside. Numbers are kept as float64, like the runner's doubles;
// booleans and strings as they are; anything else as its text.
func (r *runRec) setMetric(m string, v any) {
	switch x := v.(type) {
	case float64:
		r.metrics[m] = x
		return
	case int64:
		r.metrics[m] = float64(x)
		return
	case bool, string:
	default:
		v = csvValue(v)
	}
	if r.other == nil {
		r.other = map[string]any{}
	}
	r.other[m] = v
}

// text is metric m of a kept attempt as text, for a metric whose type
// changed between runs: numbers and booleans read as the CSV writes them.
func (r *runRec) text(m string) (string, bool) {
	if v, ok := r.metrics[m]; ok {
		return formatValue(v), true
	}
	v, ok := r.other[m]
	if !ok {
		return "", false
	}
	return formatValue(v), true
}

// metric is the value of a kept attempt in the raw table's column c of a
// metric, or nil when the attempt did not report it.
func (r *runRec) metric(c table.Column) any {
	if c.Kind == table.String {
		if t, ok := r.text(c.Name); ok {
			return t
		}
		return nil
	}
	if v, ok := r.metrics[c.Name]; ok {
		return v
	}
	return r.other[c.Name]
}

// histRow is one history line of a kept attempt.
type histRow struct {
	step  int64
	name  string
	value float64
}

// state is what a collect knows: the kept attempt and history of every run
// (indexed like the manifest; nil for a run without a usable shard), the
// shards set aside, and the shard files already read.
type state struct {
	runs  []*runRec
	hist  [][]histRow
	bad   []BadShard
	index map[string]stamp
	types map[string]int // metricTypes, once the runs are all in
}

func newState(n int) *state {
	return &state{runs: make([]*runRec, n), hist: make([][]histRow, n), index: map[string]stamp{}}
}

// The types a metric's values can have, as bits of a set.
const (
	isNumber = 1 << iota
	isBool
	isString
)

// metricTypes returns, for every metric reported by a kept attempt, the
// set of the types of its values. The tables, analyses and warnings all
// ask; it goes through every run once, after update or loadData has put
// the runs in.
func (s *state) metricTypes() map[string]int {
	if s.types != nil {
		return s.types
	}
	types := map[string]int{}
	for _, r := range s.runs {
		if r == nil {
			continue
		}
		for m := range r.metrics {
			types[m] |= isNumber
		}
		for m, v := range r.other {
			if _, ok := v.(bool); ok {
				types[m] |= isBool
			} else {
				types[m] |= isString
			}
		}
	}
	s.types = types
	return types
}

// metrics returns the names of the numeric metrics, sorted: the ones that
// are aggregated, analysed and drawn. A metric with a value of another
// type in any run is none of them.
func (s *state) metrics() []string {
	var out []string
	for m, t := range s.metricTypes() {
		if t == isNumber {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// metricColumns returns the column of every metric in the raw table,
// sorted by name (a fixed order whatever order shards were read in): a
// double for numbers, a boolean for booleans, and a string for strings
// and for a metric whose type changed between runs, whose values are kept
// as text.
func (s *state) metricColumns() table.Schema {
	var out table.Schema
	for m, t := range s.metricTypes() {
		k := table.String
		switch t {
		case isNumber:
			k = table.Double
		case isBool:
			k = table.Bool
		}
		out = append(out, table.Column{Name: m, Kind: k})
	}
	slices.SortFunc(out, func(a, b table.Column) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// retyped returns the metrics whose type changed between runs, sorted,
// each with the warning that names it.
func (s *state) retyped() (names, warnings []string) {
	types := s.metricTypes()
	for m, t := range types {
		if t&(t-1) != 0 {
			names = append(names, m)
		}
	}
	slices.Sort(names)
	for _, m := range names {
		var kinds []string
		for _, k := range []struct {
			bit  int
			name string
		}{{isNumber, "a number"}, {isBool, "a boolean"}, {isString, "a string"}} {
			if types[m]&k.bit != 0 {
				kinds = append(kinds, k.name)
			}
		}
		warnings = append(warnings, fmt.Sprintf("metric %q is %s, depending on the run: %s keeps its values as text, and no figure or analysis shows it", m, strings.Join(kinds, " or "), rawFile))
	}
	return names, warnings
}

// runCol is the position of each run column in shard.RunColumns().
var runCol = func() map[string]int {
	m := map[string]int{}
	for i, c := range shard.RunColumns() {
		m[c.Name] = i
	}
	return m
}()

// update brings the state in data/ up to date with the shards: it reads the
// shard files that data/ has not seen, or all of them when data/ holds no
// usable earlier collect or a file it read has changed since.
func update(ctx context.Context, dir string, g *grid, opt Options, res *Result) (*state, error) {
	list, err := shard.Scan(dir)
	if err != nil {
		return nil, fmt.Errorf("list shards: %w", err)
	}
	res.Shards = len(list)
	stamps := make([]stamp, len(list))
	statErrs := make([]error, len(list))
	parallel(len(list), opt.Workers, func(i int) {
		stamps[i], statErrs[i] = stampOf(filepath.Join(shard.Dir(dir), list[i].Name))
	})
	s, why := loadPrevious(dir, g)
	if s != nil {
		present := make(map[string]stamp, len(list))
		for i, e := range list {
			present[e.Name] = stamps[i]
		}
		for _, name := range slices.Sorted(mapKeys(s.index)) {
			if st, ok := present[name]; !ok {
				why = "shard " + name + " was read before and has gone"
			} else if st != s.index[name] {
				why = "shard " + name + " changed since it was read"
			} else {
				continue
			}
			s = nil
			break
		}
	}
	if s == nil {
		res.Rebuilt = true
		res.Why = why
		s = newState(len(g.entries))
	}
	badAt := map[string]int{}
	for i, b := range s.bad {
		badAt[b.Name] = i
	}
	setAside := func(name, reason string) {
		if i, ok := badAt[name]; ok {
			s.bad[i].Reason = reason
			return
		}
		badAt[name] = len(s.bad)
		s.bad = append(s.bad, BadShard{Name: name, Reason: reason})
	}

	// Run shards first: which attempt each run keeps decides which
	// history shards are worth reading.
	var todo []int
	for i, e := range list {
		if _, seen := s.index[e.Name]; seen || e.History {
			continue
		}
		todo = append(todo, i)
	}
	prog := newProgress(opt.Progress, len(todo))
	recs := make([]*runRec, len(todo))
	reasons := make([]string, len(todo))
	if err := parallelCtx(ctx, len(todo), opt.Workers, func(j int) {
		i := todo[j]
		if statErrs[i] != nil {
			reasons[j] = "unreadable: " + statErrs[i].Error()
		} else {
			recs[j], reasons[j] = readRunShard(filepath.Join(shard.Dir(dir), list[i].Name), g, list[i])
		}
		prog.add(1)
	}); err != nil {
		prog.done()
		return nil, err
	}
	prog.done()
	res.Read = len(todo)
	changed := map[int]bool{}
	for j, i := range todo {
		e := list[i]
		s.index[e.Name] = stamps[i]
		pos, known := g.byRun[e.RunID]
		if reasons[j] != "" {
			setAside(e.Name, reasons[j])
			if !known {
				continue
			}
			recs[j] = unreadable(g, pos, e, reasons[j])
		}
		if old := s.runs[pos]; old == nil || better(recs[j], old) {
			s.runs[pos] = recs[j]
			changed[pos] = true
		}
	}
	for pos := range changed {
		s.hist[pos] = nil
	}

	// History of the kept attempts: of every run whose kept attempt just
	// changed, and any that arrived after its run shard.
	var htodo []int
	for i, e := range list {
		if !e.History {
			continue
		}
		pos, known := g.byRun[e.RunID]
		_, seen := s.index[e.Name]
		switch {
		case !known:
			if !seen {
				setAside(e.Name, foreign(e.RunID))
				s.index[e.Name] = stamps[i]
			}
		case s.runs[pos] != nil && s.runs[pos].attempt == int64(e.Attempt) && (changed[pos] || !seen):
			htodo = append(htodo, i)
		}
	}
	hrows := make([][]histRow, len(htodo))
	hreasons := make([]string, len(htodo))
	if err := parallelCtx(ctx, len(htodo), opt.Workers, func(j int) {
		e := list[htodo[j]]
		hrows[j], hreasons[j] = readHistoryShard(filepath.Join(shard.Dir(dir), e.Name), e)
	}); err != nil {
		return nil, err
	}
	res.Read += len(htodo)
	for j, i := range htodo {
		e := list[i]
		s.index[e.Name] = stamps[i]
		if hreasons[j] != "" {
			setAside(e.Name, hreasons[j])
			continue
		}
		s.hist[g.byRun[e.RunID]] = hrows[j]
	}
	// A bad history shard of an attempt that is no longer kept does not
	// matter: a collect from scratch would not have read it.
	s.bad = slices.DeleteFunc(s.bad, func(b BadShard) bool {
		id, attempt, history, _ := shard.Parse(b.Name)
		pos, known := g.byRun[id]
		return history && known && (s.runs[pos] == nil || s.runs[pos].attempt != int64(attempt))
	})
	slices.SortFunc(s.bad, func(a, b BadShard) int { return strings.Compare(a.Name, b.Name) })
	return s, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func foreign(runID string) string {
	return "from another study: run " + runID + " is not in this study's manifest"
}

// readRunShard reads the one row of a run shard, or says why it cannot be
// used. Only what the shard says about the run is kept: parameter values
// come from the manifest, which is the authority on which cell a run is.
func readRunShard(path string, g *grid, e shard.Entry) (*runRec, string) {
	pos, known := g.byRun[e.RunID]
	if !known {
		return nil, foreign(e.RunID)
	}
	r, err := table.Open(path)
	if err != nil {
		return nil, "unreadable: " + trimPath(err, path)
	}
	defer r.Close()
	schema := r.Schema()
	if schema.Index("run_id") < 0 || schema.Index("status") < 0 {
		return nil, "not a run shard: no run_id or status column"
	}
	if err := schema.Check(g.expected); err != nil {
		return nil, "column types disagree with the study: " + oneLine(err)
	}
	row, err := r.Read()
	if err == io.EOF {
		return nil, "unreadable: the shard holds no row"
	}
	if err != nil {
		return nil, "unreadable: " + trimPath(err, path)
	}
	if _, err := r.Read(); err != io.EOF {
		if err != nil {
			return nil, "unreadable: " + trimPath(err, path)
		}
		return nil, "the shard holds more than one row"
	}
	rec := &runRec{vals: make([]any, len(runCol)), metrics: map[string]float64{}, shard: e.Name}
	for i, c := range schema {
		if j, ok := runCol[c.Name]; ok {
			rec.vals[j] = row[i]
		} else if g.expected.Index(c.Name) < 0 && row[i] != nil {
			// The name is a slice of the file's footer: a copy of it as
			// map key would keep the whole file in memory, so use the
			// one canonical copy of each metric name.
			rec.setMetric(unique.Make(c.Name).Value(), row[i])
		}
	}
	want := g.entries[pos]
	switch {
	case rec.vals[runCol["run_id"]] != e.RunID:
		return nil, fmt.Sprintf("its file name says run %s, its row says run %v", e.RunID, rec.vals[runCol["run_id"]])
	case rec.vals[runCol["cell_id"]] != want.CellID:
		return nil, fmt.Sprintf("from another study: run %s is cell %v here, cell %s in the manifest", e.RunID, rec.vals[runCol["cell_id"]], want.CellID)
	case rec.vals[runCol["attempt"]] != int64(e.Attempt):
		return nil, fmt.Sprintf("its file name says attempt %d, its row says attempt %v", e.Attempt, rec.vals[runCol["attempt"]])
	case rec.vals[runCol["status"]] == nil:
		return nil, "no status"
	}
	rec.attempt = int64(e.Attempt)
	rec.ok = rec.vals[runCol["status"]] == shard.StatusOK
	// The manifest's model and trial are the run's; the shard's agree or
	// the row would not have passed the checks above.
	rec.vals[runCol["model"]] = want.Model
	rec.vals[runCol["trial"]] = int64(want.Trial)
	rec.vals[runCol["seed"]] = want.Seed
	return rec, ""
}

// readHistoryShard reads the history lines of one attempt.
func readHistoryShard(path string, e shard.Entry) ([]histRow, string) {
	r, err := table.Open(path)
	if err != nil {
		return nil, "unreadable: " + trimPath(err, path)
	}
	defer r.Close()
	schema := r.Schema()
	if err := schema.Check(shard.HistoryColumns()); err != nil {
		return nil, "column types disagree with the study: " + oneLine(err)
	}
	id, step, name, value := schema.Index("run_id"), schema.Index("step"), schema.Index("name"), schema.Index("value")
	if id < 0 || step < 0 || name < 0 || value < 0 {
		return nil, "not a history shard: want run_id, step, name and value columns"
	}
	var rows []histRow
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, ""
		}
		if err != nil {
			return nil, "unreadable: " + trimPath(err, path)
		}
		if row[id] != e.RunID {
			return nil, fmt.Sprintf("its file name says run %s, a row says run %v", e.RunID, row[id])
		}
		// A line without step, name or value says nothing to plot.
		if row[step] == nil || row[name] == nil || row[value] == nil {
			continue
		}
		rows = append(rows, histRow{step: row[step].(int64), name: row[name].(string), value: row[value].(float64)})
	}
}

// trimPath drops the file path that table errors start with: the report
// names the shard already.
func trimPath(err error, path string) string {
	msg := oneLine(err)
	for _, p := range []string{"read " + path + ": ", path + ": "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// stamp identifies a version of a file without reading it.
type stamp struct {
	Size  int64 `json:"size"`
	MTime int64 `json:"mtime_ns"`
}

func stampOf(path string) (stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}, err
	}
	return stamp{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}, nil
}

// parallel calls fn(i) for i in [0, n) on up to workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	_ = parallelCtx(context.Background(), n, workers, fn)
}

// parallelCtx is parallel that stops handing out work when ctx is done.
func parallelCtx(ctx context.Context, n, workers int, fn func(i int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, max(workers, 1)) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	var err error
	for i := range n {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// isFinite reports whether x is a usable number.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
