package runner

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

// newStudy plans the study file src into a study directory and returns
// the directory, the resolved study and its manifest.
func newStudy(t testing.TB, src string) (string, *study.Study, []manifest.Entry) {
	t.Helper()
	d := plantest.Dir(t, src)
	return d.Path, d.Study, plantest.Entries(t, d)
}

// readShard reads a one-row shard into column name -> value and kind.
func readShard(t *testing.T, path string) (map[string]any, map[string]table.Kind) {
	t.Helper()
	s, rows, err := table.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%s has %d rows, want 1", path, len(rows))
	}
	vals, kinds := map[string]any{}, map[string]table.Kind{}
	for i, c := range s {
		vals[c.Name], kinds[c.Name] = rows[0][i], c.Kind
	}
	return vals, kinds
}

func run(t *testing.T, ctx context.Context, dir string, st *study.Study, e manifest.Entry, grace time.Duration) Result {
	t.Helper()
	res, err := Run(ctx, Job{StudyDir: dir, Study: st, Entry: e, Grace: grace, Version: "v-test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFinalAndHistoryMetrics(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "metrics"
trials = 1
seed = 7
[run]
command = """
cat >> "$GRIDSTUDY_METRICS" <<'EOF'
{"step": 0, "loss": 1.5, "acc": 0}
{"step": 1, "loss": NaN, "acc": 0.25}
{"psnr": 30, "zero": 0, "nan": NaN, "inf": Infinity, "ninf": -Infinity, "converged": false, "tag": "", "seed": 3}
{"psnr": 31.5}
EOF
echo '{"psnr": 1, "from_json": 2}' > metrics.json
"""
[params.lr]
values = [0]
[params.name]
values = [""]
[params.flag]
values = [false]
`)
	res := run(t, context.Background(), dir, st, entries[0], 0)
	if res.Status != shard.StatusOK || res.Attempt != 1 || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, want ok attempt 1 exit 0", res)
	}
	v, k := readShard(t, res.Shard)
	e := entries[0]
	want := map[string]any{
		"run_id": e.RunID, "cell_id": e.CellID, "model": nil, "trial": int64(1), "seed": e.Seed, "attempt": int64(1),
		"status": "ok", "exit_code": int64(0), "signal": nil, "gpu_mem_mb": nil, "slurm_job_id": nil,
		"slurm_array_job_id": nil, "slurm_array_task_id": nil, "bad_metric_lines": int64(0), "gridstudy_version": "v-test",
		"error":     `metric "seed" stored as "metric_seed": the name is a run column or parameter`,
		"lr":        int64(0), // zero values stay values, not NULL
		"name":      "",
		"flag":      false,
		"psnr":      31.5, // the last line wins over metrics.json and earlier lines
		"from_json": 2.0,
		"zero":      0.0, "inf": math.Inf(1), "ninf": math.Inf(-1), "converged": false, "tag": "", "metric_seed": 3.0,
	}
	if gpuQuery() != "" {
		delete(want, "gpu_mem_mb") // sampled only where nvidia-smi runs
	}
	for name, w := range want {
		if got, ok := v[name]; !ok || got != w {
			t.Errorf("shard %s = %#v, want %#v", name, got, w)
		}
	}
	if f, ok := v["nan"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("shard nan = %#v, want NaN", v["nan"])
	}
	for name, kind := range map[string]table.Kind{"psnr": table.Double, "zero": table.Double, "converged": table.Bool, "tag": table.String,
		"lr": table.Int64, "flag": table.Bool, "name": table.String} {
		if k[name] != kind {
			t.Errorf("column %s is %s, want %s", name, k[name], kind)
		}
	}
	host, _ := os.Hostname()
	if v["host"] != host {
		t.Errorf("host = %v, want %s", v["host"], host)
	}
	wall, _ := v["wall_s"].(float64)
	started, _ := v["started_at"].(time.Time)
	finished, _ := v["finished_at"].(time.Time)
	if wall <= 0 || wall > 10 || !finished.After(started) || math.Abs(finished.Sub(started).Seconds()-wall) > 0.01 {
		t.Errorf("wall_s %v, started_at %v, finished_at %v: want a positive wall time between them", wall, started, finished)
	}
	if cpu, ok := v["cpu_s"].(float64); !ok || cpu < 0 || cpu > wall+1 {
		t.Errorf("cpu_s = %v, want between 0 and about wall_s", v["cpu_s"])
	}
	if rss, ok := v["max_rss_mb"].(float64); !ok || rss < 0.5 || rss > 500 {
		t.Errorf("max_rss_mb = %v, want the few MB of a shell", v["max_rss_mb"])
	}

	_, rows, err := table.ReadFile(shard.HistoryPath(dir, e.RunID, 1))
	if err != nil {
		t.Fatal(err)
	}
	wantHist := [][]any{{e.RunID, int64(0), "acc", 0.0}, {e.RunID, int64(0), "loss", 1.5}, {e.RunID, int64(1), "acc", 0.25}, {e.RunID, int64(1), "loss", math.NaN()}}
	if len(rows) != len(wantHist) {
		t.Fatalf("history = %v, want %v", rows, wantHist)
	}
	for i, row := range rows {
		for j, w := range wantHist[i] {
			f, isF := w.(float64)
			if row[j] != w && !(isF && math.IsNaN(f) && math.IsNaN(row[j].(float64))) {
				t.Errorf("history row %d column %d = %#v, want %#v", i, j, row[j], w)
			}
		}
	}
	if _, err := os.Stat(shard.ClaimPath(dir, e.RunID, 1)); !os.IsNotExist(err) {
		t.Errorf("claim of attempt 1 still there after its shard was written (%v)", err)
	}
}

func TestExitCodeAndStderr(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "exit3"
[run]
command = "echo starting; echo 'first problem' >&2; echo 'it broke: bad input' >&2; exit 3"
`)
	res := run(t, context.Background(), dir, st, entries[0], 0)
	if res.Status != shard.StatusFailed || res.ExitCode != 3 || res.Signal != "" || res.LastStderr != "it broke: bad input" {
		t.Errorf("Run = %+v, want failed, exit 3, last stderr line", res)
	}
	v, _ := readShard(t, res.Shard)
	for name, w := range map[string]any{"status": "failed", "exit_code": int64(3), "signal": nil, "error": nil, "bad_metric_lines": int64(0)} {
		if v[name] != w {
			t.Errorf("shard %s = %#v, want %#v", name, v[name], w)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, entries[0].Dir, "stdout.log"))
	if !strings.Contains(string(log), "attempt 1") || !strings.HasSuffix(string(log), "starting\n") {
		t.Errorf("stdout.log = %q, want the attempt header and the output", log)
	}
}

func TestMalformedMetricsLine(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "bad"
[run]
command = """printf '%s\n' '{"psnr": 30}' 'loss=0.5' '{"ssim": [1]}' '{"ssim": 0}' >> "$GRIDSTUDY_METRICS" """
`)
	res := run(t, context.Background(), dir, st, entries[0], 0)
	v, _ := readShard(t, res.Shard)
	wantErr := `metrics line 2: at byte 1: want an object: "loss=0.5"`
	for name, w := range map[string]any{"status": "ok", "bad_metric_lines": int64(2), "error": wantErr, "psnr": 30.0, "ssim": 0.0} {
		if v[name] != w {
			t.Errorf("shard %s = %#v, want %#v", name, v[name], w)
		}
	}
}

func TestCancelSignalsGroup(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "cancel"
[run]
command = "trap 'echo got-term >> term.txt; exit 0' TERM; echo started > started.txt; sleep 30 & wait"
`)
	ctx, cancel := context.WithCancel(context.Background())
	runDir := filepath.Join(dir, entries[0].Dir)
	go func() {
		waitFile(t, filepath.Join(runDir, "started.txt"))
		cancel()
	}()
	res := run(t, ctx, dir, st, entries[0], 5*time.Second)
	if res.Status != shard.StatusCancelled || res.Wall > 4*time.Second {
		t.Errorf("Run = %+v, want cancelled well before the grace period", res)
	}
	v, _ := readShard(t, res.Shard)
	for name, w := range map[string]any{"status": "cancelled", "exit_code": int64(0), "signal": nil, "error": "cancelled"} {
		if v[name] != w {
			t.Errorf("shard %s = %#v, want %#v", name, v[name], w)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(runDir, "term.txt")); string(b) != "got-term\n" {
		t.Errorf("the command's trap wrote %q, want got-term: SIGTERM did not reach it", b)
	}
}

func TestKillAfterGrace(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "stubborn"
[run]
command = "trap '' TERM USR1; echo started > started.txt; sleep 30"
`)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		waitFile(t, filepath.Join(dir, entries[0].Dir, "started.txt"))
		cancel(&Stop{Status: shard.StatusTimeout, Signal: syscall.SIGUSR1, Reason: "SIGUSR1 received: the job's time limit is near"})
	}()
	res := run(t, ctx, dir, st, entries[0], 300*time.Millisecond)
	v, _ := readShard(t, res.Shard)
	for name, w := range map[string]any{"status": "timeout", "exit_code": nil, "signal": "SIGKILL",
		"error": "SIGUSR1 received: the job's time limit is near; killed with SIGKILL after a grace of 300ms"} {
		if v[name] != w {
			t.Errorf("shard %s = %#v, want %#v", name, v[name], w)
		}
	}
}

func TestRunTimeout(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "slow"
[run]
command = "sleep 30"
timeout = "1s"
`)
	res := run(t, context.Background(), dir, st, entries[0], 0)
	if res.Status != shard.StatusTimeout || res.Signal != "SIGTERM" || res.Wall > 5*time.Second {
		t.Errorf("Run = %+v, want timeout by SIGTERM after about 1s", res)
	}
}

func TestCommandThatCannotStart(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "missing"
[run]
args = ["./no-such-program", "{{.Seed}}"]
`)
	res := run(t, context.Background(), dir, st, entries[0], 0)
	v, _ := readShard(t, res.Shard)
	if v["status"] != "failed" || v["exit_code"] != nil || !strings.HasPrefix(res.Error, "start the command: ") {
		t.Errorf("shard status %v exit_code %v error %q: want failed, NULL, start the command: …", v["status"], v["exit_code"], res.Error)
	}
}

func TestSkipOKAndForce(t *testing.T) {
	dir, st, entries := newStudy(t, `
name = "skip"
[run]
command = "echo run >> count.txt"
`)
	run(t, context.Background(), dir, st, entries[0], 0)
	res := run(t, context.Background(), dir, st, entries[0], 0)
	if !res.Skipped || res.Attempt != 1 {
		t.Errorf("second Run = %+v, want skipped at attempt 1", res)
	}
	res, err := Run(context.Background(), Job{StudyDir: dir, Study: st, Entry: entries[0], Force: true})
	if err != nil || res.Skipped || res.Attempt != 2 || res.Status != shard.StatusOK {
		t.Errorf("forced Run = %+v, %v; want attempt 2 ok", res, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, entries[0].Dir, "count.txt")); string(b) != "run\nrun\n" {
		t.Errorf("the command ran %q, want twice", b)
	}
}

func TestConfigAndEnvironment(t *testing.T) {
	tmp := t.TempDir()
	base := filepath.Join(tmp, "base.yaml")
	if err := os.WriteFile(base, []byte("model:\n  N: 32\n  nll_weight: 0.1\ndata: keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, st, entries := newStudy(t, `
name = "cfg"
[run]
args = ["sh", "-c", "env | grep ^GRIDSTUDY_ | sort > env.txt; echo {{ index .Params \"model.nll_weight\" }} {{.Model}} > argv.txt"]
base_config = "`+base+`"
[params."model.nll_weight"]
values = [1e6]
[fixed]
"model.N" = 64
[models.pinn]
overrides = {probe_trainable = true}
`)
	e := entries[0]
	res, err := Run(context.Background(), Job{StudyDir: dir, Study: st, Entry: e, Env: []string{"CUDA_VISIBLE_DEVICES=3", "GRIDSTUDY_SEED=wrong"}})
	if err != nil || res.Status != shard.StatusOK {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	runDir := filepath.Join(dir, e.Dir)
	cfg, err := os.ReadFile(filepath.Join(runDir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"N": 64`, "nll_weight: 1.0e+06", "data: keep", "probe_trainable: true"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.yaml = %s\nwant it to hold %q", cfg, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(runDir, "argv.txt")); string(b) != "1e6 pinn\n" {
		t.Errorf("rendered args = %q, want 1e6 pinn (as the study file writes it)", b)
	}
	env, _ := os.ReadFile(filepath.Join(runDir, "env.txt"))
	want := strings.Join([]string{
		"GRIDSTUDY_CELL_ID=" + e.CellID,
		"GRIDSTUDY_CONFIG=" + filepath.Join(runDir, "config.yaml"),
		"GRIDSTUDY_METRICS=" + filepath.Join(runDir, MetricsFile),
		"GRIDSTUDY_PARAM_MODEL_NLL_WEIGHT=1e6",
		"GRIDSTUDY_RUN_DIR=" + runDir,
		"GRIDSTUDY_RUN_ID=" + e.RunID,
		"GRIDSTUDY_SEED=" + strconv.FormatInt(e.Seed, 10),
		"GRIDSTUDY_STUDY_DIR=" + dir,
		"GRIDSTUDY_TRIAL=1",
	}, "\n") + "\n"
	if string(env) != want {
		t.Errorf("environment:\n%s\nwant:\n%s", env, want)
	}
}

// waitFile waits up to 10 s for a file that a command writes once it runs.
func waitFile(t *testing.T, path string) {
	for range 200 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("%s did not appear", path)
}

// BenchmarkRun measures the in-process overhead of Run (the local
// executor's path) on a no-op command: compare with BenchmarkDirect.
func BenchmarkRun(b *testing.B) {
	dir, st, entries := newStudy(b, "name = \"bench\"\n[run]\nargs = [\"/bin/true\"]\n")
	for b.Loop() {
		res, err := Run(context.Background(), Job{StudyDir: dir, Study: st, Entry: entries[0], Force: true})
		if err != nil || res.Status != shard.StatusOK {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkDirect starts the same no-op command without the runner.
func BenchmarkDirect(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestImageMetricsFailures: [metrics] paths are rendered for each run, and
// a run whose image metrics cannot be computed fails with the reason, its
// own metrics kept; a command that failed is not compared at all.
func TestImageMetricsFailures(t *testing.T) {
	fixture := func(name string) string {
		p, err := filepath.Abs(filepath.Join("..", "metrics", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, command string
		status        string
		errText       []string // substrings of the error column; none: no error
		psnr          any
	}{
		{"ok", "cp " + fixture("r48x80_recon.npy") + " out.npy", "ok", nil, 19.98964},
		{"missing recon", "true", "failed", []string{"image metrics: ", "/out.npy", "no such file"}, nil},
		{"bad npy", "echo junk > out.npy", "failed", []string{"image metrics: ", "out.npy", "npy"}, nil},
		{"shape mismatch", "cp " + fixture("s64_recon.npy") + " out.npy", "failed", []string{"image metrics: ", "shape mismatch"}, nil},
		{"complex recon", "cp " + fixture("c64x64_recon.npy") + " out.npy", "failed", []string{"image metrics: ", "complex"}, nil},
		{"command failed", "exit 3", "failed", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, st, entries := newStudy(t, `
name = "img"
[run]
command = '''echo '{"loss": 0.5}' >> "$GRIDSTUDY_METRICS"; `+tc.command+`'''
[metrics]
truth = "`+fixture("r48x80_truth.npy")+`"
recon = "{{.RunDir}}/out.npy"
`)
			res := run(t, context.Background(), dir, st, entries[0], 0)
			v, _ := readShard(t, res.Shard)
			if res.Status != tc.status || v["status"] != tc.status {
				t.Errorf("status %q, shard %v; want %q", res.Status, v["status"], tc.status)
			}
			errText, _ := v["error"].(string)
			if len(tc.errText) == 0 && errText != "" {
				t.Errorf("error = %q, want none", errText)
			}
			for _, s := range tc.errText {
				if !strings.Contains(errText, s) || !strings.Contains(res.Error, s) {
					t.Errorf("error = %q, want it to hold %q", errText, s)
				}
			}
			if v["loss"] != 0.5 {
				t.Errorf("loss = %v, want the command's own 0.5 kept", v["loss"])
			}
			if p, ok := v["psnr"].(float64); tc.psnr != nil && (!ok || math.Abs(p-tc.psnr.(float64)) > 1e-4) || tc.psnr == nil && v["psnr"] != nil {
				t.Errorf("psnr = %v, want %v", v["psnr"], tc.psnr)
			}
		})
	}
}
