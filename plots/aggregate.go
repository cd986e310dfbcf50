package plots

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Cell states in an aggregated grid.
const (
	stMissing = iota // no cell of the study lies here (not run, or excluded)
	stFailed         // cells lie here, but every run failed
	stOK
	stNonFinite // runs finished, but every value was NaN or ±Inf (diverged)
	// stNoValue: some runs here ended ok but none reported the metric
	// (e.g. one that a stage attaches to another model's runs only);
	// not a failure, and not drawn as one.
	stNoValue
)

// point is one aggregated grid point.
type point struct {
	val   float64 // NaN unless state == stOK
	std   float64 // pooled std over trials (for "±" annotations)
	err   float64 // half-width of the error bar of the chosen kind
	state int
	// nonFinite counts the trials behind the point whose value was NaN
	// or ±Inf, left out of val.
	nonFinite int
}

// grid holds one model's metric over the levels of some parameters, the
// others marginalised.
type grid struct {
	keys   []int   // parameter indices, slowest-varying first
	axes   [][]int // levels shown along each key, in display order
	sizes  []int   // number of levels of each key
	points []point
	hidden []string // parameters marginalised that vary for this model
	// marginal is how hidden parameters were combined: MarginalBest
	// falls back to MarginalMean for a metric without a direction.
	marginal string
}

// at returns the point at the given positions along the keys.
func (g grid) at(pos ...int) point {
	return g.points[g.index(pos)]
}

func (g grid) index(pos []int) int {
	i := 0
	for k, l := range pos {
		i = i*g.sizes[k] + l
	}
	return i
}

// empty reports whether no point of g holds a cell.
func (g grid) empty() bool {
	for _, p := range g.points {
		if p.state != stMissing {
			return false
		}
	}
	return true
}

// allLevels returns the levels of every key in sweep order.
func allLevels(d Data, keys []int) [][]int {
	axes := make([][]int, len(keys))
	for k, p := range keys {
		axes[k] = indexes(len(d.Params[p].Labels))
	}
	return axes
}

// indexes returns 0, 1, …, n-1.
func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// aggregate groups the cells of model by their levels of keys, placed
// along axes (axes[k] lists the levels of key k in display order; cells at
// other levels are left out), and combines each group with marginal
// (MarginalMean or MarginalBest); errKind chooses the error measure.
// Cells where a key does not apply are left out.
func aggregate(d Data, model, metric string, keys []int, axes [][]int, marginal, errKind string) grid {
	if !d.directed(metric) {
		marginal = MarginalMean // "best" needs a direction
	}
	g := grid{keys: keys, axes: axes, sizes: make([]int, len(keys)), marginal: marginal}
	where := make([][]int, len(keys)) // level -> position along the key, -1 if not shown
	n := 1
	for k, p := range keys {
		g.sizes[k] = len(axes[k])
		n *= max(1, g.sizes[k])
		where[k] = make([]int, len(d.Params[p].Labels))
		for l := range where[k] {
			where[k][l] = -1
		}
		for i, l := range axes[k] {
			where[k][l] = i
		}
	}
	if n == 0 || slices.Contains(g.sizes, 0) {
		n = 0
	}
	type acc struct {
		sum, sumVar, sumErr2 float64
		k, nonFinite         int
		seen, noValue        bool
		best                 point
	}
	accs := make([]acc, n)
	maximize := d.maximize(metric)
	pos := make([]int, len(keys))
cells:
	for _, c := range d.Cells {
		if c.Model != model {
			continue
		}
		for k, p := range keys {
			l := c.Levels[p]
			if l < 0 || where[k][l] < 0 {
				continue cells
			}
			pos[k] = where[k][l]
		}
		a := &accs[g.index(pos)]
		a.seen = true
		s, reported := c.Metrics[metric]
		if !c.Failed {
			a.nonFinite += s.NonFinite
			a.noValue = a.noValue || !reported
		}
		v := value(c, metric)
		if math.IsNaN(v) {
			continue
		}
		e := errorOf(s, errKind)
		a.sum += v
		a.sumVar += finite(s.Std) * finite(s.Std)
		a.sumErr2 += e * e
		a.k++
		if a.k == 1 || better(v, a.best.val, maximize) {
			a.best = point{val: v, std: finite(s.Std), err: e, state: stOK}
		}
	}
	g.points = make([]point, n)
	for i, a := range accs {
		switch {
		case a.k == 0 && a.nonFinite > 0:
			g.points[i] = point{val: math.NaN(), state: stNonFinite}
		case a.k == 0 && a.noValue:
			g.points[i] = point{val: math.NaN(), state: stNoValue}
		case a.k == 0 && a.seen:
			g.points[i] = point{val: math.NaN(), state: stFailed}
		case a.k == 0:
			g.points[i] = point{val: math.NaN(), state: stMissing}
		case marginal == MarginalBest:
			g.points[i] = a.best
		default:
			k := float64(a.k)
			g.points[i] = point{val: a.sum / k, std: math.Sqrt(a.sumVar / k), err: math.Sqrt(a.sumErr2) / k, state: stOK}
			if errKind == ErrorStd {
				g.points[i].err = g.points[i].std
			}
		}
		g.points[i].nonFinite = a.nonFinite
	}
	used := d.levelsFor(model)
	for p, prm := range d.Params {
		if used[p] > 1 && !slices.Contains(keys, p) {
			g.hidden = append(g.hidden, prm.Name)
		}
	}
	return g
}

// errorOf returns the half-width of the error bar of kind from s.
func errorOf(s Stat, kind string) float64 {
	switch kind {
	case ErrorSEM:
		return finite(s.SEM)
	case ErrorCI95:
		return finite(s.CI95)
	}
	return finite(s.Std)
}

// finite returns v, or 0 when v is NaN or infinite.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// better reports whether a beats b for a metric of the given direction.
func better(a, b float64, maximize bool) bool {
	if maximize {
		return a > b
	}
	return a < b
}

// marginalNote says how hidden parameters were combined, e.g.
// "mean over tv_weight, lr".
func marginalNote(hidden []string, marginal string) string {
	if len(hidden) == 0 {
		return ""
	}
	if marginal == MarginalBest {
		return "best over " + strings.Join(hidden, ", ")
	}
	return "mean over " + strings.Join(hidden, ", ")
}

// errorNote names the error measure, e.g. "band: ±1 std".
func errorNote(kind string) string {
	switch kind {
	case ErrorSEM:
		return "±1 s.e.m."
	case ErrorCI95:
		return "95% CI"
	}
	return "±1 std"
}

// checkModel returns an error unless model is one of d's models.
func (d Data) checkModel(model string) error {
	for _, m := range d.models() {
		if m == model {
			return nil
		}
	}
	return fmt.Errorf("plots: unknown model %q", model)
}
