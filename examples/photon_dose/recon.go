package main

import "math"

// Reconstruction settings. The model network of a real study trains for a
// fixed budget; so does this one: a fixed number of IRLS and CG steps.
const (
	outerSteps = 4    // IRLS re-weightings of the TV term
	cgSteps    = 20   // conjugate-gradient steps per re-weighting
	tvEpsilon  = 1e-2 // smooths |∇x| at 0; well below the edge contrasts
)

// baseline is exposure-normalised stitching: the counts divided by the
// dose each pixel received, Y/(φC). It estimates the blurred object and has
// no regularisation, so it ignores tv_weight. A pixel that no frame lit
// has no estimate and is left at 0.
func baseline(ex *experiment) grid {
	x := newGrid()
	for i, y := range ex.counts {
		if dose := ex.nphotons * ex.exposure[i]; dose > 0 {
			x[i] = y / dose
		}
	}
	return x
}

// step is one reported iteration of the pinn solver.
type step struct {
	loss  float64
	recon grid
}

// solver holds the pinn problem
//
//	minimise J(x) = mean(½·w·(Hx − d)²) + λ·mean(√(|∇x|² + ε²))
//
// with H the known PSF, d = Y/(φC) the stitched data and w = C/mean(C) the
// exposure weights. The weights are normalised to mean 1 rather than set
// to the inverse noise variance φC/b: like a fixed loss weight in a
// network, a given tv_weight then regularises more, relative to the data,
// the higher the dose, so its best value falls as the dose rises.
type solver struct {
	h      psf
	w, wd  grid // weights and weighted data w·d
	lambda float64
	q      grid // lagged diffusivity 1/√(|∇x|² + ε²) of the current IRLS step
	// scratch buffers for the operators
	t1, t2, t3, gx, gy grid
}

// pinn reconstructs the object by exposure-weighted least-squares
// deconvolution with a total-variation prior of weight lambda, solved by
// lagged-diffusivity IRLS: each outer step freezes the TV weights at the
// current estimate and runs CG on the resulting quadratic problem. report
// is called after every CG step.
func pinn(ex *experiment, lambda float64, report func(step)) grid {
	s := newSolver(ex, lambda)
	// Start from the weighted mean of the data: a flat image, no noise.
	var sw, swd float64
	for i := range s.w {
		sw += s.w[i]
		swd += s.wd[i]
	}
	x := newGrid()
	if sw > 0 {
		for i := range x {
			x[i] = swd / sw
		}
	}
	rhs := s.h.apply(s.wd)
	for range outerSteps {
		s.diffusivity(x)
		s.cg(x, rhs, report)
	}
	return x
}

func newSolver(ex *experiment, lambda float64) *solver {
	s := &solver{h: newPSF(), w: newGrid(), wd: newGrid(), lambda: lambda, q: newGrid(),
		t1: newGrid(), t2: newGrid(), t3: newGrid(), gx: newGrid(), gy: newGrid()}
	var meanC float64
	for _, c := range ex.exposure {
		meanC += c
	}
	meanC /= float64(len(ex.exposure))
	if !(meanC > 0) || !(ex.nphotons > 0) {
		return s // no data: the prior alone decides, and x stays flat
	}
	for i, c := range ex.exposure {
		s.w[i] = c / meanC
		// w·d = Y/(φ·mean C) stays bounded where C is tiny, unlike d.
		s.wd[i] = ex.counts[i] / (ex.nphotons * meanC)
	}
	return s
}

// gradient stores the periodic forward differences of x in gx, gy.
func (s *solver) gradient(x grid) {
	for y := range size {
		for xx := range size {
			i := y*size + xx
			s.gx[i] = x[y*size+wrap(xx+1)] - x[i]
			s.gy[i] = x[wrap(y+1)*size+xx] - x[i]
		}
	}
}

// diffusivity freezes the TV weights at x.
func (s *solver) diffusivity(x grid) {
	s.gradient(x)
	for i := range s.q {
		s.q[i] = 1 / math.Sqrt(s.gx[i]*s.gx[i]+s.gy[i]*s.gy[i]+tvEpsilon*tvEpsilon)
	}
}

// apply computes out = Hᵀ W H x + λ ∇ᵀ Q ∇ x, the normal operator of the
// current IRLS step (H is symmetric).
func (s *solver) apply(out, x grid) {
	hx := s.h.applyInto(s.t1, s.t2, x)
	for i := range hx {
		hx[i] *= s.w[i]
	}
	s.h.applyInto(out, s.t2, hx)
	s.gradient(x)
	for i := range s.gx {
		s.gx[i] *= s.q[i]
		s.gy[i] *= s.q[i]
	}
	// The adjoint of the forward difference is a backward difference.
	for y := range size {
		for xx := range size {
			i := y*size + xx
			div := s.gx[y*size+wrap(xx-1)] - s.gx[i] + s.gy[wrap(y-1)*size+xx] - s.gy[i]
			out[i] += s.lambda * div
		}
	}
}

// loss evaluates J(x).
func (s *solver) loss(x grid) float64 {
	hx := s.h.applyInto(s.t3, s.t2, x)
	var data float64
	for i, w := range s.w {
		if w > 0 {
			// w(Hx − d)² = (w·Hx − w·d)²/w, from the bounded w·d.
			r := w*hx[i] - s.wd[i]
			data += r * r / w
		}
	}
	s.gradient(x)
	var tv float64
	for i := range s.gx {
		tv += math.Sqrt(s.gx[i]*s.gx[i] + s.gy[i]*s.gy[i] + tvEpsilon*tvEpsilon)
	}
	n := float64(len(x))
	return 0.5*data/n + s.lambda*tv/n
}

// cg runs cgSteps conjugate-gradient steps on the current quadratic
// problem, from x in place. It stops early when the residual vanishes or
// the operator gives no descent, so odd inputs never produce NaN.
func (s *solver) cg(x, rhs grid, report func(step)) {
	r, p, ap := newGrid(), newGrid(), newGrid()
	s.apply(ap, x)
	var rr float64
	for i := range r {
		r[i] = rhs[i] - ap[i]
		p[i] = r[i]
		rr += r[i] * r[i]
	}
	for range cgSteps {
		if !(rr > 0) {
			return
		}
		s.apply(ap, p)
		var pap float64
		for i := range p {
			pap += p[i] * ap[i]
		}
		if !(pap > 0) || math.IsInf(pap, 0) {
			return
		}
		alpha := rr / pap
		var next float64
		for i := range x {
			x[i] += alpha * p[i]
			r[i] -= alpha * ap[i]
			next += r[i] * r[i]
		}
		beta := next / rr
		rr = next
		for i := range p {
			p[i] = r[i] + beta*p[i]
		}
		if report != nil {
			report(step{loss: s.loss(x), recon: x})
		}
	}
}
