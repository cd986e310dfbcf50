package plots

import (
	"bytes"
	"errors"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.svg")

// fontData matches the base64 of a font embedded in an SVG.
var fontData = regexp.MustCompile(`charset=utf-8;base64,[A-Za-z0-9+/=]+`)

// maxSVG is the most an SVG figure may weigh: an embedded font alone was
// about 560 KB.
const maxSVG = 100 << 10

// golden renders f as SVG and compares it with testdata/name.golden.svg.
// The SVG references its font, with metric-compatible fallbacks, rather
// than embedding it.
func golden(t *testing.T, f *Figure, name string) {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Render(&buf, "svg"); err != nil {
		t.Fatal(err)
	}
	if fontData.Match(buf.Bytes()) {
		t.Fatal("SVG embeds a font")
	}
	if !bytes.Contains(buf.Bytes(), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")) || bytes.Contains(buf.Bytes(), []byte("font-family:Liberation Sans;")) {
		t.Error("SVG text does not name Liberation Sans with its fallbacks")
	}
	if buf.Len() > maxSVG {
		t.Errorf("SVG is %d KB, want under %d KB", buf.Len()>>10, maxSVG>>10)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".golden.svg")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update after checking the figure)", name, path)
	}
}

// must returns a function that fails t on a figure's error.
func must(t *testing.T) func(*Figure, error) *Figure {
	return func(f *Figure, err error) *Figure {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
}

func TestGoldenHeatmap(t *testing.T) {
	d := synthStudy()
	golden(t, must(t)(Heatmap(d, HeatmapSpec{X: "nphotons", Y: "n_images", Metric: "psnr", Model: "baseline"}, Options{})), "heatmap")
}

func TestGoldenFacetedHeatmap(t *testing.T) {
	d := synthStudy()
	golden(t, must(t)(Heatmap(d, HeatmapSpec{X: "nphotons", Y: "n_images", Facet: "tv_weight", Metric: "mae", Model: "pinn"}, Options{ShowStd: true})), "heatmap_faceted")
}

func TestGoldenLines(t *testing.T) {
	d := synthStudy()
	golden(t, must(t)(Lines(d, LinesSpec{Param: "nphotons", Metric: "psnr"}, Options{Error: ErrorCI95})), "lines")
}

func TestGoldenPareto(t *testing.T) {
	d := synthStudy()
	golden(t, must(t)(Pareto(d, "wall_s", "psnr", Options{})), "pareto")
}

// TestDeterministic renders every format twice: SVG and PDF bytes must
// match, PDFs embed their fonts and carry the pinned date, PNGs are 300 dpi.
func TestDeterministic(t *testing.T) {
	d := synthStudy()
	f := must(t)(Heatmap(d, HeatmapSpec{X: "nphotons", Y: "n_images", Metric: "psnr", Model: "pinn"}, Options{Width: 3.5}))
	for _, format := range []string{"svg", "pdf", "png"} {
		var a, b bytes.Buffer
		if err := f.Render(&a, format); err != nil {
			t.Fatal(err)
		}
		if err := f.Render(&b, format); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s output differs between two renders", format)
		}
		switch format {
		case "pdf":
			if !bytes.Contains(a.Bytes(), []byte("/FontFile2")) {
				t.Error("PDF does not embed its font")
			}
			if os.Getenv("SOURCE_DATE_EPOCH") == "" && !bytes.Contains(a.Bytes(), []byte("D:20000101000000")) {
				t.Error("PDF date not pinned")
			}
		case "png":
			img, err := png.Decode(&a)
			if err != nil {
				t.Fatal(err)
			}
			if w := img.Bounds().Dx(); w != int(3.5*DPI) {
				t.Errorf("PNG is %d px wide, want %d (3.5 in at %d dpi)", w, int(3.5*DPI), DPI)
			}
		}
	}
}

func TestDrawAllFiles(t *testing.T) {
	dir := t.TempDir()
	files, err := DrawAll(synthStudy(), Options{Dir: dir, Formats: []string{"svg"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"heatmap_nphotons_vs_n_images_psnr_pinn.svg",
		"heatmap_nphotons_vs_n_images_psnr_baseline.svg",
		"heatmap_nphotons_vs_tv_weight_psnr_pinn.svg",
		"lines_tv_weight_mae.svg",
		"sensitivity_psnr.svg",
		"pareto_wall_s_vs_psnr.svg",
		"convergence_psnr.svg",
		"difference_pinn_minus_baseline_psnr.svg",
	}
	got := map[string]bool{}
	for _, f := range files {
		got[filepath.Base(f)] = true
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %s", w)
		}
	}
	// tv_weight does not apply to baseline: no such heatmap.
	if got["heatmap_nphotons_vs_tv_weight_psnr_baseline.svg"] {
		t.Error("drew a tv_weight heatmap for baseline")
	}
}

// awkward studies that must draw without error or panic.
func awkward() map[string]Data {
	one := func(name string, n int) Param {
		p := Param{Name: name, Scale: ScaleLinear}
		for i := range n {
			p.Labels = append(p.Labels, string(rune('a'+i%26))+strings.Repeat("x", i/26))
			p.Numeric = append(p.Numeric, float64(i))
		}
		return p
	}
	cell := func(v float64, levels ...int) Cell {
		return Cell{Levels: levels, Metrics: map[string]Stat{"m": {Mean: v, Std: 0.1}, "t": {Mean: 1 + v*v}}}
	}
	base := func(params ...Param) Data {
		return Data{Params: params, Metrics: []string{"m", "t"}, Info: map[string]MetricInfo{"m": {Direction: Maximize}, "t": {Direction: Minimize}}}
	}
	out := map[string]Data{}

	d := base(one("x", 1), one("y", 1))
	d.Cells = []Cell{cell(3, 0, 0)}
	out["one cell"] = d

	d = base(one("x", 3), one("y", 2))
	for i := range 3 {
		for j := range 2 {
			d.Cells = append(d.Cells, cell(0.5, i, j))
		}
	}
	out["constant metric"] = d

	d = base(one("x", 3), one("y", 3))
	for i := range 3 {
		for j := range 3 {
			v := float64(i + j)
			if i == j {
				v = math.NaN()
			}
			d.Cells = append(d.Cells, cell(v, i, j))
		}
	}
	d.Cells[1].Metrics["m"] = Stat{Mean: math.Inf(1), Std: math.NaN()}
	out["NaN values"] = d

	d = base(one("x", 4))
	for i := range 4 {
		d.Cells = append(d.Cells, cell(float64(i), i))
	}
	out["single parameter"] = d

	d = base(one("x", 4), one("y", 1), one("z", 3))
	for i := range 4 {
		for k := range 3 {
			d.Cells = append(d.Cells, cell(float64(i*k), i, 0, k))
		}
	}
	out["one-value parameter"] = d

	d = base(one("x", 300), one("y", 120))
	for i := range 300 {
		for j := range 120 {
			d.Cells = append(d.Cells, cell(math.Sin(float64(i)/20)+float64(j)/50, i, j))
		}
	}
	out["hundreds of levels"] = d

	d = base(one("x", 2), one("y", 2))
	for i := range 2 {
		for j := range 2 {
			d.Cells = append(d.Cells, Cell{Levels: []int{i, j}, Failed: true})
		}
	}
	out["all failed"] = d

	d = base(one("x", 2), one("y", 2))
	out["no cells"] = d

	d = base()
	out["no parameters"] = d

	d = base(one("x", 3), one("y", 3))
	d.Cells = []Cell{cell(1, 0, 0), cell(-2, 2, 2)}
	d.Curves = map[string][]Curve{"m": {{Cell: -1, Steps: []float64{0, 1, 2}, Mean: []float64{math.NaN(), 1, math.Inf(1)}}, {Cell: 0, Steps: nil, Mean: nil}}}
	out["sparse grid and odd curves"] = d
	return out
}

func TestAwkwardData(t *testing.T) {
	for name, d := range awkward() {
		t.Run(name, func(t *testing.T) {
			formats := []string{"svg", "png", "pdf"}
			if name == "hundreds of levels" {
				formats = []string{"png"}
			}
			if _, err := DrawAll(d, Options{Dir: t.TempDir(), Formats: formats, ShowStd: true}); err != nil {
				t.Fatal(err)
			}
			// Heatmaps are drawn for one-level parameters too when asked.
			if len(d.Params) >= 2 && name != "hundreds of levels" {
				f, err := Heatmap(d, HeatmapSpec{X: d.Params[0].Name, Y: d.Params[1].Name, Metric: "m"}, Options{})
				if errors.Is(err, ErrNoData) {
					return
				}
				if err := must(t)(f, err).Render(&bytes.Buffer{}, "pdf"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestThinnedLabels checks that the labels of a 300-level axis are thinned
// so that neighbouring labels do not overlap.
func TestThinnedLabels(t *testing.T) {
	d := awkward()["hundreds of levels"]
	f := must(t)(Heatmap(d, HeatmapSpec{X: "x", Y: "y", Metric: "m"}, Options{}))
	var buf bytes.Buffer
	if err := f.Render(&buf, "svg"); err != nil {
		t.Fatal(err)
	}
	th := newTheme(3.5 * 72)
	sty := th.text(th.tick, 0, 0)
	p := th.newPlot()
	p.X.Min, p.X.Max = -0.5, 299.5
	lt := newLevelTicks(d.axisOf(0, d.levels(0)), indexPositions(300))
	lt.fit(sty, 200, true, p.X.Norm)
	if lt.stride < 2 {
		t.Fatalf("stride %d: labels not thinned", lt.stride)
	}
	var w float64
	for _, l := range lt.labels {
		w = math.Max(w, float64(sty.Width(l)))
	}
	if gap := float64(lt.stride) / 300 * 200; gap < w {
		t.Errorf("labels %.1fpt apart but %.1fpt wide", gap, w)
	}
	if n := len(lt.Ticks(-0.5, 299.5)); n > 300/lt.stride+1 {
		t.Errorf("%d ticks for 300 levels at stride %d", n, lt.stride)
	}
}

func TestGoodIsYellow(t *testing.T) {
	yellow := viridisAt(1)
	if got := sequential([]float64{1, 2}, true).at(2); got != yellow {
		t.Errorf("maximised best = %v, want %v", got, yellow)
	}
	if got := sequential([]float64{1, 2}, false).at(1); got != yellow {
		t.Errorf("minimised best = %v, want %v", got, yellow)
	}
	// Constant data: a valid range, mid colour.
	s := sequential([]float64{5, 5, math.NaN()}, true)
	if !(s.max > s.min) {
		t.Errorf("degenerate range %v..%v", s.min, s.max)
	}
	// Diverging: zero is the centre, "A better" is red either way.
	dv := diverging([]float64{-1, 3}, true)
	if dv.min != -3 || dv.max != 3 {
		t.Errorf("diverging range %v..%v, want -3..3", dv.min, dv.max)
	}
	if c := dv.at(3); !(c.R > c.B) {
		t.Errorf("maximised A-better colour %v is not red", c)
	}
	if c := diverging([]float64{-1, 3}, false).at(-3); !(c.R > c.B) {
		t.Errorf("minimised A-better colour %v is not red", c)
	}
}

func TestTextContrast(t *testing.T) {
	if textOn(viridisAt(0)) != white {
		t.Error("dark purple should carry white text")
	}
	if textOn(viridisAt(1)) != black {
		t.Error("yellow should carry black text")
	}
}

func TestParetoFront(t *testing.T) {
	pts := []scatterPoint{{x: 1, y: 1}, {x: 2, y: 3}, {x: 3, y: 2}, {x: 0.5, y: 0.2}, {x: 4, y: 4}}
	// Minimise x, maximise y: (0.5,0.2), (1,1), (2,3), (4,4) are on the front.
	front := paretoFront(pts, false, true)
	var xs []float64
	for _, p := range front {
		xs = append(xs, p.x)
	}
	want := []float64{0.5, 1, 2, 4}
	if len(xs) != len(want) {
		t.Fatalf("front %v, want x = %v", xs, want)
	}
	for i := range want {
		if xs[i] != want[i] {
			t.Fatalf("front %v, want x = %v", xs, want)
		}
	}
}

func TestMainEffects(t *testing.T) {
	// v = 2·a + b: a's main effect explains 4/5 of the variance, b's 1/5.
	d := Data{Params: []Param{{Name: "a", Labels: []string{"0", "1"}}, {Name: "b", Labels: []string{"0", "1"}}}, Metrics: []string{"m"}}
	for a := range 2 {
		for b := range 2 {
			d.Cells = append(d.Cells, Cell{Levels: []int{a, b}, Metrics: map[string]Stat{"m": {Mean: float64(2*a + b)}}})
		}
	}
	sh := MainEffects(d, "m", "")
	if math.Abs(sh["a"]-0.8) > 1e-12 || math.Abs(sh["b"]-0.2) > 1e-12 {
		t.Errorf("shares %v, want a 0.8, b 0.2", sh)
	}
}

func TestMarginal(t *testing.T) {
	d := synthStudy()
	mean := aggregate(d, "pinn", "psnr", []int{0, 1}, allLevels(d, []int{0, 1}), MarginalMean, ErrorStd)
	best := aggregate(d, "pinn", "psnr", []int{0, 1}, allLevels(d, []int{0, 1}), MarginalBest, ErrorStd)
	if len(mean.hidden) != 1 || mean.hidden[0] != "tv_weight" {
		t.Errorf("hidden %v, want [tv_weight]", mean.hidden)
	}
	for k := range mean.points {
		if mean.points[k].state == stOK && best.points[k].val < mean.points[k].val {
			t.Errorf("point %d: best %v below mean %v", k, best.points[k].val, mean.points[k].val)
		}
	}
}

func TestErrors(t *testing.T) {
	d := synthStudy()
	if _, err := Heatmap(d, HeatmapSpec{X: "nphotons", Y: "nope", Metric: "psnr", Model: "pinn"}, Options{}); err == nil {
		t.Error("unknown parameter accepted")
	}
	if _, err := Heatmap(d, HeatmapSpec{X: "nphotons", Y: "tv_weight", Metric: "psnr", Model: "baseline"}, Options{}); !errors.Is(err, ErrNoData) {
		t.Errorf("tv_weight heatmap of baseline: %v, want ErrNoData", err)
	}
	bad := d
	bad.Cells = append([]Cell{{Model: "pinn", Levels: []int{0}}}, d.Cells...)
	if _, err := DrawAll(bad, Options{Dir: t.TempDir()}); err == nil {
		t.Error("malformed cell accepted")
	}
	if err := must(t)(Lines(d, LinesSpec{Param: "nphotons", Metric: "psnr"}, Options{})).Render(&bytes.Buffer{}, "jpeg"); err == nil {
		t.Error("unknown format accepted")
	}
}
