package main

import (
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/plan"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

// TestStudiesPlan checks that the example studies load and plan to the
// sizes their comments and READMEs state, as `gridstudy plan --dry-run`
// would.
func TestStudiesPlan(t *testing.T) {
	tests := []struct {
		path        string
		cells, runs int
	}{
		{"study.toml", 150, 450},
		{"../ptychopinn/study.toml", 60, 300},
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
		})
	}
}

// TestStudyParamsReachProgram checks that every parameter of the example
// study arrives in an environment variable that photon_dose reads.
func TestStudyParamsReachProgram(t *testing.T) {
	st, err := study.Load("study.toml", study.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	// With every variable set, parseParams reads them all.
	read := map[string]bool{}
	if _, err := parseParams(newFlagSet(), []string{"--model", "pinn"}, func(k string) string {
		read[k] = true
		return "1"
	}); err != nil {
		t.Fatal(err)
	}
	for _, prm := range st.AllParams() {
		if name := "GRIDSTUDY_PARAM_" + strings.ToUpper(prm.Name); !read[name] {
			t.Errorf("parameter %s arrives in %s, which photon_dose does not read", prm.Name, name)
		}
	}
	if !read["GRIDSTUDY_SEED"] {
		t.Error("photon_dose does not read GRIDSTUDY_SEED")
	}
}
