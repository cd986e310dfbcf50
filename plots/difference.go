package plots

import (
	"fmt"
	"math"
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
// s.Y, each model's other parameters first marginalised as
// Options.Marginal says (so a parameter only one model has is combined
// within that model). The palette diverges from white at zero, blue to
// red, symmetric about zero, and is flipped for metrics to minimise so
// that red always means "A is better". Cells where either model has no
// value are grey, or blank with a dash where runs ended ok but did not
// report the metric. A metric that either model never reports has no
// difference (ErrNoData).
func ModelDifference(d Data, s DifferenceSpec, opt Options) (*Figure, error) {
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
	ga := aggregate(d, s.A, s.Metric, []int{yi, xi}, axes, opt.marginal(), ErrorStd)
	gb := aggregate(d, s.B, s.Metric, []int{yi, xi}, axes, opt.marginal(), ErrorStd)
	marginal := ga.marginal
	if ga.empty() || gb.empty() {
		return nil, ErrNoData
	}
	nx, ny := len(xa.levels), len(ya.levels)
	pts := make([]point, nx*ny)
	vals := make([]float64, nx*ny)
	for k := range pts {
		a, b := ga.points[k], gb.points[k]
		switch {
		case a.state == stOK && b.state == stOK:
			pts[k] = point{val: a.val - b.val, state: stOK}
		case a.state == stMissing || b.state == stMissing:
			pts[k] = point{val: math.NaN(), state: stMissing}
		case a.state == stNoValue || b.state == stNoValue:
			pts[k] = point{val: math.NaN(), state: stNoValue}
		case a.state == stNonFinite || b.state == stNonFinite:
			pts[k] = point{val: math.NaN(), state: stNonFinite}
		default:
			pts[k] = point{val: math.NaN(), state: stFailed}
		}
		vals[k] = pts[k].val
	}
	// Without a declared direction the map is not flipped: red means
	// "A higher", and the subtitle says so.
	maximize := !d.directed(s.Metric) || d.maximize(s.Metric)
	scale := diverging(vals, maximize)
	fmtr := newFormatter(vals)
	width := opt.width(3.5)
	cells := &heatCells{nx: nx, ny: ny, pts: pts, notes: make([]string, len(pts)), scale: scale, best: -1, theme: newTheme(width)}
	for k, pt := range pts {
		if pt.state == stOK {
			cells.notes[k] = fmtr.format(pt.val)
			if pt.val > 0 && cells.notes[k] != fmtr.format(0) {
				cells.notes[k] = "+" + cells.notes[k]
			}
		}
	}
	var sub []string
	if d.directed(s.Metric) {
		sub = append(sub, "red: "+s.A+" better, blue: "+s.B+" better")
	} else {
		sub = append(sub, "red: "+s.A+" higher, blue: "+s.B+" higher (direction not declared)")
	}
	for _, side := range []struct {
		model  string
		hidden []string
	}{{s.A, ga.hidden}, {s.B, gb.hidden}} {
		if n := marginalNote(side.hidden, marginal); n != "" {
			sub = append(sub, n+" ("+side.model+")")
		}
	}
	hf := heatFigure{
		name:     fileName(fmt.Sprintf("difference_%s_minus_%s_%s", s.A, s.B, s.Metric)),
		title:    d.title(s.Metric) + ": " + s.A + " - " + s.B,
		subtitle: strings.Join(sub, " · "),
		x:        xa, y: ya,
		panels:   []heatPanel{{cells: cells}},
		scale:    scale,
		barTitle: d.axisLabel(s.Metric) + " difference",
		width:    width,
	}
	return hf.figure(), nil
}
