package plots

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// surfaceData extracts the JSON a surface page draws.
func surfaceData(t *testing.T, page []byte) surfacePage {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script id="surface-data" type="application/json">(.*?)</script>`).FindSubmatch(page)
	if m == nil {
		t.Fatal("page has no surface data")
	}
	var p struct {
		surfacePage
		Val []*float64 `json:"val"` // null for NaN
	}
	if err := json.Unmarshal(m[1], &p); err != nil {
		t.Fatal(err)
	}
	p.surfacePage.Val = make([]jsonFloat, len(p.Val))
	for i, v := range p.Val {
		p.surfacePage.Val[i] = jsonFloat(math.NaN())
		if v != nil {
			p.surfacePage.Val[i] = jsonFloat(*v)
		}
	}
	return p.surfacePage
}

// selfContained fails t when page could load anything from elsewhere.
func selfContained(t *testing.T, page []byte) {
	t.Helper()
	s := string(page)
	for _, bad := range []string{"http://", "https://", "//cdn", "src=", "href=", "@import", "url(", "fetch(", "XMLHttpRequest", "import(", "<link", "<iframe", "<img"} {
		if strings.Contains(s, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if n := strings.Count(s, "<script"); n != 2 {
		t.Errorf("page has %d script elements, want the data and the inline script", n)
	}
}

func TestSurface(t *testing.T) {
	d := synthStudy()
	page, err := Surface(d, "nphotons", "n_images", "psnr", "baseline", Options{})
	if err != nil {
		t.Fatal(err)
	}
	selfContained(t, page)
	again, err := Surface(d, "nphotons", "n_images", "psnr", "baseline", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, again) {
		t.Error("the same data gave different pages")
	}
	if !bytes.Contains(page, []byte("<title>psnr – baseline</title>")) {
		t.Error("page has no title")
	}
	p := surfaceData(t, page)
	if !slices.Equal(p.X.Labels, []string{"1e2", "1e3", "1e4", "1e5", "1e6"}) || !slices.Equal(p.Y.Labels, []string{"256", "512", "1024", "2048", "4096"}) {
		t.Errorf("labels %v, %v", p.X.Labels, p.Y.Labels)
	}
	// Log axes: evenly spaced levels from -1 to 1.
	for i, v := range p.X.Pos {
		if want := -1 + 0.5*float64(i); math.Abs(v-want) > 1e-12 {
			t.Errorf("x position %d = %g, want %g", i, v, want)
		}
	}
	// Every value of the grid is in the page, the cell never run missing.
	for _, c := range d.Cells {
		if c.Model != "baseline" {
			continue
		}
		k := c.Levels[1]*5 + c.Levels[0]
		if float64(p.Val[k]) != c.Metrics["psnr"].Mean || p.State[k] != stOK || !strings.HasPrefix(p.Note[k], fmtOf(p, c.Metrics["psnr"].Mean)) {
			t.Errorf("point %d: %v %d %q, want %g", k, p.Val[k], p.State[k], p.Note[k], c.Metrics["psnr"].Mean)
		}
	}
	if p.State[24] != stMissing || !math.IsNaN(float64(p.Val[24])) {
		t.Errorf("never-run point: state %d value %v", p.State[24], p.Val[24])
	}
	if p.Best < 0 || p.State[p.Best] != stOK {
		t.Fatalf("best = %d", p.Best)
	}
	for k := range p.Val {
		if p.State[k] == stOK && float64(p.Val[k]) > float64(p.Val[p.Best]) {
			t.Errorf("point %d beats the best (psnr is maximised)", k)
		}
	}
	// psnr is maximised: the colour map runs dark to yellow.
	if !strings.HasPrefix(p.Colors, "440154") || !strings.HasSuffix(p.Colors, "fde725") {
		t.Errorf("colours run %s…%s", p.Colors[:6], p.Colors[len(p.Colors)-6:])
	}
}

// fmtOf formats v as the page does.
func fmtOf(p surfacePage, v float64) string {
	var vals []float64
	for _, x := range p.Val {
		vals = append(vals, float64(x))
	}
	return newFormatter(vals).format(v)
}

func TestSurfaceMarginalisesAndReverses(t *testing.T) {
	d := synthStudy()
	page, err := Surface(d, "nphotons", "n_images", "mae", "pinn", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("mean over tv_weight")) {
		t.Error("subtitle does not name the marginalised parameter")
	}
	p := surfaceData(t, page)
	if !strings.HasPrefix(p.Colors, "fde725") {
		t.Error("a metric to minimise should start yellow")
	}
	// Failed pinn cells are averaged over with the rest: no grid point is
	// all failed, so every point has a value.
	for k, s := range p.State {
		if s != stOK {
			t.Errorf("point %d in state %d", k, s)
		}
	}
	best, err := Surface(d, "nphotons", "n_images", "mae", "pinn", Options{Marginal: MarginalBest})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(best, []byte("best over tv_weight")) {
		t.Error("MarginalBest is not named")
	}
}

func TestSurfaceUnsortedAndLinear(t *testing.T) {
	d := Data{
		Params: []Param{
			{Name: "lr", Labels: []string{"1e-2", "1e-4", "1e-3"}, Numeric: []float64{1e-2, 1e-4, 1e-3}, Scale: ScaleLog},
			{Name: "depth", Labels: []string{"2", "4", "10"}, Numeric: []float64{2, 4, 10}, Scale: ScaleLinear},
		},
		Metrics: []string{"loss"},
	}
	for i := range 3 {
		for j := range 3 {
			d.Cells = append(d.Cells, Cell{Levels: []int{i, j}, Metrics: map[string]Stat{"loss": {Mean: float64(10*i + j)}}})
		}
	}
	page, err := Surface(d, "lr", "depth", "loss", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := surfaceData(t, page)
	if !slices.Equal(p.X.Labels, []string{"1e-4", "1e-3", "1e-2"}) {
		t.Errorf("x levels not sorted by value: %v", p.X.Labels)
	}
	if !slices.Equal(p.Y.Pos, []float64{-1, -0.5, 1}) {
		t.Errorf("linear positions %v, want by value", p.Y.Pos)
	}
	// Point (x = 1e-4, y = 10) is cell lr level 1, depth level 2.
	if v := float64(p.Val[2*3+0]); v != 12 {
		t.Errorf("value at (1e-4, 10) = %g, want 12", v)
	}
	if strings.Contains(string(page), "±") {
		t.Error("a value without spread is printed with ±")
	}
}

func TestSurfaceAwkward(t *testing.T) {
	for name, d := range awkward() {
		files, err := SurfaceAll(d, Options{Dir: t.TempDir()})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, f := range files {
			page, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			selfContained(t, page)
		}
		// Two surfaces (metrics m and t) wherever two parameters are swept.
		want := map[string]int{"constant metric": 2, "NaN values": 2, "hundreds of levels": 2, "one-value parameter": 2, "sparse grid and odd curves": 2}[name]
		if len(files) != want {
			t.Errorf("%s: %d surfaces, want %d", name, len(files), want)
		}
	}
	aw := awkward()

	// One value on an axis: no surface by default, but drawn when asked.
	page, err := Surface(aw["one-value parameter"], "x", "y", "m", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := surfaceData(t, page); len(p.Y.Pos) != 1 || p.Y.Pos[0] != 0 || len(p.X.Pos) != 4 {
		t.Errorf("one-value axis: %v × %v", p.X.Pos, p.Y.Pos)
	}

	page, err = Surface(aw["constant metric"], "x", "y", "m", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := surfaceData(t, page); !(p.ZMin < 0.5 && p.ZMax > 0.5) || p.Best != -1 || !bytes.Contains(page, []byte("constant: 0.50")) {
		t.Errorf("constant metric: z %g..%g best %d", p.ZMin, p.ZMax, p.Best)
	}

	page, err = Surface(aw["NaN values"], "x", "y", "m", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := surfaceData(t, page)
	for k := 0; k < 9; k += 4 { // the diagonal is NaN
		if p.State[k] != stFailed || p.Val[k] == p.Val[k] {
			t.Errorf("NaN point %d: state %d value %v", k, p.State[k], p.Val[k])
		}
	}
	if !bytes.Contains(page, []byte("null")) || !bytes.Contains(page, []byte("every run failed")) {
		t.Error("NaN points are not written as null and marked failed")
	}

	if _, err := Surface(aw["all failed"], "x", "y", "m", "", Options{}); !errors.Is(err, ErrNoData) {
		t.Errorf("all failed: %v, want ErrNoData", err)
	}
	if files, err := SurfaceAll(aw["single parameter"], Options{Dir: t.TempDir()}); err != nil || len(files) != 0 {
		t.Errorf("single parameter: %v, %v", files, err)
	}
}

func TestSurfaceErrors(t *testing.T) {
	d := synthStudy()
	cat := d
	cat.Params = slices.Clone(d.Params)
	cat.Params[1].Scale = ScaleCategorical
	for name, err := range map[string]error{
		"same parameter": errOf(Surface(d, "nphotons", "nphotons", "psnr", "pinn", Options{})),
		"unknown metric": errOf(Surface(d, "nphotons", "n_images", "nope", "pinn", Options{})),
		"unknown model":  errOf(Surface(d, "nphotons", "n_images", "psnr", "nope", Options{})),
		"categorical":    errOf(Surface(cat, "nphotons", "n_images", "psnr", "pinn", Options{})),
	} {
		if err == nil || errors.Is(err, ErrNoData) {
			t.Errorf("%s: %v, want an error", name, err)
		}
	}
	// The baseline has no tv_weight: nothing to draw.
	if _, err := Surface(d, "nphotons", "tv_weight", "psnr", "baseline", Options{}); !errors.Is(err, ErrNoData) {
		t.Errorf("baseline over tv_weight: %v, want ErrNoData", err)
	}
}

func errOf(_ []byte, err error) error { return err }

func TestSurfaceAll(t *testing.T) {
	d := synthStudy()
	dir := t.TempDir()
	files, err := SurfaceAll(d, Options{Dir: dir, Heatmaps: [][2]string{{"nphotons", "tv_weight"}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := []string{"surface_nphotons_tv_weight_psnr_pinn.html", "surface_nphotons_tv_weight_ms_ssim_pinn.html",
		"surface_nphotons_tv_weight_mae_pinn.html", "surface_nphotons_tv_weight_wall_s_pinn.html"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	// Default: every pair of the three numeric parameters.
	files, err = SurfaceAll(d, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4*2+4+4 { // nphotons×n_images for both models, the tv_weight pairs for pinn
		t.Errorf("%d surfaces by default", len(files))
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Size() > 64<<10 {
			t.Errorf("%s: %v, %d bytes", f, err, fi.Size())
		}
	}
}

// TestSurfacePreview writes the surfaces of the synthetic and the awkward
// studies into $PLOTS_PREVIEW/surfaces for looking at them in a browser;
// it is skipped when the variable is unset.
func TestSurfacePreview(t *testing.T) {
	dir := os.Getenv("PLOTS_PREVIEW")
	if dir == "" {
		t.Skip("PLOTS_PREVIEW not set")
	}
	if _, err := SurfaceAll(synthStudy(), Options{Dir: filepath.Join(dir, "surfaces")}); err != nil {
		t.Fatal(err)
	}
	for name, d := range awkward() {
		sub := filepath.Join(dir, "surfaces", "awkward", strings.ReplaceAll(name, " ", "_"))
		if _, err := SurfaceAll(d, Options{Dir: sub}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := Surface(awkward()["one-value parameter"], "x", "y", "m", "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "surfaces", "awkward", "one_value.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
}
