package plots

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// featureStudy is a study that exercises what issue 12 found broken:
// lam is swept by both models over different values (pinn 1e-6 … 1, in a
// shuffled order; baseline 0 and 1e-3), test_mse is declared (minimised,
// never negative, with a unit) and has neighbouring cells at 8.1e-4,
// 1.2e-3 and 1.25e-3, wnorm is undeclared, some cells diverged (every or
// some value non-finite), and every cell has a training-loss curve.
func featureStudy() Data {
	zero := 0.0
	d := Data{
		Params: []Param{
			// Levels in sweep order: pinn's first, then baseline's.
			{Name: "lam", Labels: []string{"1e-4", "1e-6", "1", "0.01", "0", "1e-3"}, Numeric: []float64{1e-4, 1e-6, 1, 0.01, 0, 1e-3}, Scale: ScaleLinear,
				ModelLevels: map[string][]int{"pinn": {0, 1, 2, 3}, "baseline": {4, 5}}},
			{Name: "n", Labels: []string{"64", "16", "32"}, Numeric: []float64{64, 16, 32}, Scale: ScaleLinear},
			{Name: "seed_set", Labels: []string{"a", "b", "c", "d", "e"}, Scale: ScaleCategorical},
		},
		Models:  []string{"pinn", "baseline"},
		Metrics: []string{"test_mse", "wnorm", "wall_s"},
		Info: map[string]MetricInfo{
			"test_mse": {Label: "test MSE", Unit: "px²", Direction: Minimize, Lower: &zero, Declared: true},
			"wall_s":   {Label: "wall time", Unit: "s", Direction: Minimize, Lower: &zero},
			"loss":     {Label: "training loss", Direction: Minimize, Declared: true},
		},
		Curves: map[string][]Curve{},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, model := range d.Models {
		for _, lam := range d.Params[0].ModelLevels[model] {
			for n := range 3 {
				for s := range 5 {
					mse := 1e-3 * (1 + 0.3*float64(n)) * (1 + 0.4*math.Abs(float64(lam)-1.3))
					c := Cell{Model: model, Levels: []int{lam, n, s}, Metrics: map[string]Stat{
						"test_mse": {Mean: mse, Std: mse * 1.5, SEM: mse / 2, CI95: mse, N: 3},
						"wnorm":    {Mean: 10 + float64(lam), Std: 1, N: 3},
						"wall_s":   {Mean: 50 + 10*float64(n) + r.Float64(), Std: 2, N: 3},
					}}
					switch {
					case model == "pinn" && lam == 2 && n == 0:
						c.Metrics["test_mse"] = Stat{Mean: math.NaN(), Std: math.NaN(), N: 0, NonFinite: 3} // diverged
					case model == "pinn" && lam == 0 && n == 2:
						st := c.Metrics["test_mse"]
						st.NonFinite = 1
						c.Metrics["test_mse"] = st
					}
					d.Cells = append(d.Cells, c)
					cv := Curve{Model: model, Cell: len(d.Cells) - 1}
					final := mse * 50 * (1 + r.Float64())
					for step := range 20 {
						v := final * (1 + 9*math.Exp(-float64(step)/4))
						cv.Steps = append(cv.Steps, float64(step*10))
						cv.Mean = append(cv.Mean, v)
						cv.Lo = append(cv.Lo, v*0.9)
						cv.Hi = append(cv.Hi, v*1.1)
					}
					d.Curves["loss"] = append(d.Curves["loss"], cv)
				}
			}
		}
	}
	// Three neighbouring cells that print alike at two digits.
	for i, v := range []float64{8.1e-4, 1.2e-3, 1.25e-3} {
		for k := range d.Cells {
			c := d.Cells[k]
			if c.Model == "baseline" && c.Levels[0] == 5 && c.Levels[1] == i {
				c.Metrics["test_mse"] = Stat{Mean: v, Std: v, N: 3}
			}
		}
	}
	return d
}

// svgOf renders f as SVG text.
func svgOf(t *testing.T, f *Figure) string {
	t.Helper()
	var b bytes.Buffer
	if err := f.Render(&b, "svg"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// texts returns the strings an SVG draws, in order.
func texts(svg string) []string {
	var out []string
	for _, part := range strings.Split(svg, "<text")[1:] {
		start := strings.Index(part, ">")
		end := strings.Index(part, "</text>")
		if start >= 0 && end > start {
			out = append(out, part[start+1:end])
		}
	}
	return out
}

func TestFormatterTellsNeighboursApart(t *testing.T) {
	tests := []struct {
		vals []float64
		want []string
	}{
		{[]float64{8.1e-4, 1.2e-3, 1.25e-3}, []string{"0.00081", "0.00120", "0.00125"}},
		{[]float64{8.1e-5, 1.2e-4, 1.25e-4}, []string{"8.1e-5", "1.2e-4", "1.25e-4"}},
		{[]float64{0.91234, 0.91236, 0.5}, []string{"0.9123", "0.9124", "0.5000"}},
		{[]float64{31.2, 30.9, 28}, []string{"31.2", "30.9", "28.0"}},
		{[]float64{1e6, 1.5e6, 1.0000001e6}, []string{"1e6", "1.5e6", "1e6"}}, // equal in six digits
		{[]float64{-0.0001, 0.02}, []string{"-0.0001", "0.0200"}},
	}
	for _, tc := range tests {
		f := newFormatter(tc.vals)
		var got []string
		for _, v := range tc.vals {
			got = append(got, f.format(v))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("format(%v) = %q, want %q", tc.vals, got, tc.want)
		}
	}
}

func TestLogTickLabels(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{9e-6, 0.2, []string{"1e-5", "1e-4", "0.001", "0.01", "0.1"}},
		{50, 2e6, []string{"100", "1000", "10000", "1e5", "1e6"}},
		{0.15, 0.9, []string{"0.2", "0.5"}}, // under a decade: 2 and 5 labelled too
		{3e-5, 4e-4, []string{"5e-5", "1e-4", "2e-4"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("logTicks(%g, %g) = %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestNumericAxesInNumericOrder(t *testing.T) {
	d := featureStudy()
	label := func(pi int, ls []int) []string { return d.axisOf(pi, ls).labels() }
	for _, tc := range []struct {
		pi     int
		models []string
		want   []string
	}{
		{0, []string{"pinn"}, []string{"1e-6", "1e-4", "0.01", "1"}},
		{0, []string{"baseline"}, []string{"0", "1e-3"}},
		{0, []string{"pinn", "baseline"}, []string{"0", "1e-6", "1e-4", "1e-3", "0.01", "1"}},
		{1, []string{"pinn"}, []string{"16", "32", "64"}},
		{2, []string{"pinn"}, []string{"a", "b", "c", "d", "e"}}, // names keep their order
	} {
		if got := label(tc.pi, d.levels(tc.pi, tc.models...)); !slices.Equal(got, tc.want) {
			t.Errorf("levels(%s, %v) = %q, want %q", d.Params[tc.pi].Name, tc.models, got, tc.want)
		}
	}
}

func TestPerModelAxes(t *testing.T) {
	d := featureStudy()
	for _, tc := range []struct {
		model      string
		want, not  []string
		notRunNote bool
	}{
		{"baseline", []string{"0", "1e-3"}, []string{"1e-6", "1e-4", "0.01"}, false},
		{"pinn", []string{"1e-6", "1e-4", "0.01", "1"}, []string{"1e-3"}, false},
	} {
		svg := svgOf(t, must(t)(Heatmap(d, HeatmapSpec{X: "lam", Y: "n", Metric: "test_mse", Model: tc.model}, Options{})))
		ts := texts(svg)
		for _, w := range tc.want {
			if !slices.Contains(ts, w) {
				t.Errorf("%s heatmap lacks lam level %q: %q", tc.model, w, ts)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(ts, w) {
				t.Errorf("%s heatmap shows the other model's level %q", tc.model, w)
			}
		}
		if strings.Contains(svg, "not run") {
			t.Errorf("%s heatmap marks cells as not run", tc.model)
		}
	}
	// One line plot of both models: each line at its own model's values.
	xa := d.axisOf(0, d.levels(0, d.Models...))
	if got := xa.labels(); !slices.Equal(got, []string{"0", "1e-6", "1e-4", "1e-3", "0.01", "1"}) {
		t.Errorf("lines axis %q", got)
	}
	svg := svgOf(t, must(t)(Lines(d, LinesSpec{Param: "lam", Metric: "test_mse"}, Options{})))
	if !strings.Contains(svg, "test MSE (px²)") {
		t.Error("lines: y axis does not carry the declared label and unit")
	}
}

func TestHeatmapLabelsAndBest(t *testing.T) {
	d := featureStudy()
	ts := texts(svgOf(t, must(t)(Heatmap(d, HeatmapSpec{X: "lam", Y: "n", Metric: "test_mse", Model: "baseline"}, Options{Width: 7}))))
	for _, w := range []string{"0.00081", "0.00120", "0.00125", "outlined: best (lower is better)", "test MSE – baseline"} {
		if !slices.Contains(ts, w) && !slices.ContainsFunc(ts, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("heatmap lacks %q: %q", w, ts)
		}
	}
	// An undeclared metric gets no best: nothing says which end is good.
	ts = texts(svgOf(t, must(t)(Heatmap(d, HeatmapSpec{X: "lam", Y: "n", Metric: "wnorm", Model: "pinn"}, Options{}))))
	if !slices.ContainsFunc(ts, func(s string) bool { return strings.Contains(s, "no best marked: direction not declared") }) {
		t.Errorf("undeclared metric: %q", ts)
	}
}

func TestNonFiniteMarks(t *testing.T) {
	d := featureStudy()
	g := aggregate(d, "pinn", "test_mse", []int{1, 0}, [][]int{d.levels(1, "pinn"), d.levels(0, "pinn")}, MarginalMean, ErrorStd)
	// lam = 1 (position 3), n = 64 (position 2): every value diverged.
	if pt := g.at(2, 3); pt.state != stNonFinite || pt.nonFinite != 15 {
		t.Errorf("diverged cell: state %d, %d non-finite; want state %d, 15", pt.state, pt.nonFinite, stNonFinite)
	}
	// lam = 1e-4 (position 1), n = 32 (position 1): one value of five cells.
	if pt := g.at(1, 1); pt.state != stOK || pt.nonFinite != 5 {
		t.Errorf("partly diverged cell: state %d, %d non-finite; want ok, 5", pt.state, pt.nonFinite)
	}
	svg := svgOf(t, must(t)(Heatmap(d, HeatmapSpec{X: "lam", Y: "n", Metric: "test_mse", Model: "pinn"}, Options{Width: 7})))
	for _, w := range []string{"hatched: every value NaN or ±Inf", "black corner: some values NaN or ±Inf, left out of the mean"} {
		if !strings.Contains(svg, w) {
			t.Errorf("heatmap footnote lacks %q", w)
		}
	}
	if strings.Contains(svg, "every run failed") {
		t.Error("diverged cells drawn as failed")
	}
	// The subtitle wraps: its lines joined by spaces.
	sub := strings.Join(texts(svgOf(t, must(t)(Lines(d, LinesSpec{Param: "lam", Metric: "test_mse"}, Options{})))), " ")
	if w := "ringed: some values NaN or ±Inf"; !strings.Contains(sub, w) {
		t.Errorf("lines subtitle lacks %q: %s", w, sub)
	}
	one := Data{Params: []Param{{Name: "x", Labels: []string{"1", "2", "3"}, Numeric: []float64{1, 2, 3}, Scale: ScaleLinear}}, Metrics: []string{"m"},
		Cells: []Cell{{Levels: []int{0}, Metrics: map[string]Stat{"m": {Mean: 1, N: 2}}}, {Levels: []int{1}, Metrics: map[string]Stat{"m": {Mean: math.NaN(), NonFinite: 2}}},
			{Levels: []int{2}, Metrics: map[string]Stat{"m": {Mean: 2, N: 2}}}}}
	sub = strings.Join(texts(svgOf(t, must(t)(Lines(one, LinesSpec{Param: "x", Metric: "m"}, Options{})))), " ")
	if w := "1 points not drawn: every value NaN or ±Inf"; !strings.Contains(sub, w) {
		t.Errorf("lines subtitle lacks %q: %s", w, sub)
	}
}

func TestErrorBarsClippedAtBounds(t *testing.T) {
	zero, one := 0.0, 1.0
	se := series{y: []float64{0.1, 0.9}, err: []float64{0.5, 0.5}}
	d := Data{Info: map[string]MetricInfo{"mse": {Lower: &zero}, "acc": {Lower: &zero, Upper: &one}}}
	for _, tc := range []struct {
		metric         string
		lo0, hi0, hi1  float64
		clippedAtBound bool
	}{
		{"mse", 0, 0.6, 1.4, true},
		{"acc", 0, 0.6, 1, true},
		{"free", -0.4, 0.6, 1.4, false},
	} {
		s := se
		s.clip = func(lo, hi float64) (float64, float64, bool) { return d.clip(tc.metric, lo, hi) }
		lo0, hi0 := s.bounds(0)
		_, hi1 := s.bounds(1)
		if math.Abs(lo0-tc.lo0) > 1e-12 || math.Abs(hi0-tc.hi0) > 1e-12 || math.Abs(hi1-tc.hi1) > 1e-12 || s.clipped() != tc.clippedAtBound {
			t.Errorf("%s: bounds %g..%g, hi %g, clipped %v; want %g..%g, %g, %v", tc.metric, lo0, hi0, hi1, s.clipped(), tc.lo0, tc.hi0, tc.hi1, tc.clippedAtBound)
		}
	}
	// The MSE error bars of the feature study (std 1.5 × mean) would reach
	// below zero: the figure says they were cut.
	sub := strings.Join(texts(svgOf(t, must(t)(Lines(featureStudy(), LinesSpec{Param: "n", Metric: "test_mse"}, Options{})))), " ")
	if !strings.Contains(sub, "clipped at the declared bounds") {
		t.Error("lines subtitle does not say the bars were cut")
	}
}

func TestConvergenceHighlightsBestAndWorst(t *testing.T) {
	d := featureStudy()
	if n := len(d.Curves["loss"]); n != 90 {
		t.Fatalf("%d curves", n)
	}
	svg := svgOf(t, must(t)(Convergence(d, "loss", Options{})))
	ts := strings.Join(texts(svg), "\n")
	for _, w := range []string{"best: pinn,", "worst: pinn,", "best: baseline,", "worst: baseline,", "others (86)", "90 curves in grey"} {
		if !strings.Contains(ts, w) {
			t.Errorf("convergence figure lacks %q:\n%s", w, ts)
		}
	}
	if strings.Contains(ts, "coloured in order") {
		t.Error("convergence still colours curves in order")
	}
	// A metric without a direction: lowest and highest, not best and worst.
	delete(d.Info, "loss")
	ts = strings.Join(texts(svgOf(t, must(t)(Convergence(d, "loss", Options{})))), "\n")
	if !strings.Contains(ts, "lowest: ") || !strings.Contains(ts, "highest: ") || strings.Contains(ts, "best:") {
		t.Errorf("undeclared convergence legend:\n%s", ts)
	}
}

func TestUniqueFileNames(t *testing.T) {
	d := Data{Params: []Param{{Name: "x", Labels: []string{"1", "2"}, Numeric: []float64{1, 2}, Scale: ScaleLinear}},
		Metrics: []string{"train/loss", "train_loss", "train loss"}}
	for l := range 2 {
		d.Cells = append(d.Cells, Cell{Levels: []int{l}, Metrics: map[string]Stat{}})
	}
	for i := range d.Cells {
		for _, m := range d.Metrics {
			d.Cells[i].Metrics[m] = Stat{Mean: float64(i), N: 1}
		}
	}
	seen := map[string]string{}
	for _, m := range d.Metrics {
		f := must(t)(Lines(d, LinesSpec{Param: "x", Metric: m}, Options{}))
		if other, dup := seen[f.Name]; dup {
			t.Errorf("%q and %q both write %s", m, other, f.Name)
		}
		seen[f.Name] = m
		if strings.ContainsAny(f.Name, "/ ") {
			t.Errorf("file name %q", f.Name)
		}
	}
	if got := fileName("lines_x_train_loss"); got != "lines_x_train_loss" {
		t.Errorf("a clean name changed: %q", got)
	}
}

func TestSelectionAndKinds(t *testing.T) {
	d := featureStudy()
	drawn, left := Selection(d, Options{})
	if !slices.Equal(drawn, []string{"test_mse", "loss"}) || !slices.Equal(left, []string{"wnorm", "wall_s"}) {
		t.Errorf("declared selection: drawn %q, left %q", drawn, left)
	}
	drawn, _ = Selection(d, Options{Metrics: []string{"wnorm", "nope", "wnorm"}})
	if !slices.Equal(drawn, []string{"wnorm"}) {
		t.Errorf("chosen selection: %q", drawn)
	}
	// A hundred undeclared metrics: the first DefaultMetrics are drawn.
	many := Data{Params: d.Params[:1], Info: map[string]MetricInfo{}}
	for i := range 100 {
		many.Metrics = append(many.Metrics, fmt.Sprintf("m%03d", i))
	}
	drawn, left = Selection(many, Options{})
	if len(drawn) != DefaultMetrics || len(left) != 100-DefaultMetrics || drawn[0] != "m000" {
		t.Errorf("100 metrics: drew %d (%q…), left %d", len(drawn), drawn[0], len(left))
	}

	figs := must2(t)(Figures(d, Options{Kinds: []string{KindHeatmap, KindPareto}}))
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	want := []string{
		"heatmap_lam_vs_n_test_mse_pinn", "heatmap_lam_vs_n_test_mse_baseline",
		"heatmap_lam_vs_seed_set_test_mse_pinn", "heatmap_lam_vs_seed_set_test_mse_baseline",
		"heatmap_n_vs_seed_set_test_mse_pinn", "heatmap_n_vs_seed_set_test_mse_baseline",
		"pareto_wall_s_vs_test_mse",
	}
	if !slices.Equal(names, want) {
		t.Errorf("figures\n%q\nwant\n%q", names, want)
	}
	if _, err := Figures(d, Options{Kinds: []string{"heatmaps"}}); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestParetoUsesDeclaredDirections(t *testing.T) {
	d := featureStudy()
	// The default pair: cost against the declared metric, never the
	// undeclared wnorm.
	if got := d.paretoPairs(Options{}, []string{"wnorm", "test_mse"}); !slices.Equal(got, [][2]string{{"wall_s", "test_mse"}}) {
		t.Errorf("default Pareto pairs %q", got)
	}
	if got := d.paretoPairs(Options{}, []string{"wnorm"}); got != nil {
		t.Errorf("Pareto pairs of an undeclared metric: %q", got)
	}
	ts := strings.Join(texts(svgOf(t, must(t)(Pareto(d, "wall_s", "test_mse", Options{})))), "\n")
	for _, w := range []string{"Pareto front: test MSE vs wall time", "wall time (s), lower is better", "test MSE (px²), lower is better"} {
		if !strings.Contains(ts, w) {
			t.Errorf("Pareto lacks %q:\n%s", w, ts)
		}
	}
	ts = strings.Join(texts(svgOf(t, must(t)(Pareto(d, "wall_s", "wnorm", Options{})))), "\n")
	if !strings.Contains(ts, "no Pareto front: declare the direction of both metrics") {
		t.Errorf("Pareto of an undeclared metric:\n%s", ts)
	}
}

func must2(t *testing.T) func([]*Figure, error) []*Figure {
	return func(fs []*Figure, err error) []*Figure {
		t.Helper()
		if err != nil && !errors.Is(err, ErrNoData) {
			t.Fatal(err)
		}
		return fs
	}
}
