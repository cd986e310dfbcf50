package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// env returns a getenv over the given variables.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// simulateTo writes a dataset with photon_dose simulate and returns its path.
func simulateTo(t testing.TB, nphotons, nImages string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dataset.gob")
	var stderr bytes.Buffer
	if code := mainErr([]string{"simulate", "--nphotons", nphotons, "--n-images", nImages, "--out", path}, env(nil), io.Discard, &stderr); code != 0 {
		t.Fatalf("simulate: status %d: %s", code, stderr.String())
	}
	return path
}

func TestParseParams(t *testing.T) {
	gridstudyEnv := map[string]string{
		"GRIDSTUDY_PARAM_TV_WEIGHT": "0.001",
		"GRIDSTUDY_TRIAL":           "3",
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    params
		wantErr string // substring of the error; "" for success
	}{
		{"env", []string{"--model", "pinn", "--data", "d.gob"}, gridstudyEnv,
			params{model: "pinn", data: "d.gob", out: reconFile, tvWeight: 1e-3, trial: 3}, ""},
		{"flags win over env", []string{"--model=pinn", "--data", "d.gob", "--out", "r.gob", "--tv-weight", "0", "--trial", "7"}, gridstudyEnv,
			params{model: "pinn", data: "d.gob", out: "r.gob", trial: 7}, ""},
		{"trial defaults to 1", []string{"--model", "baseline", "--data", "d.gob"}, nil,
			params{model: "baseline", data: "d.gob", out: reconFile, trial: 1}, ""},
		{"baseline ignores a bad tv_weight", []string{"--model", "baseline", "--data", "d.gob", "--tv-weight", "x"}, nil,
			params{model: "baseline", data: "d.gob", out: reconFile, trial: 1}, ""},
		{"no model", []string{"--data", "d.gob"}, gridstudyEnv, params{}, "--model is required"},
		{"unknown model", []string{"--model", "unet", "--data", "d.gob"}, gridstudyEnv, params{}, `"unet"`},
		{"no data", []string{"--model", "pinn"}, gridstudyEnv, params{}, "--data is required"},
		{"empty out", []string{"--model", "pinn", "--data", "d.gob", "--out", ""}, gridstudyEnv, params{}, "--out must not be empty"},
		{"pinn without tv_weight", []string{"--model", "pinn", "--data", "d.gob"}, nil, params{}, "GRIDSTUDY_PARAM_TV_WEIGHT is not set"},
		{"negative tv_weight", []string{"--model", "pinn", "--data", "d.gob", "--tv-weight", "-1"}, nil, params{}, "at least 0"},
		{"bad trial", []string{"--model", "baseline", "--data", "d.gob", "--trial", "1.5"}, nil, params{}, "trial number"},
		{"bad trial in env", []string{"--model", "baseline", "--data", "d.gob"}, map[string]string{"GRIDSTUDY_TRIAL": "-1"}, params{}, "GRIDSTUDY_TRIAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlagSet()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := parseParams(fs, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	data := simulateTo(t, "10", "4")
	out := filepath.Join(t.TempDir(), "r.gob")
	tests := []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"ok", []string{"--model", "baseline", "--data", data, "--out", out}, 0, ""},
		{"help", []string{"--help"}, 0, ""},
		{"simulate help", []string{"simulate", "--help"}, 0, ""},
		{"compare help", []string{"compare", "--help"}, 0, ""},
		{"unknown flag", []string{"--nphotons", "1"}, 2, "unknown flag: --nphotons"},
		{"stray argument", []string{"--model", "pinn", "extra"}, 2, `unexpected argument "extra"`},
		{"missing data", []string{"--model", "baseline", "--data", data + ".none", "--out", out}, 1, "--data: open"},
		{"not a dataset", []string{"--model", "baseline", "--data", "main.go", "--out", out}, 1, "--data: read main.go"},
		{"simulate: no out", []string{"simulate", "--nphotons", "1", "--n-images", "1"}, 2, "--out is required"},
		{"simulate: zero nphotons", []string{"simulate", "--nphotons", "0", "--n-images", "1", "--out", out}, 2, "above 0"},
		{"simulate: NaN nphotons", []string{"simulate", "--nphotons", "NaN", "--n-images", "1", "--out", out}, 2, "finite"},
		{"simulate: huge nphotons", []string{"simulate", "--nphotons", "1e11", "--n-images", "1", "--out", out}, 2, "above the supported"},
		{"simulate: no n_images", []string{"simulate", "--nphotons", "1", "--out", out}, 2, "--n-images is not set"},
		{"simulate: fractional n_images", []string{"simulate", "--nphotons", "1", "--n-images", "1.5", "--out", out}, 2, "whole number"},
		{"simulate: bad seed", []string{"simulate", "--nphotons", "1", "--n-images", "1", "--seed", "x", "--out", out}, 2, "integer"},
		{"simulate: unwritable", []string{"simulate", "--nphotons", "1", "--n-images", "1", "--out", filepath.Join(data, "x")}, 1, "dataset.gob"},
		{"compare: no baseline", []string{"compare", "--pinn", "."}, 2, "--baseline is required"},
		{"compare: no runs", []string{"compare", "--pinn", ".", "--baseline", "."}, 1, "recon.gob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := mainErr(tt.args, env(nil), &stdout, &stderr); got != tt.status {
				t.Errorf("status %d, want %d (stderr %q)", got, tt.status, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want %q in it", stderr.String(), tt.stderr)
			}
		})
	}
}

// readLines parses JSON lines.
func readLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

var finalMetrics = []string{"psnr", "ssim", "ms_ssim", "frc50", "mae", "mse"}

// TestOutput checks the protocol's lines for both models and for odd
// parameters: one history line per CG step for pinn, then one final line
// with every metric finite, and the image left for compare.
func TestOutput(t *testing.T) {
	tests := []struct {
		name              string
		nphotons, nImages string
		p                 params
		history           int
	}{
		{"baseline", "1e4", "256", params{model: "baseline", trial: 1}, 0},
		{"pinn", "1e4", "256", params{model: "pinn", tvWeight: 1e-3, trial: 1}, outerSteps * cgSteps},
		{"pinn without a prior", "1e3", "256", params{model: "pinn", trial: 2}, outerSteps * cgSteps},
		{"one frame", "1e2", "1", params{model: "pinn", tvWeight: 1e-2, trial: 3}, -1},
		{"one frame baseline", "1e2", "1", params{model: "baseline", trial: 3}, 0},
		{"almost no photons", "1e-9", "16", params{model: "pinn", tvWeight: 1, trial: 4}, -1},
		{"highest dose", "1e10", "64", params{model: "pinn", tvWeight: 1e-5, trial: 5}, -1},
		{"huge prior", "1e4", "64", params{model: "pinn", tvWeight: 1e6, trial: 6}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.data = simulateTo(t, tt.nphotons, tt.nImages)
			tt.p.out = filepath.Join(t.TempDir(), reconFile)
			var buf bytes.Buffer
			if err := run(tt.p, &buf); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, buf.Bytes())
			if len(lines) == 0 {
				t.Fatal("no output")
			}
			final := lines[len(lines)-1]
			history := lines[:len(lines)-1]
			if tt.history >= 0 && len(history) != tt.history {
				t.Errorf("%d history lines, want %d", len(history), tt.history)
			}
			for i, h := range history {
				if h["step"] != float64(i+1) {
					t.Fatalf("history line %d has step %v", i, h["step"])
				}
				if _, ok := h["loss"]; !ok {
					t.Fatalf("history line %d has no loss: %v", i, h)
				}
			}
			if _, ok := final["step"]; ok {
				t.Errorf("final line has a step: %v", final)
			}
			for _, k := range finalMetrics {
				if v, ok := final[k].(float64); !ok || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("final %s = %v (present %v)", k, v, ok)
				}
			}
			if len(history) > 0 {
				// The history's PSNR is the metrics package's PSNR.
				if last := history[len(history)-1]["psnr"].(float64); math.Abs(last-final["psnr"].(float64)) > 1e-9 {
					t.Errorf("last history psnr %v, final psnr %v", last, final["psnr"])
				}
			}
			r, err := readReconstruction(tt.p.out)
			if err != nil {
				t.Fatal(err)
			}
			if r.Model != tt.p.model || r.Trial != int(tt.p.trial) || r.Dataset != tt.p.data {
				t.Errorf("reconstruction of %s trial %d from %s; want %s, %d, %s", r.Model, r.Trial, r.Dataset, tt.p.model, tt.p.trial, tt.p.data)
			}
		})
	}
}

// TestMetricsFile checks that the lines are appended to $GRIDSTUDY_METRICS,
// that a trial is reproducible and that trials differ by their noise.
func TestMetricsFile(t *testing.T) {
	data := simulateTo(t, "1000", "256")
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	if err := os.WriteFile(path, []byte(`{"earlier": 1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	for _, trial := range []string{"11", "11", "12"} {
		e := env(map[string]string{"GRIDSTUDY_METRICS": path, "GRIDSTUDY_TRIAL": trial})
		if got := mainErr([]string{"--model", "baseline", "--data", data, "--out", filepath.Join(t.TempDir(), reconFile)}, e, &stdout, &stderr); got != 0 {
			t.Fatalf("status %d: %s", got, stderr.String())
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, b)
	if len(lines) != 4 || lines[0]["earlier"] != 1.0 {
		t.Fatalf("lines %v, want the earlier line and three runs", lines)
	}
	for _, k := range finalMetrics {
		if lines[1][k] != lines[2][k] {
			t.Errorf("%s differs between runs of one trial: %v, %v", k, lines[1][k], lines[2][k])
		}
	}
	if lines[1]["mse"] == lines[3]["mse"] {
		t.Errorf("trials 11 and 12 have the same mse %v: the noise does not depend on the trial", lines[1]["mse"])
	}

	bad := env(map[string]string{"GRIDSTUDY_METRICS": filepath.Join(path, "not-a-dir", "m.jsonl")})
	stderr.Reset()
	if got := mainErr([]string{"--model", "baseline", "--data", data}, bad, &stdout, &stderr); got != 1 || !strings.Contains(stderr.String(), "metrics file") {
		t.Errorf("unwritable metrics file: status %d, stderr %q", got, stderr.String())
	}
}

// TestSimulateSameObject checks that the settings of a study share their
// object (one seed) and differ in their scan, and that the file keeps them.
func TestSimulateSameObject(t *testing.T) {
	a, err := readDataset(simulateTo(t, "1e2", "256"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := readDataset(simulateTo(t, "1e6", "1024"))
	if err != nil {
		t.Fatal(err)
	}
	if a.NPhotons != 1e2 || a.NImages != 256 || b.NPhotons != 1e6 || b.NImages != 1024 {
		t.Errorf("settings %g/%d and %g/%d", a.NPhotons, a.NImages, b.NPhotons, b.NImages)
	}
	if !slices.Equal(a.Object, b.Object) {
		t.Error("two settings of one seed have different objects")
	}
	if slices.Equal(a.Exposure, b.Exposure) {
		t.Error("256 and 1024 frames give the same exposure")
	}
}

// runPair runs pinn and baseline on one dataset and returns their folders.
func runPair(t *testing.T, data string, pinnTrial, baselineTrial string, tv string) (string, string) {
	t.Helper()
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, args := range [][]string{
		{"--model", "pinn", "--tv-weight", tv, "--trial", pinnTrial},
		{"--model", "baseline", "--trial", baselineTrial},
	} {
		var stderr bytes.Buffer
		args = append(args, "--data", data, "--out", filepath.Join(dirs[i], reconFile))
		if code := mainErr(args, env(nil), io.Discard, &stderr); code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, stderr.String())
		}
	}
	return dirs[0], dirs[1]
}

// TestCompare checks compare's line: pinn's gain, which is the difference of
// the runs' own PSNRs, and its closer fraction, both on the side of the
// better model, and a refusal of runs that saw different noise or were
// swapped.
func TestCompare(t *testing.T) {
	data := simulateTo(t, "1e4", "1024")
	for _, tt := range []struct {
		tv       string
		pinnWins bool
	}{{"1e-3", true}, {"1e-1", false}} { // a tuned and a mistuned prior at 1e4 photons
		pinnDir, baseDir := runPair(t, data, "2", "2", tt.tv)
		metricsFile := filepath.Join(t.TempDir(), "m.jsonl")
		var stderr bytes.Buffer
		if code := mainErr([]string{"compare", "--pinn", pinnDir, "--baseline", baseDir}, env(map[string]string{"GRIDSTUDY_METRICS": metricsFile}), io.Discard, &stderr); code != 0 {
			t.Fatalf("compare: status %d: %s", code, stderr.String())
		}
		b, err := os.ReadFile(metricsFile)
		if err != nil {
			t.Fatal(err)
		}
		lines := readLines(t, b)
		if len(lines) != 1 || lines[0]["model"] != "pinn" {
			t.Fatalf("lines %v, want one line for pinn", lines)
		}
		gain := lines[0]["psnr_gain"].(float64)
		if (gain > 0) != tt.pinnWins {
			t.Errorf("tv_weight %s: pinn's gain %v dB, want positive %v", tt.tv, gain, tt.pinnWins)
		}
		if f := lines[0]["closer_frac"].(float64); f < 0 || f > 1 || (f > 0.5) != tt.pinnWins {
			t.Errorf("tv_weight %s: closer fraction %v", tt.tv, f)
		}
		// The gain is the difference of the runs' own PSNRs, up to the
		// float32 rounding of the saved images.
		own := map[string]float64{}
		for model, dir := range map[string]string{"pinn": pinnDir, "baseline": baseDir} {
			r, err := readReconstruction(filepath.Join(dir, reconFile))
			if err != nil {
				t.Fatal(err)
			}
			d, err := readDataset(data)
			if err != nil {
				t.Fatal(err)
			}
			own[model] = psnr(d.Object, r.Recon)
		}
		if want := own["pinn"] - own["baseline"]; math.Abs(gain-want) > 1e-9 {
			t.Errorf("gain %v, want %v", gain, want)
		}
	}

	pinnDir, baseDir := runPair(t, data, "1", "2", "1e-3")
	var stderr bytes.Buffer
	if code := mainErr([]string{"compare", "--pinn", pinnDir, "--baseline", baseDir}, env(nil), io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "different data") {
		t.Errorf("runs of two trials: status %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := mainErr([]string{"compare", "--pinn", baseDir, "--baseline", pinnDir}, env(nil), io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "holds a baseline run") {
		t.Errorf("swapped runs: status %d, stderr %q", code, stderr.String())
	}
}
