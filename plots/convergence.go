package plots

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot/vg/draw"
)

// maxLegend is the most series a legend lists; beyond it colours follow
// viridis in series order and the subtitle says so.
const maxLegend = 8

// cellLabel describes cell i: its model and the levels of the parameters
// that vary in the study, e.g. "pinn, nphotons=1e6, n_images=512".
func (d Data) cellLabel(i int) string {
	if i < 0 || i >= len(d.Cells) {
		return ""
	}
	c := d.Cells[i]
	var parts []string
	if c.Model != "" {
		parts = append(parts, c.Model)
	}
	for p, l := range c.Levels {
		if l >= 0 && len(d.Params[p].Labels) > 1 {
			parts = append(parts, d.Params[p].Name+"="+d.Params[p].label(l))
		}
	}
	return strings.Join(parts, ", ")
}

// Convergence draws the curves of Data.Curves[metric] against training
// step: the mean as a line, Lo..Hi as a translucent band. The y axis is
// logarithmic when every value is positive and they span three decades.
func Convergence(d Data, metric string, opt Options) (*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var all []series
	var ys []float64
	bands := false
	for _, cv := range d.Curves[metric] {
		n := len(cv.Steps)
		se := series{x: cv.Steps, y: make([]float64, n), err: make([]float64, n), lo: cv.Lo, hi: cv.Hi}
		has := false
		for i := range n {
			m := cv.Mean[i]
			if math.IsNaN(cv.Steps[i]) || math.IsInf(cv.Steps[i], 0) || math.IsInf(m, 0) {
				m = math.NaN()
			}
			se.y[i] = m
			if !math.IsNaN(m) {
				has = true
				lo, hi := se.bounds(i)
				ys = append(ys, m, lo, hi)
			}
		}
		if !has {
			continue
		}
		bands = bands || (cv.Lo != nil && cv.Hi != nil)
		se.label = d.cellLabel(cv.Cell)
		if se.label == "" {
			se.label = cv.Model
		}
		all = append(all, se)
	}
	if len(all) == 0 {
		return nil, ErrNoData
	}
	width := opt.width(3.5)
	t := newTheme(width)
	var entries []legendEntry
	for i := range all {
		se := &all[i]
		se.color, _, se.dashes = seriesStyle(i, len(all))
		if len(all) > 1 && len(all) <= maxLegend && se.label != "" {
			entries = append(entries, legendEntry{label: se.label, color: se.color, dashes: se.dashes, line: true})
		}
	}
	p := t.newPlot()
	p.Add(&seriesPlot{series: all, band: true, width: t.line})
	p.X.Label.Text = "step"
	p.Y.Label.Text = metric
	lo, hi := finiteRange(ys)
	if lo > 0 && hi/lo >= 1000 {
		metricAxis(&p.Y, []float64{lo, hi})
	} else {
		padRange(&p.Y, lo, hi)
	}
	title := metric + " during training"
	sub := "mean over trials"
	if bands {
		sub += ", band: spread over trials"
	}
	if len(all) > maxLegend {
		sub += fmt.Sprintf("; %d curves, coloured in order", len(all))
	}
	inner := width - 2*margin
	_, legH := t.legendLayout(entries, inner)
	height := t.headerHeight(inner, title, sub) + legH + width*0.62 + 2*margin
	return &Figure{Name: fileName("convergence_" + metric), Width: width, Height: height, draw: func(c draw.Canvas) {
		c = background(c)
		c = t.header(c, title, sub)
		c = t.legend(c, entries)
		p.Draw(c)
	}}, nil
}
