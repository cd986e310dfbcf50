package main

import (
	"math"
	"math/rand/v2"
)

// ptrsMin is the mean from which poisson switches from inversion to PTRS.
// Hörmann tunes PTRS for λ ≥ 10; below that inversion needs few steps.
const ptrsMin = 10

// poisson draws one exact Poisson(lambda) variate. A mean that is not a
// positive finite number yields 0 so that an unlit pixel costs nothing.
//
// gonum's distuv.Poisson is not used: its PTRS rejects k = 0 (it tests
// k <= 0 where Hörmann has k < 0), so it never returns 0 for λ ≥ 10, a
// bias of e^-λ that this sampler does not have.
func poisson(rng *rand.Rand, lambda float64) float64 {
	switch {
	case !(lambda > 0) || math.IsInf(lambda, 1):
		return 0
	case lambda < ptrsMin:
		return poissonInversion(rng, lambda)
	}
	return poissonPTRS(rng, lambda)
}

// poissonInversion walks the cumulative distribution from k = 0 until it
// passes a uniform variate.
func poissonInversion(rng *rand.Rand, lambda float64) float64 {
	u := rng.Float64()
	p := math.Exp(-lambda)
	cdf := p
	k := 0.0
	// The bound stops the walk when rounding leaves the cdf just below a u
	// near 1; the probability mass past it is below 1e-30 for λ < 10.
	for u > cdf && k < 100 {
		k++
		p *= lambda / k
		cdf += p
	}
	return k
}

// poissonPTRS is algorithm PTRS, transformed rejection with squeeze, from
// W. Hörmann, "The transformed rejection method for generating Poisson
// random variables", Insurance: Mathematics and Economics 12 (1993) 39-45.
func poissonPTRS(rng *rand.Rand, lambda float64) float64 {
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v*invAlpha/(a/(us*us)+b)) <= -lambda+k*loglam-lg {
			return k
		}
	}
}
