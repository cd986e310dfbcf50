package shard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gridstudy/gridstudy/internal/lock"
)

// PartRows is the most run rows that compaction puts in one part.
const PartRows = 10000

// compactLock is the lock file that keeps two compactions of one study
// apart: both would take the same next part number.
const compactLock = ".compact.lock"

// ErrCompacting is returned by Compact while another compaction of the
// study runs.
var ErrCompacting = errors.New("another collect --compact of this study is running")

// Compacted says what Compact did.
type Compacted struct {
	Parts   int // part files written
	Rows    int // run rows folded into them
	Removed int // run files (one-row and task shards) removed, with their history
}

// Compact folds every one-row shard and task shard of the study in
// studyDir into part files (part-NNNN.parquet, at most PartRows rows
// each, with their history in part-NNNN.history.parquet) and removes
// them. It writes and syncs every part before it removes anything, and
// drops rows that a part holds already, so that a compaction killed at
// any point leaves each (run, attempt) at least once on disk, and the
// next one finishes the job; readers take each (run, attempt) once.
// Claims are left alone: they belong to attempts, live or dead, that have
// no shard yet. A file that cannot be read stays, for collect to set
// aside.
func Compact(studyDir string) (Compacted, error) {
	var c Compacted
	l, err := lock.Try(filepath.Join(Dir(studyDir), compactLock))
	if errors.Is(err, lock.ErrBusy) {
		return c, ErrCompacting
	}
	if err != nil {
		return c, fmt.Errorf("compact: %w", err)
	}
	defer l.Unlock()
	list, _, err := List(studyDir)
	if err != nil {
		return c, fmt.Errorf("compact: %w", err)
	}
	seen := map[Key]bool{}
	next := 1 // parts count from 1, like attempts
	var sources []Entry
	for _, e := range list {
		if e.History {
			continue
		}
		if e.Multi && e.Part {
			rows, err := ReadRows(filepath.Join(Dir(studyDir), e.Name))
			if err != nil {
				return c, fmt.Errorf("compact: %w", err)
			}
			for _, r := range rows {
				seen[r.Key] = true
			}
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Name, partPrefix), suffix))
			next = max(next, n+1)
			continue
		}
		sources = append(sources, e)
	}
	write := func(g *group) error {
		if err := g.write(studyDir, PartName(next, false)); err != nil {
			return err
		}
		next++
		c.Parts++
		c.Rows += len(g.rows)
		return nil
	}
	groups, dups, err := fold(studyDir, sources, seen, PartRows, write)
	if err != nil {
		return c, fmt.Errorf("compact: %w", err)
	}
	for _, g := range groups {
		if !g.written {
			if err := write(g); err != nil {
				return c, fmt.Errorf("compact: %w", err)
			}
		}
	}
	if len(groups)+len(dups) > 0 {
		if err := markFold(studyDir); err != nil {
			return c, fmt.Errorf("compact: %w", err)
		}
	}
	var errs []error
	for _, g := range groups {
		for _, e := range g.sources {
			errs = append(errs, remove(studyDir, e))
			c.Removed++
		}
	}
	for _, e := range dups {
		errs = append(errs, remove(studyDir, e))
		c.Removed++
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("compact: %w", err)
	}
	return c, nil
}

// crashAfter is the number of file operations (a file written into
// place, a file removed) after which folding kills its own process with
// SIGKILL, from GRIDSTUDY_TEST_CRASH_AFTER: only the crash tests set it,
// to stop a compaction at every point it can be stopped at.
var crashAfter = sync.OnceValue(func() int {
	n, _ := strconv.Atoi(os.Getenv("GRIDSTUDY_TEST_CRASH_AFTER"))
	return n
})

var crashOps struct {
	sync.Mutex
	n int
}

// crashPoint counts a file operation and dies at the one that
// GRIDSTUDY_TEST_CRASH_AFTER names.
func crashPoint() {
	if crashAfter() <= 0 {
		return
	}
	crashOps.Lock()
	defer crashOps.Unlock()
	crashOps.n++
	if crashOps.n == crashAfter() {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}
