package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// compactStudy is a packed study whose runs report a metric and a history
// line; runs 3 and 7 fail.
const compactStudy = `name = "compact"
[run]
command = 'echo "{\"step\": 1, \"loss\": $GRIDSTUDY_PARAM_I}" >> "$GRIDSTUDY_METRICS"; if [ "$GRIDSTUDY_PARAM_I" = 3 ] || [ "$GRIDSTUDY_PARAM_I" = 7 ]; then exit 3; fi; echo "{\"score\": $GRIDSTUDY_PARAM_I}" >> "$GRIDSTUDY_METRICS"'
[params.i]
values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
[slurm]
runs_per_task = 4
runs_at_once = 4
`

// gsEnv runs the gridstudy binary with extra environment entries and
// returns its exit code and output.
func gsEnv(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("gridstudy %v: %v", args, err)
	}
	return 0, string(out)
}

// view is what a user sees of a study: status, what resume would submit,
// and the collected tables.
func view(t *testing.T, bin, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(gs(t, bin, 0, "status", dir, "--json"))
	b.WriteString(gs(t, bin, 0, "resume", dir, "--dry-run"))
	b.WriteString(gs(t, bin, 0, "resume", dir, "--failed", "--dry-run"))
	gs(t, bin, 0, "collect", dir)
	for _, f := range []string{"raw_results_all_trials.csv", "aggregated_results.csv", "statistical_summary.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, "data", f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %s --\n%s", f, data)
	}
	_, rows, err := table.ReadFile(filepath.Join(dir, "data", "history.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, fmt.Sprint(r...))
	}
	slices.Sort(lines)
	fmt.Fprintf(&b, "-- history --\n%s\n", strings.Join(lines, "\n"))
	return strings.ReplaceAll(b.String(), dir, "DIR")
}

// copyDir copies the study folder src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
}

// shardFiles lists the files of the study's shards folder but for dot
// files (locks, the status cache, the folds mark).
func shardFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(shard.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestCompactKilled kills collect --compact (kill -9 of itself, through
// GRIDSTUDY_TEST_CRASH_AFTER) after each of its file operations in turn:
// status, resume and the collected tables must then be those of the study
// never compacted, and so again once a second compaction has finished,
// which leaves part files alone.
func TestCompactKilled(t *testing.T) {
	bin := buildGridstudy(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "study.toml"), []byte(compactStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(root, "base")
	gs(t, bin, 0, "plan", filepath.Join(root, "study.toml"), "-o", base)
	gs(t, bin, 1, "exec", base, "--task", "0")
	gs(t, bin, 1, "exec", base, "--task", "1")
	gs(t, bin, 0, "exec", base, "--task", "2")
	gs(t, bin, 1, "exec", base, "--task", "0")             // run 3 again: a second task shard of task 0
	gs(t, bin, 1, "exec", base, "--index", "6")            // run 7 again, alone: a one-row shard
	gs(t, bin, 0, "exec", base, "--index", "9", "--force") // run 10 again, ok
	files := shardFiles(t, base)
	if want := 12; len(files) != want {
		t.Fatalf("before compaction: %d files %v, want 4 task shards and 2 one-row shards with their history", len(files), files)
	}

	ref := filepath.Join(root, "ref")
	copyDir(t, base, ref)
	want := view(t, bin, ref)

	work := filepath.Join(root, "work")
	for n := 1; ; n++ {
		os.RemoveAll(work)
		copyDir(t, base, work)
		code, out := gsEnv(t, bin, []string{"GRIDSTUDY_TEST_CRASH_AFTER=" + fmt.Sprint(n)}, "collect", work, "--compact")
		done := code == 0
		if !done && code != -1 {
			t.Fatalf("crash after %d: exit %d, want death by SIGKILL: %s", n, code, out)
		}
		if got := view(t, bin, work); got != want {
			t.Fatalf("compaction killed after %d file operations: what users see differs:\n%s\nwant:\n%s", n, got, want)
		}
		gs(t, bin, 0, "collect", work, "--compact")
		if got := view(t, bin, work); got != want {
			t.Fatalf("compaction killed after %d file operations, then finished: what users see differs:\n%s\nwant:\n%s", n, got, want)
		}
		for _, f := range shardFiles(t, work) {
			if _, part, _ := shard.ParseMulti(f); !part {
				t.Errorf("compaction killed after %d file operations, then finished: %s left", n, f)
			}
		}
		if done {
			if n < 10 {
				t.Fatalf("compaction finished after only %d file operations", n-1)
			}
			break
		}
	}
}

// TestFoldKilled kills exec while it folds a packed task's one-row shards
// into the task shard, after each file operation in turn: every run the
// task finished is still recorded, once.
func TestFoldKilled(t *testing.T) {
	bin := buildGridstudy(t)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "study.toml"), []byte(compactStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	// Planning asks the cluster for its array limits: once is enough.
	planned := filepath.Join(root, "planned")
	gs(t, bin, 0, "plan", filepath.Join(root, "study.toml"), "-o", planned)
	ref := filepath.Join(root, "ref")
	copyDir(t, planned, ref)
	gs(t, bin, 1, "exec", ref, "--task", "0")
	want := gs(t, bin, 0, "status", ref, "--json")
	for n := 1; ; n++ {
		work := filepath.Join(root, fmt.Sprint("work", n))
		copyDir(t, planned, work)
		code, out := gsEnv(t, bin, []string{"GRIDSTUDY_TEST_CRASH_AFTER=" + fmt.Sprint(n)}, "exec", work, "--task", "0")
		if got := strings.ReplaceAll(gs(t, bin, 0, "status", work, "--json"), work, ref); got != want {
			t.Fatalf("exec killed after %d file operations of its fold (exit %d: %s): status %s, want %s", n, code, out, got, want)
		}
		if code == 1 {
			if n < 6 { // 2 files written, 4 one-row shards and their history removed
				t.Fatalf("the fold finished after only %d file operations", n-1)
			}
			break
		}
		if code != -1 {
			t.Fatalf("crash after %d: exit %d, want death by SIGKILL: %s", n, code, out)
		}
	}
}
