package metrics

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// gaussianKernel returns the normalised 1-D Gaussian exp(-x²/2σ²) sampled at
// x = -radius..radius, as scipy.ndimage and TensorFlow build theirs.
func gaussianKernel(sigma float64, radius int) []float64 {
	w := make([]float64, 2*radius+1)
	var sum float64
	for i := range w {
		x := float64(i - radius)
		w[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// uniformKernel returns the 1-D box filter of the given odd size.
func uniformKernel(size int) []float64 {
	w := make([]float64, size)
	for i := range w {
		w[i] = 1 / float64(size)
	}
	return w
}

// reflectIndex maps an index outside [0, n) as scipy.ndimage's "reflect"
// mode does (d c b a | a b c d | d c b a).
func reflectIndex(i, n int) int {
	p := 2 * n
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - 1 - i
	}
	return i
}

// filterReflect correlates m with the separable kernel w⊗w (odd length,
// centred) with scipy.ndimage's "reflect" boundary; the output has m's shape.
func filterReflect(m Image, w []float64) Image {
	r := len(w) / 2
	tmp := make([]float64, len(m.Data))
	pad := make([]float64, m.Cols+2*r)
	for i := range m.Rows {
		row := m.Data[i*m.Cols : (i+1)*m.Cols]
		for j := range pad {
			pad[j] = row[reflectIndex(j-r, m.Cols)]
		}
		dst := tmp[i*m.Cols : (i+1)*m.Cols]
		for k, wk := range w {
			floats.AddScaled(dst, wk, pad[k:k+m.Cols])
		}
	}
	out := Image{m.Rows, m.Cols, make([]float64, len(m.Data))}
	for i := range m.Rows {
		dst := out.Data[i*m.Cols : (i+1)*m.Cols]
		for k, wk := range w {
			src := reflectIndex(i+k-r, m.Rows)
			floats.AddScaled(dst, wk, tmp[src*m.Cols:(src+1)*m.Cols])
		}
	}
	return out
}

// moments returns the local means of x, y, x², y² and x·y under the
// separable window w⊗w, without padding (TensorFlow's VALID): each is
// (Rows-len(w)+1)×(Cols-len(w)+1). scikit-image's SSIM, whose mean skips a
// border of len(w)/2 pixels, only ever uses these interior values.
func moments(x, y Image, w []float64) [5]Image {
	n := len(w)
	oc, or := x.Cols-n+1, x.Rows-n+1
	var out [5]Image
	for m := range out {
		out[m] = Image{or, oc, make([]float64, x.Rows*oc)}
	}
	xx := make([]float64, x.Cols)
	yy := make([]float64, x.Cols)
	xy := make([]float64, x.Cols)
	// Filter along the rows into out (x.Rows rows of oc)...
	for i := range x.Rows {
		rx, ry := x.Data[i*x.Cols:(i+1)*x.Cols], y.Data[i*x.Cols:(i+1)*x.Cols]
		floats.MulTo(xx, rx, rx)
		floats.MulTo(yy, ry, ry)
		floats.MulTo(xy, rx, ry)
		for m, row := range [5][]float64{rx, ry, xx, yy, xy} {
			dst := out[m].Data[i*oc : (i+1)*oc]
			for k, wk := range w {
				floats.AddScaled(dst, wk, row[k:k+oc])
			}
		}
	}
	// ...then along the columns in place: output row i only needs rows
	// i..i+n-1, so it can overwrite row i.
	for m := range out {
		d := out[m].Data
		for i := range or {
			dst := d[i*oc : (i+1)*oc]
			floats.Scale(w[0], dst)
			for k := 1; k < n; k++ {
				floats.AddScaled(dst, w[k], d[(i+k)*oc:(i+k+1)*oc])
			}
		}
		out[m].Data = d[:or*oc]
	}
	return out
}
