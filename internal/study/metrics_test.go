package study

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/command"
)

// TestMetricsPaths: [metrics] paths are templates; one that renders
// relative is made relative to the study file's folder, as base_config is,
// one that renders absolute is kept, and each run renders its own.
func TestMetricsPaths(t *testing.T) {
	base := t.TempDir()
	braces := filepath.Join(t.TempDir(), "a{{b")
	run := command.Data{Params: map[string]any{"ds": Value{Kind: String, S: "fly 64"}, "n": Value{Kind: Float, F: 1e6}},
		Model: "pinn", RunDir: "/s/experiments/c/trial_2", StudyDir: "/s"}
	for _, tc := range []struct {
		name, baseDir, truth, recon string
		wantTruth, wantRecon        string // the stored templates
		runTruth, runRecon          string // rendered for run
	}{
		{"relative truth, recon in the run folder", base, "data/truth.npy", "{{.RunDir}}/recon.npy",
			base + "/data/truth.npy", "{{.RunDir}}/recon.npy",
			base + "/data/truth.npy", "/s/experiments/c/trial_2/recon.npy"},
		{"templated relative truth, not shell-quoted", base, `data/{{index .Params "ds"}}/{{index .Params "n"}}.npy`, "{{.StudyDir}}/{{.Model}}.npy",
			base + `/data/{{index .Params "ds"}}/{{index .Params "n"}}.npy`, "{{.StudyDir}}/{{.Model}}.npy",
			base + "/data/fly 64/1e6.npy", "/s/pinn.npy"},
		{"absolute kept", base, "/d/t.npy", "/d/{{.Model}}/r.npy", "/d/t.npy", "/d/{{.Model}}/r.npy", "/d/t.npy", "/d/pinn/r.npy"},
		{"a folder whose name holds braces", braces, "t.npy", "{{.RunDir}}/r.npy",
			`{{"` + braces + `"}}/t.npy`, "{{.RunDir}}/r.npy", braces + "/t.npy", "/s/experiments/c/trial_2/r.npy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name = \"m\"\n[params.ds]\nvalues = [\"fly 64\"]\n[params.n]\nvalues = [1e6]\n[metrics]\ntruth = '" + tc.truth + "'\nrecon = '" + tc.recon + "'\n"
			st, err := Parse("s.toml", src, tc.baseDir, Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Metrics.Truth != tc.wantTruth || st.Metrics.Recon != tc.wantRecon {
				t.Errorf("stored truth %q, recon %q; want %q, %q", st.Metrics.Truth, st.Metrics.Recon, tc.wantTruth, tc.wantRecon)
			}
			truth, recon, err := st.MetricPaths(run)
			if err != nil || truth != tc.runTruth || recon != tc.runRecon {
				t.Errorf("MetricPaths = %q, %q, %v; want %q, %q", truth, recon, err, tc.runTruth, tc.runRecon)
			}
			// The study directory's study.toml reads back to the same paths.
			var b strings.Builder
			if err := st.Encode(&b, "test"); err != nil {
				t.Fatal(err)
			}
			again, err := Parse("sd/study.toml", b.String(), t.TempDir(), Overrides{})
			if err != nil || again.Metrics.Truth != st.Metrics.Truth || again.Metrics.Recon != st.Metrics.Recon {
				t.Errorf("re-read: %+v, %v; want %+v", again.Metrics, err, st.Metrics)
			}
		})
	}
}

// TestMetricPathsRelativeForOneRun: a path whose relativity depends on the
// values cannot be resolved for the run that renders it relative.
func TestMetricPathsRelativeForOneRun(t *testing.T) {
	st := mustParse(t, "name = \"m\"\n[params.d]\nvalues = [\"/abs\", \"rel\"]\n[metrics]\ntruth = '{{index .Params \"d\"}}/t.npy'\nrecon = '/r.npy'\n")
	_, _, err := st.MetricPaths(command.Data{Params: map[string]any{"d": "rel"}})
	if err == nil || !strings.Contains(err.Error(), `metrics.truth: `) || !strings.Contains(err.Error(), `relative path "rel/t.npy"`) {
		t.Errorf("err = %v, want the relative path named", err)
	}
}

// TestMetricsRefused: template errors, unknown fields and half a [metrics]
// table are refused at load with file, line and key.
func TestMetricsRefused(t *testing.T) {
	for _, tc := range []struct{ table, want string }{
		{"truth = '/t.npy'\nrecon = '{{.RunDri}}/r.npy'", "s.toml:8: metrics.recon: render metrics.recon: template: metrics.recon:1:2: executing \"metrics.recon\" at <.RunDri>: can't evaluate field RunDri"},
		{"truth = '{{.Params.nope}}/t.npy'\nrecon = '/r.npy'", `s.toml:7: metrics.truth: render metrics.truth: template: metrics.truth:1:9: executing "metrics.truth" at <.Params.nope>: map has no entry for key "nope"`},
		{"truth = '{{if}}'\nrecon = '/r.npy'", "s.toml:7: metrics.truth: template: metrics.truth:1: missing value for if"},
		{"truth = '{{\"\"}}'\nrecon = '/r.npy'", `s.toml:7: metrics.truth: "{{\"\"}}" renders as an empty path`},
		{"truth = '/t.npy'", "s.toml:7: metrics.truth: truth without recon"},
		{"recon = '/r.npy'", "s.toml:7: metrics.recon: recon without truth"},
		{"convention = 'standard'", "s.toml:7: metrics.convention: a convention without truth and recon computes nothing"},
	} {
		src := "name = \"m\"\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [1]\n[metrics]\n" + tc.table + "\n"
		_, err := Parse("s.toml", src, t.TempDir(), Overrides{})
		var inv *InvalidError
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("[metrics] %s: err = %v, want %q", tc.table, err, tc.want)
		}
	}
}

// TestCheckTruth: plan refuses a truth file that does not exist, for each
// cell, naming it with the key and line; one the run itself may write
// (a path of the run's own) is left to the run.
func TestCheckTruth(t *testing.T) {
	base := t.TempDir()
	if err := os.WriteFile(filepath.Join(base, "a.npy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(base, "dir.npy"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		truth string
		want  []string // the problems' messages; none: no error
	}{
		{"a.npy", nil},
		{"missing.npy", []string{"truth file " + base + "/missing.npy does not exist"}},
		{"{{index .Params \"ds\"}}.npy", []string{"truth file " + base + "/b.npy does not exist"}},
		{"dir.npy", []string{"truth file " + base + "/dir.npy is not a regular file"}},
		{"{{.RunDir}}/truth.npy", nil},
		{"{{.StudyDir}}/../a.npy", nil},
		{"{{.StudyDir}}/../b.npy", []string{"truth file " + base + "/b.npy does not exist"}},
		{"{{.StudyDir}}/{{.Seed}}.npy", nil},
	} {
		src := "name = \"m\"\n[params.ds]\nvalues = [\"a\", \"b\"]\n[params.x]\nvalues = [1, 2]\n[metrics]\ntruth = '" + tc.truth + "'\nrecon = '{{.RunDir}}/r.npy'\n"
		st, err := Parse(filepath.Join(base, "s.toml"), src, base, Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		cells, err := st.Cells()
		if err != nil {
			t.Fatal(err)
		}
		err = st.CheckTruth(filepath.Join(base, "sd"), cells)
		var inv *InvalidError
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("truth %s: %v, want no error", tc.truth, err)
			}
			continue
		}
		if !errors.As(err, &inv) || len(inv.Problems) != len(tc.want) {
			t.Errorf("truth %s: err = %v, want %d problems", tc.truth, err, len(tc.want))
			continue
		}
		for i, p := range inv.Problems {
			if p.Key != "metrics.truth" || p.Line != 7 || p.Msg != tc.want[i] || inv.File != filepath.Join(base, "s.toml") {
				t.Errorf("truth %s: problem %+v in %s, want metrics.truth at line 7: %q", tc.truth, p, inv.File, tc.want[i])
			}
		}
	}
}

// TestCheckTruthBounded: a template over a misspelt folder lists a few
// missing files, not one per cell.
func TestCheckTruthBounded(t *testing.T) {
	base := t.TempDir()
	st, err := Parse("s.toml", "name = \"m\"\n[params.x]\nrange = {start = 1, stop = 50, step = 1}\n[metrics]\ntruth = 'nope/{{index .Params \"x\"}}.npy'\nrecon = '/r.npy'\n", base, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := st.Cells()
	if err != nil {
		t.Fatal(err)
	}
	var inv *InvalidError
	if err := st.CheckTruth(base, cells); !errors.As(err, &inv) || len(inv.Problems) != maxTruthProblems+1 ||
		inv.Problems[maxTruthProblems].Msg != "and 40 more truth files like these" {
		t.Errorf("err = %v, want %d problems and a count of the rest", err, maxTruthProblems+1)
	}
}
