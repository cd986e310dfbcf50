// Package ptychopinn holds the test of the PtychoPINN example study: it runs
// the study with gridstudy against the stand-in PtychoPINN of standin/.
package ptychopinn

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/table"
)

// python returns a Python 3 that has what the stand-ins import (numpy,
// PyYAML), or skips the test.
func python(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		out, err := exec.Command(p, "-c", "import numpy, yaml").CombinedOutput()
		if err == nil {
			return p
		}
		tried = append(tried, p+": "+strings.TrimSpace(lastLine(string(out))))
	}
	t.Skipf("no python3 with numpy and PyYAML for the PtychoPINN stand-ins (Debian: apt-get install python3-numpy python3-yaml); tried %v", tried)
	return ""
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestStudyWithStandins runs study.toml end to end with `gridstudy run` on a
// small grid against the stand-in PtychoPINN, whose scripts accept exactly
// PtychoPINN's flags and write its files: the simulate stage, both models'
// training commands, the compare stage and the two adapters. The collected
// table must give both models' rows the comparison's metrics, each its
// own, and the history must hold Keras' epochs.
func TestStudyWithStandins(t *testing.T) {
	py := python(t)
	if testing.Short() {
		t.Skip("builds gridstudy and runs 8 Python runs")
	}
	tmp := t.TempDir()
	standin, err := filepath.Abs("standin")
	if err != nil {
		t.Fatal(err)
	}

	gridstudy := filepath.Join(tmp, "gridstudy")
	run(t, os.Environ(), "go", "build", "-o", gridstudy, "github.com/gridstudy/gridstudy/cmd/gridstudy")

	// python and python3 are the interpreter found; ptycho_train is the
	// stand-in's console script.
	bin := filepath.Join(tmp, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"python": py, "python3": py, "ptycho_train": filepath.Join(standin, "bin", "ptycho_train")} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	// No __pycache__ in the source tree.
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "PTYCHOPINN_ROOT="+standin,
		"PYTHONDONTWRITEBYTECODE=1")

	// The study folder as a user has it: the study, its adapters and the
	// object and probe to simulate from.
	study := filepath.Join(tmp, "study")
	if err := os.Mkdir(study, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"study.toml", "keras_history.py", "comparison_metrics.py"} {
		copyFile(t, f, filepath.Join(study, f))
	}
	run(t, env, py, "-c", `
import numpy as np
y, x = np.mgrid[0:48, 0:48]
obj = (0.5 + 0.4*np.cos(x/3.0)*np.sin(y/4.0)) * np.exp(0.3j*np.sin(x/5.0))
probe = np.exp(-((np.mgrid[0:8, 0:8] - 3.5)**2).sum(0)/8.0)
np.savez("`+filepath.Join(study, "object_probe.npz")+`", objectGuess=obj.astype(np.complex64), probeGuess=probe.astype(np.complex64))
`)

	// 2 doses x 1 n_groups x 2 models x 2 trials = 8 runs, 2 simulate
	// tasks, 4 compare tasks.
	dir := filepath.Join(tmp, "out")
	run(t, env, gridstudy, "run", filepath.Join(study, "study.toml"), "-o", dir, "--gpus", "none", "--workers", "2",
		"--param", "nphotons=1e4,1e9", "--param", "n_groups=256", "--fixed", "nepochs=3", "--trials", "2")

	schema, rows, err := table.ReadFile(filepath.Join(dir, "data", "raw_results_all_trials.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 8", len(rows))
	}
	col := func(row []any, name string) any {
		i := schema.Index(name)
		if i < 0 {
			t.Fatalf("no column %s in %v", name, schema)
		}
		return row[i]
	}
	// What each model's row must hold is its own row of the
	// comparison_metrics.csv of its group's compare task.
	want := readComparisons(t, dir)
	seen := map[string]int{}
	for _, row := range rows {
		id, model := col(row, "run_id").(string), col(row, "model").(string)
		if col(row, "status") != "ok" {
			t.Errorf("%s: status %v", id, col(row, "status"))
			continue
		}
		seen[model]++
		for _, m := range []string{"psnr", "ssim", "ms_ssim", "frc50", "frc1over7", "mae", "mse", "psnr_phase", "computation_time_s"} {
			w, ok := want[id][m]
			if !ok {
				t.Fatalf("%s (%s): no %s in its compare task's CSV", id, model, m)
			}
			if v, ok := col(row, m).(float64); !ok || v != w {
				t.Errorf("%s (%s): %s = %v, want %v from comparison_metrics.csv", id, model, m, col(row, m), w)
			}
		}
	}
	if seen["pinn"] != 4 || seen["baseline"] != 4 {
		t.Errorf("ok rows per model %v, want 4 each", seen)
	}

	// History: 3 epochs of loss and val_loss for every run.
	hs, hrows, err := table.ReadFile(filepath.Join(dir, "data", "history.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	epochs := map[string]map[float64]bool{}
	for _, r := range hrows {
		if name := r[hs.Index("name")]; name == "val_loss" {
			id := r[hs.Index("run_id")].(string)
			if epochs[id] == nil {
				epochs[id] = map[float64]bool{}
			}
			epochs[id][toFloat(r[hs.Index("step")])] = true
		}
	}
	if len(epochs) != 8 {
		t.Errorf("val_loss history for %d runs, want 8", len(epochs))
	}
	for id, steps := range epochs {
		if len(steps) != 3 || !steps[1] || !steps[3] {
			t.Errorf("run %s: val_loss at steps %v, want 1..3", id, steps)
		}
	}
}

// readComparisons reads the comparison_metrics.csv of every compare task
// into run id → metric → value, giving each model's row of the CSV to that
// model's run of the task's group, with the adapter's metric names.
func readComparisons(t *testing.T, dir string) map[string]map[string]float64 {
	t.Helper()
	plan, err := stage.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := manifest.Read(filepath.Join(dir, manifest.File))
	if err != nil {
		t.Fatal(err)
	}
	runID := map[int]string{}
	for _, e := range entries {
		runID[e.Index] = e.RunID
	}
	compare := plan.Stage("compare")
	if compare == nil || len(compare.Tasks) != 4 {
		t.Fatalf("compare stage %+v, want 4 tasks", compare)
	}
	names := map[string]string{"PtychoPINN": "pinn", "Baseline": "baseline"}
	out := map[string]map[string]float64{}
	for _, task := range compare.Tasks {
		f := filepath.Join(dir, task.Dir, "comparison_metrics.csv")
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != "model,metric,amplitude,phase,value" {
			t.Fatalf("%s: header %v", f, recs[0])
		}
		for _, r := range recs[1:] {
			id := runID[task.RunsByModel[names[r[0]]]]
			if out[id] == nil {
				out[id] = map[string]float64{}
			}
			for i, suffix := range map[int]string{2: "", 3: "_phase", 4: ""} {
				if r[i] == "" {
					continue
				}
				v, err := strconv.ParseFloat(r[i], 64)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				out[id][r[1]+suffix] = v
			}
		}
	}
	return out
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return -1
}

// pythonStdlib returns a Python 3 for the adapters, which need only the
// standard library, or skips the test.
func pythonStdlib(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH for the example's adapters")
	}
	return p
}

// adapter runs one of the example's adapters with stdin and returns its
// stdout, the lines it appended to $GRIDSTUDY_METRICS, its stderr and
// whether it exited 0.
func adapter(t *testing.T, script, stdin string, args ...string) (stdout, metrics, stderr string, ok bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	cmd := exec.Command(pythonStdlib(t), append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "GRIDSTUDY_METRICS="+path)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	b, rerr := os.ReadFile(path)
	if rerr != nil && !os.IsNotExist(rerr) {
		t.Fatal(rerr)
	}
	return o.String(), string(b), e.String(), err == nil
}

func TestKerasHistory(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keras 2, not a terminal", "Epoch 1/2\n8/8 [==============================] - 1s 11ms/step - loss: 0.6871 - val_loss: 0.7214 - lr: 1.0000e-03\nEpoch 2/2\n8/8 [==============================] - 1s 10ms/step - loss: 0.4134 - val_loss: 0.4341 - lr: 5.0000e-04\n",
			`{"step": 1, "loss": 0.6871, "val_loss": 0.7214, "lr": 0.001}` + "\n" + `{"step": 2, "loss": 0.4134, "val_loss": 0.4341, "lr": 0.0005}` + "\n"},
		{"terminal redraws: the last one counts", "Epoch 1/1\n1/8 [==>...........................] - ETA: 3s - loss: 0.9000\r8/8 [==============================] - 1s 11ms/step - loss: 0.5000 - val_loss: 0.6000\n",
			`{"step": 1, "loss": 0.5, "val_loss": 0.6}` + "\n"},
		{"keras 3 bar, log lines and ReduceLROnPlateau between epochs", "2026-11-27 11:20:44,376 - INFO - Loading data: 0.5 s\nEpoch 1/2\n\x1b[1m8/8\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 11ms/step - loss: 0.2000 - val_loss: 0.3000\n\nEpoch 1: ReduceLROnPlateau reducing learning rate to 0.0005.\nEpoch 2/2\n8/8 ━━━━━━━━━━━━━━━━━━━━ 1s 11ms/step - loss: nan - val_loss: 1.5e-05\n",
			`{"step": 1, "loss": 0.2, "val_loss": 0.3}` + "\n" + `{"step": 2, "loss": NaN, "val_loss": 1.5e-05}` + "\n"},
		{"no epochs", "Training with 3 epochs\nloss: 0.1\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, metrics, stderr, ok := adapter(t, "keras_history.py", tt.in)
			if !ok {
				t.Fatalf("failed: %s", stderr)
			}
			if out != tt.in {
				t.Errorf("stdout %q, want the input unchanged", out)
			}
			if metrics != tt.want {
				t.Errorf("history\n%s\nwant\n%s", metrics, tt.want)
			}
		})
	}
}

func TestComparisonMetrics(t *testing.T) {
	const header = "model,metric,amplitude,phase,value\n"
	tests := []struct {
		name, csv string
		args      []string
		want      string // the metric lines; "" with ok false: it must fail
		ok        bool
		stderr    string
	}{
		{"pairs, values and empty fields",
			header + "PtychoPINN,psnr,61.5,58.25,\nPtychoPINN,frc50,,3.5,\nBaseline,psnr,57.5,55.0,\nPtychoPINN,computation_time_s,,,1.25\nBaseline,registration_offset_dy,,,-2.0\n", nil,
			`{"model": "pinn", "psnr": 61.5, "psnr_phase": 58.25, "frc50_phase": 3.5, "computation_time_s": 1.25}` + "\n" +
				`{"model": "baseline", "psnr": 57.5, "psnr_phase": 55.0, "registration_offset_dy": -2.0}` + "\n", true, ""},
		{"a third model is skipped", header + "PtychoPINN,mae,0.1,0.2,\nPty-chi (ePIE),mae,0.3,0.4,\n", nil,
			`{"model": "pinn", "mae": 0.1, "mae_phase": 0.2}` + "\n", true, "skipping model 'Pty-chi (ePIE)'"},
		{"renamed models", header + "PtychoPINN,mae,0.1,,\nBaseline,mae,0.2,,\n", []string{"--model", "Baseline=unet"},
			`{"model": "unet", "mae": 0.2}` + "\n", true, "skipping model 'PtychoPINN'"},
		{"not the CSV", "a,b\n1,2\n", nil, "", false, "no column amplitude, metric, model, phase, value"},
		{"no mapped rows", header + "Tike,mae,0.1,0.2,\n", nil, "", false, "no rows of Baseline, PtychoPINN"},
		{"bad number", header + "PtychoPINN,mae,x,0.2,\n", nil, "", false, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "comparison_metrics.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			_, metrics, stderr, ok := adapter(t, "comparison_metrics.py", "", append([]string{path}, tt.args...)...)
			if ok != tt.ok || metrics != tt.want || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("ok %v, lines\n%s\nstderr %q; want ok %v, lines\n%s\nstderr with %q", ok, metrics, stderr, tt.ok, tt.want, tt.stderr)
			}
		})
	}
}

// TestStandinFlagsAsReal checks what README.md says of PtychoPINN's flags
// on the stand-in ptycho_train, whose parser and configuration merge are
// copied from PtychoPINN: a boolean flag given False is True, a flat YAML
// value loses to the flag's default, and a nested model: value wins over
// the command line.
func TestStandinFlagsAsReal(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ptycho.yaml")
	if err := os.WriteFile(cfg, []byte("nphotons: 1.0e+4\nmodel:\n  n_filters_scale: 4\n  object_big: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	standin, err := filepath.Abs("standin")
	if err != nil {
		t.Fatal(err)
	}
	// Without a training file main stops after printing the configuration.
	cmd := exec.Command(py, filepath.Join(standin, "bin", "ptycho_train"), "--config", cfg,
		"--probe_trainable", "False", "--n_filters_scale", "2", "--train_data_file", filepath.Join(dir, "none.npz"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, _ := cmd.CombinedOutput()
	for _, want := range []string{"probe_trainable=True", "nphotons=1000000000.0", "n_filters_scale=4", "object_big=False"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("configuration without %s:\n%s", want, out)
		}
	}
	// --N's choices are numbers and its type str: every value is refused.
	cmd = exec.Command(py, filepath.Join(standin, "bin", "ptycho_train"), "--N", "128")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "invalid choice: '128'") {
		t.Errorf("--N 128: %v\n%s", err, out)
	}
}
