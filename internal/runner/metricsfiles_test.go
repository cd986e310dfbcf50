package runner

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/metricslog"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// runBounded runs the first run of the study src and fails the test if the
// runner takes longer than limit: the cases here used to spin or block for
// ever.
func runBounded(t *testing.T, src string, limit time.Duration) (Result, map[string]any) {
	t.Helper()
	dir, st, entries := newStudy(t, src)
	done := make(chan Result, 1)
	go func() {
		res, err := Run(context.Background(), Job{StudyDir: dir, Study: st, Entry: entries[0], Grace: time.Second, Version: "v-test"})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case res := <-done:
		v, _ := readShard(t, res.Shard)
		return res, v
	case <-time.After(limit):
	}
	t.Fatalf("the runner still runs after %s", limit)
	return Result{}, nil
}

func TestMetricsFilesThatAreNotRegular(t *testing.T) {
	for _, tt := range []struct {
		name, command, want string
	}{
		{"dev zero", `ln -sf /dev/zero "$GRIDSTUDY_METRICS"`, "metrics.jsonl is a symbolic link to /dev/zero, a character device, not a regular file"},
		{"fifo", `rm "$GRIDSTUDY_METRICS" && mkfifo "$GRIDSTUDY_METRICS"`, "metrics.jsonl is a named pipe (FIFO), not a regular file"},
		{"directory", `rm "$GRIDSTUDY_METRICS" && mkdir "$GRIDSTUDY_METRICS"`, "metrics.jsonl is a directory, not a regular file"},
		{"huge", `truncate -s 70M "$GRIDSTUDY_METRICS"`, "metrics.jsonl is 73400320 bytes, over the size cap of 64 MiB"},
		{"json dev zero", `ln -s /dev/zero metrics.json`, "metrics.json is a symbolic link to /dev/zero, a character device, not a regular file"},
		{"json fifo", `mkfifo metrics.json`, "metrics.json is a named pipe (FIFO), not a regular file"},
		{"json directory", `mkdir metrics.json`, "metrics.json is a directory, not a regular file"},
		{"json huge", `truncate -s 70M metrics.json`, "metrics.json is 73400320 bytes, over the size cap of 64 MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, v := runBounded(t, fmt.Sprintf(`
name = "files"
[run]
command = '''echo '{"psnr": 1}' >> "$GRIDSTUDY_METRICS"; %s'''
`, tt.command), 20*time.Second)
			errText, _ := v["error"].(string)
			if res.Status != shard.StatusFailed || v["status"] != shard.StatusFailed || !strings.Contains(errText, tt.want) {
				t.Errorf("status %s, error %q; want failed, saying %q", res.Status, errText, tt.want)
			}
			if v["exit_code"] != int64(0) {
				t.Errorf("exit_code = %v, want 0: the command itself succeeded", v["exit_code"])
			}
		})
	}
}

// TestLeftoversOfAnAttempt: what one attempt's command leaves under the
// metrics files' names does not block, leak into or get truncated by the
// next attempt.
func TestLeftoversOfAnAttempt(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "leftovers"
[run]
command = '''
if [ ! -e "$GRIDSTUDY_STUDY_DIR/first.done" ]; then
  touch "$GRIDSTUDY_STUDY_DIR/first.done"
  echo '{"stale": 1, "psnr": 1}' > metrics.json
  echo 'keep me' > "$GRIDSTUDY_STUDY_DIR/keep.txt"
  ln -sf "$GRIDSTUDY_STUDY_DIR/keep.txt" "$GRIDSTUDY_METRICS"
  exit 1
fi
if [ ! -e "$GRIDSTUDY_STUDY_DIR/second.done" ]; then
  touch "$GRIDSTUDY_STUDY_DIR/second.done"
  rm "$GRIDSTUDY_METRICS"; mkfifo "$GRIDSTUDY_METRICS"
  exit 2
fi
echo '{"psnr": 2}' >> "$GRIDSTUDY_METRICS"
'''
`)
	e := entries[0]
	deadline, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first := run(t, deadline, dir, st, e, time.Second)
	v, _ := readShard(t, first.Shard)
	if first.Status != shard.StatusFailed || v["stale"] != 1.0 {
		t.Fatalf("attempt 1: %s, stale = %v; want failed, with its metrics.json read", first.Status, v["stale"])
	}
	second := run(t, deadline, dir, st, e, time.Second)
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "keep me\n" {
		t.Errorf("keep.txt = %q after attempt 2: the runner truncated the target of the link left in the metrics file's place", b)
	}
	v, _ = readShard(t, second.Shard)
	errText, _ := v["error"].(string)
	if second.Status != shard.StatusFailed || !strings.Contains(errText, "named pipe") {
		t.Errorf("attempt 2: %s, error %q; want failed, naming the pipe", second.Status, errText)
	}
	if _, ok := v["stale"]; ok {
		t.Errorf("attempt 2 has attempt 1's metrics.json: stale = %v", v["stale"])
	}
	third := run(t, deadline, dir, st, e, time.Second)
	if deadline.Err() != nil {
		t.Fatal("the attempts took longer than 20 s: a leftover pipe blocked the runner")
	}
	v, _ = readShard(t, third.Shard)
	if third.Status != shard.StatusOK || third.Attempt != 3 || v["psnr"] != 2.0 || v["error"] != nil {
		t.Errorf("attempt 3: %+v, psnr %v, error %v; want ok with psnr 2", third, v["psnr"], v["error"])
	}
	if _, ok := v["stale"]; ok {
		t.Errorf("the ok attempt has a failed attempt's metrics.json: stale = %v", v["stale"])
	}
	runDir := filepath.Join(dir, e.Dir)
	if b, err := os.ReadFile(filepath.Join(runDir, PrevFinalMetricsFile)); err != nil || !strings.Contains(string(b), "stale") {
		t.Errorf("%s = %q, %v; want attempt 1's metrics.json kept there", PrevFinalMetricsFile, b, err)
	}
}

// TestMetricsJSONWithOldTime: a metrics.json this attempt copied in with an
// old time stamp (cp -p) still counts.
func TestMetricsJSONWithOldTime(t *testing.T) {
	res, v := runBounded(t, `
name = "oldtime"
[run]
command = '''echo '{"psnr": 3}' > metrics.json && touch -d 2001-01-01 metrics.json'''
`, 20*time.Second)
	if res.Status != shard.StatusOK || v["psnr"] != 3.0 {
		t.Errorf("status %s, psnr %v; want ok, 3", res.Status, v["psnr"])
	}
}

// TestClashingMetricNames: metrics named "", like run columns, collect's
// columns or parameters are kept under the metric_ spelling, in the shard
// and its history alike.
func TestClashingMetricNames(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "clash"
[run]
command = '''
echo '{"step": 1, "": 0.5, "status": 0.25, "loss": 1}' >> "$GRIDSTUDY_METRICS"
echo '{"": 1, "status": 2, "shard": 3, "n_ok": 4, "lr": 5, "psnr": 6, "psnr_mean": 7}' >> "$GRIDSTUDY_METRICS"
'''
[params.lr]
values = [0.1]
`)
	res := run(t, context.Background(), dir, st, entries[0], time.Second)
	if res.Status != shard.StatusOK {
		t.Fatalf("Run = %+v, want ok", res)
	}
	v, _ := readShard(t, res.Shard)
	for name, want := range map[string]any{
		"metric_": 1.0, "metric_status": 2.0, "metric_shard": 3.0, "metric_n_ok": 4.0, "metric_lr": 5.0,
		"psnr": 6.0, "psnr_mean": 7.0, "status": "ok", "lr": 0.1,
	} {
		if v[name] != want {
			t.Errorf("shard %s = %v, want %v", name, v[name], want)
		}
	}
	errText, _ := v["error"].(string)
	for _, want := range []string{
		`metric "" stored as "metric_": the name is empty`,
		`metric "status" stored as "metric_status": the name is a run column or parameter`,
		`metric "n_ok" stored as "metric_n_ok": the name is a column that gridstudy writes`,
	} {
		if !strings.Contains(errText, want) {
			t.Errorf("error = %q, want it to say %q", errText, want)
		}
	}
	_, rows, err := table.ReadFile(shard.HistoryPath(dir, entries[0].RunID, 1))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r[2].(string))
	}
	if got := strings.Join(names, ","); got != "metric_,loss,metric_status" {
		t.Errorf("history names %s, want metric_,loss,metric_status", got)
	}
}

// TestTooManyMetrics: a command that reports a new name per line gets a
// bounded shard, not a million columns.
func TestTooManyMetrics(t *testing.T) {
	res, v := runBounded(t, fmt.Sprintf(`
name = "many"
[run]
command = '''for i in $(seq 1 %d); do echo "{\"m$i\": $i}"; done >> "$GRIDSTUDY_METRICS"'''
`, metricslog.MaxMetrics+3), 60*time.Second)
	errText, _ := v["error"].(string)
	if res.Status != shard.StatusOK || len(v) != len(shard.RunColumns())+metricslog.MaxMetrics ||
		!strings.Contains(errText, "3 metric value(s) dropped: a run keeps at most 10000 final metrics") {
		t.Errorf("status %s, %d columns, error %q; want ok, %d metric columns and a note",
			res.Status, len(v), errText, metricslog.MaxMetrics)
	}
}

// TestMetricsFileMadeByTheCommand: the runner makes no metrics file, so a
// run that reports nothing leaves none, and a command's first append makes
// it.
func TestMetricsFileMadeByTheCommand(t *testing.T) {
	silent, _ := runBounded(t, "name = \"silent\"\n[run]\nargs = [\"/bin/true\"]\n", 20*time.Second)
	if silent.Status != shard.StatusOK {
		t.Fatalf("silent run: %+v", silent)
	}
	var found []string
	filepath.WalkDir(filepath.Dir(filepath.Dir(silent.Shard)), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == MetricsFile {
			found = append(found, path)
		}
		return nil
	})
	if len(found) != 0 {
		t.Errorf("a run that reported nothing left %v", found)
	}
	res, v := runBounded(t, `
name = "talks"
[run]
command = '''echo '{"psnr": 2}' >> "$GRIDSTUDY_METRICS"'''
`, 20*time.Second)
	if res.Status != shard.StatusOK || v["psnr"] != 2.0 {
		t.Errorf("run that appended a metric: %+v, psnr %v", res, v["psnr"])
	}
}
