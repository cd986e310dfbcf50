// Package shard names, lists and describes the shard files of a study
// directory: the Parquet file that each attempt of each run writes, with one
// row of run columns, parameters and metrics, and its companion history file
// in long form.
//
// Shards live in DIR/shards/ as <run_id>.a<attempt>.parquet and
// <run_id>.a<attempt>.history.parquet. Every attempt keeps its own file, so
// a retried run never overwrites the evidence of an earlier failure. Which
// attempt is a run's result, and where the run stands, is decided by
// package lifecycle alone.
// Attempt numbers are reserved with locked claim files,
// <run_id>.a<attempt>.claim (TakeClaim), which Scan ignores and List
// returns; a claim left without its shard, unlocked, marks a runner that
// died before it could write one.
package shard

import (
	"cmp"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/table"
)

// The statuses a shard records in its status column.
const (
	StatusOK        = "ok"        // the command exited 0
	StatusFailed    = "failed"    // the command failed on its own
	StatusTimeout   = "timeout"   // a time limit stopped it
	StatusPreempted = "preempted" // the scheduler preempted it
	StatusCancelled = "cancelled" // a user (scancel, Ctrl-C) stopped it
)

const (
	suffix        = ".parquet"
	historySuffix = ".history"
)

// Dir returns the folder that holds the shards of the study in studyDir.
func Dir(studyDir string) string { return filepath.Join(studyDir, "shards") }

// Name returns the file name of the shard of one attempt of a run; attempts
// count from 1.
func Name(runID string, attempt int, history bool) string {
	name := runID + ".a" + strconv.Itoa(attempt)
	if history {
		name += historySuffix
	}
	return name + suffix
}

// Path returns the path of the shard of one attempt of a run in the study in
// studyDir.
func Path(studyDir, runID string, attempt int) string {
	return filepath.Join(Dir(studyDir), Name(runID, attempt, false))
}

// HistoryPath returns the path of the history shard of one attempt of a run
// in the study in studyDir.
func HistoryPath(studyDir, runID string, attempt int) string {
	return filepath.Join(Dir(studyDir), Name(runID, attempt, true))
}

// Parse splits a shard file name (not a path) into its run id, attempt and
// history flag. ok is false for any other name: temporary files (which start
// with "."), attempts that are not a positive decimal without leading zeros,
// foreign files. Parse(Name(id, a, h)) gives back id, a and h.
func Parse(name string) (runID string, attempt int, history bool, ok bool) {
	rest, found := strings.CutSuffix(name, suffix)
	if !found {
		return "", 0, false, false
	}
	rest, history = strings.CutSuffix(rest, historySuffix)
	i := strings.LastIndex(rest, ".a")
	if i <= 0 || rest[0] == '.' {
		return "", 0, false, false
	}
	// A first digit of 1-9 rules out "a01", "a0" and Atoi's signs, so that
	// each attempt has exactly one name.
	digits := rest[i+2:]
	if digits == "" || digits[0] < '1' || digits[0] > '9' {
		return "", 0, false, false
	}
	attempt, err := strconv.Atoi(digits)
	if err != nil {
		return "", 0, false, false
	}
	return rest[:i], attempt, history, true
}

// Entry is one shard file found by Scan, or one claim file found by List.
type Entry struct {
	Name    string // file name in Dir
	RunID   string
	Attempt int
	History bool
	// Multi is set for a multi-row file (a task shard or a part, see
	// ParseMulti), whose rows say which runs and attempts it holds: its
	// RunID is "" and its Attempt 0. Part is set for a part.
	Multi, Part bool
}

// Scan lists the shard files of the study in studyDir, sorted by run id,
// then attempt, the run shard before its history shard. Other files are
// ignored, claims and temporary ones included. A study without a shards
// folder has no shards yet: that is no error. Scan reads names only (no
// stat per file), so it stays quick with 100,000 shards.
func Scan(studyDir string) ([]Entry, error) {
	shards, _, err := List(studyDir)
	return shards, err
}

// List is Scan that also returns the claim files, from the same listing of
// the folder: attempts that are running, or whose runner died. Multi-row
// files (Entry.Multi) come first, by name, run files before history files.
func List(studyDir string) (shards, claims []Entry, err error) {
	f, err := os.Open(Dir(studyDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, nil, err
	}
	shards = make([]Entry, 0, len(names))
	for _, name := range names {
		// The run id is a substring of the name: no copy per entry.
		if history, part, ok := ParseMulti(name); ok {
			shards = append(shards, Entry{Name: name, History: history, Multi: true, Part: part})
		} else if id, attempt, history, ok := Parse(name); ok {
			shards = append(shards, Entry{Name: name, RunID: id, Attempt: attempt, History: history})
		} else if id, attempt, ok := parseClaim(name); ok {
			claims = append(claims, Entry{Name: name, RunID: id, Attempt: attempt})
		}
	}
	slices.SortFunc(shards, func(a, b Entry) int {
		if c := strings.Compare(a.RunID, b.RunID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Attempt, b.Attempt); c != 0 {
			return c
		}
		if c := cmpBool(a.History, b.History); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return shards, claims, nil
}

// parseClaim splits a claim file name, <run_id>.a<attempt>.claim.
func parseClaim(name string) (runID string, attempt int, ok bool) {
	rest, found := strings.CutSuffix(name, claimSuffix)
	if !found {
		return "", 0, false
	}
	id, attempt, history, ok := Parse(rest + suffix)
	return id, attempt, ok && !history
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// RunColumns returns the fixed columns of a run shard, in order; the study's
// parameters and then its metrics follow them. Each call returns a new slice
// that the caller may extend.
//
// exit_code is NULL when a signal killed the command, signal NULL when none
// did; gpu_mem_mb is NULL where no GPU was visible; the slurm_ columns are
// NULL outside SLURM. error holds the runner's own error, or the first
// malformed metrics line, counted in bad_metric_lines.
func RunColumns() table.Schema {
	return table.Schema{
		{Name: "run_id", Kind: table.String},
		{Name: "cell_id", Kind: table.String},
		{Name: "model", Kind: table.String},
		{Name: "trial", Kind: table.Int64},
		{Name: "seed", Kind: table.Int64},
		{Name: "attempt", Kind: table.Int64},
		{Name: "status", Kind: table.String},
		{Name: "exit_code", Kind: table.Int64},
		{Name: "signal", Kind: table.String},
		{Name: "wall_s", Kind: table.Double},
		{Name: "cpu_s", Kind: table.Double},
		{Name: "max_rss_mb", Kind: table.Double},
		{Name: "gpu_mem_mb", Kind: table.Double},
		{Name: "host", Kind: table.String},
		{Name: "slurm_job_id", Kind: table.String},
		{Name: "slurm_array_job_id", Kind: table.String},
		{Name: "slurm_array_task_id", Kind: table.String},
		{Name: "started_at", Kind: table.Timestamp},
		{Name: "finished_at", Kind: table.Timestamp},
		{Name: "error", Kind: table.String},
		{Name: "bad_metric_lines", Kind: table.Int64},
		{Name: "gridstudy_version", Kind: table.String},
		// The last lines of what the attempt wrote to stderr (at most
		// 10 lines, 1 KiB): the run's own account of a failure, there
		// when [run] retain has removed stderr.log.
		{Name: "stderr_tail", Kind: table.String},
	}
}

// HistoryColumns returns the columns of a history shard: one row per metric
// value reported with a step, in long form so that runs reporting different
// metrics or steps still share one schema.
func HistoryColumns() table.Schema {
	return table.Schema{
		{Name: "run_id", Kind: table.String},
		{Name: "step", Kind: table.Int64},
		{Name: "name", Kind: table.String},
		{Name: "value", Kind: table.Double},
	}
}

// ReadStatus returns the status a run shard records. A shard that cannot
// be read, or records no status, counts as a failed attempt: the run must
// not look done, and resume --failed may retry it.
func ReadStatus(path string) string {
	if s := readString(path, "status"); s != "" {
		return s
	}
	return StatusFailed
}

// ReadError returns the error a run shard records: why its attempt did not
// end ok, as the runner wrote it; "" when it records none or cannot be
// read.
func ReadError(path string) string {
	return readString(path, "error")
}

// readString returns a string column of a run shard's one row, "" when
// the shard cannot be read or the value is missing.
func readString(path, column string) string {
	r, err := table.Open(path)
	if err != nil {
		return ""
	}
	defer r.Close()
	col := r.Schema().Index(column)
	row, err := r.Read()
	if col < 0 || err != nil && !errors.Is(err, io.EOF) || row == nil {
		return ""
	}
	s, _ := row[col].(string)
	return s
}
