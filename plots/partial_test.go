package plots

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// partialStudy is synthStudy with a metric "gain" that only pinn's runs
// report (as a stage after the runs attaches it), and pinn's runs at the
// largest tv_weight do not report it either.
func partialStudy() Data {
	d := synthStudy()
	d.Metrics = append(d.Metrics, "gain")
	d.Info["gain"] = MetricInfo{Direction: Maximize, Declared: true}
	d.Info["psnr"] = MetricInfo{Direction: Maximize, Declared: true}
	for i, c := range d.Cells {
		if c.Model == "pinn" && !c.Failed && c.Levels[2] != 4 {
			d.Cells[i].Metrics["gain"] = Stat{Mean: float64(c.Levels[0] - c.Levels[2]), Std: 0.1, N: 5}
		}
	}
	return d
}

func TestUnreported(t *testing.T) {
	ok := func(m string, metrics ...string) Cell {
		c := Cell{Model: m, Levels: []int{0}, Metrics: map[string]Stat{}}
		for _, name := range metrics {
			c.Metrics[name] = Stat{Mean: 1, N: 1}
		}
		return c
	}
	failed := Cell{Model: "b", Levels: []int{0}, Failed: true}
	for _, tc := range []struct {
		name  string
		cells []Cell
		want  bool
	}{
		{"reported by every run", []Cell{ok("b", "m"), ok("b", "m")}, false},
		{"reported by one run", []Cell{ok("b"), ok("b", "m")}, false},
		{"runs ok, never reported", []Cell{ok("b"), ok("b")}, true},
		{"only another model reports it", []Cell{ok("a", "m"), ok("b")}, true},
		{"ok and failed runs, never reported", []Cell{ok("b"), failed}, true},
		{"every run failed", []Cell{failed, failed}, false},
		{"no cell of the model", []Cell{ok("a", "m")}, false},
	} {
		d := Data{Params: []Param{{Name: "x", Labels: []string{"1"}}}, Models: []string{"a", "b"}, Metrics: []string{"m"}, Cells: tc.cells}
		if got := d.unreported("b", "m"); got != tc.want {
			t.Errorf("%s: unreported = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestFiguresOfPartialMetric: a metric one model never reports gets no
// figure of that model and no difference figure; the other model's
// figures and the other metrics' differences are still drawn.
func TestFiguresOfPartialMetric(t *testing.T) {
	d := partialStudy()
	var names []string
	for _, f := range must2(t)(Figures(d, Options{})) {
		names = append(names, f.Name)
	}
	for _, want := range []string{"heatmap_nphotons_vs_n_images_gain_pinn", "heatmap_nphotons_vs_tv_weight_gain_pinn",
		"lines_nphotons_gain", "heatmap_nphotons_vs_n_images_psnr_baseline", "difference_pinn_minus_baseline_psnr"} {
		if !slices.Contains(names, want) {
			t.Errorf("no figure %s in %v", want, names)
		}
	}
	for _, n := range names {
		if strings.HasSuffix(n, "_gain_baseline") || strings.HasPrefix(n, "difference_") && strings.HasSuffix(n, "_gain") {
			t.Errorf("figure %s drawn for a model that never reports gain", n)
		}
	}
	if _, err := Heatmap(d, HeatmapSpec{X: "nphotons", Y: "n_images", Metric: "gain", Model: "baseline"}, Options{}); err != ErrNoData {
		t.Errorf("baseline heatmap of gain: err %v, want ErrNoData", err)
	}
	if _, err := ModelDifference(d, DifferenceSpec{X: "nphotons", Y: "n_images", Metric: "gain", A: "pinn", B: "baseline"}, Options{}); err != ErrNoData {
		t.Errorf("difference of gain: err %v, want ErrNoData", err)
	}
	// The lines of gain have pinn's series only.
	legend := texts(svgOf(t, must(t)(Lines(d, LinesSpec{Param: "nphotons", Metric: "gain"}, Options{}))))
	if !slices.Contains(legend, "pinn") || slices.Contains(legend, "baseline") {
		t.Errorf("lines of gain: texts %v, want pinn's series only", legend)
	}
	dir := t.TempDir()
	files, err := SurfaceAll(d, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, filepath.Join(dir, "surface_nphotons_n_images_gain_pinn.html")) {
		t.Errorf("no pinn surface of gain in %v", files)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_gain_baseline.html") {
			t.Errorf("surface %s drawn for a model that never reports gain", f)
		}
	}
}

// TestNoValueCells: cells whose runs ended ok without reporting the
// metric are "no value", drawn blank with a dash and explained as such,
// never as failed; cells whose every run failed stay failed.
func TestNoValueCells(t *testing.T) {
	d := partialStudy()
	// nphotons × tv_weight of pinn: tv_weight = 1e-1 (position 4) never
	// reports gain. At nphotons = 1e2 it also holds a failed cell; the
	// group's other runs are ok, so it is still "no value", not failed.
	g := aggregate(d, "pinn", "gain", []int{2, 0}, [][]int{indexes(5), indexes(5)}, MarginalMean, ErrorStd)
	for pi := range 5 {
		if pt := g.at(4, pi); pt.state != stNoValue {
			t.Errorf("tv_weight=1e-1, nphotons level %d: state %d, want no value (%d)", pi, pt.state, stNoValue)
		}
		if pt := g.at(2, pi); pt.state != stOK {
			t.Errorf("tv_weight=1e-3, nphotons level %d: state %d, want ok", pi, pt.state)
		}
	}
	svg := strings.Join(texts(svgOf(t, must(t)(Heatmap(d, HeatmapSpec{X: "nphotons", Y: "tv_weight", Metric: "gain", Model: "pinn"}, Options{})))), " ")
	if !strings.Contains(svg, "– : no value reported") {
		t.Errorf("heatmap footnote lacks the no-value note: %s", svg)
	}
	if strings.Contains(svg, "every run failed") {
		t.Errorf("cells without a reported value called failed: %s", svg)
	}

	// Every run of a cell failed: grey ×, "every run failed".
	failed := d
	failed.Cells = slices.Clone(d.Cells)
	for i, c := range failed.Cells {
		if c.Model == "pinn" && c.Levels[0] == 0 && c.Levels[2] == 0 {
			failed.Cells[i] = Cell{Model: c.Model, Levels: c.Levels, Failed: true}
		}
	}
	svg = strings.Join(texts(svgOf(t, must(t)(Heatmap(failed, HeatmapSpec{X: "nphotons", Y: "tv_weight", Metric: "gain", Model: "pinn"}, Options{})))), " ")
	for _, w := range []string{"grey × : every run failed", "– : no value reported"} {
		if !strings.Contains(svg, w) {
			t.Errorf("heatmap footnote lacks %q: %s", w, svg)
		}
	}

	// A model whose every run failed keeps its figure: it says so.
	allFailed := d
	allFailed.Cells = slices.Clone(d.Cells)
	for i, c := range allFailed.Cells {
		if c.Model == "baseline" {
			allFailed.Cells[i] = Cell{Model: c.Model, Levels: c.Levels, Failed: true}
		}
	}
	svg = strings.Join(texts(svgOf(t, must(t)(Heatmap(allFailed, HeatmapSpec{X: "nphotons", Y: "n_images", Metric: "gain", Model: "baseline"}, Options{})))), " ")
	if !strings.Contains(svg, "every run failed") || strings.Contains(svg, "no value reported") {
		t.Errorf("all-failed model: footnote %s", svg)
	}

	// The surface leaves such points out of the mesh and says why.
	page := surfaceData(t, mustPage(t)(Surface(d, "nphotons", "tv_weight", "gain", "pinn", Options{})))
	nx := len(page.X.Pos)
	for pi := range nx {
		if k := 4*nx + pi; page.State[k] != stMissing || page.Note[k] != "no value reported" {
			t.Errorf("surface point %d: state %d, note %q; want a gap, no value reported", k, page.State[k], page.Note[k])
		}
	}
}

func mustPage(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestSimplify(t *testing.T) {
	pt := func(x, y float64) vg.Point { return vg.Point{X: vg.Length(x), Y: vg.Length(y)} }
	for _, tc := range []struct {
		name     string
		in, want []vg.Point
	}{
		{"two points", []vg.Point{pt(0, 0), pt(1, 1)}, []vg.Point{pt(0, 0), pt(1, 1)}},
		{"collinear", []vg.Point{pt(0, 0), pt(1, 1), pt(2, 2), pt(3, 3)}, []vg.Point{pt(0, 0), pt(3, 3)}},
		{"within tolerance", []vg.Point{pt(0, 0), pt(1, 0.05), pt(2, -0.05), pt(3, 0)}, []vg.Point{pt(0, 0), pt(3, 0)}},
		{"corner kept", []vg.Point{pt(0, 0), pt(1, 0), pt(2, 0), pt(2, 1), pt(2, 2)}, []vg.Point{pt(0, 0), pt(2, 0), pt(2, 2)}},
		{"spike kept", []vg.Point{pt(0, 0), pt(1, 0), pt(1.5, 0.3), pt(2, 0), pt(3, 0)}, []vg.Point{pt(0, 0), pt(1, 0), pt(1.5, 0.3), pt(2, 0), pt(3, 0)}},
	} {
		if got := simplify(slices.Clone(tc.in), 0.1); !slices.Equal(got, tc.want) {
			t.Errorf("%s: simplify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestConvergenceSVGSize: 125 smooth curves of 400 steps stay a small
// SVG, as their lines are simplified.
func TestConvergenceSVGSize(t *testing.T) {
	d := bigStudy(5, 5, 5)
	d.Curves = map[string][]Curve{}
	for i, c := range d.Cells {
		if c.Model != d.Models[0] {
			continue
		}
		cv := Curve{Model: c.Model, Cell: i}
		for s := range 400 {
			v := 10 + float64(i%25) - 8*math.Exp(-float64(s)/(40+float64(i)))
			cv.Steps = append(cv.Steps, float64(s))
			cv.Mean = append(cv.Mean, v)
			cv.Lo, cv.Hi = append(cv.Lo, v-0.5), append(cv.Hi, v+0.5)
		}
		d.Curves["psnr"] = append(d.Curves["psnr"], cv)
	}
	if n := len(d.Curves["psnr"]); n != 125 {
		t.Fatalf("%d curves, want 125", n)
	}
	if n := len(svgOf(t, must(t)(Convergence(d, "psnr", Options{})))); n > 60<<10 {
		t.Errorf("convergence SVG of 125 curves is %d KB, want under 60 KB", n>>10)
	}
}

// TestSensitivityOfPartialMetric: the sensitivity chart of a metric one
// model never reports names the other model only.
func TestSensitivityOfPartialMetric(t *testing.T) {
	got := texts(svgOf(t, must(t)(Sensitivity(partialStudy(), "gain", Options{}))))
	if !slices.Contains(got, "pinn") || slices.Contains(got, "baseline") {
		t.Errorf("sensitivity of gain: texts %v, want pinn's bars only", got)
	}
	if got := texts(svgOf(t, must(t)(Sensitivity(partialStudy(), "psnr", Options{})))); !slices.Contains(got, "baseline") {
		t.Errorf("sensitivity of psnr: texts %v, want both models", got)
	}
}
