package metrics

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func TestFRCIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		rows, cols int
		want       float64 // cycles/pixel: the last ring, floor(N/2)/N
	}{
		{32, 32, 0.5}, {48, 80, 0.5}, {33, 33, 16.0 / 33}, {40, 27, 13.0 / 27},
	} {
		img := Image{tc.rows, tc.cols, make([]float64, tc.rows*tc.cols)}
		for i := range img.Data {
			img.Data[i] = rng.Float64()
		}
		curve, counts, err := FRC(img, img)
		if err != nil {
			t.Fatal(err)
		}
		if n := min(tc.rows, tc.cols); len(curve) != n/2+1 || len(counts) != len(curve) {
			t.Errorf("FRC(%dx%d) has %d rings (%d counts), want %d", tc.rows, tc.cols, len(curve), len(counts), n/2+1)
		}
		for i, c := range curve {
			if math.Abs(c-1) > 1e-12 {
				t.Errorf("FRC(%dx%d)[%d] = %v, want 1", tc.rows, tc.cols, i, c)
			}
		}
		res, err := Compare(img, img, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.FRC50 != tc.want || res.FRCHalfBit != tc.want {
			t.Errorf("Compare(%dx%d identical) frc50, frc_halfbit = %v, %v, want %v (no crossing: last ring)",
				tc.rows, tc.cols, res.FRC50, res.FRCHalfBit, tc.want)
		}
	}
}

// blurredSignal returns an n×n image whose DFT has the exact magnitude
// n·exp(-2π²σ²f²) (white noise of unit variance blurred by a Gaussian of σ
// pixels, with its ring power made deterministic) and random phases.
func blurredSignal(rng *rand.Rand, n int, sigma float64) Image {
	z := make([]complex128, n*n)
	for i := range z {
		z[i] = complex(rng.NormFloat64(), 0)
	}
	fft2InPlace(z, n, n)
	for u := range n {
		fy := signedFreq(u, n) / float64(n)
		for v := range n {
			fx := signedFreq(v, n) / float64(n)
			k := u*n + v
			mag := float64(n) * math.Exp(-2*math.Pi*math.Pi*sigma*sigma*(fx*fx+fy*fy))
			// conj(DFT(conj(X))) / n² is the inverse DFT of X.
			z[k] = cmplx.Conj(cmplx.Rect(mag, cmplx.Phase(z[k])))
		}
	}
	fft2InPlace(z, n, n)
	img := Image{n, n, make([]float64, n*n)}
	for i, v := range z {
		img.Data[i] = real(v) / float64(n*n)
	}
	return img
}

func addNoise(rng *rand.Rand, m Image, sd float64) Image {
	out := Image{m.Rows, m.Cols, make([]float64, len(m.Data))}
	for i, v := range m.Data {
		out.Data[i] = v + sd*rng.NormFloat64()
	}
	return out
}

// TestFRCWhiteNoise checks the crossings against theory. For a signal of
// spectral power P(f) per pixel and white noise of variance σn², the
// expected FRC of truth against truth+noise is √(P/(P+σn²)), and of two
// independently noisy copies P/(P+σn²). Here P(f) = exp(-4π²σ²f²), steep
// enough that the few-pixel rings at low frequency have a high SNR.
func TestFRCWhiteNoise(t *testing.T) {
	const (
		n     = 256
		sigma = 4.0 // blur of the signal, pixels
		// Tolerances in cycles/pixel (a ring is 1/256): the rings near the
		// crossings hold a few hundred pixels, so the measured curve
		// scatters by about 0.05 around its expectation.
		tol50      = 0.006
		tolHalfBit = 0.01
	)
	rng := rand.New(rand.NewPCG(7, 11))
	signal := blurredSignal(rng, n, sigma)
	power := func(f float64) float64 { return math.Exp(-4 * math.Pi * math.Pi * sigma * sigma * f * f) }
	for _, tc := range []struct {
		name   string
		both   bool    // noise on both images, else on the reconstruction only
		target float64 // frc50 in cycles/pixel the noise level is chosen for
	}{
		{"recon noisy f=0.1", false, 0.1},
		{"recon noisy f=0.12", false, 0.12},
		{"recon noisy f=0.15", false, 0.15},
		{"both noisy f=0.09", true, 0.09},
		{"both noisy f=0.12", true, 0.12},
	} {
		// 0.5 = √(P/(P+v)) at P = v/3; 0.5 = P/(P+v) at P = v.
		noiseVar := 3 * power(tc.target)
		expected := func(f float64) float64 { p := power(f); return math.Sqrt(p / (p + noiseVar)) }
		truth := signal
		if tc.both {
			noiseVar = power(tc.target)
			expected = func(f float64) float64 { p := power(f); return p / (p + noiseVar) }
			truth = addNoise(rng, signal, math.Sqrt(noiseVar))
		}
		recon := addNoise(rng, signal, math.Sqrt(noiseVar))
		res, err := Compare(truth, recon, Options{DataRange: 1})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.FRC50-tc.target) > tol50 {
			t.Errorf("Compare(%q).FRC50 = %.4f, want %.4f ± %v", tc.name, res.FRC50, tc.target, tol50)
		}
		theory := make([]float64, len(res.FRCCurve))
		theory[0] = 1 // the DC ring is one real pixel: its correlation is ±1
		for i := 1; i < len(theory); i++ {
			theory[i] = expected(float64(i) / n)
		}
		wantHalfBit := crossing(theory, func(i int) float64 { return halfBit(res.FRCRingCounts[i]) }) / n
		t.Logf("%s: frc50 %.4f (theory %.4f), halfbit %.4f (theory %.4f)", tc.name, res.FRC50, tc.target, res.FRCHalfBit, wantHalfBit)
		if math.Abs(res.FRCHalfBit-wantHalfBit) > tolHalfBit {
			t.Errorf("Compare(%q).FRCHalfBit = %.4f, want %.4f ± %v", tc.name, res.FRCHalfBit, wantHalfBit, tolHalfBit)
		}
	}
}

func TestCrossing(t *testing.T) {
	half := func(int) float64 { return 0.5 }
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		curve []float64
		want  float64
	}{
		{"interpolated", []float64{1, 0.9, 0.7, 0.3, 0.1}, 2.5},
		{"touching 0.5 is not below", []float64{1, 0.5, 0.4}, 1},
		{"first ring", []float64{0.2, 0.9}, 0},
		{"no crossing", []float64{1, 0.9, 0.8}, 2},
		{"NaN skipped", []float64{nan, 0.9, nan, 0.2}, 3},
	} {
		if got := crossing(tc.curve, half); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("crossing(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPtychoCrossing: PtychoPINN's _first_below_threshold_interpolated,
// case by case.
func TestPtychoCrossing(t *testing.T) {
	half := func(int) float64 { return 0.5 }
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name      string
		curve     []float64
		threshold func(int) float64
		want      float64
	}{
		{"interpolated", []float64{1, 0.9, 0.7, 0.3, 0.1}, half, 2.5},
		{"one seventh", []float64{1, 0.9, 0.2, 0.1}, func(int) float64 { return 1.0 / 7 }, 2 + (0.2-1.0/7)/0.1},
		{"touching is not below", []float64{1, 0.5, 0.4}, half, 1},
		{"first ring below", []float64{0.2, 0.9}, half, 0},
		{"never below: the ring count", []float64{1, 0.9, 0.8}, half, 3},
		{"NaN ring before: the ring itself", []float64{1, nan, 0.2}, half, 2},
		{"infinite ring skipped", []float64{1, inf, 0.9, 0.2}, half, 2 + 0.4/0.7},
		{"level with the ring before", []float64{0.5 + 2e-9, 0.5 - 2e-9}, half, 1},
		{"no finite ring", []float64{nan, inf}, half, nan},
		{"empty", nil, half, nan},
		{"per-ring threshold", []float64{1, 0.8, 0.4}, func(i int) float64 { return []float64{0.5, 0.6, 0.5}[i] }, 1 + 0.2/0.3},
	} {
		got := ptychoCrossing(tc.curve, tc.threshold)
		if !(math.Abs(got-tc.want) < 1e-12 || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("ptychoCrossing(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFRCPtychoRings(t *testing.T) {
	// PtychoPINN's rings reach the corners: round(√2·n/2)+1 of them.
	for _, tc := range []struct {
		rows, cols, rings, pixels int
	}{
		{20, 20, 15, 400}, {21, 21, 15, 441}, {20, 30, 15, 400},
	} {
		img := Image{tc.rows, tc.cols, make([]float64, tc.rows*tc.cols)}
		for i := range img.Data {
			img.Data[i] = float64(i % 5)
		}
		curve, counts := frcPtycho(img, img)
		total := 0
		for _, c := range counts {
			total += c
		}
		if len(curve) != tc.rings || total != tc.pixels {
			t.Errorf("frcPtycho(%dx%d) = %d rings of %d pixels, want %d of %d", tc.rows, tc.cols, len(curve), total, tc.rings, tc.pixels)
		}
	}
}
