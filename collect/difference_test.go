package collect

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/plots"
)

// diffStudy has two parameters both models sweep and one, tv, only the
// pinn sweeps: a model-difference heatmap over n and m.
const diffStudy = `name = "diff"
trials = 2
seed = 1
[run]
command = "true"
[params.n]
values = [1, 2]
[params.m]
values = [1, 2]
[models.pinn.params.tv]
values = [1, 2]
[models.baseline]
[collect]
maximize = ["psnr"]
`

// TestDifferenceFigureIsBestVsBest: at its best tv the pinn beats the
// baseline everywhere, averaged over tv it loses everywhere. The
// difference heatmap shows the reports' best-vs-best differences, setting
// by setting; a cell where the baseline reports no psnr has none; a metric
// without a direction (wnorm) shows the reports' pooled differences, and
// each subtitle says which.
func TestDifferenceFigureIsBestVsBest(t *testing.T) {
	r, _ := analysed(t, diffStudy, func(e manifest.Entry) map[string]float64 {
		n, m := float64(e.Params["n"].(int64)), float64(e.Params["m"].(int64))
		if e.Model == "baseline" {
			if n == 2 && m == 2 {
				return map[string]float64{"wnorm": 2}
			}
			return map[string]float64{"psnr": 30 + m, "wnorm": 2}
		}
		if e.Params["tv"] == int64(2) {
			return map[string]float64{"psnr": 10, "wnorm": 1}
		}
		return map[string]float64{"psnr": 31 + 2*n, "wnorm": 5 + n}
	})
	d := r.a.data
	d.Comparisons = figureComparisons(r.g, r.a)
	spec := plots.DifferenceSpec{X: "n", Y: "m", Metric: "psnr", A: "pinn", B: "baseline"}
	nan := math.NaN()
	tests := []struct {
		metric   string
		best     bool
		want     [][]float64 // [m][n]
		subtitle string
		settings int
	}{
		{"psnr", true, [][]float64{{2, 4}, {1, nan}}, "each model at its best tv per cell", 3},
		{"wnorm", false, [][]float64{{1.5, 2}, {1.5, 2}}, "pinn pooled over its tv", 4},
	}
	ni, mi := paramAt(t, r.g, "n"), paramAt(t, r.g, "m")
	for _, tt := range tests {
		spec.Metric = tt.metric
		v, err := plots.ModelDifferenceValues(d, spec, plots.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !sameGrid(v.Diff, tt.want) {
			t.Errorf("%s: figure shows %v, want %v", tt.metric, v.Diff, tt.want)
		}
		// Each number is the one the reports state, and every one they
		// state is drawn.
		compared := 0
		for _, c := range r.a.comparisons {
			if c.metric != tt.metric || c.best != tt.best {
				continue
			}
			compared++
			cell := r.g.cells[cellAt(t, r.g, c.setting)]
			i, j := cell.levels[ni], cell.levels[mi]
			if got := v.Diff[j][i]; math.Abs(got-c.diff) > 1e-12 {
				t.Errorf("%s at %s: figure %v, report %v", tt.metric, c.setting, got, c.diff)
			}
		}
		if compared != tt.settings {
			t.Errorf("%s: %d %s comparisons, want %d", tt.metric, compared, kind(tt.best), tt.settings)
		}
		f, err := plots.ModelDifference(d, spec, plots.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var svg bytes.Buffer
		if err := f.Render(&svg, "svg"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(svg.String(), tt.subtitle) {
			t.Errorf("%s: the figure does not say %q", tt.metric, tt.subtitle)
		}
	}
	// Averaged over tv, as the figure was drawn before, the sign flips:
	// the figure would contradict the reports.
	d.Comparisons = nil
	spec.Metric = "psnr"
	v, err := plots.ModelDifferenceValues(d, spec, plots.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameGrid(v.Diff, [][]float64{{-9.5, -8.5}, {-10.5, nan}}) {
		t.Errorf("averaged over tv: %v", v.Diff)
	}
}

// cellAt returns the index of the first grid cell at setting (as
// settingCells names it) of the parameters the pinn and the baseline share.
func cellAt(t *testing.T, g *grid, setting string) int {
	t.Helper()
	cells, _ := settingCells(g, sharedParams(g, "pinn", "baseline"))
	if len(cells[setting]) == 0 {
		t.Fatalf("no cell at %q", setting)
	}
	return cells[setting][0]
}

// paramAt returns the index of parameter name in g.params.
func paramAt(t *testing.T, g *grid, name string) int {
	t.Helper()
	for i, col := range g.params {
		if col.Name == name {
			return i
		}
	}
	t.Fatalf("no parameter %s", name)
	return -1
}

// sameGrid compares grids of numbers, NaN equal to NaN.
func sameGrid(got, want [][]float64) bool {
	if len(got) != len(want) {
		return false
	}
	for j := range want {
		if len(got[j]) != len(want[j]) {
			return false
		}
		for i, w := range want[j] {
			if g := got[j][i]; math.IsNaN(w) != math.IsNaN(g) || !math.IsNaN(w) && math.Abs(g-w) > 1e-12 {
				return false
			}
		}
	}
	return true
}
