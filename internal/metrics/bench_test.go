package metrics

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkAllMetrics256Complex times every metric (MSE, MAE, PSNR, SSIM,
// MS-SSIM, FRC and its crossings; optionally the Gaussian SSIM) of the
// amplitude and phase of a 256×256 complex pair, in both conventions. The
// goal is under 20 ms per pair.
func BenchmarkAllMetrics256Complex(b *testing.B) {
	const n = 256
	rng := rand.New(rand.NewPCG(3, 5))
	truth := ComplexImage{n, n, make([]complex128, n*n)}
	recon := ComplexImage{n, n, make([]complex128, n*n)}
	for i := range truth.Data {
		amp := 0.5 + 0.4*math.Sin(float64(i%n)/9)*math.Cos(float64(i/n)/13)
		phase := math.Sin(float64(i%n)/17) + 0.5*math.Cos(float64(i/n)/11)
		truth.Data[i] = cmplx.Rect(amp, phase)
		recon.Data[i] = cmplx.Rect(amp+0.05*rng.NormFloat64(), phase+0.3+0.1*rng.NormFloat64())
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"standard", Options{}},
		{"standard+gaussian_ssim", Options{GaussianSSIM: true}},
		{"ptychopinn", Options{Convention: PtychoPINN}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			opts := tc.opts
			start := time.Now()
			for b.Loop() {
				if _, _, err := CompareComplex(truth, recon, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/pair")
		})
	}
}
