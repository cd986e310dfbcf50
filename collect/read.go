package collect

import (
	"context"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// The kept attempts of all runs live in typed columns of the state, one
// slot per run of the manifest, rather than in a row of boxed values and a
// map of metrics per run: that took about 1 KB a run, and the garbage
// collector scanned it all on every cycle. A column slot is a type tag and 8
// bytes; strings are interned, once per state, so that the few distinct
// statuses, hosts and job ids of 100,000 runs are stored once each.

// The tags of a column slot: what its 8 bytes hold.
const (
	tagNull   uint8 = iota // no value
	tagNumber              // float64 bits
	tagInt                 // int64
	tagBool                // 0 or 1
	tagString              // index in state.strs
	tagTime                // microseconds since the Unix epoch (UTC), as table stores them
)

// column holds one value per run of the manifest.
type column struct {
	tag []uint8
	val []uint64
}

func newColumn(n int) *column {
	return &column{tag: make([]uint8, n), val: make([]uint64, n)}
}

// idColumns are the run columns that come from the manifest, which is the
// authority on them: the state does not store them.
var idColumns = map[string]bool{"run_id": true, "cell_id": true, "model": true, "trial": true, "seed": true}

// runRec is the handle of one run's kept attempt: what every analysis asks
// first (is there one, is it ok), and the way to its values in the state's
// columns. All handles of a state share one array.
type runRec struct {
	s       *state
	pos     int
	attempt int64
	ok      bool
	aside   bool // stands for a shard that was set aside
}

// val is the value of run column name (one of shard.RunColumns()) of the
// kept attempt, or nil.
func (r *runRec) val(name string) any {
	e := r.s.entries[r.pos]
	switch name {
	case "run_id":
		return e.RunID
	case "cell_id":
		return e.CellID
	case "model":
		return e.Model
	case "trial":
		return int64(e.Trial)
	case "seed":
		return e.Seed
	}
	i, ok := runCol[name]
	if !ok {
		return nil
	}
	return r.s.get(r.s.cols[i], r.pos)
}

// value is the metric or measure m of a kept attempt, if it is a finite
// number.
func (r *runRec) value(m string) (float64, bool) {
	var c *column
	if i, ok := runCol[m]; ok {
		c = r.s.cols[i]
	} else {
		c = r.s.metricCols[m]
	}
	if c == nil || c.tag[r.pos] != tagNumber {
		return 0, false
	}
	v := math.Float64frombits(c.val[r.pos])
	return v, isFinite(v)
}

// hasMetrics reports whether the kept attempt reported any final metric.
func (r *runRec) hasMetrics() bool {
	for _, c := range r.s.metricCols {
		if c.tag[r.pos] != tagNull {
			return true
		}
	}
	return false
}

// numbers yields each final metric of the kept attempt that is a number,
// with its value (NaN and infinities included), in no fixed order.
func (r *runRec) numbers() iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		for m, c := range r.s.metricCols {
			if c.tag[r.pos] == tagNumber && !yield(m, math.Float64frombits(c.val[r.pos])) {
				return
			}
		}
	}
}

// boolMetric is metric m of a kept attempt when it is a boolean.
func (r *runRec) boolMetric(m string) (v, ok bool) {
	c := r.s.metricCols[m]
	if c == nil || c.tag[r.pos] != tagBool {
		return false, false
	}
	return c.val[r.pos] == 1, true
}

// text is metric m of a kept attempt as text, for a metric whose type
// changed between runs: numbers and booleans read as the CSV writes them.
func (r *runRec) text(m string) (string, bool) {
	c := r.s.metricCols[m]
	if c == nil || c.tag[r.pos] == tagNull {
		return "", false
	}
	return formatValue(r.s.get(c, r.pos)), true
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
	mc := r.s.metricCols[c.Name]
	if mc == nil {
		return nil
	}
	return r.s.get(mc, r.pos)
}

// shard is the file name of the kept attempt: each attempt has one name.
func (r *runRec) shard() string {
	return shard.Name(r.s.entries[r.pos].RunID, int(r.attempt), false)
}

// status is the status of the kept attempt.
func (r *runRec) status() string {
	st, _ := r.val("status").(string)
	return st
}

// better reports whether attempt a (number and status) should be kept
// over the run's kept attempt b: whether, of the two, a is the run's
// result by lifecycle's rule. The rule is a total order on the attempts of
// a run, so folding shards in any order, or some now and the rest later,
// keeps the same attempt.
func better(attempt int64, status string, b *runRec) bool {
	d := lifecycle.Decide([]lifecycle.Attempt{
		{Number: int(attempt), Status: status},
		{Number: int(b.attempt), Status: b.status()},
	}, lifecycle.Queued{})
	return d.Result == int(attempt)
}

// get is the value in slot pos of column c, as the table package types it.
func (s *state) get(c *column, pos int) any {
	v := c.val[pos]
	switch c.tag[pos] {
	case tagNumber:
		return math.Float64frombits(v)
	case tagInt:
		return int64(v)
	case tagBool:
		return v == 1
	case tagString:
		return s.strs[v]
	case tagTime:
		return time.UnixMicro(int64(v)).UTC()
	}
	return nil
}

// put stores v in slot pos of column c. A metric is stored as the runner
// and the tables see it (docs/run-protocol.md): numbers as float64, like
// the runner's doubles; booleans and strings as they are; anything else as
// its text.
func (s *state) put(c *column, pos int, v any, metric bool) {
	tag, bits := tagNull, uint64(0)
	switch x := v.(type) {
	case nil:
	case float64:
		tag, bits = tagNumber, math.Float64bits(x)
	case int64:
		if metric {
			tag, bits = tagNumber, math.Float64bits(float64(x))
		} else {
			tag, bits = tagInt, uint64(x)
		}
	case bool:
		tag = tagBool
		if x {
			bits = 1
		}
	case string:
		tag, bits = tagString, uint64(s.intern(x))
	case time.Time:
		if metric {
			tag, bits = tagString, uint64(s.intern(csvValue(x)))
		} else {
			tag, bits = tagTime, uint64(x.UnixMicro())
		}
	default:
		tag, bits = tagString, uint64(s.intern(csvValue(v)))
	}
	c.tag[pos], c.val[pos] = tag, bits
}

// intern returns the index of text in s.strs, adding it once.
func (s *state) intern(text string) uint32 {
	if i, ok := s.strAt[text]; ok {
		return i
	}
	// A copy: text may be a slice of a file's bytes, which would
	// otherwise stay in memory with it.
	text = strings.Clone(text)
	i := uint32(len(s.strs))
	s.strs = append(s.strs, text)
	s.strAt[text] = i
	return i
}

// keep makes the attempt in row (columns named by schema) the kept
// attempt of the run at pos, replacing whatever was kept: its run columns
// and final metrics, with no history yet. The manifest's identity columns
// and the study's parameters are not stored (the manifest has them), nor
// collect's own columns; every other column is a metric.
func (s *state) keep(pos int, attempt int64, schema table.Schema, row []any, params table.Schema) *runRec {
	s.types = nil
	for _, c := range s.cols {
		if c != nil {
			c.tag[pos] = tagNull
		}
	}
	for _, c := range s.metricCols {
		c.tag[pos] = tagNull
	}
	for i, col := range schema {
		if idColumns[col.Name] || col.Name == shardColumn || col.Name == outlierColumn {
			continue
		}
		if j, ok := runCol[col.Name]; ok {
			s.put(s.cols[j], pos, row[i], false)
			continue
		}
		if row[i] == nil || params.Index(col.Name) >= 0 {
			continue
		}
		c := s.metricCols[col.Name]
		if c == nil {
			c = newColumn(len(s.entries))
			s.metricCols[strings.Clone(col.Name)] = c
		}
		s.put(c, pos, row[i], true)
	}
	r := &s.recs[pos]
	*r = runRec{s: s, pos: pos, attempt: attempt}
	r.ok = r.status() == shard.StatusOK
	s.runs[pos] = r
	s.hist[pos] = nil
	return r
}

// keepUnreadable keeps, for the run at pos, an attempt whose shard was set
// aside: status, resume and the runner count such an attempt as failed
// (shard.ReadStatus), and so do the tables, with the reason as its error.
func (s *state) keepUnreadable(pos int, e shard.Entry, reason string) {
	r := s.keep(pos, int64(e.Attempt), unreadableSchema,
		[]any{int64(e.Attempt), shard.StatusFailed, "its shard " + e.Name + " was set aside: " + reason}, nil)
	r.aside = true
}

// unreadableSchema is what the state knows of an attempt whose shard was
// set aside.
var unreadableSchema = table.Schema{{Name: "attempt", Kind: table.Int64}, {Name: "status", Kind: table.String}, {Name: "error", Kind: table.String}}

// histRow is one history line of a kept attempt.
type histRow struct {
	step  int64
	name  string
	value float64
}

// state is what a collect knows: the kept attempt and history of every run
// (indexed like the manifest; runs[pos] is nil for a run without a usable
// shard), the shards set aside, and the shard files already read.
type state struct {
	entries []manifest.Entry
	runs    []*runRec // into recs
	recs    []runRec
	// cols holds the run columns, in shard.RunColumns() order; nil for
	// those of the manifest (idColumns).
	cols       []*column
	metricCols map[string]*column
	strs       []string
	strAt      map[string]uint32
	hist       [][]histRow
	bad        []BadShard
	index      map[string]stamp
	types      map[string]int // metricTypes, once the runs are all in
}

func newState(entries []manifest.Entry) *state {
	n := len(entries)
	s := &state{entries: entries, runs: make([]*runRec, n), recs: make([]runRec, n), hist: make([][]histRow, n),
		metricCols: map[string]*column{}, strAt: map[string]uint32{}, index: map[string]stamp{}}
	for _, c := range shard.RunColumns() {
		if idColumns[c.Name] {
			s.cols = append(s.cols, nil)
		} else {
			s.cols = append(s.cols, newColumn(n))
		}
	}
	return s
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
	for m, c := range s.metricCols {
		for pos, r := range s.runs {
			if r == nil {
				continue
			}
			switch c.tag[pos] {
			case tagNumber:
				types[m] |= isNumber
			case tagBool:
				types[m] |= isBool
			case tagString:
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
	if s != nil && hasAfterStages(dir) {
		s, why = nil, "the study has after-runs stages, whose metrics join the runs' rows afresh"
	}
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
		s = newState(g.entries)
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
	// history shards are worth reading. Each row is folded into the
	// state as soon as it is read, so that memory holds the state and a
	// few rows in flight, whatever the number of shards.
	var todo, mtodo []int
	for i, e := range list {
		if _, seen := s.index[e.Name]; seen || e.History {
			continue
		}
		if e.Multi {
			mtodo = append(mtodo, i)
			continue
		}
		todo = append(todo, i)
	}
	prog := newProgress(opt.Progress, len(todo)+len(mtodo))
	changed := map[int]bool{}
	err = pipeline(ctx, len(todo), opt.Workers, func(j int) shardRow {
		i := todo[j]
		if statErrs[i] != nil {
			return shardRow{reason: "unreadable: " + statErrs[i].Error()}
		}
		return readRunShard(filepath.Join(shard.Dir(dir), list[i].Name), g, list[i])
	}, func(j int, row shardRow) {
		prog.add(1)
		i := todo[j]
		e := list[i]
		s.index[e.Name] = stamps[i]
		pos, known := g.byRun[e.RunID]
		if row.reason != "" {
			setAside(e.Name, row.reason)
			if !known {
				return
			}
			if old := s.runs[pos]; old == nil || better(int64(e.Attempt), shard.StatusFailed, old) {
				s.keepUnreadable(pos, e, row.reason)
				changed[pos] = true
			}
			return
		}
		if old := s.runs[pos]; old == nil || better(int64(e.Attempt), row.status, old) {
			s.keep(pos, int64(e.Attempt), row.schema, row.vals, g.params)
			changed[pos] = true
		}
	})
	if err != nil {
		prog.done()
		return nil, err
	}
	// Multi-row files (task shards, parts) hold many attempts; an attempt
	// also in a one-row shard (a fold killed before it removed its
	// sources) is one attempt, kept once.
	err = pipeline(ctx, len(mtodo), opt.Workers, func(j int) multiRows {
		i := mtodo[j]
		if statErrs[i] != nil {
			return multiRows{reason: "unreadable: " + statErrs[i].Error()}
		}
		return readMultiShard(filepath.Join(shard.Dir(dir), list[i].Name), g)
	}, func(j int, m multiRows) {
		prog.add(1)
		i := mtodo[j]
		e := list[i]
		s.index[e.Name] = stamps[i]
		if m.reason != "" {
			setAside(e.Name, m.reason)
		}
		for _, row := range m.rows {
			pos := g.byRun[row.key.RunID]
			attempt := int64(row.key.Attempt)
			if row.aside != "" {
				if old := s.runs[pos]; old == nil || better(attempt, shard.StatusFailed, old) {
					s.keepUnreadable(pos, shard.Entry{Name: e.Name, RunID: row.key.RunID, Attempt: row.key.Attempt}, row.aside)
					changed[pos] = true
				}
				continue
			}
			if old := s.runs[pos]; old == nil || better(attempt, row.status, old) {
				s.keep(pos, attempt, m.schema, row.vals, g.params)
				changed[pos] = true
			}
		}
	})
	prog.done()
	if err != nil {
		return nil, err
	}
	res.Read = len(todo) + len(mtodo)

	// History of the kept attempts: of every run whose kept attempt just
	// changed, and any that arrived after its run shard.
	var htodo, mhtodo []int
	for i, e := range list {
		if !e.History {
			continue
		}
		if e.Multi {
			if _, seen := s.index[e.Name]; !seen || len(changed) > 0 {
				mhtodo = append(mhtodo, i)
			}
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
	type histResult struct {
		rows   []histRow
		reason string
	}
	err = pipeline(ctx, len(htodo), opt.Workers, func(j int) histResult {
		e := list[htodo[j]]
		rows, reason := readHistoryShard(filepath.Join(shard.Dir(dir), e.Name), e)
		return histResult{rows, reason}
	}, func(j int, h histResult) {
		i := htodo[j]
		e := list[i]
		s.index[e.Name] = stamps[i]
		if h.reason != "" {
			setAside(e.Name, h.reason)
			return
		}
		s.hist[g.byRun[e.RunID]] = h.rows
	})
	if err != nil {
		return nil, err
	}
	err = pipeline(ctx, len(mhtodo), opt.Workers, func(j int) multiHistory {
		return readMultiHistory(filepath.Join(shard.Dir(dir), list[mhtodo[j]].Name))
	}, func(j int, h multiHistory) {
		i := mhtodo[j]
		e := list[i]
		_, seen := s.index[e.Name]
		s.index[e.Name] = stamps[i]
		if h.reason != "" {
			setAside(e.Name, h.reason)
			return
		}
		for k, rows := range h.rows {
			pos, known := g.byRun[k.RunID]
			if known && s.runs[pos] != nil && s.runs[pos].attempt == int64(k.Attempt) && (changed[pos] || !seen) {
				s.hist[pos] = rows
			}
		}
	})
	if err != nil {
		return nil, err
	}
	res.Read += len(htodo) + len(mhtodo)
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

// shardRow is the one row of a run shard as read, or why the shard cannot
// be used.
type shardRow struct {
	schema table.Schema
	vals   []any
	status string
	reason string
}

// readRunShard reads the one row of a run shard, or says why it cannot be
// used. Only what the shard says about the run is kept: parameter values
// come from the manifest, which is the authority on which cell a run is.
func readRunShard(path string, g *grid, e shard.Entry) shardRow {
	bad := func(reason string) shardRow { return shardRow{reason: reason} }
	pos, known := g.byRun[e.RunID]
	if !known {
		return bad(foreign(e.RunID))
	}
	r, err := table.Open(path)
	if err != nil {
		return bad("unreadable: " + trimPath(err, path))
	}
	defer r.Close()
	schema := r.Schema()
	if schema.Index("run_id") < 0 || schema.Index("status") < 0 {
		return bad("not a run shard: no run_id or status column")
	}
	if err := schema.Check(g.expected); err != nil {
		return bad("column types disagree with the study: " + oneLine(err))
	}
	row, err := r.Read()
	if err == io.EOF {
		return bad("unreadable: the shard holds no row")
	}
	if err != nil {
		return bad("unreadable: " + trimPath(err, path))
	}
	if _, err := r.Read(); err != io.EOF {
		if err != nil {
			return bad("unreadable: " + trimPath(err, path))
		}
		return bad("the shard holds more than one row")
	}
	col := func(name string) any {
		if i := schema.Index(name); i >= 0 {
			return row[i]
		}
		return nil
	}
	want := g.entries[pos]
	status, _ := col("status").(string)
	switch {
	case col("run_id") != e.RunID:
		return bad(fmt.Sprintf("its file name says run %s, its row says run %v", e.RunID, col("run_id")))
	case col("cell_id") != want.CellID:
		return bad(fmt.Sprintf("from another study: run %s is cell %v here, cell %s in the manifest", e.RunID, col("cell_id"), want.CellID))
	case col("attempt") != int64(e.Attempt):
		return bad(fmt.Sprintf("its file name says attempt %d, its row says attempt %v", e.Attempt, col("attempt")))
	case col("status") == nil:
		return bad("no status")
	}
	return shardRow{schema: schema, vals: row, status: status}
}

// multiRows are the rows of a multi-row file (a task shard or a part) as
// read: those of runs of this study, and why any were left out.
type multiRows struct {
	schema table.Schema
	rows   []multiRow
	reason string
}

type multiRow struct {
	key    shard.Key
	vals   []any
	status string
	aside  string // why the row cannot be used; its attempt counts as failed
}

// readMultiShard reads the rows of a multi-row file. A row of another
// study's run, or without a status, is left out and the file set aside
// with the reason; its other rows still count.
func readMultiShard(path string, g *grid) multiRows {
	bad := func(reason string) multiRows { return multiRows{reason: reason} }
	schema, rows, err := table.ReadFile(path)
	if err != nil {
		return bad("unreadable: " + trimPath(err, path))
	}
	id, at, st, cell := schema.Index("run_id"), schema.Index("attempt"), schema.Index("status"), schema.Index("cell_id")
	if id < 0 || at < 0 || st < 0 || cell < 0 {
		return bad("not a run shard: no run_id, attempt, status or cell_id column")
	}
	// A column whose type disagrees with the study came from the rows
	// that hold a value in it: only those are left out, not the rows
	// folded beside them.
	var clash []int
	clashErr := schema.Check(g.expected)
	if clashErr != nil {
		for i, c := range schema {
			if j := g.expected.Index(c.Name); j >= 0 && g.expected[j].Kind != c.Kind {
				clash = append(clash, i)
			}
		}
	}
	m := multiRows{schema: schema}
	for _, row := range rows {
		runID, _ := row[id].(string)
		attempt, _ := row[at].(int64)
		status, _ := row[st].(string)
		pos, known := g.byRun[runID]
		switch {
		case known && slices.ContainsFunc(clash, func(i int) bool { return row[i] != nil }):
			// Counted as a failed attempt, as a one-row shard set aside
			// for the same reason is.
			m.reason = "column types disagree with the study: " + oneLine(clashErr)
			m.rows = append(m.rows, multiRow{key: shard.Key{RunID: runID, Attempt: int(attempt)}, aside: m.reason})
		case !known:
			m.reason = foreign(runID)
		case row[cell] != g.entries[pos].CellID:
			m.reason = fmt.Sprintf("from another study: run %s is cell %v here, cell %s in the manifest", runID, row[cell], g.entries[pos].CellID)
		case row[st] == nil || attempt < 1:
			m.reason = fmt.Sprintf("run %s: no status or attempt", runID)
		default:
			m.rows = append(m.rows, multiRow{key: shard.Key{RunID: runID, Attempt: int(attempt)}, vals: row, status: status})
		}
	}
	return m
}

// multiHistory is the history of a multi-row file, by attempt.
type multiHistory struct {
	rows   map[shard.Key][]histRow
	reason string
}

// readMultiHistory reads the history file of a multi-row file, whose rows
// name their attempt.
func readMultiHistory(path string) multiHistory {
	bad := func(reason string) multiHistory { return multiHistory{reason: reason} }
	schema, rows, err := table.ReadFile(path)
	if err != nil {
		return bad("unreadable: " + trimPath(err, path))
	}
	if err := schema.Check(shard.HistoryColumns()); err != nil {
		return bad("column types disagree with the study: " + oneLine(err))
	}
	id, at, step, name, value := schema.Index("run_id"), schema.Index("attempt"), schema.Index("step"), schema.Index("name"), schema.Index("value")
	if id < 0 || at < 0 || step < 0 || name < 0 || value < 0 {
		return bad("not a history file: want run_id, attempt, step, name and value columns")
	}
	out := multiHistory{rows: map[shard.Key][]histRow{}}
	for _, row := range rows {
		if row[id] == nil || row[at] == nil || row[step] == nil || row[name] == nil || row[value] == nil {
			continue
		}
		k := shard.Key{RunID: row[id].(string), Attempt: int(row[at].(int64))}
		out.rows[k] = append(out.rows[k], histRow{step: row[step].(int64), name: unique.Make(row[name].(string)).Value(), value: row[value].(float64)})
	}
	return out
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
		// One copy of each metric name serves every line and run.
		rows = append(rows, histRow{step: row[step].(int64), name: unique.Make(row[name].(string)).Value(), value: row[value].(float64)})
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

// pipeline calls work(i) for i in [0, n) on up to workers goroutines and
// fold(i, result) with each result on the calling goroutine, as results
// come, in no fixed order: fold needs no lock, and the results waiting for
// it are at most a few per worker. It stops handing out work when ctx is
// done.
func pipeline[T any](ctx context.Context, n, workers int, work func(i int) T, fold func(i int, v T)) error {
	type result struct {
		i int
		v T
	}
	workers = min(n, max(workers, 1))
	next := make(chan int)
	results := make(chan result, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				results <- result{i, work(i)}
			}
		})
	}
	var err error
	go func() {
		defer close(next)
		for i := range n {
			if err = ctx.Err(); err != nil {
				return
			}
			next <- i
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		fold(r.i, r.v)
	}
	return err
}

// isFinite reports whether x is a usable number.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
