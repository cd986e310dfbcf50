package plots

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LinesSpec selects one line plot: a metric against a parameter, one line
// per model, and per level of By when set. Other parameters are
// marginalised as Options.Marginal says.
type LinesSpec struct {
	Param  string
	Metric string
	By     string // optional second parameter: one line per level
}

// series is one line with its error band or bars.
type series struct {
	label     string
	x, y, err []float64 // y NaN where unknown; the band is y ± err…
	lo, hi    []float64 // …unless both bounds are given
	color     color.NRGBA
	glyph     draw.GlyphDrawer // nil: no markers
	dashes    []vg.Length
}

// bounds returns the band or error bar around point i.
func (se series) bounds(i int) (lo, hi float64) {
	if se.lo != nil && se.hi != nil {
		lo, hi = se.lo[i], se.hi[i]
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return se.y[i], se.y[i]
		}
		return lo, hi
	}
	e := finite(se.err[i])
	return se.y[i] - e, se.y[i] + e
}

// seriesPlot draws series as lines with markers and either translucent
// bands (band) or error bars; NaN values break the lines.
type seriesPlot struct {
	series []series
	band   bool
	width  vg.Length // line width
}

// DataRange implements plot.DataRanger over the finite values and bands.
func (s *seriesPlot) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, se := range s.series {
		for i, y := range se.y {
			if math.IsNaN(y) {
				continue
			}
			lo, hi := se.bounds(i)
			xmin, xmax = math.Min(xmin, se.x[i]), math.Max(xmax, se.x[i])
			ymin, ymax = math.Min(ymin, math.Min(y, lo)), math.Max(ymax, math.Max(y, hi))
		}
	}
	return xmin, xmax, ymin, ymax
}

// runs splits the indices of finite y values into unbroken runs.
func runs(y []float64) [][]int {
	var out [][]int
	var cur []int
	for i, v := range y {
		if math.IsNaN(v) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, i)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Plot implements plot.Plotter.
func (s *seriesPlot) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	if s.band {
		for _, se := range s.series {
			for _, run := range runs(se.y) {
				if len(run) < 2 {
					continue
				}
				var poly []vg.Point
				for _, i := range run {
					_, hi := se.bounds(i)
					poly = append(poly, vg.Point{X: tx(se.x[i]), Y: ty(hi)})
				}
				for k := len(run) - 1; k >= 0; k-- {
					lo, _ := se.bounds(run[k])
					poly = append(poly, vg.Point{X: tx(se.x[run[k]]), Y: ty(lo)})
				}
				c.FillPolygon(withAlpha(se.color, 0.18), c.ClipPolygonXY(poly))
			}
		}
	}
	for _, se := range s.series {
		ls := draw.LineStyle{Color: se.color, Width: s.width, Dashes: se.dashes}
		for _, run := range runs(se.y) {
			var pts []vg.Point
			for _, i := range run {
				pts = append(pts, vg.Point{X: tx(se.x[i]), Y: ty(se.y[i])})
				if ylo, yhi := se.bounds(i); !s.band && yhi > ylo {
					x, lo, hi := tx(se.x[i]), ty(ylo), ty(yhi)
					eb := draw.LineStyle{Color: se.color, Width: s.width * 0.8}
					c.StrokeLine2(eb, x, lo, x, hi)
					c.StrokeLine2(eb, x-vg.Points(2), lo, x+vg.Points(2), lo)
					c.StrokeLine2(eb, x-vg.Points(2), hi, x+vg.Points(2), hi)
				}
			}
			if len(pts) > 1 {
				c.StrokeLines(ls, c.ClipLinesXY(pts)...)
			}
			for _, pt := range pts {
				if se.glyph != nil && c.Contains(pt) {
					c.DrawGlyph(draw.GlyphStyle{Color: se.color, Radius: vg.Points(2.2), Shape: se.glyph}, pt)
				}
			}
		}
	}
}

// valueAxis sets up axis a for the levels of prm: by value on a log axis
// for log-spaced positive numbers, by value on a linear axis for linear
// numbers, else at index positions; the returned positions place the levels.
func valueAxis(a *plot.Axis, prm Param) []float64 {
	var pos []float64
	switch {
	case prm.logScaled():
		pos = append(pos, prm.Numeric...)
		a.Scale = plot.LogScale{}
		lo, hi := minMax(pos)
		pad := math.Pow(hi/lo, 0.04)
		if pad == 1 {
			pad = 1.5
		}
		a.Min, a.Max = lo/pad, hi*pad
	case prm.numericAxis():
		pos = append(pos, prm.Numeric...)
		lo, hi := minMax(pos)
		pad := (hi - lo) * 0.04
		if pad == 0 {
			pad = math.Max(math.Abs(lo)*0.1, 0.5)
		}
		a.Min, a.Max = lo-pad, hi+pad
	default:
		pos = indexPositions(len(prm.Labels))
		a.Min, a.Max = -0.4, float64(len(pos))-0.6
	}
	a.Tick.Marker = newLevelTicks(prm, pos)
	return pos
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// padRange sets a's range to the finite range of the data with 5% room,
// widened when it is a single value.
func padRange(a *plot.Axis, lo, hi float64) {
	lo, hi = finiteRange([]float64{lo, hi})
	pad := (hi - lo) * 0.05
	a.Min, a.Max = lo-pad, hi+pad
}

// Lines draws s.Metric against s.Param: one line per model (and per level
// of s.By), with markers at the levels and a band (numeric parameters with
// four or more levels) or error bars showing Options.Error. Log-spaced
// parameters get a log axis; ticks sit at the levels, labelled as written.
func Lines(d Data, s LinesSpec, opt Options) (*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.hasMetric(s.Metric); err != nil {
		return nil, err
	}
	xi, err := d.paramIndex(s.Param)
	if err != nil {
		return nil, err
	}
	bi := -1
	if s.By != "" {
		if bi, err = d.paramIndex(s.By); err != nil {
			return nil, err
		}
		if bi == xi {
			return nil, fmt.Errorf("plots: lines of %s by itself", s.Param)
		}
	}
	prm := d.Params[xi]
	width := opt.width(3.5)
	t := newTheme(width)
	p := t.newPlot()
	pos := valueAxis(&p.X, prm)
	p.X.Label.Text = s.Param
	p.Y.Label.Text = s.Metric

	marginal, errKind := opt.marginal(), opt.errorKind()
	var all []series
	hidden := map[string]bool{}
	models := d.models()
	for _, m := range models {
		keys := []int{xi}
		byLevels := []int{-1}
		if bi >= 0 && d.levelsFor(m)[bi] > 0 {
			keys = []int{bi, xi}
			byLevels = make([]int, len(d.Params[bi].Labels))
			for l := range byLevels {
				byLevels[l] = l
			}
		}
		g := aggregate(d, m, s.Metric, keys, marginal, errKind)
		for _, h := range g.hidden {
			hidden[h] = true
		}
		for _, bl := range byLevels {
			se := series{x: pos, y: make([]float64, len(pos)), err: make([]float64, len(pos))}
			has := false
			for i := range pos {
				var pt point
				if bl >= 0 {
					pt = g.at(bl, i)
				} else {
					pt = g.at(i)
				}
				se.y[i], se.err[i] = pt.val, pt.err
				has = has || pt.state == stOK
			}
			if !has {
				continue
			}
			var parts []string
			if m != "" {
				parts = append(parts, m)
			}
			if bl >= 0 {
				parts = append(parts, s.By+"="+d.Params[bi].label(bl))
			}
			se.label = strings.Join(parts, ", ")
			all = append(all, se)
		}
	}
	if len(all) == 0 {
		return nil, ErrNoData
	}
	var entries []legendEntry
	for i := range all {
		all[i].color, all[i].glyph, all[i].dashes = seriesStyle(i, len(all))
		if all[i].label != "" && (len(all) > 1 || len(d.Models) > 1) {
			entries = append(entries, legendEntry{label: all[i].label, color: all[i].color, glyph: all[i].glyph, dashes: all[i].dashes, line: true})
		}
	}
	sp := &seriesPlot{series: all, band: prm.numericAxis() && len(pos) >= 4, width: t.line}
	_, _, ylo, yhi := sp.DataRange()
	p.Add(sp)
	padRange(&p.Y, ylo, yhi)
	valueAxis(&p.X, prm) // Add widened the x range; restore the padded one.

	var names []string
	for _, prm := range d.Params {
		if hidden[prm.Name] && prm.Name != s.By {
			names = append(names, prm.Name)
		}
	}
	shown := "error bars"
	if sp.band {
		shown = "band"
	}
	sub := shown + ": " + errorNote(errKind) + " over trials"
	if n := marginalNote(names, marginal); n != "" {
		sub = n + " · " + sub
	}
	name := fmt.Sprintf("lines_%s_%s", s.Param, s.Metric)
	if s.By != "" {
		name += "_by_" + s.By
	}
	title := s.Metric + " vs " + s.Param
	inner := width - 2*margin
	_, legH := t.legendLayout(entries, inner)
	height := t.headerHeight(inner, title, sub) + legH + width*0.62 + 2*margin
	return &Figure{Name: fileName(name), Width: width, Height: height, draw: func(c draw.Canvas) {
		c = background(c)
		c = t.header(c, title, sub)
		c = t.legend(c, entries)
		fitTicks(p, c)
		p.Draw(c)
	}}, nil
}
