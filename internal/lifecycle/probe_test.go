package lifecycle

import (
	"os"
	"testing"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// runRow returns a minimal shard row of runID's attempt.
func runRow(runID string, attempt int, status string) shard.TaskRow {
	schema := table.Schema{{Name: "run_id", Kind: table.String}, {Name: "attempt", Kind: table.Int64}, {Name: "status", Kind: table.String}}
	return shard.TaskRow{Key: shard.Key{RunID: runID, Attempt: attempt}, Schema: schema, Row: []any{runID, int64(attempt), status}}
}

// writeShard writes runRow as a one-row shard.
func writeShard(t *testing.T, study, runID string, attempt int, status string) {
	t.Helper()
	if err := os.MkdirAll(shard.Dir(study), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runRow(runID, attempt, status)
	if err := table.WriteFile(shard.Path(study, runID, attempt), r.Schema, func(w *table.Writer) error { return w.Write(r.Row) }); err != nil {
		t.Fatal(err)
	}
}

// writeTask writes rows as a task shard, as a packed task does.
func writeTask(t *testing.T, study string, rows ...shard.TaskRow) {
	t.Helper()
	if _, err := shard.WriteTask(study, rows); err != nil {
		t.Fatal(err)
	}
}

// Probe finds attempts in task shards and parts as it finds
// one-row shards, and probes on above them.
func TestProbeFolded(t *testing.T) {
	study := t.TempDir()
	writeTask(t, study, runRow("a", 1, shard.StatusFailed), runRow("b", 1, shard.StatusOK))
	writeShard(t, study, "a", 2, shard.StatusTimeout)
	writeTask(t, study, runRow("a", 3, shard.StatusOK))
	tests := []struct {
		run      string
		state    string
		result   int
		attempts int
	}{
		{"a", shard.StatusOK, 3, 3}, // 1 and 3 in task shards, 2 a one-row shard
		{"b", shard.StatusOK, 1, 1}, // in a task shard only
		{"c", Missing, 0, 0},
	}
	for _, tt := range tests {
		d := Decide(Probe(study, tt.run), Queued{})
		if d.State != tt.state || d.Result != tt.result || d.Attempts != tt.attempts {
			t.Errorf("run %s: %+v, want state %s, result %d of %d attempts", tt.run, d, tt.state, tt.result, tt.attempts)
		}
	}
}
