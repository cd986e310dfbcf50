package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSlurmQuotingContexts submits a command that places each value inside
// "…" and inside $(…): under sbatch, no value runs as code, each reaches the
// command byte for byte, and the collected table holds the values and the
// metric that the command computed from what it received.
func TestSlurmQuotingContexts(t *testing.T) {
	bin := slurmOnly(t)
	values := []string{"$(touch PWNED)", "`touch PWNED`", `a"; touch PWNED; echo "`, `it's \ $HOME`}
	path, dir := writeStudy(t, `name = "quoting"
[run]
command = '''
printf '%s' "{{ index .Params "v" }}" > double.txt
printf '%s' "$(printf '%s' {{ index .Params "v" }})" > sub.txt
printf '%s' "$(printf '%s' "{{ index .Params "v" }}")" > subdouble.txt
printf '{"received_bytes": %d}\n' "$(printf '%s' "{{ index .Params "v" }}" | wc -c)" >> "$GRIDSTUDY_METRICS"
'''
[params.v]
values = ["$(touch PWNED)", "`+"`touch PWNED`"+`", "a\"; touch PWNED; echo \"", "it's \\ $HOME"]
[slurm]
time = "00:05:00"
`)
	gs(t, bin, 0, "submit", path, "-o", dir)
	waitFor(t, bin, dir, 120*time.Second, "every run ok", allOK(len(values)))

	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "PWNED" {
			t.Errorf("a parameter value ran as shell code: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"double.txt", "sub.txt", "subdouble.txt"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "experiments", "*", "trial_1", name))
		got := map[string]bool{}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			got[string(b)] = true
		}
		for _, v := range values {
			if !got[v] {
				t.Errorf("%s: value %q did not reach the command byte for byte; got %v", name, v, got)
			}
		}
	}

	okShardsOnce(t, bin, dir, len(values))
	rows := csvRows(t, filepath.Join(dir, "data", "raw_results_all_trials.csv"))
	for _, name := range []string{"v", "received_bytes", "status"} {
		if _, ok := rows[0][name]; !ok {
			t.Fatalf("raw_results_all_trials.csv has no column %q: %v", name, rows[0])
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		v := r["v"]
		seen[v] = true
		n, err := strconv.ParseFloat(r["received_bytes"], 64)
		if err != nil || int(n) != len(v) || r["status"] != "ok" {
			t.Errorf("row for %q: status %s, received_bytes %s, want ok and %d", v, r["status"], r["received_bytes"], len(v))
		}
	}
	for _, v := range values {
		if !seen[v] {
			t.Errorf("value %q is not in the collected table: %v", v, seen)
		}
	}
}
