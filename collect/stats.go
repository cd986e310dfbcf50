package collect

import (
	"math"
	"slices"

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

// nonFiniteSuffix is the column suffix of aggregated_results that counts a
// metric's NaN and ±Inf values per cell: <metric>_n_nonfinite.
const nonFiniteSuffix = "n_nonfinite"

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

// outlierMinN is the fewest finite values of a metric in a cell for any of
// them to be called an outlier. With fewer, the median and MAD of the cell
// are as noisy as the values they judge: with three trials, two close
// values make any third one stand out (z = 102.9 for −7.78 beside −8.81
// and −8.81), and a tenth of the runs of plain normal noise were flagged.
const outlierMinN = 5

// outlierZ is the robust z-score beyond which a trial is flagged.
const outlierZ = 3.5

// relScaleFloor is the smallest scale of a cell relative to its largest
// absolute value: values closer than that are one value written with
// rounding noise (a deterministic metric summed in another order), not an
// outlier.
const relScaleFloor = 1e-9

// robustZ returns the robust z-score 0.6745·(x − median)/scale of each of
// xs, the finite values of one metric in one cell (Iglewicz and Hoaglin's
// modified z-score). The scale is the cell's own MAD (as pooledMAD of the
// cell alone), but no less than pooled (the MAD of the metric pooled over
// the cells of its model) nor
// than relScaleFloor of the cell's largest |x|: a cell whose trials happen
// to lie close together does not make its others stand out, since MAD of
// five values is often a fraction of the spread. All-equal values give all
// zeros. It returns nil for fewer than outlierMinN values.
func robustZ(xs []float64, pooled float64) []float64 {
	if len(xs) < outlierMinN {
		return nil
	}
	sorted := slices.Sorted(slices.Values(xs))
	med := quantile(sorted, 0.5)
	scale := max(pooledMAD([][]float64{xs}), pooled, relScaleFloor*max(math.Abs(sorted[0]), math.Abs(sorted[len(sorted)-1])))
	z := make([]float64, len(xs))
	if scale == 0 {
		return z // every value is 0
	}
	for i, x := range xs {
		z[i] = 0.6745 * (x - med) / scale
	}
	return z
}

// pooledMAD returns the median absolute deviation of values from the
// median of their own group, over every group of two or more values, or 0
// when there is none. A group of n values has n − 1 deviations that say
// something about the spread: the middle value's is 0 for odd n (it is the
// median) and for even n repeats its neighbour's (each is half the gap
// between the two), so one is left out per group. With all n, the pooled
// MAD of groups of five normal values underestimates σ and robustZ flags
// 0.8 % of plain normal noise over 24 groups; without, it is 0.64σ to
// 0.69σ for groups of 4 to 10 (0.6745σ is exact) and flags about 0.05 %.
func pooledMAD(groups [][]float64) float64 {
	var dev []float64
	for _, xs := range groups {
		if len(xs) < 2 {
			continue
		}
		sorted := slices.Sorted(slices.Values(xs))
		med := quantile(sorted, 0.5)
		for i, x := range sorted {
			if i != len(sorted)/2 {
				dev = append(dev, math.Abs(x-med))
			}
		}
	}
	if len(dev) == 0 {
		return 0
	}
	slices.Sort(dev)
	return quantile(dev, 0.5)
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
