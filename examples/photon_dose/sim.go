package main

import (
	"math"
	"math/rand/v2"
)

// Geometry of the simulated experiment. The image, PSF and probe wrap
// around (periodic boundaries) so that the blur is a symmetric operator
// and every pixel is equally likely to be lit: no border effects blur the
// dose story.
const (
	size       = 128 // object side in pixels
	psfSigma   = 1.5 // known Gaussian PSF of the instrument, pixels
	probeSigma = 3.0 // Gaussian illumination of one frame, pixels
	background = 0.1 // object value between segments
	segments   = 36  // line segments per object
)

// grid is a size×size row-major image.
type grid []float64

func newGrid() grid { return make(grid, size*size) }

// wrap maps an index onto [0, size). size is a power of two, so a mask
// does it, negative indices included, without a division in the inner
// loops of the blur.
func wrap(i int) int { return i & (size - 1) }

// size must be a power of two for wrap: this fails to compile otherwise.
var _ [0]struct{} = [size & (size - 1)]struct{}{}

// experiment is one simulated acquisition.
type experiment struct {
	object   grid // ground truth in [background, 1]
	exposure grid // C: summed probe intensity over all frames, per pixel
	counts   grid // Y ~ Poisson(nphotons · C · (PSF ⊛ object))
	nphotons float64
}

// scan draws the object and the scan positions of a dataset: everything
// but the photon noise.
func scan(rng *rand.Rand, nImages int) (object, exposure grid) {
	return lineObject(rng), exposureMap(rng, nImages)
}

// acquire draws the counts of one acquisition of object under exposure.
// Frames are Poisson and independent, so their sum is Poisson with the
// summed mean: the counts are drawn once per pixel and the cost barely
// depends on the number of frames.
func acquire(rng *rand.Rand, object, exposure grid, nphotons float64) *experiment {
	ex := &experiment{object: object, exposure: exposure, nphotons: nphotons}
	blurred := newPSF().apply(object)
	ex.counts = newGrid()
	for i, b := range blurred {
		ex.counts[i] = poisson(rng, nphotons*exposure[i]*b)
	}
	return ex
}

// lineObject paints random anti-aliased line segments on a constant
// background, each over what lies below, so values stay in [background, 1].
func lineObject(rng *rand.Rand) grid {
	o := newGrid()
	for i := range o {
		o[i] = background
	}
	for range segments {
		x0, y0 := rng.Float64()*size, rng.Float64()*size
		angle := rng.Float64() * math.Pi
		length := 15 + 45*rng.Float64()
		x1, y1 := x0+length*math.Cos(angle), y0+length*math.Sin(angle)
		width := 1 + 2*rng.Float64()
		value := 0.3 + 0.7*rng.Float64()
		for y := range size {
			for x := range size {
				// One pixel of linear ramp at the edge is the anti-aliasing.
				c := width/2 + 0.5 - segmentDistance(float64(x), float64(y), x0, y0, x1, y1)
				if c <= 0 {
					continue
				}
				c = min(c, 1)
				o[y*size+x] = (1-c)*o[y*size+x] + c*value
			}
		}
	}
	return o
}

// segmentDistance is the distance from (px, py) to the segment (x0,y0)-(x1,y1).
func segmentDistance(px, py, x0, y0, x1, y1 float64) float64 {
	dx, dy := x1-x0, y1-y0
	t := ((px-x0)*dx + (py-y0)*dy) / (dx*dx + dy*dy)
	t = max(0, min(1, t))
	return math.Hypot(px-x0-t*dx, py-y0-t*dy)
}

// exposureMap sums the probe intensity of nImages frames at uniformly random
// sub-pixel positions. Each probe is normalised to unit total intensity, so
// nphotons is the number of photons incident per frame.
func exposureMap(rng *rand.Rand, nImages int) grid {
	const radius = int(4 * probeSigma) // exp(-8) of the peak is negligible
	norm := 1 / (2 * math.Pi * probeSigma * probeSigma)
	var gx, gy [2*radius + 1]float64
	c := newGrid()
	for range nImages {
		cx, cy := rng.Float64()*size, rng.Float64()*size
		ix, iy := int(cx), int(cy)
		// The Gaussian is separable: 2(2r+1) exponentials per frame rather
		// than (2r+1)².
		for k := range gx {
			dx := float64(ix+k-radius) - cx
			dy := float64(iy+k-radius) - cy
			gx[k] = math.Exp(-dx * dx / (2 * probeSigma * probeSigma))
			gy[k] = norm * math.Exp(-dy*dy/(2*probeSigma*probeSigma))
		}
		for ky, vy := range gy {
			row := wrap(iy+ky-radius) * size
			for kx, vx := range gx {
				c[row+wrap(ix+kx-radius)] += vy * vx
			}
		}
	}
	return c
}

// psf is a normalised 1-D Gaussian kernel; the 2-D PSF is its outer
// product, applied as two periodic passes.
type psf []float64

func newPSF() psf {
	const radius = 5 // ⌈3σ⌉: the kernel's tails beyond are below 0.4% of its peak
	k := make(psf, 2*radius+1)
	var sum float64
	for i := range k {
		d := float64(i - radius)
		k[i] = math.Exp(-d * d / (2 * psfSigma * psfSigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// apply returns the periodic convolution of g with the PSF. The kernel is
// symmetric, so the operator is its own adjoint.
func (k psf) apply(g grid) grid {
	return k.applyInto(newGrid(), newGrid(), g)
}

// applyInto convolves g into out, using tmp as scratch, and returns out.
func (k psf) applyInto(out, tmp, g grid) grid {
	r := len(k) / 2
	for y := range size {
		row := g[y*size : (y+1)*size]
		for x := range size {
			var s float64
			for i, w := range k {
				s += w * row[wrap(x+i-r)]
			}
			tmp[y*size+x] = s
		}
	}
	for y := range size {
		for x := range size {
			var s float64
			for i, w := range k {
				s += w * tmp[wrap(y+i-r)*size+x]
			}
			out[y*size+x] = s
		}
	}
	return out
}
