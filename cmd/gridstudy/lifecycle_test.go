package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/table"
)

// The study of the agreement test: each run does what its control file
// says (ok, fail or hang), and notes every execution in ran.log.
const agreementStudy = `name = "agree"
[run]
command = '''
echo "$GRIDSTUDY_RUN_ID" >> "$GRIDSTUDY_STUDY_DIR/ran.log"
case "$(cat "$GRIDSTUDY_STUDY_DIR/ctl/$GRIDSTUDY_PARAM_X")" in
  ok) echo '{"v": 1}' >> "$GRIDSTUDY_METRICS" ;;
  fail) echo boom >&2; exit 3 ;;
  hang) exec sleep 60 ;;
esac
'''
[params.x]
values = [0, 1, 2]
`

// agreement drives one study through random sequences of attempts (ok,
// failed, forced, killed by SIGKILL, stopped by SIGTERM) with the real
// binary, and after each step checks that status --json, the collected
// raw table and resume --dry-run agree with each other and with the rule
// of docs/run-protocol.md, computed here independently; at the end, that
// gridstudy run executes exactly the runs that status says are not ok.
func TestLifecycleAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gridstudy binary some hundred times")
	}
	bin := buildGridstudy(t)
	for seed := range 3 {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			agreement(t, bin, uint64(seed))
		})
	}
}

func agreement(t *testing.T, bin string, seed uint64) {
	tmp := t.TempDir()
	studyFile := filepath.Join(tmp, "study.toml")
	if err := os.WriteFile(studyFile, []byte(agreementStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "sd")
	gs(t, bin, 0, "plan", studyFile, "-o", dir)
	if err := os.MkdirAll(filepath.Join(dir, "ctl"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := func(x int, what string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "ctl", strconv.Itoa(x)), []byte(what), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := runIDs(t, bin, dir)
	// result is the model: the status of each run's latest finished
	// attempt, "" for none.
	result := make([]string, len(ids))
	rng := rand.New(rand.NewPCG(seed, 99))
	for step := range 14 {
		x := rng.IntN(len(ids))
		idx := strconv.Itoa(x)
		var what string
		switch rng.IntN(6) {
		case 0, 1:
			what = "exec ok"
			control(x, "ok")
			before := executions(dir, ids[x])
			gs(t, bin, 0, "exec", dir, "--index", idx)
			ran := executions(dir, ids[x]) > before
			if result[x] == shard.StatusOK && ran {
				t.Fatalf("step %d: exec of an ok run ran its command again", step)
			}
			result[x] = shard.StatusOK
		case 2:
			what = "exec fail"
			control(x, "fail")
			code := 1
			if result[x] == shard.StatusOK {
				code = 0 // skipped: ok already
			} else {
				result[x] = shard.StatusFailed
			}
			gs(t, bin, code, "exec", dir, "--index", idx)
		case 3:
			what = "exec --force fail"
			control(x, "fail")
			gs(t, bin, 1, "exec", dir, "--index", idx, "--force")
			result[x] = shard.StatusFailed
		case 4:
			what = "kill -9 of the runner"
			control(x, "hang")
			killDuring(t, bin, dir, ids[x], idx, syscall.SIGKILL)
			// A runner killed outright records nothing: the result stays.
		case 5:
			what = "SIGTERM to the runner"
			control(x, "hang")
			killDuring(t, bin, dir, ids[x], idx, syscall.SIGTERM)
			if result[x] != shard.StatusOK {
				result[x] = shard.StatusCancelled
			}
			// An ok run is skipped, so there was nothing to stop: the
			// runner exits before the signal, and killDuring only
			// signals once the attempt is claimed.
		}
		checkAgreement(t, bin, dir, ids, result, fmt.Sprintf("seed %d step %d (%s on run %d)", seed, step, what, x))
	}
	// gridstudy run executes exactly the runs that are not ok.
	for x := range ids {
		control(x, "ok")
	}
	before := make([]int, len(ids))
	for x, id := range ids {
		before[x] = executions(dir, id)
	}
	gs(t, bin, 0, "run", dir, "--no-collect")
	for x, id := range ids {
		ran := executions(dir, id) - before[x]
		want := 1
		if result[x] == shard.StatusOK {
			want = 0
		}
		if ran != want {
			t.Errorf("seed %d: gridstudy run executed run %d %d times, want %d (its result was %q)", seed, x, ran, want, result[x])
		}
		result[x] = shard.StatusOK
	}
	checkAgreement(t, bin, dir, ids, result, fmt.Sprintf("seed %d after gridstudy run", seed))
}

// killDuring starts exec of a run whose command hangs, waits until its
// attempt is claimed (the command is starting), and sends sig to the
// runner process alone, as kill would.
func killDuring(t *testing.T, bin, dir, runID, idx string, sig syscall.Signal) {
	t.Helper()
	before := executions(dir, runID)
	cmd := exec.Command(bin, "exec", dir, "--index", idx, "--grace", "2s")
	// A group of its own, so that the test can clean up whatever the
	// signal leaves behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			return // nothing to run: the run was ok already
		default:
		}
		if live(dir, runID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner never claimed an attempt")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The command must be running, not just claimed: SIGTERM before it
	// starts is a cancellation too, but the test wants the common case.
	for executions(dir, runID) == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(cmd.Process.Pid, sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the runner did not end after the signal")
	}
}

// live reports whether a run has an attempt whose runner holds its claim.
func live(dir, runID string) bool {
	for _, a := range lifecycle.Probe(dir, runID) {
		if a.Live {
			return true
		}
	}
	return false
}

// executions counts the times a run's command started, from ran.log.
func executions(dir, runID string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "ran.log"))
	return strings.Count(string(b), runID+"\n")
}

func runIDs(t *testing.T, bin, dir string) []string {
	t.Helper()
	var st statusJSON
	if err := json.Unmarshal([]byte(gs(t, bin, 0, "status", dir, "--json", "--runs")), &st); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(st.Runs))
	for _, r := range st.Runs {
		ids[r.Index] = r.RunID
	}
	return ids
}

// checkAgreement compares, run by run, the model's state with status
// --json, the collected raw table and the runs resume would submit.
func checkAgreement(t *testing.T, bin, dir string, ids, result []string, when string) {
	t.Helper()
	want := make(map[string]string, len(ids))
	for x, id := range ids {
		want[id] = result[x]
		if want[id] == "" {
			want[id] = lifecycle.Missing
		}
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(gs(t, bin, 0, "status", dir, "--json", "--runs")), &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Runs {
		if r.State != want[r.RunID] {
			t.Errorf("%s: status says run %s is %s, want %s", when, r.RunID, r.State, want[r.RunID])
		}
	}

	// collect exits 1 when no shard could be read yet.
	code := 0
	if !hasShard(dir) {
		code = 1
	}
	gs(t, bin, code, "collect", dir)
	collected := map[string]string{}
	if code == 0 {
		schema, rows, err := table.ReadFile(filepath.Join(dir, "data", "raw_results_all_trials.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			collected[row[schema.Index("run_id")].(string)] = row[schema.Index("status")].(string)
		}
	}
	for _, id := range ids {
		got, ok := collected[id]
		if !ok {
			got = lifecycle.Missing
		}
		if got != want[id] {
			t.Errorf("%s: the collected table says run %s is %s, want %s", when, id, got, want[id])
		}
	}

	out := gs(t, bin, 0, "resume", dir, "--dry-run")
	resumed := map[int]bool{}
	for _, line := range strings.Split(out, "\n") {
		_, spec, ok := strings.Cut(line, "--array=")
		if !ok {
			continue
		}
		spec, _, _ = strings.Cut(spec, " ")
		list, err := slurm.ParseIndexList(spec)
		if err != nil {
			t.Fatalf("%s: resume printed %q: %v", when, line, err)
		}
		for _, i := range list {
			resumed[i] = true
		}
	}
	for x, id := range ids {
		if w := lifecycle.Lost(want[id], false); resumed[x] != w {
			t.Errorf("%s: resume submits run %s (%s): %v, want %v", when, id, want[id], resumed[x], w)
		}
	}
}

func hasShard(dir string) bool {
	entries, _ := shard.Scan(dir)
	return len(entries) > 0
}
