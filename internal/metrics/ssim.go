package metrics

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

const (
	k1 = 0.01
	k2 = 0.03
	// gaussianSSIMRadius is scikit-image's int(3.5·1.5 + 0.5) for the
	// gaussian_weights variant (an 11×11 window).
	gaussianSSIMRadius = 5
	// tfRadius is the radius of TensorFlow's 11×11 MS-SSIM window.
	tfRadius = 5
)

// msssimWeights are the power factors of Wang et al., as in TensorFlow.
var msssimWeights = [5]float64{0.0448, 0.2856, 0.3001, 0.2363, 0.1333}

// ssim is scikit-image's structural_similarity for 2-D float64 images with
// data range r: the default 7×7 uniform window with sample covariance, or,
// with gaussian, the σ = 1.5 Gaussian window with population covariance.
// The mean over the map cropped by the window radius sees no padded pixel,
// so the reflecting border scikit-image filters with never matters.
func ssim(x, y Image, r float64, gaussian bool) float64 {
	var w []float64
	covNorm := 1.0
	if gaussian {
		w = gaussianKernel(1.5, gaussianSSIMRadius)
	} else {
		w = uniformKernel(minSide)
		np := float64(minSide * minSide)
		covNorm = np / (np - 1)
	}
	mo := moments(x, y, w)
	c1 := (k1 * r) * (k1 * r)
	c2 := (k2 * r) * (k2 * r)
	var sum float64
	for k, mx := range mo[0].Data {
		my := mo[1].Data[k]
		vx := covNorm * (mo[2].Data[k] - mx*mx)
		vy := covNorm * (mo[3].Data[k] - my*my)
		vxy := covNorm * (mo[4].Data[k] - mx*my)
		sum += ((2*mx*my + c1) * (2*vxy + c2)) / ((mx*mx + my*my + c1) * (vx + vy + c2))
	}
	return sum / float64(len(mo[0].Data))
}

// msssimScales is the number of TensorFlow MS-SSIM scales an image of the
// given size supports (each scale's image at least 11 pixels a side), at most 5.
func msssimScales(rows, cols int) int {
	n := 0
	for n < len(msssimWeights) && min(rows, cols) >= 2*tfRadius+1 {
		n++
		rows, cols = (rows+1)/2, (cols+1)/2
	}
	return n
}

// msssimTF is TensorFlow's tf.image.ssim_multiscale with max_val r, using
// fewer scales (with renormalised weights) for images under 176 pixels. It
// returns the value and the number of scales.
func msssimTF(x, y Image, r float64) (float64, int) {
	scales := msssimScales(x.Rows, x.Cols)
	if scales == 0 {
		return math.NaN(), 0
	}
	weights := msssimWeights[:scales]
	var norm float64 = 1
	if scales < len(msssimWeights) {
		norm = floats.Sum(weights)
	}
	w := gaussianKernel(1.5, tfRadius)
	val := 1.0
	for s := range scales {
		if s > 0 {
			x, y = avgPool2(x), avgPool2(y)
		}
		ssimVal, cs := tfSSIM(x, y, r, w)
		v := cs
		if s == scales-1 {
			v = ssimVal
		}
		val *= math.Pow(math.Max(v, 0), weights[s]/norm)
	}
	return val, scales
}

// tfSSIM is TensorFlow's _ssim_per_channel: the mean SSIM and the mean
// contrast-structure term over the VALID-filtered maps.
func tfSSIM(x, y Image, r float64, w []float64) (ssimVal, cs float64) {
	c1 := (k1 * r) * (k1 * r)
	c2 := (k2 * r) * (k2 * r)
	mo := moments(x, y, w)
	var sumSSIM, sumCS float64
	for k, a := range mo[0].Data {
		b := mo[1].Data[k]
		num0 := a * b * 2
		den0 := a*a + b*b
		lum := (num0 + c1) / (den0 + c1)
		c := (2*mo[4].Data[k] - num0 + c2) / (mo[2].Data[k] + mo[3].Data[k] - den0 + c2)
		sumSSIM += lum * c
		sumCS += c
	}
	n := float64(len(mo[0].Data))
	return sumSSIM / n, sumCS / n
}

// avgPool2 halves m by 2×2 averaging, first repeating the last row or
// column of an odd dimension (TensorFlow's SYMMETRIC pad, then VALID pooling).
func avgPool2(m Image) Image {
	out := Image{(m.Rows + 1) / 2, (m.Cols + 1) / 2, nil}
	out.Data = make([]float64, out.Rows*out.Cols)
	for i := range out.Rows {
		i0, i1 := 2*i, min(2*i+1, m.Rows-1)
		for j := range out.Cols {
			j0, j1 := 2*j, min(2*j+1, m.Cols-1)
			out.Data[i*out.Cols+j] = 0.25 * (m.At(i0, j0) + m.At(i0, j1) + m.At(i1, j0) + m.At(i1, j1))
		}
	}
	return out
}

// msssimPtycho is PtychoPINN's ms_ssim(img1, img2, sigma): scikit-image SSIM
// at up to five scales decimated by [::2, ::2], after an optional Gaussian
// blur.
func msssimPtycho(x, y Image, sigma float64) float64 {
	if sigma > 0 {
		w := gaussianKernel(sigma, int(4*sigma+0.5)) // scipy's truncate = 4
		x, y = filterReflect(x, w), filterReflect(y, w)
	}
	xlo, xhi := minMax(x.Data)
	ylo, yhi := minMax(y.Data)
	r := math.Max(xhi-xlo, yhi-ylo)
	val := 1.0
	for level, wt := range msssimWeights {
		s := ssim(x, y, r, false)
		if math.IsNaN(s) {
			return 0
		}
		if s < 0 {
			s = 0.0001
		}
		val *= math.Pow(s, wt)
		if level < len(msssimWeights)-1 {
			x, y = decimate2(x), decimate2(y)
			if min(x.Rows, x.Cols) < minSide {
				break
			}
		}
	}
	return val
}

// decimate2 returns m[::2, ::2].
func decimate2(m Image) Image {
	out := Image{(m.Rows + 1) / 2, (m.Cols + 1) / 2, nil}
	out.Data = make([]float64, 0, out.Rows*out.Cols)
	for i := 0; i < m.Rows; i += 2 {
		for j := 0; j < m.Cols; j += 2 {
			out.Data = append(out.Data, m.At(i, j))
		}
	}
	return out
}
