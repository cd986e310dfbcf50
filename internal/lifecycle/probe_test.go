package lifecycle

import (
	"os"
	"testing"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

func writeShard(t *testing.T, study, runID string, attempt int, status string) {
	t.Helper()
	if err := os.MkdirAll(shard.Dir(study), 0o755); err != nil {
		t.Fatal(err)
	}
	schema := table.Schema{{Name: "run_id", Kind: table.String}, {Name: "attempt", Kind: table.Int64}, {Name: "status", Kind: table.String}}
	err := table.WriteFile(shard.Path(study, runID, attempt), schema, func(w *table.Writer) error {
		return w.Write([]any{runID, int64(attempt), status})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Probe finds attempts folded into task shards and parts as it finds
// one-row shards, and probes on above them.
func TestProbeFolded(t *testing.T) {
	study := t.TempDir()
	writeShard(t, study, "a", 1, shard.StatusFailed)
	writeShard(t, study, "b", 1, shard.StatusOK)
	if _, err := shard.FoldTask(study, []shard.Key{{RunID: "a", Attempt: 1}, {RunID: "b", Attempt: 1}}); err != nil {
		t.Fatal(err)
	}
	writeShard(t, study, "a", 2, shard.StatusTimeout)
	writeShard(t, study, "a", 3, shard.StatusOK)
	if _, err := shard.FoldTask(study, []shard.Key{{RunID: "a", Attempt: 3}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		run      string
		state    string
		result   int
		attempts int
	}{
		{"a", shard.StatusOK, 3, 3}, // 1 and 3 folded, 2 a one-row shard
		{"b", shard.StatusOK, 1, 1}, // folded only
		{"c", Missing, 0, 0},
	}
	for _, tt := range tests {
		d := Decide(Probe(study, tt.run), Queued{})
		if d.State != tt.state || d.Result != tt.result || d.Attempts != tt.attempts {
			t.Errorf("run %s: %+v, want state %s, result %d of %d attempts", tt.run, d, tt.state, tt.result, tt.attempts)
		}
	}
}
