package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// ptychoR is the peak value PtychoPINN passes to cv2.PSNR.
const ptychoR = 255

// errAllNaN mirrors the ValueError of PtychoPINN's frc50.
var errAllNaN = errors.New("reconstruction is all NaN")

// ptychoComplex evaluates a complex pair as PtychoPINN's eval_reconstruction.
func ptychoComplex(truth, recon ComplexImage, opts Options) (amp, phase Result, err error) {
	var wg sync.WaitGroup
	var ampErr error
	wg.Go(func() {
		amp, ampErr = ptychoAmplitude(trim(abs(truth), ptychoTrim), trim(abs(recon), ptychoTrim), opts)
	})
	pt := removePlane(trim(angle(truth), ptychoTrim))
	pr := removePlane(trim(angle(recon), ptychoTrim))
	phase, err = ptychoPhase(pt, pr, opts)
	wg.Wait()
	if ampErr != nil {
		return Result{}, Result{}, fmt.Errorf("amplitude: %w", ampErr)
	}
	if err != nil {
		return Result{}, Result{}, fmt.Errorf("phase: %w", err)
	}
	return amp, phase, nil
}

// ptychoAmplitude evaluates trimmed amplitudes: recon scaled by
// mean(truth)/mean(recon), then PtychoPINN's amplitude metrics.
func ptychoAmplitude(truth, recon Image, opts Options) (Result, error) {
	scale := stat.Mean(truth.Data, nil) / stat.Mean(recon.Data, nil)
	scaled := Image{recon.Rows, recon.Cols, make([]float64, len(recon.Data))}
	floats.ScaleTo(scaled.Data, scale, recon.Data)
	lo, hi := minMax(truth.Data)
	return ptychoMetrics(truth, scaled, truth, scaled, hi-lo, 1, opts)
}

// ptychoPhase evaluates plane-removed phases; SSIM and MS-SSIM see them
// mapped to (φ+π)/2π with data range 1.
func ptychoPhase(truth, recon Image, opts Options) (Result, error) {
	st, sr := phaseTo01(truth), phaseTo01(recon)
	return ptychoMetrics(truth, recon, st, sr, 1, 0, opts)
}

// ptychoMetrics computes the PtychoPINN metrics: MAE, MSE, PSNR and FRC on
// (t, r), SSIM and MS-SSIM on (st, sr) with SSIM range ssimRange and
// MS-SSIM pre-blur msSigma; the FRC and MS-SSIM run concurrently with the
// rest.
func ptychoMetrics(t, r, st, sr Image, ssimRange, msSigma float64, opts Options) (Result, error) {
	if allNaN(r.Data) {
		return Result{}, fmt.Errorf("frc50: %w", errAllNaN)
	}
	res := Result{Convention: PtychoPINN, DataRange: ptychoR, SSIMGaussian: math.NaN()}
	var wg sync.WaitGroup
	wg.Go(func() { res.FRCCurve, res.FRCRingCounts = frcPtycho(t, r) })
	wg.Go(func() { res.MSSSIM = msssimPtycho(st, sr, msSigma) })
	res.MSE, res.MAE = mseMAE(t.Data, r.Data)
	res.PSNR = 20 * math.Log10(ptychoR/(math.Sqrt(res.MSE)+epsilon))
	res.SSIM = ssim(st, sr, ssimRange, false)
	if opts.GaussianSSIM {
		res.SSIMGaussian = ssim(st, sr, ssimRange, true)
	}
	res.MSSSIMScales = ptychoScales(st.Rows, st.Cols)
	wg.Wait()
	if lo, hi := minMax(t.Data); lo == 0 && hi == 0 {
		res.FRC50, res.FRC1over7, res.FRCHalfBit = math.NaN(), math.NaN(), math.NaN()
		return res, nil
	}
	res.FRC50 = ptychoCrossing(res.FRCCurve, func(int) float64 { return 0.5 })
	res.FRC1over7 = ptychoCrossing(res.FRCCurve, func(int) float64 { return 1.0 / 7 })
	res.FRCHalfBit = ptychoCrossing(res.FRCCurve, func(i int) float64 { return halfBit(res.FRCRingCounts[i]) })
	return res, nil
}

// epsilon is C's DBL_EPSILON, which cv2.PSNR adds to the RMS error.
const epsilon = 2.220446049250313e-16

// ptychoScales is the number of scales PtychoPINN's ms_ssim visits.
func ptychoScales(rows, cols int) int {
	n := 1
	for n < len(msssimWeights) {
		rows, cols = (rows+1)/2, (cols+1)/2
		if min(rows, cols) < minSide {
			break
		}
		n++
	}
	return n
}

func allNaN(x []float64) bool {
	for _, v := range x {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}

func angle(z ComplexImage) Image {
	out := Image{z.Rows, z.Cols, make([]float64, len(z.Data))}
	for i, v := range z.Data {
		out.Data[i] = cmplx.Phase(v)
	}
	return out
}

func phaseTo01(m Image) Image {
	out := Image{m.Rows, m.Cols, make([]float64, len(m.Data))}
	for i, v := range m.Data {
		out.Data[i] = (v + math.Pi) / (2 * math.Pi)
	}
	return out
}

// removePlane subtracts the least-squares plane a·x + b·y + c from m
// (PtychoPINN's fit_and_remove_plane); m has at least two rows and
// columns. On a full pixel grid the centred
// coordinates are orthogonal to each other and to the constant, so the
// least-squares coefficients are independent one-dimensional regressions.
func removePlane(m Image) Image {
	xc := float64(m.Cols-1) / 2
	yc := float64(m.Rows-1) / 2
	var sxz, syz, sxx, syy float64
	mean := stat.Mean(m.Data, nil)
	for i := range m.Rows {
		y := float64(i) - yc
		for j := range m.Cols {
			x := float64(j) - xc
			z := m.Data[i*m.Cols+j]
			sxz += x * z
			syz += y * z
			sxx += x * x
			syy += y * y
		}
	}
	a, b := sxz/sxx, syz/syy
	out := Image{m.Rows, m.Cols, make([]float64, len(m.Data))}
	for i := range m.Rows {
		y := float64(i) - yc
		for j := range m.Cols {
			out.Data[i*m.Cols+j] = m.Data[i*m.Cols+j] - (mean + a*(float64(j)-xc) + b*y)
		}
	}
	return out
}
