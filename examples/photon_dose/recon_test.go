package main

import (
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

func randomGrid(rng *rand.Rand) grid {
	g := newGrid()
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	return g
}

// simulate draws one acquisition from rng as the simulate stage and a run
// do together.
func simulate(rng *rand.Rand, nphotons float64, nImages int) *experiment {
	object, exposure := scan(rng, nImages)
	return acquire(rng, object, exposure, nphotons)
}

func dot(a, b grid) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestOperatorsSymmetric checks what CG relies on: the PSF is its own
// adjoint and the IRLS normal operator is symmetric positive definite.
func TestOperatorsSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, y := randomGrid(rng), randomGrid(rng)
	h := newPSF()
	if a, b := dot(h.apply(x), y), dot(x, h.apply(y)); math.Abs(a-b) > 1e-9*math.Abs(a) {
		t.Errorf("<Hx,y> = %v, <x,Hy> = %v", a, b)
	}
	s := newSolver(simulate(rng, 1e3, 64), 1e-2)
	s.diffusivity(randomGrid(rng))
	ax, ay := newGrid(), newGrid()
	s.apply(ax, x)
	s.apply(ay, y)
	if a, b := dot(ax, y), dot(x, ay); math.Abs(a-b) > 1e-9*math.Abs(a) {
		t.Errorf("<Ax,y> = %v, <x,Ay> = %v", a, b)
	}
	if q := dot(ax, x); !(q > 0) {
		t.Errorf("<Ax,x> = %v, want > 0", q)
	}
}

// TestSimulation checks the object's range and that the exposure map sums
// to one unit of probe intensity per frame.
func TestSimulation(t *testing.T) {
	for _, n := range []int{1, 256, 4096} {
		ex := simulate(rand.New(rand.NewPCG(uint64(n), 9)), 1e3, n)
		for i, o := range ex.object {
			if o < background-1e-12 || o > 1+1e-12 {
				t.Fatalf("n=%d: object[%d] = %v outside [%v, 1]", n, i, o, background)
			}
		}
		var sum float64
		for _, c := range ex.exposure {
			sum += c
		}
		// The probe is normalised on the continuum and cut at 4σ: the sum
		// over the pixel grid is within a fraction of a percent of 1.
		if math.Abs(sum/float64(n)-1) > 5e-3 {
			t.Errorf("n=%d: exposure sums to %v per frame", n, sum/float64(n))
		}
	}
}

// psnrOf runs one model and returns its PSNR, averaged over seeds 1..3.
func psnrOf(t *testing.T, model string, nphotons, tv float64) float64 {
	t.Helper()
	var sum float64
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		ex := simulate(rng, nphotons, 1024)
		var x grid
		if model == "pinn" {
			x = pinn(ex, tv, nil)
		} else {
			x = baseline(ex)
		}
		sum += psnr(ex.object, x)
	}
	return sum / 3
}

// TestDoseStory checks the behaviour the example study exists to show: the
// best tv_weight falls with the dose, a tuned pinn beats the baseline and a
// mistuned one loses to it.
func TestDoseStory(t *testing.T) {
	if testing.Short() {
		t.Skip("about 3 s of reconstructions")
	}
	weights := []float64{1e-5, 1e-4, 1e-3, 1e-2, 1e-1}
	tests := []struct {
		nphotons         float64
		bestLo, bestHi   float64 // where the best weight must lie
		mistuned         float64 // a weight that must lose to the baseline
		baseLo, baseHigh float64 // the baseline's PSNR range, dB
	}{
		{1e2, 1e-2, 1e-1, 1e-5, 10, 16},
		{1e4, 1e-4, 1e-2, 1e-1, 18.5, 20},
		{1e6, 1e-5, 1e-4, 1e-1, 19.3, 20.1},
	}
	for _, tt := range tests {
		base := psnrOf(t, "baseline", tt.nphotons, 0)
		if base < tt.baseLo || base > tt.baseHigh {
			t.Errorf("nphotons %g: baseline %.2f dB, want %g..%g", tt.nphotons, base, tt.baseLo, tt.baseHigh)
		}
		best, bestPSNR := 0.0, math.Inf(-1)
		for _, w := range weights {
			p := psnrOf(t, "pinn", tt.nphotons, w)
			if p > bestPSNR {
				best, bestPSNR = w, p
			}
			if w == tt.mistuned && p >= base {
				t.Errorf("nphotons %g: pinn with tv_weight %g gives %.2f dB, not below the baseline's %.2f", tt.nphotons, w, p, base)
			}
		}
		if best < tt.bestLo || best > tt.bestHi {
			t.Errorf("nphotons %g: best tv_weight %g, want %g..%g", tt.nphotons, best, tt.bestLo, tt.bestHi)
		}
		if bestPSNR <= base {
			t.Errorf("nphotons %g: best pinn %.2f dB does not beat the baseline's %.2f", tt.nphotons, bestPSNR, base)
		}
	}
}

// BenchmarkRun times one run of each model with its metrics.
func BenchmarkRun(b *testing.B) {
	data := filepath.Join(b.TempDir(), "dataset.gob")
	if code := mainErr([]string{"simulate", "--nphotons", "1e4", "--n-images", "4096", "--out", data}, env(nil), io.Discard, io.Discard); code != 0 {
		b.Fatalf("simulate: status %d", code)
	}
	for _, p := range []params{
		{model: "pinn", data: data, out: filepath.Join(b.TempDir(), reconFile), tvWeight: 1e-3, trial: 1},
		{model: "baseline", data: data, out: filepath.Join(b.TempDir(), reconFile), trial: 1},
	} {
		b.Run(p.model, func(b *testing.B) {
			for b.Loop() {
				if err := run(p, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
