package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPoissonMoments checks mean and variance on both sides of the switch
// from inversion to PTRS, and the degenerate means.
func TestPoissonMoments(t *testing.T) {
	const n = 200000
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lambda := range []float64{0.01, 0.5, 3, 9.99, 10, 30, 1e4, 1e9} {
		var sum, sum2 float64
		for range n {
			k := poisson(rng, lambda)
			if k < 0 || k != math.Trunc(k) {
				t.Fatalf("λ=%g: drew %g", lambda, k)
			}
			sum += k
			sum2 += k * k
		}
		mean := sum / n
		variance := sum2/n - mean*mean
		// Five standard errors of the mean; the variance within 3%.
		if se := math.Sqrt(lambda / n); math.Abs(mean-lambda) > 5*se {
			t.Errorf("λ=%g: mean %g, want within %g", lambda, mean, 5*se)
		}
		if math.Abs(variance/lambda-1) > 0.03 {
			t.Errorf("λ=%g: variance %g", lambda, variance)
		}
	}
	for _, lambda := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if k := poisson(rng, lambda); k != 0 {
			t.Errorf("λ=%g: drew %g, want 0", lambda, k)
		}
	}
}

// TestPoissonPMF compares frequencies with the probability mass function
// by a chi-square test over the cells holding at least 20 expected draws.
func TestPoissonPMF(t *testing.T) {
	const n = 200000
	rng := rand.New(rand.NewPCG(3, 4))
	for _, lambda := range []float64{2.5, 10, 47} {
		freq := map[float64]int{}
		for range n {
			freq[poisson(rng, lambda)]++
		}
		var chi2 float64
		cells := 0
		for k := 0.0; k < 3*lambda+20; k++ {
			lg, _ := math.Lgamma(k + 1)
			want := n * math.Exp(k*math.Log(lambda)-lambda-lg)
			if want < 20 {
				continue
			}
			d := float64(freq[k]) - want
			chi2 += d * d / want
			cells++
		}
		// The 99.9% quantile of chi-square is below df + 4.5·√(2·df) for
		// these degrees of freedom.
		if limit := float64(cells) + 4.5*math.Sqrt(2*float64(cells)); chi2 > limit {
			t.Errorf("λ=%g: chi-square %.1f over %d cells, limit %.1f", lambda, chi2, cells, limit)
		}
	}
}

// TestPoissonZeroAtTen guards the PTRS rejection step: k = 0 has
// probability e^-10 at λ = 10 and must be drawn (gonum never draws it).
func TestPoissonZeroAtTen(t *testing.T) {
	const n = 2000000
	rng := rand.New(rand.NewPCG(5, 6))
	zeros := 0
	for range n {
		if poissonPTRS(rng, 10) == 0 {
			zeros++
		}
	}
	// Expected n·e^-10 ≈ 91; fewer than 50 has probability below 1e-5.
	if want := n * math.Exp(-10); zeros < 50 {
		t.Errorf("drew 0 %d times in %d, want about %.0f", zeros, n, want)
	}
}
