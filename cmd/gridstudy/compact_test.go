package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestTaskShardKilled kills exec of a packed task (kill -9 of itself,
// through GRIDSTUDY_TEST_CRASH_AFTER) after each file operation of writing
// its task shard in turn. Its runs are then either recorded, as the task
// that was not killed records them, or read as attempts whose runner died
// (missing), never half of either: status, resume and collect agree, and
// no run is counted twice. A second exec of the task then runs exactly
// those runs again, and the study ends as the one never killed.
func TestTaskShardKilled(t *testing.T) {
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
	want := outcome(t, bin, ref)
	for n := 1; ; n++ {
		work := filepath.Join(root, fmt.Sprint("work", n))
		copyDir(t, planned, work)
		code, out := gsEnv(t, bin, []string{"GRIDSTUDY_TEST_CRASH_AFTER=" + fmt.Sprint(n)}, "exec", work, "--task", "0")
		if code == 1 {
			if n < 4 { // the history file, the run file, the fold mark
				t.Fatalf("the task shard was in place after only %d file operations", n-1)
			}
			break
		}
		if code != -1 {
			t.Fatalf("crash after %d: exit %d, want death by SIGKILL: %s", n, code, out)
		}
		got := strings.ReplaceAll(outcome(t, bin, work), work, ref)
		if got == want {
			continue // recorded whole
		}
		// Else recorded nowhere: each of the task's runs missing after
		// one attempt, which resume submits with the runs never run.
		counts := regexp.MustCompile(`(?m)^  "counts": \{[^}]*\}`).FindString(got)
		if !strings.Contains(counts, `"missing": 12`) || strings.Count(got, `"attempts": 1`) != 4 ||
			!strings.Contains(got, "resuming 12 runs") || !strings.Contains(got, "no shard could be read") {
			t.Fatalf("exec killed after %d file operations of its task shard:\n%s\nwant the task recorded whole or not at all", n, got)
		}
		gs(t, bin, 1, "exec", work, "--task", "0")
		got = strings.ReplaceAll(outcome(t, bin, work), work, ref)
		got = regexp.MustCompile(`"attempts": 2,(\s*)"result": 2`).ReplaceAllString(got, `"attempts": 1,${1}"result": 1`)
		got = regexp.MustCompile(`(?m)^(\w+),2,`).ReplaceAllString(got, "$1,1,")
		got = regexp.MustCompile(`(?m)^(\w+) 2 `).ReplaceAllString(got, "$1 1 ")
		if got != want {
			t.Fatalf("exec killed after %d file operations, then run again:\n%s\nwant the second attempts to be what the first were:\n%s", n, got, want)
		}
	}
}

// outcome is what a user sees of a study, but for what differs between two
// executions (times, memory): status, what resume would submit, and the
// collected raw table's run id, attempt, status and metric, and history.
func outcome(t *testing.T, bin, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(gs(t, bin, 0, "status", dir, "--json"))
	b.WriteString(gs(t, bin, 0, "resume", dir, "--dry-run"))
	if code, out := gsEnv(t, bin, nil, "collect", dir); code != 0 {
		// Nothing recorded: collect has nothing to collect.
		fmt.Fprintf(&b, "-- collect exit %d --\n%s", code, out)
		return b.String()
	}
	cols := []string{"run_id", "attempt", "status", "score"}
	fmt.Fprintf(&b, "-- raw --\n%s\n", strings.Join(cols, ","))
	for _, r := range csvRows(t, filepath.Join(dir, "data", "raw_results_all_trials.csv")) {
		for i, c := range cols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(r[c])
		}
		b.WriteByte('\n')
	}
	_, hist, err := table.ReadFile(filepath.Join(dir, "data", "history.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range hist {
		lines = append(lines, strings.Trim(fmt.Sprintf("%v", r), "[]"))
	}
	slices.Sort(lines)
	fmt.Fprintf(&b, "-- history --\n%s\n", strings.Join(lines, "\n"))
	return b.String()
}
