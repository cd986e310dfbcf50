package plots

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// DifferenceSpec selects a model-difference heatmap: Metric of model A
// minus model B over parameters X and Y.
type DifferenceSpec struct {
	X, Y   string
	Metric string
	A, B   string
}

// ModelDifference draws the difference s.A − s.B of s.Metric over s.X and
// s.Y. With Data.Comparisons it draws those, the caller's numbers: each
// model at its best own parameters per cell (Comparison.Best), or pooled
// over them, as the subtitle says. Without, each model's other parameters
// are first marginalised as Options.Marginal says (so a parameter only one
// model has is combined within that model). The palette diverges from
// white at zero, blue to red, symmetric about zero, and is flipped for
// metrics to minimise so that red always means "A is better". Cells where
// either model has no value are grey, or blank with a dash where runs
// ended ok but did not report the metric. A metric that either model
// never reports has no difference (ErrNoData).
func ModelDifference(d Data, s DifferenceSpec, opt Options) (*Figure, error) {
	g, err := differenceGrid(d, s, opt)
	if err != nil {
		return nil, err
	}
	vals := make([]float64, len(g.pts))
	for k, pt := range g.pts {
		vals[k] = pt.val
	}
	// Without a declared direction the map is not flipped: red means
	// "A higher", and the subtitle says so.
	maximize := !d.directed(s.Metric) || d.maximize(s.Metric)
	scale := diverging(vals, maximize)
	fmtr := newFormatter(vals)
	width := opt.width(3.5)
	nx, ny := len(g.x.levels), len(g.y.levels)
	cells := &heatCells{nx: nx, ny: ny, pts: g.pts, notes: make([]string, len(g.pts)), scale: scale, best: -1, theme: newTheme(width)}
	for k, pt := range g.pts {
		if pt.state == stOK {
			cells.notes[k] = fmtr.format(pt.val)
			if pt.val > 0 && cells.notes[k] != fmtr.format(0) {
				cells.notes[k] = "+" + cells.notes[k]
			}
		}
	}
	sub := g.notes
	if d.directed(s.Metric) {
		sub = append(sub, "red: "+s.A+" better, blue: "+s.B+" better")
	} else {
		sub = append(sub, "red: "+s.A+" higher, blue: "+s.B+" higher (direction not declared)")
	}
	hf := heatFigure{
		name:     fileName(fmt.Sprintf("difference_%s_minus_%s_%s", s.A, s.B, s.Metric)),
		title:    d.title(s.Metric) + ": " + s.A + " − " + s.B,
		subtitle: strings.Join(sub, " · "),
		x:        g.x, y: g.y,
		panels:   []heatPanel{{cells: cells}},
		scale:    scale,
		barTitle: d.axisLabel(s.Metric) + ", " + s.A + " − " + s.B,
		width:    width,
	}
	return hf.figure(), nil
}

// DifferenceValues are the numbers a model-difference heatmap shows.
type DifferenceValues struct {
	X, Y []string // labels of the levels along each axis
	// Diff[j][i] is A − B at X[i] and Y[j]; NaN where a model has no
	// value there.
	Diff [][]float64
}

// ModelDifferenceValues returns the numbers ModelDifference draws for s.
func ModelDifferenceValues(d Data, s DifferenceSpec, opt Options) (DifferenceValues, error) {
	g, err := differenceGrid(d, s, opt)
	if err != nil {
		return DifferenceValues{}, err
	}
	v := DifferenceValues{X: g.x.labels(), Y: g.y.labels(), Diff: make([][]float64, len(g.y.levels))}
	for j := range v.Diff {
		v.Diff[j] = make([]float64, len(g.x.levels))
		for i := range v.Diff[j] {
			v.Diff[j][i] = g.pts[j*len(g.x.levels)+i].val
		}
	}
	return v, nil
}

// diffGrid is the content of a difference heatmap: its axes, its points
// (row-major, y slowest) and the subtitle's notes on how each model is
// taken.
type diffGrid struct {
	x, y  axis
	pts   []point
	notes []string
}

// differenceGrid computes what ModelDifference draws.
func differenceGrid(d Data, s DifferenceSpec, opt Options) (*diffGrid, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.hasMetric(s.Metric); err != nil {
		return nil, err
	}
	for _, m := range []string{s.A, s.B} {
		if err := d.checkModel(m); err != nil {
			return nil, err
		}
	}
	if d.unreported(s.A, s.Metric) || d.unreported(s.B, s.Metric) {
		return nil, ErrNoData // nothing to subtract anywhere
	}
	if s.A == s.B {
		return nil, fmt.Errorf("plots: difference of model %q with itself", s.A)
	}
	xi, err := d.paramIndex(s.X)
	if err != nil {
		return nil, err
	}
	yi, err := d.paramIndex(s.Y)
	if err != nil {
		return nil, err
	}
	if xi == yi {
		return nil, fmt.Errorf("plots: difference heatmap of %s against itself", s.X)
	}
	// Only the levels both models sweep can be compared.
	xa, ya := d.axisOf(xi, d.commonLevels(xi, s.A, s.B)), d.axisOf(yi, d.commonLevels(yi, s.A, s.B))
	axes := [][]int{ya.levels, xa.levels}
	// The marginal grids give each cell's state (failed, no value, not
	// run) and, without Data.Comparisons, the values.
	ga := aggregate(d, s.A, s.Metric, []int{yi, xi}, axes, opt.marginal(), ErrorStd)
	gb := aggregate(d, s.B, s.Metric, []int{yi, xi}, axes, opt.marginal(), ErrorStd)
	if ga.empty() || gb.empty() {
		return nil, ErrNoData
	}
	g := &diffGrid{x: xa, y: ya, pts: make([]point, len(xa.levels)*len(ya.levels))}
	for k := range g.pts {
		a, b := ga.points[k], gb.points[k]
		switch {
		case a.state == stOK && b.state == stOK:
			g.pts[k] = point{val: a.val - b.val, state: stOK}
		case a.state == stMissing || b.state == stMissing:
			g.pts[k] = point{val: math.NaN(), state: stMissing}
		case a.state == stNoValue || b.state == stNoValue:
			g.pts[k] = point{val: math.NaN(), state: stNoValue}
		case a.state == stNonFinite || b.state == stNonFinite:
			g.pts[k] = point{val: math.NaN(), state: stNonFinite}
		default:
			g.pts[k] = point{val: math.NaN(), state: stFailed}
		}
		g.pts[k].nonFinite = a.nonFinite + b.nonFinite
	}
	if d.Comparisons == nil {
		for _, side := range []struct {
			model  string
			hidden []string
		}{{s.A, ga.hidden}, {s.B, gb.hidden}} {
			if n := marginalNote(side.hidden, ga.marginal); n != "" {
				g.notes = append(g.notes, n+" ("+side.model+")")
			}
		}
		return g, nil
	}
	best, err := d.compared(s, xi, yi, g)
	if err != nil {
		return nil, err
	}
	// The parameters marginalised are those only one model sweeps: the
	// comparisons leave no shared one varying within a cell.
	own := slices.Clone(ga.hidden)
	for _, p := range gb.hidden {
		if !slices.Contains(own, p) {
			own = append(own, p)
		}
	}
	switch {
	case len(own) == 0:
	case best:
		g.notes = append(g.notes, "each model at its best "+strings.Join(own, ", ")+" per cell")
	default:
		for _, side := range []struct {
			model  string
			hidden []string
		}{{s.A, ga.hidden}, {s.B, gb.hidden}} {
			if len(side.hidden) > 0 {
				n := side.model + " pooled over its " + strings.Join(side.hidden, ", ")
				if !d.directed(s.Metric) {
					n += " (no best without a direction)"
				}
				g.notes = append(g.notes, n)
			}
		}
	}
	return g, nil
}

// compared replaces the values of g's cells by the differences of
// Data.Comparisons for s, and reports whether they are best vs best. A
// cell where a model has no value keeps its mark (failed, no value, not
// run); one where both have values but no comparison is marked not run:
// nothing is known there that the caller stated. A shared parameter
// besides s.X and s.Y that varies would put several settings into one
// cell, and is an error.
func (d Data) compared(s DifferenceSpec, xi, yi int, g *diffGrid) (best bool, err error) {
	at := func(ax axis, l int) int { return slices.Index(ax.levels, l) }
	nx := len(g.x.levels)
	from := make([]int, len(g.pts)) // comparison index + 1 per cell
	for n, c := range d.Comparisons {
		if c.Metric != s.Metric {
			continue
		}
		diff, cellA, cellB := c.Diff, c.CellA, c.CellB
		switch {
		case c.A == s.A && c.B == s.B:
		case c.A == s.B && c.B == s.A:
			diff, cellA, cellB = -diff, cellB, cellA
		default:
			continue
		}
		i, j := at(g.x, c.Levels[xi]), at(g.y, c.Levels[yi])
		if i < 0 || j < 0 {
			continue
		}
		k := j*nx + i
		if g.pts[k].state != stOK {
			continue // a model has no value here: the cell says why
		}
		if prev := from[k]; prev > 0 {
			for p, l := range d.Comparisons[prev-1].Levels {
				if l != c.Levels[p] {
					return false, fmt.Errorf("plots: difference of %s and %s over %s and %s: the models also share %s, which varies; draw it as one of the axes", s.A, s.B, s.X, s.Y, d.Params[p].Name)
				}
			}
			return false, fmt.Errorf("plots: difference of %s and %s: two comparisons of %s at one setting", s.A, s.B, s.Metric)
		}
		from[k] = n + 1
		pt := point{val: diff, state: stOK, nonFinite: g.pts[k].nonFinite}
		if c.Best {
			// Only the cells compared count, not those pooled over.
			pt.nonFinite = 0
			for _, ci := range []int{cellA, cellB} {
				if ci >= 0 {
					pt.nonFinite += d.Cells[ci].Metrics[s.Metric].NonFinite
				}
			}
		}
		g.pts[k] = pt
		best = c.Best
	}
	for k, pt := range g.pts {
		if from[k] == 0 && pt.state == stOK {
			g.pts[k] = point{val: math.NaN(), state: stMissing}
		}
	}
	return best, nil
}
