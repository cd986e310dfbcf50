package collect

import (
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// summary is the spread of one metric over a set of trials. Fields that are
// undefined for the sample (all of them for N = 0; Std and SEM for N = 1)
// are NaN, written as NULL.
type summary struct {
	N                          int
	Mean, Std, SEM             float64
	Min, P25, Median, P75, Max float64
}

// statNames are the column suffixes of a summary, in column order.
var statNames = []string{"mean", "std", "sem", "min", "p25", "median", "p75", "max"}

// values returns the summary's statistics in the order of statNames.
func (s summary) values() []float64 {
	return []float64{s.Mean, s.Std, s.SEM, s.Min, s.P25, s.Median, s.P75, s.Max}
}

// summarize computes the summary of xs, which it sorts in place. Only
// finite values count: a NaN or infinite metric (a diverged run) says the
// run produced no usable value, and one of them would otherwise turn every
// statistic of its cell into NaN.
func summarize(xs []float64) summary {
	xs = slices.DeleteFunc(xs, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
	nan := math.NaN()
	s := summary{N: len(xs), Mean: nan, Std: nan, SEM: nan, Min: nan, P25: nan, Median: nan, P75: nan, Max: nan}
	if len(xs) == 0 {
		return s
	}
	slices.Sort(xs)
	s.Mean = stat.Mean(xs, nil)
	if len(xs) > 1 {
		// stat.StdDev is the sample (n − 1) standard deviation.
		s.Std = stat.StdDev(xs, nil)
		s.SEM = stat.StdErr(s.Std, float64(len(xs)))
	}
	s.Min, s.Max = xs[0], xs[len(xs)-1]
	s.P25, s.Median, s.P75 = quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75)
	return s
}

// quantile returns the p-quantile of the sorted, non-empty xs by linear
// interpolation between order statistics at position (n − 1)·p: type 7 of
// Hyndman and Fan, the default of numpy, R and pandas and DuckDB's
// quantile_cont. gonum's stat.Quantile offers only types 1 and 4, whose
// median of two trials is the lower one, which no user expects.
func quantile(xs []float64, p float64) float64 {
	h := float64(len(xs)-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-lo)*(xs[i+1]-xs[i])
}

// ci95 is the half-width of the 95% confidence interval of a mean with
// standard error sem over n values (Student's t, n − 1 degrees of freedom).
func ci95(sem float64, n int) float64 {
	if n < 2 || math.IsNaN(sem) {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975) * sem
}

// robustZ returns the robust z-score 0.6745·(x − median)/MAD of each of
// xs (Iglewicz and Hoaglin), where MAD is the median absolute deviation.
// When more than half the values are equal the MAD is 0; the mean absolute
// deviation scaled by 1.2533 (0.7979·|x − median|/meanAD) stands in for it,
// so that [1, 1, 5] still flags 5. All equal values give all zeros. It
// returns nil for fewer than three values: no trial can stand out of two.
func robustZ(xs []float64) []float64 {
	if len(xs) < 3 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(xs))
	med := quantile(sorted, 0.5)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	meanAD := stat.Mean(dev, nil)
	slices.Sort(dev)
	mad := quantile(dev, 0.5)
	z := make([]float64, len(xs))
	for i, x := range xs {
		switch {
		case mad > 0:
			z[i] = 0.6745 * (x - med) / mad
		case meanAD > 0:
			z[i] = 0.7979 * (x - med) / meanAD
		}
	}
	return z
}

// outlierZ is the robust z-score beyond which a trial is flagged.
const outlierZ = 3.5

// minimizeWords are the name parts that make a metric one to minimise when
// the study does not say: errors, losses, times and memory.
var minimizeWords = map[string]bool{
	"loss": true, "error": true, "err": true, "mae": true, "mse": true, "rmse": true, "nll": true,
	"time": true, "memory": true, "mem": true, "wall": true, "rss": true, "cpu": true,
	"latency": true, "duration": true, "seconds": true, "runtime": true,
}

// guessMaximize reports whether a metric is better higher, judging by its
// name: it is minimised when any part of it (split at non-letters) is one of
// minimizeWords, e.g. val_loss, mae, wall_s, max_rss_mb.
func guessMaximize(metric string) bool {
	parts := strings.FieldsFunc(strings.ToLower(metric), func(r rune) bool { return r < 'a' || r > 'z' })
	for _, p := range parts {
		if minimizeWords[p] {
			return false
		}
	}
	return true
}

// tally summarises the values of a boolean or string metric over the ok
// trials of a cell: such values have no mean, only counts.
type tally struct {
	n     int
	nTrue int    // of a boolean metric
	mode  string // of a string metric: its most frequent value
	// distinct is the number of different values of a string metric.
	distinct int
}

// Column suffixes of a tally in aggregated_results, in column order.
var (
	boolTallyNames = []string{"n_true", "frac_true"}
	textTallyNames = []string{"mode", "n_distinct"}
)

// tallyBools counts the true values.
func tallyBools(vs []bool) tally {
	t := tally{n: len(vs)}
	for _, v := range vs {
		if v {
			t.nTrue++
		}
	}
	return t
}

// tallyTexts finds the most frequent value, the first in byte order among
// equally frequent ones so that the table does not depend on the order of
// the trials.
func tallyTexts(vs []string) tally {
	count := map[string]int{}
	for _, v := range vs {
		count[v]++
	}
	t := tally{n: len(vs), distinct: len(count)}
	most := 0
	for _, v := range slices.Sorted(mapKeys(count)) {
		if count[v] > most {
			t.mode, most = v, count[v]
		}
	}
	return t
}

// boolValues returns the values of a tally of a boolean metric in the
// order of boolTallyNames: the fraction is NULL without a value.
func (t tally) boolValues() []any {
	frac := any(nil)
	if t.n > 0 {
		frac = float64(t.nTrue) / float64(t.n)
	}
	return []any{int64(t.nTrue), frac}
}

// textValues returns the values of a tally of a string metric in the
// order of textTallyNames: the mode is NULL without a value.
func (t tally) textValues() []any {
	mode := any(nil)
	if t.n > 0 {
		mode = t.mode
	}
	return []any{mode, int64(t.distinct)}
}
