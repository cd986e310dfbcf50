package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// fixture is one case of testdata/expected.json (see testdata/gen_fixtures.py).
type fixture struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	DataRange  float64         `json:"data_range"`
	Truth      string          `json:"truth"`
	Recon      string          `json:"recon"`
	Standard   json.RawMessage `json:"standard"`
	PtychoPINN json.RawMessage `json:"ptychopinn"`
}

type values = map[string]float64

// complexValues are the expected values of a complex case.
type complexValues struct {
	Amp   values `json:"amp"`
	Phase values `json:"phase"`
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []fixture `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases
}

func readPair[T Image | ComplexImage](t testing.TB, f fixture) (truth, recon T) {
	t.Helper()
	for _, p := range []struct {
		file string
		dst  *T
	}{{f.Truth, &truth}, {f.Recon, &recon}} {
		v, err := ReadNPY(filepath.Join("testdata", p.file))
		if err != nil {
			t.Fatal(err)
		}
		img, ok := v.(T)
		if !ok {
			t.Fatalf("ReadNPY(%q) = %T, want %T", p.file, v, *p.dst)
		}
		*p.dst = img
	}
	return truth, recon
}

// tolerance is the allowed absolute difference for a metric in a convention.
func tolerance(conv Convention, metric string, want float64) float64 {
	switch {
	case metric == "psnr" || metric == "ssim" || metric == "ssim_gaussian":
		return 1e-6 // the agreement scikit-image's values must reach
	}
	return 1e-9 * math.Max(1, math.Abs(want))
}

// got returns the metrics of r under the names the fixtures use.
func got(r Result) values {
	r.Component = ""
	m := r.Map()
	m["ms_ssim_scales"] = float64(r.MSSSIMScales)
	m["data_range"] = r.DataRange
	return m
}

func checkValues(t *testing.T, call string, conv Convention, g, want values) {
	t.Helper()
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		w := want[k]
		if conv == PtychoPINN && k == "data_range" {
			continue
		}
		v, ok := g[k]
		if !ok {
			t.Errorf("%s: no %s, want %v", call, k, w)
			continue
		}
		if d := math.Abs(v - w); !(d <= tolerance(conv, k, w)) {
			t.Errorf("%s[%s] = %.12g, want %.12g (diff %.3g)", call, k, v, w, d)
		}
	}
}

func TestCompareFixtures(t *testing.T) {
	for _, f := range loadFixtures(t) {
		if f.Kind != "real" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			truth, recon := readPair[Image](t, f)
			for _, tc := range []struct {
				conv Convention
				want json.RawMessage
			}{{Standard, f.Standard}, {PtychoPINN, f.PtychoPINN}} {
				var want values
				if err := json.Unmarshal(tc.want, &want); err != nil {
					t.Fatal(err)
				}
				opts := Options{Convention: tc.conv, DataRange: f.DataRange, GaussianSSIM: true}
				res, err := Compare(truth, recon, opts)
				if err != nil {
					t.Fatalf("Compare(%q, %s) error %v", f.Name, tc.conv, err)
				}
				if res.Convention != tc.conv {
					t.Errorf("Compare(%q).Convention = %q, want %q", f.Name, res.Convention, tc.conv)
				}
				checkValues(t, "Compare("+f.Name+", "+string(tc.conv)+")", tc.conv, got(res), want)
			}
		})
	}
}

func TestCompareComplexFixtures(t *testing.T) {
	for _, f := range loadFixtures(t) {
		if f.Kind != "complex" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			truth, recon := readPair[ComplexImage](t, f)
			for _, tc := range []struct {
				conv Convention
				want json.RawMessage
			}{{Standard, f.Standard}, {PtychoPINN, f.PtychoPINN}} {
				var want complexValues
				if err := json.Unmarshal(tc.want, &want); err != nil {
					t.Fatal(err)
				}
				amp, phase, err := CompareComplex(truth, recon, Options{Convention: tc.conv, GaussianSSIM: true})
				if err != nil {
					t.Fatalf("CompareComplex(%q, %s) error %v", f.Name, tc.conv, err)
				}
				checkValues(t, "CompareComplex("+f.Name+", "+string(tc.conv)+").amp", tc.conv, got(amp), want.Amp)
				checkValues(t, "CompareComplex("+f.Name+", "+string(tc.conv)+").phase", tc.conv, got(phase), want.Phase)
			}
		})
	}
}

func TestMapNames(t *testing.T) {
	img := Image{16, 16, make([]float64, 256)}
	for i := range img.Data {
		img.Data[i] = float64(i%7) / 7
	}
	z := ComplexImage{16, 16, make([]complex128, 256)}
	for i, v := range img.Data {
		z.Data[i] = complex(0.5*v+0.1, 0.5*v)
	}
	real, err := Compare(img, img, Options{})
	if err != nil {
		t.Fatal(err)
	}
	amp, phase, err := CompareComplex(z, z, Options{GaussianSSIM: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    Result
		want []string
	}{
		{"real", real, []string{"frc1over7", "frc50", "frc_halfbit", "mae", "ms_ssim", "mse", "psnr", "ssim"}},
		{"amp", amp, []string{"amp_frc1over7", "amp_frc50", "amp_frc_halfbit", "amp_mae", "amp_ms_ssim", "amp_mse", "amp_psnr", "amp_ssim", "amp_ssim_gaussian"}},
		{"phase", phase, []string{"phase_frc1over7", "phase_frc50", "phase_frc_halfbit", "phase_mae", "phase_ms_ssim", "phase_mse", "phase_psnr", "phase_ssim", "phase_ssim_gaussian"}},
	} {
		m := tc.r.Map()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) != len(tc.want) {
			t.Errorf("Map(%q) keys = %v, want %v", tc.name, keys, tc.want)
			continue
		}
		for i := range keys {
			if keys[i] != tc.want[i] {
				t.Errorf("Map(%q) keys = %v, want %v", tc.name, keys, tc.want)
				break
			}
		}
	}
}

func TestIdentical(t *testing.T) {
	img := Image{24, 24, make([]float64, 576)}
	for i := range img.Data {
		img.Data[i] = 0.5 + 0.4*math.Sin(float64(i)*0.37)
	}
	for _, tc := range []struct {
		conv                               Convention
		psnr, ssim, msssim, frc50, halfbit float64
	}{
		{Standard, math.Inf(1), 1, 1, 0.5, 0.5},
		// cv2.PSNR: 20·log10(255/DBL_EPSILON); no ring below 0.5: the ring count.
		{PtychoPINN, 20 * math.Log10(255/epsilon), 1, 1, 15, 15},
	} {
		r, err := Compare(img, img, Options{Convention: tc.conv})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"psnr", r.PSNR, tc.psnr}, {"ssim", r.SSIM, tc.ssim}, {"ms_ssim", r.MSSSIM, tc.msssim},
			{"frc50", r.FRC50, tc.frc50}, {"frc_halfbit", r.FRCHalfBit, tc.halfbit}, {"mse", r.MSE, 0},
		} {
			if !(c.got == c.want || math.Abs(c.got-c.want) < 1e-12) {
				t.Errorf("Compare(%q)[%s] = %v, want %v", tc.conv, c.name, c.got, c.want)
			}
		}
	}
}

func TestCompareErrors(t *testing.T) {
	img := func(r, c int, v float64) Image {
		m := Image{r, c, make([]float64, r*c)}
		for i := range m.Data {
			m.Data[i] = v
		}
		return m
	}
	for _, tc := range []struct {
		name        string
		truth, reco Image
		opts        Options
		want        error
	}{
		{"shape mismatch", img(8, 8, 0), img(8, 9, 0), Options{}, nil},
		{"bad data length", Image{8, 8, make([]float64, 3)}, img(8, 8, 0), Options{}, nil},
		{"too small", img(6, 40, 0), img(6, 40, 0), Options{}, nil},
		{"too small gaussian", img(9, 40, 0), img(9, 40, 0), Options{GaussianSSIM: true}, nil},
		{"too small ptychopinn", img(10, 40, 0), img(10, 40, 0), Options{Convention: PtychoPINN}, nil},
		{"unknown convention", img(8, 8, 0), img(8, 8, 0), Options{Convention: "matlab"}, nil},
		{"range not inferable", img(8, 8, 3), img(8, 8, 0), Options{}, errNoDataRange},
		{"all NaN", img(12, 12, 1), img(12, 12, math.NaN()), Options{Convention: PtychoPINN}, errAllNaN},
	} {
		_, err := Compare(tc.truth, tc.reco, tc.opts)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Compare(%q) error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSmallImageScales(t *testing.T) {
	for _, tc := range []struct {
		rows, cols, want int
	}{
		{10, 40, 0}, {11, 11, 1}, {21, 40, 2}, {22, 40, 2}, {32, 32, 2}, {64, 64, 3},
		{160, 300, 4}, {176, 176, 5}, {161, 161, 5}, {1000, 1000, 5},
	} {
		if got := msssimScales(tc.rows, tc.cols); got != tc.want {
			t.Errorf("msssimScales(%d, %d) = %v, want %v", tc.rows, tc.cols, got, tc.want)
		}
	}
}

// TestComplexInvariance checks what each convention factors out: a global
// phase offset (standard), and an amplitude scale and a phase plane
// (ptychopinn). The amplitude stays within [0, 1] and the phase away from
// ±π, so that neither wraps.
func TestComplexInvariance(t *testing.T) {
	const n = 40
	truth := ComplexImage{n, n, make([]complex128, n*n)}
	for i := range truth.Data {
		y, x := float64(i/n), float64(i%n)
		truth.Data[i] = cmplx.Rect(0.5+0.3*math.Sin(x/3)*math.Cos(y/5), 0.8*math.Sin(x/4+y/7))
	}
	transform := func(f func(x, y float64) complex128) ComplexImage {
		out := ComplexImage{n, n, make([]complex128, n*n)}
		for i, v := range truth.Data {
			out.Data[i] = v * f(float64(i%n), float64(i/n))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		conv  Convention
		recon ComplexImage
	}{
		{"standard: global phase", Standard, transform(func(x, y float64) complex128 { return cmplx.Rect(1, 0.9) })},
		{"ptychopinn: scale and phase plane", PtychoPINN, transform(func(x, y float64) complex128 {
			return cmplx.Rect(1.7, 0.3+0.01*x-0.02*y)
		})},
	} {
		amp, phase, err := CompareComplex(truth, tc.recon, Options{Convention: tc.conv})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []Result{amp, phase} {
			if r.MSE > 1e-20 || math.Abs(r.SSIM-1) > 1e-9 || math.Abs(r.MSSSIM-1) > 1e-9 {
				t.Errorf("CompareComplex(%q).%s mse, ssim, ms_ssim = %g, %v, %v, want 0, 1, 1",
					tc.name, r.Component, r.MSE, r.SSIM, r.MSSSIM)
			}
		}
	}
	if _, _, err := CompareComplex(truth, ComplexImage{n, n + 1, make([]complex128, n*(n+1))}, Options{}); err == nil {
		t.Errorf("CompareComplex(%q) error = nil, want a shape mismatch", "40x40 vs 40x41")
	}
}
