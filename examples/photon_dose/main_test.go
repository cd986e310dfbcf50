package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// env returns a getenv over the given variables.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseParams(t *testing.T) {
	gridstudyEnv := map[string]string{
		"GRIDSTUDY_PARAM_NPHOTONS":  "1e4",
		"GRIDSTUDY_PARAM_N_IMAGES":  "512",
		"GRIDSTUDY_PARAM_TV_WEIGHT": "0.001",
		"GRIDSTUDY_SEED":            "-7",
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    params
		wantErr string // substring of the error; "" for success
	}{
		{"env", []string{"--model", "pinn"}, gridstudyEnv,
			params{model: "pinn", nphotons: 1e4, nImages: 512, tvWeight: 1e-3, seed: math.MaxUint64 - 6}, ""},
		{"flags win over env", []string{"--model=pinn", "--nphotons", "100", "--n-images", "4096", "--tv-weight", "0", "--seed", "3"}, gridstudyEnv,
			params{model: "pinn", nphotons: 100, nImages: 4096, seed: 3}, ""},
		{"baseline needs no tv_weight", []string{"--model", "baseline", "--nphotons", "1e6", "--n-images", "2.56e2"}, nil,
			params{model: "baseline", nphotons: 1e6, nImages: 256}, ""},
		{"baseline ignores a bad tv_weight", []string{"--model", "baseline", "--nphotons", "1", "--n-images", "1", "--tv-weight", "x"}, nil,
			params{model: "baseline", nphotons: 1, nImages: 1}, ""},
		{"uint64 seed", []string{"--model", "baseline", "--nphotons", "1", "--n-images", "1", "--seed", "18446744073709551615"}, nil,
			params{model: "baseline", nphotons: 1, nImages: 1, seed: math.MaxUint64}, ""},
		{"no model", nil, gridstudyEnv, params{}, "--model is required"},
		{"unknown model", []string{"--model", "unet"}, gridstudyEnv, params{}, `"unet"`},
		{"unknown flag", []string{"--model", "pinn", "--photons", "1"}, gridstudyEnv, params{}, "unknown flag"},
		{"stray argument", []string{"--model", "pinn", "extra"}, gridstudyEnv, params{}, `unexpected argument "extra"`},
		{"no nphotons", []string{"--model", "baseline", "--n-images", "1"}, nil, params{}, "GRIDSTUDY_PARAM_NPHOTONS is not set"},
		{"zero nphotons", []string{"--model", "baseline", "--nphotons", "0", "--n-images", "1"}, nil, params{}, "above 0"},
		{"NaN nphotons", []string{"--model", "baseline", "--nphotons", "NaN", "--n-images", "1"}, nil, params{}, "finite"},
		{"huge nphotons", []string{"--model", "baseline", "--nphotons", "1e11", "--n-images", "1"}, nil, params{}, "above the supported"},
		{"text n_images", []string{"--model", "baseline", "--nphotons", "1", "--n-images", "many"}, nil, params{}, "finite number"},
		{"fractional n_images", []string{"--model", "baseline", "--nphotons", "1", "--n-images", "1.5"}, nil, params{}, "whole number"},
		{"zero n_images", []string{"--model", "baseline", "--nphotons", "1", "--n-images", "0"}, nil, params{}, "whole number"},
		{"pinn without tv_weight", []string{"--model", "pinn", "--nphotons", "1", "--n-images", "1"}, nil, params{}, "GRIDSTUDY_PARAM_TV_WEIGHT is not set"},
		{"negative tv_weight", []string{"--model", "pinn", "--nphotons", "1", "--n-images", "1", "--tv-weight", "-1"}, nil, params{}, "at least 0"},
		{"bad seed", []string{"--model", "baseline", "--nphotons", "1", "--n-images", "1", "--seed", "1.5"}, nil, params{}, "integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseParams(newFlagSet(), tt.args, env(tt.env))
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
	tests := []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"ok", []string{"--model", "baseline", "--nphotons", "10", "--n-images", "4"}, 0, ""},
		{"help", []string{"--help"}, 0, ""},
		{"unknown flag", []string{"--nphotns", "1"}, 2, "unknown flag: --nphotns"},
		{"bad usage", []string{"--model", "baseline", "--nphotons", "-1", "--n-images", "4"}, 2, "photon_dose: --nphotons=-1"},
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
func readLines(t *testing.T, b []byte) []map[string]float64 {
	t.Helper()
	var out []map[string]float64
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]float64
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
// with every metric finite.
func TestOutput(t *testing.T) {
	tests := []struct {
		name    string
		p       params
		history int
	}{
		{"baseline", params{model: "baseline", nphotons: 1e4, nImages: 256, seed: 1}, 0},
		{"pinn", params{model: "pinn", nphotons: 1e4, nImages: 256, tvWeight: 1e-3, seed: 1}, outerSteps * cgSteps},
		{"pinn without a prior", params{model: "pinn", nphotons: 1e3, nImages: 256, seed: 2}, outerSteps * cgSteps},
		{"one frame", params{model: "pinn", nphotons: 1e2, nImages: 1, tvWeight: 1e-2, seed: 3}, -1},
		{"one frame baseline", params{model: "baseline", nphotons: 1e2, nImages: 1, seed: 3}, 0},
		{"almost no photons", params{model: "pinn", nphotons: 1e-9, nImages: 16, tvWeight: 1, seed: 4}, -1},
		{"highest dose", params{model: "pinn", nphotons: maxPhotons, nImages: 64, tvWeight: 1e-5, seed: 5}, -1},
		{"huge prior", params{model: "pinn", nphotons: 1e4, nImages: 64, tvWeight: 1e6, seed: 6}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
				if v, ok := final[k]; !ok || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("final %s = %v (present %v)", k, v, ok)
				}
			}
			if len(history) > 0 {
				// The history's PSNR is the metrics package's PSNR.
				if last := history[len(history)-1]["psnr"]; math.Abs(last-final["psnr"]) > 1e-9 {
					t.Errorf("last history psnr %v, final psnr %v", last, final["psnr"])
				}
			}
		})
	}
}

// TestMetricsFile checks that the lines are appended to $GRIDSTUDY_METRICS
// and that a trial is reproducible from its seed.
func TestMetricsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	if err := os.WriteFile(path, []byte(`{"earlier": 1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := env(map[string]string{
		"GRIDSTUDY_METRICS":        path,
		"GRIDSTUDY_PARAM_NPHOTONS": "1000",
		"GRIDSTUDY_PARAM_N_IMAGES": "256",
		"GRIDSTUDY_SEED":           "11",
	})
	var stdout, stderr bytes.Buffer
	for range 2 {
		if got := mainErr([]string{"--model", "baseline"}, e, &stdout, &stderr); got != 0 {
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
	if len(lines) != 3 || lines[0]["earlier"] != 1 {
		t.Fatalf("lines %v, want the earlier line and two runs", lines)
	}
	for _, k := range finalMetrics {
		if lines[1][k] != lines[2][k] {
			t.Errorf("%s differs between runs of one seed: %v, %v", k, lines[1][k], lines[2][k])
		}
	}

	bad := env(map[string]string{"GRIDSTUDY_METRICS": filepath.Join(path, "not-a-dir", "m.jsonl"),
		"GRIDSTUDY_PARAM_NPHOTONS": "1", "GRIDSTUDY_PARAM_N_IMAGES": "1"})
	stderr.Reset()
	if got := mainErr([]string{"--model", "baseline"}, bad, &stdout, &stderr); got != 1 || !strings.Contains(stderr.String(), "metrics file") {
		t.Errorf("unwritable metrics file: status %d, stderr %q", got, stderr.String())
	}
}
