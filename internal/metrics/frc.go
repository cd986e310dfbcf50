package metrics

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
)

// FRC returns the Fourier ring correlation curve of a and b in the standard
// convention (see the package documentation): curve[r] is the correlation
// of ring r, the spatial frequency r/N cycles/pixel with N = min(rows,
// cols), for r = 0 (DC) to N/2, and ringCounts[r] its number of pixels.
// A ring with no power in one of the images has a NaN correlation.
func FRC(a, b Image) (curve []float64, ringCounts []int, err error) {
	if err := checkPair(a.Rows, a.Cols, len(a.Data), b.Rows, b.Cols, len(b.Data)); err != nil {
		return nil, nil, err
	}
	curve, ringCounts = frcStandard(a, b)
	return curve, ringCounts, nil
}

// frcStandard is FRC for images already known to be of the same shape.
func frcStandard(a, b Image) (curve []float64, ringCounts []int) {
	n := min(a.Rows, a.Cols)
	rings := n/2 + 1
	num, pa, pb, ringCounts := newPairSpectrum(a, b).ringSums(rings, func(u, v int) int {
		fy := signedFreq(u, a.Rows) / float64(a.Rows)
		fx := signedFreq(v, a.Cols) / float64(a.Cols)
		return int(math.Round(float64(n) * math.Hypot(fy, fx)))
	})
	curve = make([]float64, rings)
	for i := range curve {
		curve[i] = ratio(num[i], math.Sqrt(pa[i]*pb[i]))
	}
	return curve, ringCounts
}

// ratio is num/den, NaN when den is 0.
func ratio(num, den float64) float64 {
	if den == 0 {
		return math.NaN()
	}
	return num / den
}

// signedFreq is the signed frequency index of DFT bin i of n: i for
// i < n - n/2, else i - n (numpy's fftfreq·n, fftshift's centred index).
func signedFreq(i, n int) float64 {
	if i < n-n/2 {
		return float64(i)
	}
	return float64(i - n)
}

// pairSpectrum holds the 2-D DFT of a + ib for two real images a and b of
// the same shape, from which both of their DFTs follow by symmetry: one
// complex transform instead of two.
type pairSpectrum struct {
	rows, cols int
	z          []complex128
}

func newPairSpectrum(a, b Image) pairSpectrum {
	z := make([]complex128, len(a.Data))
	for i, v := range a.Data {
		z[i] = complex(v, b.Data[i])
	}
	fft2InPlace(z, a.Rows, a.Cols)
	return pairSpectrum{a.Rows, a.Cols, z}
}

// ringSums returns, for each ring r < rings, Σ Re(Fa·Fb*), Σ|Fa|², Σ|Fb|²
// and the pixel count over the frequencies (u, v) with ringOf(u, v) = r;
// frequencies in no ring (r ≥ rings) are left out. ringOf must give k and
// -k the same ring. As a and b are real, the terms at -k are the complex
// conjugates of those at k: the sums only visit columns v ≤ cols/2 and count
// twice those whose mirror column is not visited, and Σ Fa·Fb* over a ring is
// real, so its real part is the whole sum.
func (s pairSpectrum) ringSums(rings int, ringOf func(u, v int) int) (num, pa, pb []float64, counts []int) {
	num = make([]float64, rings)
	pa = make([]float64, rings)
	pb = make([]float64, rings)
	counts = make([]int, rings)
	for u := range s.rows {
		for v := 0; 2*v <= s.cols; v++ {
			ring := ringOf(u, v)
			if ring >= rings {
				continue
			}
			w := 2
			if v == 0 || 2*v == s.cols {
				w = 1
			}
			x, y := s.at(u, v)
			num[ring] += float64(w) * (real(x)*real(y) + imag(x)*imag(y))
			pa[ring] += float64(w) * (real(x)*real(x) + imag(x)*imag(x))
			pb[ring] += float64(w) * (real(y)*real(y) + imag(y)*imag(y))
			counts[ring] += w
		}
	}
	return num, pa, pb, counts
}

// at returns the DFT coefficients of a and b at row u, column v.
func (s pairSpectrum) at(u, v int) (fa, fb complex128) {
	p := s.z[u*s.cols+v]
	q := cmplx.Conj(s.z[(s.rows-u)%s.rows*s.cols+(s.cols-v)%s.cols])
	d := p - q
	return (p + q) / 2, complex(imag(d)/2, -real(d)/2) // (p+q)/2, (p-q)/2i
}

// fft2InPlace replaces the row-major rows×cols array z by its
// unnormalised 2-D DFT.
func fft2InPlace(z []complex128, rows, cols int) {
	rfft := fft1(cols)
	for i := range rows {
		rfft(z[i*cols : (i+1)*cols])
	}
	cfft := fft1(rows)
	col := make([]complex128, rows)
	for j := range cols {
		for i := range col {
			col[i] = z[i*cols+j]
		}
		cfft(col)
		for i, v := range col {
			z[i*cols+j] = v
		}
	}
}

// fft1 returns an in-place 1-D DFT of length n: gonum's radix-2 transform
// (about three times faster) when n is a power of two, else its general
// mixed-radix one.
func fft1(n int) func([]complex128) {
	if n&(n-1) == 0 {
		return func(s []complex128) { fourier.CoefficientsRadix2(s) }
	}
	t := fourier.NewCmplxFFT(n)
	return func(s []complex128) { t.Coefficients(s, s) }
}

// halfBit is the half-bit threshold for a ring of n pixels.
func halfBit(n int) float64 {
	s := math.Sqrt(float64(n))
	return (0.2071 + 1.9102/s) / (1.2071 + 0.9102/s)
}

// crossing returns the ring position, linearly interpolated, where curve
// first falls below threshold(ring); rings whose value is NaN are skipped,
// and when the curve never falls below it is the last ring.
func crossing(curve []float64, threshold func(ring int) float64) float64 {
	prev := math.NaN()
	for i, c := range curve {
		d := c - threshold(i)
		if d < 0 {
			if i > 0 && !math.IsNaN(prev) {
				return float64(i-1) + prev/(prev-d)
			}
			return float64(i)
		}
		prev = d
	}
	return float64(len(curve) - 1)
}

// frcPtycho is PtychoPINN's FSC (ptycho/FRC/fourier_ring_corr.py) on the
// centred square crop of a and b: rings of round(|k|) out to the corners and
// the absolute value of the ring sum.
func frcPtycho(a, b Image) (curve []float64, counts []int) {
	n := min(a.Rows, a.Cols)
	a, b = cropSquare(a, n), cropSquare(b, n)
	rings := int(math.Round(math.Hypot(float64(n/2), float64(n/2)))) + 1
	num, pa, pb, counts := newPairSpectrum(a, b).ringSums(rings, func(u, v int) int {
		return int(math.Round(math.Hypot(signedFreq(u, n), signedFreq(v, n))))
	})
	curve = make([]float64, rings)
	for i := range curve {
		curve[i] = ratio(math.Abs(num[i]), math.Sqrt(pa[i]*pb[i]))
	}
	return curve, counts
}

// ptychoCrossing is PtychoPINN's _first_below_threshold_interpolated
// (ptycho/evaluation.py since 898b42e), with a threshold per ring so that
// frc_halfbit can use it too: the first finite ring i below threshold(i),
// linearly interpolated from ring i-1 and clipped to [i-1, i]. It is 0
// when ring 0 is below, the number of rings when none is, i itself when
// ring i-1 is not finite or the two lie level (a difference within 1e-8,
// numpy's isclose), and NaN when no ring is finite.
func ptychoCrossing(curve []float64, threshold func(ring int) float64) float64 {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	i, anyFinite := -1, false
	for k, c := range curve {
		if !finite(c) {
			continue
		}
		anyFinite = true
		if c < threshold(k) {
			i = k
			break
		}
	}
	switch {
	case !anyFinite:
		return math.NaN()
	case i < 0:
		return float64(len(curve))
	case i == 0:
		return 0
	}
	j := i - 1
	if !finite(curve[j]) {
		return float64(i)
	}
	// With a constant threshold t this is PtychoPINN's
	// j + (t - y0)/(y1 - y0).
	d0, d1 := curve[j]-threshold(j), curve[i]-threshold(i)
	denom := d1 - d0
	if math.Abs(denom) <= 1e-8 {
		return float64(i)
	}
	x := float64(j) - d0/denom
	if !finite(x) {
		return float64(i)
	}
	return math.Min(math.Max(x, float64(j)), float64(i))
}

// cropSquare returns the centred n×n crop of m.
func cropSquare(m Image, n int) Image {
	if m.Rows == n && m.Cols == n {
		return m
	}
	r0, c0 := (m.Rows-n)/2, (m.Cols-n)/2
	out := Image{n, n, make([]float64, 0, n*n)}
	for i := r0; i < r0+n; i++ {
		out.Data = append(out.Data, m.Data[i*m.Cols+c0:i*m.Cols+c0+n]...)
	}
	return out
}
