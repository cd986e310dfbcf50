package plots

import (
	"math"
	"strings"
	"testing"
)

// TestModelDifferenceDrawsComparisons: with Data.Comparisons the
// difference heatmap shows them as given, negated for the models the
// other way round; a cell both models have values in but no comparison
// is not filled in, and cells never run stay marked so. Two comparisons in
// one cell (a shared parameter off the axes that varies) are an error, as
// are comparisons that do not fit the parameters.
func TestModelDifferenceDrawsComparisons(t *testing.T) {
	d := synthStudy()
	want := func(pi, ni int) float64 { return float64(10*pi+ni) - 20 }
	for pi := range 5 {
		for ni := range 5 {
			if pi == 2 && ni == 2 {
				continue // both have values; no comparison given
			}
			d.Comparisons = append(d.Comparisons, Comparison{A: "pinn", B: "baseline", Metric: "psnr", Levels: []int{pi, ni, -1}, Diff: want(pi, ni), Best: true, CellA: -1, CellB: -1})
		}
	}
	spec := DifferenceSpec{X: "nphotons", Y: "n_images", Metric: "psnr", A: "pinn", B: "baseline"}
	for _, sign := range []float64{1, -1} {
		v, err := ModelDifferenceValues(d, spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for ni, row := range v.Diff {
			for pi, got := range row {
				w := sign * want(pi, ni)
				if pi == 4 && ni == 4 || pi == 2 && ni == 2 {
					w = math.NaN() // baseline never run; no comparison
				}
				if math.IsNaN(w) != math.IsNaN(got) || !math.IsNaN(w) && got != w {
					t.Errorf("%s − %s at nphotons %s, n_images %s: %v, want %v", spec.A, spec.B, v.X[pi], v.Y[ni], got, w)
				}
			}
		}
		spec.A, spec.B = spec.B, spec.A
	}
	f, err := ModelDifference(d, spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	svg := svgOf(t, f)
	for _, s := range []string{"each model at its best tv_weight per cell", "light grey / : not run"} {
		if !strings.Contains(svg, s) {
			t.Errorf("difference figure lacks %q", s)
		}
	}

	twice := d
	twice.Comparisons = append(d.Comparisons[:len(d.Comparisons):len(d.Comparisons)],
		Comparison{A: "pinn", B: "baseline", Metric: "psnr", Levels: []int{0, 0, 1}, Best: true, CellA: -1, CellB: -1})
	twice.Comparisons[0].Levels = []int{0, 0, 0}
	if _, err := ModelDifference(twice, spec, Options{}); err == nil || !strings.Contains(err.Error(), "also share tv_weight") {
		t.Errorf("two comparisons in a cell: err %v", err)
	}
	bad := d
	bad.Comparisons = []Comparison{{A: "pinn", B: "baseline", Metric: "psnr", Levels: []int{0, 0}, CellA: -1, CellB: -1}}
	if _, err := ModelDifference(bad, spec, Options{}); err == nil {
		t.Error("a comparison with two levels for three parameters is accepted")
	}
}
