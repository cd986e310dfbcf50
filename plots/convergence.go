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
// step: the mean as a line, Lo..Hi as a translucent band. Up to maxLegend
// curves each get a colour and a legend entry. More would be an
// unreadable tangle, so then every curve is drawn thin and grey, and the
// best and the worst by final value (for each model, up to three models)
// are drawn over them in colour, best solid, worst dashed, and named in
// the legend; for a metric without a declared direction they are the
// lowest and highest final values. The y axis is logarithmic when every
// value is positive and they span three decades.
func Convergence(d Data, metric string, opt Options) (*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var all []series
	var final []float64 // last finite mean of each curve
	var model []string
	var ys []float64
	bands := false
	clip := func(lo, hi float64) (float64, float64, bool) { return d.clip(metric, lo, hi) }
	for _, cv := range d.Curves[metric] {
		n := len(cv.Steps)
		se := series{x: cv.Steps, y: make([]float64, n), err: make([]float64, n), lo: cv.Lo, hi: cv.Hi, clip: clip}
		last := math.NaN()
		for i := range n {
			m := cv.Mean[i]
			if math.IsNaN(cv.Steps[i]) || math.IsInf(cv.Steps[i], 0) || math.IsInf(m, 0) {
				m = math.NaN()
			}
			se.y[i] = m
			if !math.IsNaN(m) {
				last = m
				lo, hi := se.bounds(i)
				ys = append(ys, m, lo, hi)
			}
		}
		if math.IsNaN(last) {
			continue
		}
		bands = bands || (cv.Lo != nil && cv.Hi != nil)
		se.label = d.cellLabel(cv.Cell)
		if se.label == "" {
			se.label = cv.Model
		}
		all = append(all, se)
		final = append(final, last)
		model = append(model, cv.Model)
	}
	if len(all) == 0 {
		return nil, ErrNoData
	}
	width := opt.width(3.5)
	t := newTheme(width)
	var entries []legendEntry
	sub := "mean over trials"
	if bands {
		sub += ", band: spread over trials"
	}
	if len(all) <= maxLegend {
		for i := range all {
			se := &all[i]
			se.color, _, se.dashes = seriesStyle(i, len(all))
			if len(all) > 1 && se.label != "" {
				entries = append(entries, legendEntry{label: se.label, color: se.color, dashes: se.dashes, line: true})
			}
		}
	} else {
		var top []series
		entries, top = highlight(d, metric, all, final, model)
		sub += fmt.Sprintf("; %d curves in grey, best and worst by final value in colour", len(all))
		if !d.directed(metric) {
			sub = fmt.Sprintf("mean over trials; %d curves in grey, lowest and highest final value in colour (direction not declared)", len(all))
		}
		all = append(all, top...)
	}
	p := t.newPlot()
	p.Add(&seriesPlot{series: all, band: true, width: t.line})
	p.X.Label.Text = "step"
	p.Y.Label.Text = d.axisLabel(metric)
	lo, hi := finiteRange(ys)
	if lo > 0 && hi/lo >= 1000 {
		metricAxis(&p.Y, []float64{lo, hi})
	} else {
		padRange(&p.Y, lo, hi)
	}
	title := d.title(metric) + " during training"
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

// highlight turns every curve of all into a thin grey background line and
// returns copies of the best and worst by final value, coloured, to draw
// over them, with their legend entries: one pair per model when there are
// two or three models, else one pair in all.
func highlight(d Data, metric string, all []series, final []float64, model []string) ([]legendEntry, []series) {
	groups := []string{""}
	if n := len(d.Models); n >= 2 && n <= 3 {
		groups = d.Models
	}
	lowName, highName := "lowest", "highest"
	if d.directed(metric) {
		lowName, highName = "worst", "best"
		if !d.maximize(metric) {
			lowName, highName = "best", "worst"
		}
	}
	var entries []legendEntry
	var top []series
	for gi, g := range groups {
		lo, hi := -1, -1
		for i := range all {
			if g != "" && model[i] != g {
				continue
			}
			if lo < 0 || final[i] < final[lo] {
				lo = i
			}
			if hi < 0 || final[i] > final[hi] {
				hi = i
			}
		}
		if lo < 0 {
			continue
		}
		col := okabeIto[gi%len(okabeIto)]
		picks := []struct {
			i    int
			name string
		}{{hi, highName}, {lo, lowName}}
		if picks[1].name == "best" {
			picks[0], picks[1] = picks[1], picks[0] // best first
		}
		for k, pk := range picks {
			if k == 1 && pk.i == picks[0].i {
				break // a group of one curve
			}
			se := all[pk.i]
			se.color, se.dashes = col, nil
			if k == 1 {
				se.dashes = dashes[1]
			}
			top = append(top, se)
			entries = append(entries, legendEntry{label: pk.name + ": " + se.label, color: se.color, dashes: se.dashes, line: true})
		}
	}
	for i := range all {
		all[i].color, all[i].dashes, all[i].thin = withAlpha(midGrey, 0.55), nil, true
		all[i].lo, all[i].hi, all[i].err = nil, nil, make([]float64, len(all[i].y))
	}
	entries = append(entries, legendEntry{label: fmt.Sprintf("others (%d)", len(all)-len(top)), color: withAlpha(midGrey, 0.8), line: true})
	return entries, top
}
