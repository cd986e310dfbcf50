// Package metrics computes image-quality metrics of a reconstruction against
// its ground truth: MSE, MAE, PSNR, SSIM, MS-SSIM and the Fourier ring
// correlation (FRC) with its 0.5, 1/7 and half-bit resolution.
//
// Real arrays give one set of metrics (mse, psnr, …). Phase metrics need
// complex arrays: a complex truth and recon give amp_* metrics of their
// amplitudes and phase_* metrics of their phases; a real array is an
// amplitude, and nothing is known of its phase.
//
// Two conventions are implemented and every Result records which one made it
// (the metrics_convention column of a shard). Their values are not
// comparable with each other.
//
// # Standard convention
//
//   - MSE and MAE are plain means over all pixels.
//   - PSNR is 10·log10(R²/MSE) as scikit-image's peak_signal_noise_ratio:
//     R is Options.DataRange, or, when that is 0, 1 if the truth is
//     non-negative and 2 if not; a truth with values outside [-1, 1] has no
//     inferable range and is an error (as in scikit-image). Identical images
//     give +Inf.
//   - SSIM is scikit-image's structural_similarity with its defaults: 7×7
//     uniform window, sample covariance, K1 = 0.01, K2 = 0.03, reflecting
//     borders, and the mean taken after cropping (win-1)/2 pixels from every
//     edge. Its data range is Options.DataRange or, when 0, 2 (scikit-image
//     0.19 uses the width of the float dtype range, [-1, 1]; later releases
//     refuse floats without a data range). With Options.GaussianSSIM the
//     variant gaussian_weights=True, sigma=1.5, use_sample_covariance=False
//     (11×11 window) is reported too, as ssim_gaussian.
//   - MS-SSIM is TensorFlow's tf.image.ssim_multiscale: 11×11 Gaussian
//     window with σ = 1.5 and VALID filtering, K1 = 0.01, K2 = 0.03, power
//     weights 0.0448 0.2856 0.3001 0.2363 0.1333, 2×2 average pooling
//     between scales (an odd dimension is first padded by repeating its last
//     row or column), the contrast-structure term at the finer scales and
//     the full SSIM at the coarsest, each passed through relu before its
//     power. The data range is the one PSNR uses. All five scales need the
//     coarsest image to keep 11 pixels a side: 176 pixels for sizes that
//     halve exactly (11·16), 161 with the odd-size padding. Smaller images
//     use the largest number of scales that fit, with the first weights
//     renormalised to sum to 1 (two scales at 32 px, three at 64): such
//     values are not TensorFlow's, which refuses these images, nor
//     comparable across image sizes. Under 11 pixels MS-SSIM is NaN.
//     Result.MSSSIMScales says how many scales were used.
//   - FRC(r) = Re Σ F1·F2* / √(Σ|F1|²·Σ|F2|²) over the ring r of the
//     unshifted 2-D DFTs, where a frequency (fy, fx) in cycles/pixel belongs
//     to ring round(N·√(fy²+fx²)), N = min(rows, cols); rings run from 0
//     (DC) to N/2 (Nyquist), so ring r is the spatial frequency r/N
//     cycles/pixel and the corners beyond Nyquist are left out. frc50 is the
//     first crossing below 0.5, linearly interpolated between rings and
//     reported in cycles/pixel (0.5 is Nyquist), frc1over7 the same below
//     1/7; frc_halfbit is the first crossing below the half-bit threshold
//     (0.2071 + 1.9102/√n)/(1.2071 + 0.9102/√n), n the ring's pixel count.
//     When the curve never crosses (identical images, for instance), the
//     highest ring frequency is reported: 0.5 for even N. Rings with no
//     power in either image have a NaN correlation and are skipped.
//   - Complex images: the amplitude metrics compare |truth| and |recon|. For
//     the phase, the reconstruction is first rotated by the global phase
//     offset that best matches the truth (the phase of Σ truth·recon*), then
//     the angles are compared, with data range Options.PhaseDataRange (2π
//     when 0) for PSNR, SSIM and MS-SSIM.
//
// # PtychoPINN convention
//
// The formulas of hoidn/PtychoPINN's ptycho/evaluation.py
// (eval_reconstruction with its defaults), computed in float64 where
// PtychoPINN casts the ground-truth amplitude and the PSNR inputs to float32
// (a difference of order 1e-7 relative):
//
//   - both images are trimmed by 2 pixels at each edge (offset 4 / 2);
//   - amplitude: the reconstruction is scaled by mean(truth)/mean(recon);
//     MAE, MSE; PSNR as OpenCV's cv2.PSNR with R = 255,
//     20·log10(255/(√MSE + ε)), so identical images give about 361;
//     SSIM as scikit-image's defaults with data range max−min of the truth;
//     MS-SSIM after a Gaussian blur (σ = 1, truncate 4, reflect) of both
//     images;
//   - phase: a least-squares plane is removed from the angle of each image
//     separately; MAE, MSE and PSNR (R = 255) on these phases; SSIM and
//     MS-SSIM on the phases mapped to (φ+π)/2π with data range 1;
//   - MS-SSIM: scikit-image SSIM (data range the larger max−min of the two
//     inputs) at each scale, with the weights above, decimating by [::2, ::2]
//     and stopping once a side is under 7 pixels, without renormalising; a
//     NaN scale makes it 0 and a negative SSIM counts as 0.0001;
//   - FRC: the images are centre-cropped to a square N×N, rings are
//     round(|k|) of the centred frequency index k out to the corners, and
//     FRC = |Σ F1·F2*| / √(Σ|F1|²·Σ|F2|²); frc50 and frc1over7 are where
//     it first falls below 0.5 and 1/7, in rings, linearly interpolated
//     between the first finite ring below and the ring before it, as
//     PtychoPINN's frc_cutoffs does since its commit 898b42e (2026-07;
//     before, frc50 was the index of the first ring below): 0 when ring 0
//     is below, the number of rings when none is, and NaN when the truth is
//     all zero. frc_halfbit, which PtychoPINN does not compute, is the
//     crossing of the half-bit threshold found the same way.
//
// Compare with the PtychoPINN convention treats its inputs as amplitudes.
//
// # Cost
//
// FFTs are gonum's. Compare runs the FRC and MS-SSIM in goroutines beside
// the other metrics, and CompareComplex the amplitude beside the phase:
// BenchmarkAllMetrics256Complex measures a 256×256 complex pair.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"sync"
)

// Image is a 2-D row-major array of float64.
type Image struct {
	Rows, Cols int
	Data       []float64
}

// At returns the value at row i, column j.
func (m Image) At(i, j int) float64 { return m.Data[i*m.Cols+j] }

// ComplexImage is a 2-D row-major array of complex128.
type ComplexImage struct {
	Rows, Cols int
	Data       []complex128
}

// Convention names the set of metric definitions used.
type Convention string

const (
	// Standard is the scikit-image / TensorFlow / textbook FRC convention.
	Standard Convention = "standard"
	// PtychoPINN reproduces the formulas of PtychoPINN's ptycho/evaluation.py.
	PtychoPINN Convention = "ptychopinn"
)

// Options select the convention and its parameters.
type Options struct {
	// Convention is Standard when empty.
	Convention Convention
	// DataRange is the data range R of PSNR, SSIM and MS-SSIM in the
	// standard convention (amplitude for complex inputs); 0 infers it as
	// scikit-image does (see the package documentation).
	DataRange float64
	// PhaseDataRange is the data range of the phase metrics of
	// CompareComplex in the standard convention; 0 means 2π.
	PhaseDataRange float64
	// GaussianSSIM also computes SSIM with gaussian_weights=True, sigma=1.5,
	// use_sample_covariance=False (reported as ssim_gaussian).
	GaussianSSIM bool
}

// Result holds the metrics of one pair of images.
type Result struct {
	// Convention is the convention that produced the values.
	Convention Convention
	// Component is "" for real inputs, "amp" or "phase" for the parts of a
	// complex comparison; Map prefixes the metric names with it.
	Component string
	MSE       float64
	MAE       float64
	PSNR      float64
	SSIM      float64
	// SSIMGaussian is NaN unless Options.GaussianSSIM was set.
	SSIMGaussian float64
	MSSSIM       float64
	// MSSSIMScales is the number of scales MS-SSIM used.
	MSSSIMScales int
	// FRC50, FRC1over7 and FRCHalfBit are where the FRC falls below 0.5,
	// 1/7 and the half-bit threshold: in cycles/pixel (standard) or in
	// rings, interpolated between them (ptychopinn).
	FRC50      float64
	FRC1over7  float64
	FRCHalfBit float64
	// FRCCurve is the correlation per ring, FRCRingCounts its pixel counts.
	FRCCurve      []float64
	FRCRingCounts []int
	// DataRange is the R used by PSNR (standard: also MS-SSIM; ptychopinn: 255).
	DataRange float64
}

// Map returns the metrics by the names used in shards: mse, mae, psnr, ssim,
// ms_ssim, frc50, frc1over7, frc_halfbit and, when computed, ssim_gaussian, each
// prefixed with "amp_" or "phase_" for the parts of a complex comparison.
// The convention, a string, is Result.Convention (column metrics_convention).
func (r Result) Map() map[string]float64 {
	m := map[string]float64{
		"mse":         r.MSE,
		"mae":         r.MAE,
		"psnr":        r.PSNR,
		"ssim":        r.SSIM,
		"ms_ssim":     r.MSSSIM,
		"frc50":       r.FRC50,
		"frc1over7":   r.FRC1over7,
		"frc_halfbit": r.FRCHalfBit,
	}
	if !math.IsNaN(r.SSIMGaussian) {
		m["ssim_gaussian"] = r.SSIMGaussian
	}
	if r.Component == "" {
		return m
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[r.Component+"_"+k] = v
	}
	return out
}

// minSide is the smallest image side scikit-image's 7×7 SSIM accepts.
const minSide = 7

// ptychoTrim is the border PtychoPINN trims (params offset 4, halved).
const ptychoTrim = 2

// Compare computes the metrics of recon against truth, which must have the
// same shape: at least 7×7 (11×11 with Options.GaussianSSIM) in the standard
// convention, 4 pixels more in the PtychoPINN convention, which trims a
// border. In the standard convention a zero Options.DataRange with a truth
// outside [-1, 1] is an error, as in scikit-image.
func Compare(truth, recon Image, opts Options) (Result, error) {
	if err := checkPair(truth.Rows, truth.Cols, len(truth.Data), recon.Rows, recon.Cols, len(recon.Data)); err != nil {
		return Result{}, err
	}
	conv, err := opts.EffectiveConvention()
	if err != nil {
		return Result{}, err
	}
	if conv == PtychoPINN {
		if err := checkPtychoSize(truth.Rows, truth.Cols, opts); err != nil {
			return Result{}, err
		}
		return ptychoAmplitude(trim(truth, ptychoTrim), trim(recon, ptychoTrim), opts)
	}
	if err := checkStandardSize(truth.Rows, truth.Cols, opts); err != nil {
		return Result{}, err
	}
	r := opts.DataRange
	if r == 0 {
		if r, err = inferDataRange(truth); err != nil {
			return Result{}, err
		}
	}
	ssimRange := opts.DataRange
	if ssimRange == 0 {
		ssimRange = 2 // width of scikit-image's float dtype range [-1, 1]
	}
	return standard(truth, recon, r, ssimRange, opts.GaussianSSIM), nil
}

// CompareComplex computes the metrics of the amplitude and of the phase of
// recon against truth, with the size limits of Compare; the results'
// Component is "amp" and "phase". Options.DataRange applies to the
// amplitude, Options.PhaseDataRange to the phase (standard convention).
func CompareComplex(truth, recon ComplexImage, opts Options) (amp, phase Result, err error) {
	if err := checkPair(truth.Rows, truth.Cols, len(truth.Data), recon.Rows, recon.Cols, len(recon.Data)); err != nil {
		return Result{}, Result{}, err
	}
	conv, err := opts.EffectiveConvention()
	if err != nil {
		return Result{}, Result{}, err
	}
	if conv == PtychoPINN {
		if err := checkPtychoSize(truth.Rows, truth.Cols, opts); err != nil {
			return Result{}, Result{}, err
		}
		amp, phase, err = ptychoComplex(truth, recon, opts)
	} else {
		if err := checkStandardSize(truth.Rows, truth.Cols, opts); err != nil {
			return Result{}, Result{}, err
		}
		amp, phase, err = standardComplex(truth, recon, opts)
	}
	amp.Component, phase.Component = "amp", "phase"
	return amp, phase, err
}

// EffectiveConvention is the convention the metrics are computed in:
// Options.Convention, standard when it is empty.
func (o Options) EffectiveConvention() (Convention, error) {
	switch o.Convention {
	case "", Standard:
		return Standard, nil
	case PtychoPINN:
		return PtychoPINN, nil
	}
	return "", fmt.Errorf("unknown metrics convention %q (want %q or %q)", o.Convention, Standard, PtychoPINN)
}

func checkPair(tr, tc, tn, rr, rc, rn int) error {
	if tr <= 0 || tc <= 0 || tn != tr*tc {
		return fmt.Errorf("truth: invalid %dx%d image with %d values", tr, tc, tn)
	}
	if rr <= 0 || rc <= 0 || rn != rr*rc {
		return fmt.Errorf("recon: invalid %dx%d image with %d values", rr, rc, rn)
	}
	if tr != rr || tc != rc {
		return fmt.Errorf("shape mismatch: truth is %dx%d, recon is %dx%d", tr, tc, rr, rc)
	}
	return nil
}

func checkStandardSize(rows, cols int, opts Options) error {
	need := minSide
	if opts.GaussianSSIM {
		need = 2*gaussianSSIMRadius + 1
	}
	if rows < need || cols < need {
		return fmt.Errorf("image is %dx%d: SSIM needs at least %dx%d", rows, cols, need, need)
	}
	return nil
}

func checkPtychoSize(rows, cols int, opts Options) error {
	need := minSide
	if opts.GaussianSSIM {
		need = 2*gaussianSSIMRadius + 1
	}
	if rows-2*ptychoTrim < need || cols-2*ptychoTrim < need {
		return fmt.Errorf("image is %dx%d: the %s convention needs at least %dx%d (%d-pixel border trimmed)",
			rows, cols, PtychoPINN, need+2*ptychoTrim, need+2*ptychoTrim, ptychoTrim)
	}
	return nil
}

// errNoDataRange is returned when the data range cannot be inferred.
var errNoDataRange = errors.New("truth has values outside [-1, 1]: the data range cannot be inferred (as in scikit-image); set it explicitly")

// inferDataRange mirrors scikit-image's peak_signal_noise_ratio for floats.
func inferDataRange(truth Image) (float64, error) {
	lo, hi := minMax(truth.Data)
	if lo < -1 || hi > 1 || math.IsNaN(lo) || math.IsNaN(hi) {
		return 0, fmt.Errorf("infer data range (min %g, max %g): %w", lo, hi, errNoDataRange)
	}
	if lo >= 0 {
		return 1, nil
	}
	return 2, nil
}

// standard computes the standard-convention metrics with PSNR/MS-SSIM range
// r and SSIM range ssimRange, the FRC and MS-SSIM concurrently with the rest.
func standard(truth, recon Image, r, ssimRange float64, gaussian bool) Result {
	res := Result{Convention: Standard, DataRange: r, SSIMGaussian: math.NaN()}
	var wg sync.WaitGroup
	wg.Go(func() { res.FRCCurve, res.FRCRingCounts = frcStandard(truth, recon) })
	wg.Go(func() { res.MSSSIM, res.MSSSIMScales = msssimTF(truth, recon, r) })
	res.MSE, res.MAE = mseMAE(truth.Data, recon.Data)
	res.PSNR = 10 * math.Log10(r*r/res.MSE)
	res.SSIM = ssim(truth, recon, ssimRange, false)
	if gaussian {
		res.SSIMGaussian = ssim(truth, recon, ssimRange, true)
	}
	wg.Wait()
	n := float64(min(truth.Rows, truth.Cols))
	res.FRC50 = crossing(res.FRCCurve, func(int) float64 { return 0.5 }) / n
	res.FRC1over7 = crossing(res.FRCCurve, func(int) float64 { return 1.0 / 7 }) / n
	res.FRCHalfBit = crossing(res.FRCCurve, func(i int) float64 { return halfBit(res.FRCRingCounts[i]) }) / n
	return res
}

func standardComplex(truth, recon ComplexImage, opts Options) (amp, phase Result, err error) {
	var wg sync.WaitGroup
	wg.Go(func() {
		amp, err = Compare(abs(truth), abs(recon), Options{DataRange: opts.DataRange, GaussianSSIM: opts.GaussianSSIM})
	})
	// Rotate recon by the global phase offset c/|c|, c = Σ recon·truth*.
	var c complex128
	for i, t := range truth.Data {
		c += recon.Data[i] * cmplx.Conj(t)
	}
	rot := complex(1, 0)
	if a := cmplx.Abs(c); a > 0 {
		rot = cmplx.Conj(c) / complex(a, 0)
	}
	pt := Image{truth.Rows, truth.Cols, make([]float64, len(truth.Data))}
	pr := Image{truth.Rows, truth.Cols, make([]float64, len(truth.Data))}
	for i, t := range truth.Data {
		pt.Data[i] = cmplx.Phase(t)
		pr.Data[i] = cmplx.Phase(recon.Data[i] * rot)
	}
	r := opts.PhaseDataRange
	if r == 0 {
		r = 2 * math.Pi
	}
	phase = standard(pt, pr, r, r, opts.GaussianSSIM)
	wg.Wait()
	if err != nil {
		return Result{}, Result{}, fmt.Errorf("amplitude: %w", err)
	}
	return amp, phase, nil
}

func abs(z ComplexImage) Image {
	out := Image{z.Rows, z.Cols, make([]float64, len(z.Data))}
	for i, v := range z.Data {
		out.Data[i] = cmplx.Abs(v)
	}
	return out
}

func mseMAE(a, b []float64) (mse, mae float64) {
	for i, x := range a {
		d := x - b[i]
		mse += d * d
		mae += math.Abs(d)
	}
	n := float64(len(a))
	return mse / n, mae / n
}

func minMax(x []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		if v < lo || math.IsNaN(v) {
			lo = v
		}
		if v > hi || math.IsNaN(v) {
			hi = v
		}
	}
	return lo, hi
}

// trim returns m without a border of b pixels.
func trim(m Image, b int) Image {
	out := Image{m.Rows - 2*b, m.Cols - 2*b, nil}
	out.Data = make([]float64, 0, out.Rows*out.Cols)
	for i := b; i < m.Rows-b; i++ {
		out.Data = append(out.Data, m.Data[i*m.Cols+b:(i+1)*m.Cols-b]...)
	}
	return out
}
