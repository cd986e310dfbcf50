package main

import (
	"maps"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

// TestStudiesPlan checks that the example studies load and plan to the
// sizes their comments and READMEs state, stage tasks included, as
// `gridstudy plan --dry-run` would.
func TestStudiesPlan(t *testing.T) {
	tests := []struct {
		path        string
		cells, runs int
		tasks       map[string]int // stage → tasks
	}{
		{"study.toml", 150, 450, map[string]int{"simulate": 25, "compare": 375}},
		{"../ptychopinn/study.toml", 24, 120, map[string]int{"simulate": 3, "compare": 60}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			st, err := study.Load(tt.path, study.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.New(st, t.TempDir(), slurm.Limits{MaxArraySize: slurm.DefaultMaxArraySize})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Cells) != tt.cells || len(p.Runs) != tt.runs {
				t.Errorf("%d cells, %d runs; want %d, %d", len(p.Cells), len(p.Runs), tt.cells, tt.runs)
			}
			got := map[string]int{}
			for _, s := range p.Stages.Stages {
				got[s.Name] = len(s.Tasks)
			}
			if !maps.Equal(got, tt.tasks) {
				t.Errorf("stage tasks %v, want %v", got, tt.tasks)
			}
		})
	}
}

// TestStudyParamsReachProgram checks that every parameter of the example
// study reaches photon_dose: through the simulate stage's dataset or in an
// environment variable that a run reads.
func TestStudyParamsReachProgram(t *testing.T) {
	st, err := study.Load("study.toml", study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	// With every variable set, parseParams reads them all.
	read := map[string]bool{}
	fs := newFlagSet()
	if err := fs.Parse([]string{"--model", "pinn", "--data", "d.gob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := parseParams(fs, func(k string) string {
		read[k] = true
		return "1"
	}); err != nil {
		t.Fatal(err)
	}
	// The simulate stage passes its key's parameters as flags: the dataset
	// holds them.
	sim := st.Stage("simulate")
	if sim == nil {
		t.Fatal("no simulate stage")
	}
	args := strings.Join(sim.Args, " ")
	for _, prm := range st.AllParams() {
		if sim.HasKey(prm.Name) {
			if !strings.Contains(args, "{{.Params."+prm.Name+"}}") {
				t.Errorf("parameter %s is in the simulate key but not in its args %q", prm.Name, args)
			}
			continue
		}
		if name := "GRIDSTUDY_PARAM_" + strings.ToUpper(prm.Name); !read[name] {
			t.Errorf("parameter %s arrives in %s, which photon_dose does not read", prm.Name, name)
		}
	}
	if !read["GRIDSTUDY_TRIAL"] {
		t.Error("photon_dose does not read GRIDSTUDY_TRIAL")
	}
}
