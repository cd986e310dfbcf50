package state

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// errRow returns the row of runID's attempt with status and, for a run
// that did not end ok, an error naming the run and attempt.
func errRow(runID string, attempt int, status string) []any {
	row := runRow(runID, attempt, status)
	if status != shard.StatusOK {
		row[shard.RunColumns().Index("error")] = errText(runID, attempt)
	}
	return row
}

// writeRow writes errRow as a one-row shard.
func writeRow(t *testing.T, dir, runID string, attempt int, status string) {
	t.Helper()
	writeOneRow(t, dir, errRow(runID, attempt, status))
}

func errText(runID string, attempt int) string {
	return "boom in " + runID + " attempt " + string(rune('0'+attempt))
}

// runWant is what status must say of one run.
type runWant struct {
	state    string
	attempts int
}

// checkRuns gathers the study in dir, explains it and compares each run,
// by id, with want; a run that did not end ok must carry the error of its
// result attempt.
func checkRuns(t *testing.T, when, dir string, want map[string]runWant) {
	t.Helper()
	rep, err := Gather(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	Explain(dir, rep)
	for _, r := range rep.Runs {
		w := want[r.RunID]
		if w.state == "" {
			w.state = lifecycle.Missing
		}
		if r.State != w.state || r.Attempts != w.attempts {
			t.Errorf("%s: run %d (%s) is %s after %d attempts, want %s after %d", when, r.Index, r.RunID, r.State, r.Attempts, w.state, w.attempts)
		}
		wantErr := ""
		if lifecycle.Ended(r.State) && r.State != shard.StatusOK {
			wantErr = errText(r.RunID, r.Result)
		}
		if r.Error != wantErr {
			t.Errorf("%s: run %d error %q, want %q", when, r.Index, r.Error, wantErr)
		}
	}
}

// cachedMulti returns the names of the multi-row files that the status
// cache of dir holds rows of.
func cachedMulti(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for key := range loadCache(filepath.Join(shard.Dir(dir), cacheFile)).multi {
		name, _, _ := strings.Cut(key, " ")
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// TestMultiCache: status caches the rows of task shards and parts, and
// stays exact as compaction replaces them, a later attempt lands in a new
// part, and parts are replaced or removed by hand between two calls.
func TestMultiCache(t *testing.T) {
	dir, ids := makeStudy(t, 6)
	statuses := []string{shard.StatusOK, shard.StatusFailed, shard.StatusOK, shard.StatusTimeout, shard.StatusOK, shard.StatusFailed}
	want := map[string]runWant{}
	var tasks []string
	for _, part := range [][]int{{0, 1, 2}, {3, 4, 5}} {
		var rows [][]any
		for _, i := range part {
			rows = append(rows, errRow(ids[i], 1, statuses[i]))
			want[ids[i]] = runWant{statuses[i], 1}
		}
		tasks = append(tasks, filepath.Base(writeTask(t, dir, rows...)))
	}
	checkRuns(t, "task shards, cold", dir, want)
	slices.Sort(tasks)
	if got := cachedMulti(t, dir); !slices.Equal(got, tasks) {
		t.Fatalf("the cache holds the rows of %v, want %v", got, tasks)
	}

	// The cache spares reading a file that is still the same file: one
	// spoiled in place, same inode, size and time, still counts as it was.
	path := filepath.Join(shard.Dir(dir), tasks[0])
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	spoil := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	spoil(make([]byte, len(orig)))
	if _, err := Gather(context.Background(), dir, nil); err != nil {
		t.Errorf("a task shard spoiled in place was read, not taken from the cache: %v", err)
	}
	spoil(orig)
	checkRuns(t, "task shards, warm", dir, want)

	// collect --compact replaces the task shards by a part.
	if _, err := shard.Compact(dir); err != nil {
		t.Fatal(err)
	}
	checkRuns(t, "compacted", dir, want)
	if got := cachedMulti(t, dir); !slices.Equal(got, []string{shard.PartName(1, false)}) {
		t.Errorf("after compaction the cache holds the rows of %v, want the part's alone", got)
	}

	// A second attempt of a failed run, compacted into a second part.
	writeRow(t, dir, ids[1], 2, shard.StatusOK)
	want[ids[1]] = runWant{shard.StatusOK, 2}
	checkRuns(t, "a second attempt in its one-row shard", dir, want)
	if _, err := shard.Compact(dir); err != nil {
		t.Fatal(err)
	}
	checkRuns(t, "a second attempt in a second part", dir, want)

	// The first part replaced by hand: its runs now say otherwise.
	err = table.WriteFile(filepath.Join(shard.Dir(dir), shard.PartName(1, false)), shard.RunColumns(), func(w *table.Writer) error {
		cols := shard.RunColumns()
		for _, id := range ids[:2] {
			row := make([]any, len(cols))
			row[cols.Index("run_id")], row[cols.Index("attempt")], row[cols.Index("status")] = id, int64(1), shard.StatusCancelled
			row[cols.Index("error")] = errText(id, 1)
			if err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]runWant{ids[0]: {shard.StatusCancelled, 1}, ids[1]: {shard.StatusOK, 2}}
	checkRuns(t, "first part replaced", dir, want)

	// Both parts removed: nothing is left of the runs.
	for n := 1; n <= 2; n++ {
		if err := os.Remove(filepath.Join(shard.Dir(dir), shard.PartName(n, false))); err != nil {
			t.Fatal(err)
		}
	}
	checkRuns(t, "parts removed", dir, map[string]runWant{})
	if got := cachedMulti(t, dir); len(got) != 0 {
		t.Errorf("with no multi-row files the cache holds the rows of %v", got)
	}
}

// TestMultiCacheManifestChanged: the cache keeps runs as manifest
// positions, so a manifest with the same runs in another order makes
// status read the files again, not show each run another's state.
func TestMultiCacheManifestChanged(t *testing.T) {
	up := plantest.Dir(t, "name = \"s\"\n[params.x]\nvalues = [1, 2, 3, 4]\n")
	down := plantest.Dir(t, "name = \"s\"\n[params.x]\nvalues = [4, 3, 2, 1]\n")
	dir := up.Path
	var ids, rev []string
	for _, e := range plantest.Entries(t, up) {
		ids = append(ids, e.RunID)
	}
	for _, e := range plantest.Entries(t, down) {
		rev = append(rev, e.RunID)
	}
	slices.Reverse(rev)
	if !slices.Equal(ids, rev) {
		t.Fatalf("the two plans do not hold the same runs in reverse: %v, %v", ids, rev)
	}
	want := map[string]runWant{ids[0]: {shard.StatusOK, 1}, ids[1]: {shard.StatusFailed, 1}}
	writeTask(t, dir, errRow(ids[0], 1, shard.StatusOK), errRow(ids[1], 1, shard.StatusFailed))
	checkRuns(t, "first manifest", dir, want)
	b, err := os.ReadFile(filepath.Join(down.Path, manifest.File))
	if err != nil {
		t.Fatal(err)
	}
	// The same size and time, on purpose: only the inode differs.
	path := filepath.Join(dir, manifest.File)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	checkRuns(t, "reversed manifest", dir, want)
}

// encodeRows and decodeRows: rows come back as they went, in ranges of
// consecutive positions; a malformed line is refused whole.
func TestEncodeRows(t *testing.T) {
	rows := []posRow{{5, 1, "ok"}, {3, 1, "ok"}, {4, 1, "ok"}, {4, 2, "failed"}, {6, 1, "timeout"}, {7, 1, "ok"}}
	enc, ok := encodeRows(rows)
	if want := "3,2,1,ok 4,1,2,failed 5,1,1,ok 6,1,1,timeout 7,1,1,ok"; !ok || enc != want {
		t.Fatalf("encodeRows = %q, %v; want %q", enc, ok, want)
	}
	ranges, ok := decodeRows(enc, 8)
	if !ok {
		t.Fatalf("decodeRows(%q) refused", enc)
	}
	var got []posRow
	for _, r := range ranges {
		for p := r.pos; p < r.pos+r.n; p++ {
			got = append(got, posRow{p, r.attempt, r.status})
		}
	}
	slices.SortFunc(rows, func(a, b posRow) int { return a.pos*10 + a.attempt - b.pos*10 - b.attempt })
	if !slices.Equal(got, rows) {
		t.Errorf("decoded %v, want %v", got, rows)
	}
	if _, ok := encodeRows([]posRow{{0, 1, "ok"}, {1, 1, "odd status"}}); ok {
		t.Error("a status with a space was encoded")
	}
	for _, bad := range []string{"3,2,1", "3,2,1,ok,x", "a,1,1,ok", "3,0,1,ok", "3,1,0,ok", "-1,1,1,ok", "7,2,1,ok", "3,1,1,OK", "3,1,1,ok  4,1,1,ok"} {
		if _, ok := decodeRows(bad, 8); ok {
			t.Errorf("decodeRows(%q) accepted", bad)
		}
	}
	if r, ok := decodeRows("", 8); !ok || len(r) != 0 {
		t.Errorf("decodeRows(\"\") = %v, %v: want no rows", r, ok)
	}
}

// A status cache of the old format, one-row lines only, still serves.
func TestCacheOldFormat(t *testing.T) {
	dir, ids := makeStudy(t, 2)
	writeRow(t, dir, ids[0], 1, shard.StatusOK)
	fi, err := os.Stat(shard.Path(dir, ids[0], 1))
	if err != nil {
		t.Fatal(err)
	}
	// It says failed, so that the test sees where the answer came from.
	line := cacheKey(shard.Name(ids[0], 1, false), fi) + "\t" + shard.StatusFailed + "\n"
	if err := os.WriteFile(filepath.Join(shard.Dir(dir), cacheFile), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Gather(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Runs[0].State != shard.StatusFailed {
		t.Errorf("run 0 is %s: the old cache line was not used", rep.Runs[0].State)
	}
}

// A warm call that reads nothing new leaves the status cache as it is,
// with one-row shards alone or with multi-row files too.
func TestWarmGatherKeepsCache(t *testing.T) {
	dir, ids := makeStudy(t, 4)
	writeRow(t, dir, ids[0], 1, shard.StatusOK)
	writeRow(t, dir, ids[1], 1, shard.StatusFailed)
	path := filepath.Join(shard.Dir(dir), cacheFile)
	for _, step := range []string{"one-row shards", "a task shard"} {
		if step == "a task shard" {
			writeTask(t, dir, errRow(ids[2], 1, shard.StatusOK), errRow(ids[3], 1, shard.StatusOK))
		}
		if _, err := Gather(context.Background(), dir, nil); err != nil {
			t.Fatal(err)
		}
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Gather(context.Background(), dir, nil); err != nil {
			t.Fatal(err)
		}
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(before, after) {
			t.Errorf("%s: a warm call wrote the status cache again", step)
		}
	}
}
