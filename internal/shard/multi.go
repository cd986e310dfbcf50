package shard

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gridstudy/gridstudy/internal/table"
)

// Multi-row files hold the rows of many attempts of many runs:
//
//   - a task shard, task-<run_id>-a<attempt>.parquet, holds the attempts
//     that one attempt of a packed task finished; it is named after its
//     first row, which no other file can have as its first row;
//   - a part, part-<NNNN>.parquet, holds what collect --compact folded.
//
// Each has a history file beside it (<name>.history.parquet) whose rows
// carry an attempt column, since one file may hold several attempts of a
// run. Their names have no ".a<digits>" suffix, so Parse never takes them
// for a run's own shard; ParseMulti recognises them.
const (
	taskPrefix = "task-"
	partPrefix = "part-"
)

// Key names one attempt of one run: a row of a run shard.
type Key struct {
	RunID   string
	Attempt int
}

// Row is what a run shard's row says of its attempt.
type Row struct {
	Key
	// Status is the row's status; StatusFailed when it records none.
	Status string
}

// TaskName returns the name of the task shard (or its history file) whose
// first row is first.
func TaskName(first Key, history bool) string {
	name := taskPrefix + first.RunID + "-a" + strconv.Itoa(first.Attempt)
	if history {
		name += historySuffix
	}
	return name + suffix
}

// PartName returns the name of part n (or its history file) that collect
// --compact writes.
func PartName(n int, history bool) string {
	name := fmt.Sprintf("%s%04d", partPrefix, n)
	if history {
		name += historySuffix
	}
	return name + suffix
}

// ParseMulti reports whether name is a multi-row file, a task shard or a
// part, and whether it is a history file; part is set for a part.
func ParseMulti(name string) (history, part, ok bool) {
	rest, found := strings.CutSuffix(name, suffix)
	if !found {
		return false, false, false
	}
	rest, history = strings.CutSuffix(rest, historySuffix)
	// A run id has no dot, so neither has a multi-row name; a stage task
	// of a stage named "task" (task-<key>.a1.parquet) has one.
	if strings.Contains(rest, ".") {
		return false, false, false
	}
	switch {
	case strings.HasPrefix(rest, partPrefix) && len(rest) > len(partPrefix):
		if n, err := strconv.Atoi(rest[len(partPrefix):]); err == nil && n >= 0 {
			return history, true, true
		}
	case strings.HasPrefix(rest, taskPrefix) && len(rest) > len(taskPrefix):
		return history, false, true
	}
	return false, false, false
}

// historyOf returns the name of the history file that belongs to the run
// file e.
func historyOf(e Entry) string {
	if e.Multi {
		return strings.TrimSuffix(e.Name, suffix) + historySuffix + suffix
	}
	return Name(e.RunID, e.Attempt, true)
}

// ReadRows reads the run id, attempt and status of every row of a run
// shard, one-row or multi-row.
func ReadRows(path string) ([]Row, error) {
	cols, err := table.ReadColumns(path, "run_id", "attempt", "status")
	if err != nil {
		return nil, err
	}
	ids, attempts, statuses := cols[0], cols[1], cols[2]
	if ids.Kind != table.String || attempts.Kind != table.Int64 || statuses.Kind != table.String {
		return nil, fmt.Errorf("read %s: run_id, attempt or status has the wrong type", filepath.Base(path))
	}
	rows := make([]Row, len(ids.String))
	for i := range rows {
		rows[i] = Row{Key: Key{RunID: ids.String[i], Attempt: int(attempts.Int[i])}, Status: statuses.String[i]}
		if rows[i].Status == "" || statuses.Null != nil && statuses.Null[i] {
			rows[i].Status = StatusFailed
		}
	}
	return rows, nil
}

// ReadRowError returns the error column of the row of key in the run shard
// at path (one-row or multi-row); "" when there is none or it cannot be
// read.
func ReadRowError(path string, key Key) string {
	s, rows, err := table.ReadFile(path)
	if err != nil {
		return ""
	}
	id, at, col := s.Index("run_id"), s.Index("attempt"), s.Index("error")
	if id < 0 || at < 0 || col < 0 {
		return ""
	}
	for _, r := range rows {
		if r[id] == key.RunID && r[at] == int64(key.Attempt) {
			e, _ := r[col].(string)
			return e
		}
	}
	return ""
}

// multiCache holds the rows of the multi-row files read by this process,
// by path. Such a file is written once under a name no other file has had
// (a task shard is named after its first row, a (run, attempt) that no
// other file starts with; parts are numbered on) and never changed, only
// removed, so an entry can only go stale by its file going away.
var multiCache = struct {
	sync.Mutex
	rows map[string][]Row
}{rows: map[string][]Row{}}

// Folded returns the rows of runID in the multi-row files of studyDir:
// its attempts that a packed task wrote as a task shard, or that
// compaction folded out of their own files. The runner (lifecycle.Probe,
// TakeClaim) calls it after probing the one-row shards: a one-row shard is
// removed only after the file it was folded into is in place, so whatever
// it no longer finds there, this finds here.
func Folded(studyDir, runID string) ([]Row, error) {
	// A file listed but gone when read was folded on (a task shard into a
	// part, written first): list again.
	for try := 0; ; try++ {
		byRun, err := foldedIndex(studyDir)
		if err == nil {
			return byRun[runID], nil
		}
		if !errors.Is(err, fs.ErrNotExist) || try == 5 {
			return nil, fmt.Errorf("folded attempts of %s: %w", runID, err)
		}
	}
}

// foldsFile grows by a byte each time a fold is about to remove what it
// folded, and each time a packed task has written a task shard of rows
// that were in no file before (markFold), after the new files are in
// place. A runner probes
// every run of its task, and listing a shards folder of thousands of
// files, and reading its multi-row files, for each run would cost more
// than the runs: it lists and indexes them again only when the file's
// size says that a fold removed something since. A fold killed before it
// marked removed nothing, so its new file need not be seen: what it
// folded is still in place.
const foldsFile = ".folds"

// markFold records that a fold is about to remove files it folded, or
// that a task shard of rows new to every file is in place.
func markFold(studyDir string) error {
	f, err := os.OpenFile(filepath.Join(Dir(studyDir), foldsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// indexCache holds, for each study directory, the rows of its multi-row
// files by run, and the size of its foldsFile before they were listed.
var indexCache = struct {
	sync.Mutex
	byDir map[string]foldedRuns
}{byDir: map[string]foldedRuns{}}

type foldedRuns struct {
	folds int64
	byRun map[string][]Row
}

// foldedIndex returns the rows of the multi-row files of studyDir by run,
// listed and read again only after a fold.
func foldedIndex(studyDir string) (map[string][]Row, error) {
	folds := int64(-1)
	if fi, err := os.Stat(filepath.Join(Dir(studyDir), foldsFile)); err == nil {
		folds = fi.Size()
	}
	indexCache.Lock()
	c, ok := indexCache.byDir[studyDir]
	indexCache.Unlock()
	if ok && c.folds == folds {
		return c.byRun, nil
	}
	names, err := multiNames(studyDir)
	if err != nil {
		return nil, err
	}
	byRun := map[string][]Row{}
	for _, name := range names {
		path := filepath.Join(Dir(studyDir), name)
		multiCache.Lock()
		rows, ok := multiCache.rows[path]
		multiCache.Unlock()
		if !ok {
			if rows, err = ReadRows(path); err != nil {
				return nil, err
			}
			multiCache.Lock()
			multiCache.rows[path] = rows
			multiCache.Unlock()
		}
		for _, r := range rows {
			byRun[r.RunID] = append(byRun[r.RunID], r)
		}
	}
	indexCache.Lock()
	indexCache.byDir[studyDir] = foldedRuns{folds: folds, byRun: byRun}
	indexCache.Unlock()
	return byRun, nil
}

// multiNames lists the multi-row run files (not history) of studyDir.
func multiNames(studyDir string) ([]string, error) {
	entries, err := os.ReadDir(Dir(studyDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if history, _, ok := ParseMulti(e.Name()); ok && !history {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// MaxAttempt returns the highest attempt among rows, 0 for none.
func MaxAttempt(rows []Row) int {
	m := 0
	for _, r := range rows {
		m = max(m, r.Attempt)
	}
	return m
}

// group is one multi-row file being put together from source files.
type group struct {
	schema  table.Schema
	rows    [][]any
	hist    [][]any
	first   Key
	sources []Entry
	written bool // full, handed to fold's full and its rows let go
}

// fits reports whether schema's columns have the kinds the group's
// columns of the same names have.
func (g *group) fits(schema table.Schema) bool {
	return g.schema == nil || g.schema.Check(schema) == nil
}

// add adds rows (whose keys are not yet in any file) and their history
// rows, mapping columns by name.
func (g *group) add(schema table.Schema, rows [][]any, hist [][]any) {
	for _, c := range schema {
		if g.schema.Index(c.Name) < 0 {
			g.schema = append(g.schema, c)
			for i := range g.rows {
				g.rows[i] = append(g.rows[i], nil)
			}
		}
	}
	at := make([]int, len(schema)) // the group's column of each of the source's
	for i, c := range schema {
		at[i] = g.schema.Index(c.Name)
	}
	for _, r := range rows {
		out := make([]any, len(g.schema))
		for i := range schema {
			out[at[i]] = r[i]
		}
		g.rows = append(g.rows, out)
	}
	g.hist = append(g.hist, hist...)
}

// multiHistoryColumns are the columns of a multi-row history file: a
// history shard's, with the attempt each row belongs to.
func multiHistoryColumns() table.Schema {
	return append(HistoryColumns(), table.Column{Name: "attempt", Kind: table.Int64})
}

// source is a run file read whole, with its history.
type source struct {
	schema table.Schema
	rows   [][]any
	keys   []Key
	hist   [][]any // multiHistoryColumns
}

// readSource reads the run file e and its history file, if any.
func readSource(studyDir string, e Entry) (source, error) {
	var s source
	schema, rows, err := table.ReadFile(filepath.Join(Dir(studyDir), e.Name))
	if err != nil {
		return s, err
	}
	id, at := schema.Index("run_id"), schema.Index("attempt")
	if id < 0 || at < 0 {
		return s, fmt.Errorf("%s has no run_id or attempt column", e.Name)
	}
	s.schema, s.rows = schema, rows
	for _, r := range rows {
		runID, _ := r[id].(string)
		attempt, _ := r[at].(int64)
		s.keys = append(s.keys, Key{RunID: runID, Attempt: int(attempt)})
	}
	hs, hrows, err := table.ReadFile(filepath.Join(Dir(studyDir), historyOf(e)))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	// A one-row history file has no attempt column: its name says it.
	idx := make([]int, 0, 5)
	for _, c := range multiHistoryColumns() {
		idx = append(idx, hs.Index(c.Name))
	}
	if idx[0] < 0 || idx[1] < 0 || idx[2] < 0 || idx[3] < 0 {
		return s, fmt.Errorf("%s lacks history columns", historyOf(e))
	}
	for _, r := range hrows {
		attempt := int64(e.Attempt)
		if idx[4] >= 0 {
			attempt, _ = r[idx[4]].(int64)
		}
		s.hist = append(s.hist, []any{r[idx[0]], r[idx[1]], r[idx[2]], r[idx[3]], attempt})
	}
	return s, nil
}

// fold reads the run files in sources and packs their rows into groups:
// one group takes rows while their column kinds agree and it has fewer
// than maxRows rows. Rows whose key is in seen (folded already) are
// dropped, and their file is listed in dups for removal; a source that
// cannot be read stays where it is, for collect to set aside. A group
// that reaches maxRows goes to full, when given, at once, and its rows
// are let go: compacting a million runs holds one part's rows at a time,
// not all of them. The groups returned include those, marked written.
func fold(studyDir string, sources []Entry, seen map[Key]bool, maxRows int, full func(*group) error) (groups []*group, dups []Entry, err error) {
	for _, e := range sources {
		s, err := readSource(studyDir, e)
		if err != nil {
			continue
		}
		keep := make(map[Key]bool, len(s.rows))
		first := -1
		var rows [][]any
		for i, k := range s.keys {
			if !seen[k] {
				keep[k] = true
				seen[k] = true
				rows = append(rows, s.rows[i])
				if first < 0 {
					first = i
				}
			}
		}
		if len(rows) == 0 {
			dups = append(dups, e)
			continue
		}
		var hist [][]any
		for _, h := range s.hist {
			id, _ := h[0].(string)
			attempt, _ := h[4].(int64)
			if keep[Key{RunID: id, Attempt: int(attempt)}] {
				hist = append(hist, h)
			}
		}
		var g *group
		groups, g = groupFor(groups, s.schema, s.keys[first], maxRows)
		g.add(s.schema, rows, hist)
		g.sources = append(g.sources, e)
		if full != nil && len(g.rows) >= maxRows {
			if err := full(g); err != nil {
				return groups, dups, err
			}
			g.rows, g.hist, g.written = nil, nil, true
		}
	}
	return groups, dups, nil
}

// groupFor returns the first of groups that takes rows of schema, has
// fewer than maxRows rows and was not written yet, or a new one, whose
// first row is first, appended to groups.
func groupFor(groups []*group, schema table.Schema, first Key, maxRows int) ([]*group, *group) {
	for _, g := range groups {
		if !g.written && g.fits(schema) && len(g.rows) < maxRows {
			return groups, g
		}
	}
	g := &group{first: first}
	return append(groups, g), g
}

// write writes the group's history file, then its run file, under name
// (a run file name) in the shards folder of studyDir: whoever sees the
// run rows sees their history complete. Both are synced, and renamed into
// place atomically.
func (g *group) write(studyDir, name string) error {
	dir := Dir(studyDir)
	if len(g.hist) > 0 {
		hname := strings.TrimSuffix(name, suffix) + historySuffix + suffix
		err := table.WriteFile(filepath.Join(dir, hname), multiHistoryColumns(), func(w *table.Writer) error {
			for _, r := range g.hist {
				if err := w.Write(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		crashPoint()
	}
	err := table.WriteFile(filepath.Join(dir, name), g.schema, func(w *table.Writer) error {
		for _, r := range g.rows {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	crashPoint()
	return nil
}

// remove removes a folded source and its history file.
func remove(studyDir string, e Entry) error {
	var errs []error
	for _, name := range []string{historyOf(e), e.Name} {
		if err := os.Remove(filepath.Join(Dir(studyDir), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		crashPoint()
	}
	return errors.Join(errs...)
}

// TaskRow is one finished attempt of a run that a packed task holds in
// memory until it writes its task shard: its row under its own schema
// (RunColumns, parameters, metrics) and its history rows (HistoryColumns).
type TaskRow struct {
	Key
	Schema  table.Schema
	Row     []any
	History [][]any
}

// WriteTask writes rows, attempts that no file holds yet, as a task shard
// (more than one only when a metric changed type between runs) with its
// history file, synced and renamed into place, and returns their paths.
// It then marks the fold, so that runners that indexed the multi-row
// files list them again before they trust their index: the caller
// releases the rows' claims only after that.
func WriteTask(studyDir string, rows []TaskRow) ([]string, error) {
	// In run id order, as a fold of the same rows would write them.
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b TaskRow) int {
		return cmp.Or(strings.Compare(a.RunID, b.RunID), cmp.Compare(a.Attempt, b.Attempt))
	})
	if err := os.MkdirAll(Dir(studyDir), 0o755); err != nil {
		return nil, fmt.Errorf("write the task shard: %w", err)
	}
	var groups []*group
	for _, r := range rows {
		hist := make([][]any, len(r.History))
		for i, h := range r.History {
			hist[i] = append(h[:len(h):len(h)], int64(r.Attempt))
		}
		var g *group
		groups, g = groupFor(groups, r.Schema, r.Key, len(rows))
		g.add(r.Schema, [][]any{r.Row}, hist)
	}
	var paths []string
	for _, g := range groups {
		name := TaskName(g.first, false)
		if err := g.write(studyDir, name); err != nil {
			return paths, fmt.Errorf("write the task shard: %w", err)
		}
		paths = append(paths, filepath.Join(Dir(studyDir), name))
	}
	if len(paths) == 0 {
		return nil, nil
	}
	if err := markFold(studyDir); err != nil {
		return paths, fmt.Errorf("write the task shard: %w", err)
	}
	crashPoint()
	return paths, nil
}
