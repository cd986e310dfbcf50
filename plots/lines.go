package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
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
	// ringed marks points some of whose values were NaN or ±Inf: a
	// black ring around the marker (nil: none). Hollow markers would be
	// mistaken for the series' own hollow glyphs.
	ringed []bool
	// clip limits bands and bars to the values the metric can take
	// (Data.clip); nil: no limit.
	clip func(lo, hi float64) (float64, float64, bool)
	thin bool // a faint background line (many curves)
}

// bounds returns the band or error bar around point i.
func (se series) bounds(i int) (lo, hi float64) {
	if se.lo != nil && se.hi != nil {
		lo, hi = se.lo[i], se.hi[i]
		if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return se.y[i], se.y[i]
		}
	} else {
		e := finite(se.err[i])
		lo, hi = se.y[i]-e, se.y[i]+e
	}
	if se.clip != nil {
		lo, hi, _ = se.clip(lo, hi)
	}
	return lo, hi
}

// clipped reports whether any band or bar of se was cut at a bound.
func (se series) clipped() bool {
	if se.clip == nil {
		return false
	}
	for i, y := range se.y {
		if math.IsNaN(y) {
			continue
		}
		saved := se.clip
		se.clip = nil
		lo, hi := se.bounds(i)
		se.clip = saved
		if _, _, c := se.clip(lo, hi); c {
			return true
		}
	}
	return false
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
			if se.thin {
				continue
			}
			for _, run := range runs(se.y) {
				if len(run) < 2 {
					continue
				}
				var upper, lower []vg.Point
				for _, i := range run {
					lo, hi := se.bounds(i)
					upper = append(upper, vg.Point{X: tx(se.x[i]), Y: ty(hi)})
					lower = append(lower, vg.Point{X: tx(se.x[i]), Y: ty(lo)})
				}
				poly := simplify(upper, simplifyTol)
				lower = simplify(lower, simplifyTol)
				for k := len(lower) - 1; k >= 0; k-- {
					poly = append(poly, lower[k])
				}
				c.FillPolygon(withAlpha(se.color, 0.18), c.ClipPolygonXY(poly))
			}
		}
	}
	for _, se := range s.series {
		ls := draw.LineStyle{Color: se.color, Width: s.width, Dashes: se.dashes}
		if se.thin {
			ls.Width = s.width * 0.45
		}
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
				lines := c.ClipLinesXY(pts)
				for k := range lines {
					lines[k] = simplify(lines[k], simplifyTol)
				}
				c.StrokeLines(ls, lines...)
			}
			for k, pt := range pts {
				if se.glyph != nil && c.Contains(pt) {
					c.DrawGlyph(draw.GlyphStyle{Color: se.color, Radius: vg.Points(2.2), Shape: se.glyph}, pt)
					if se.ringed != nil && se.ringed[run[k]] {
						c.DrawGlyph(draw.GlyphStyle{Color: black, Radius: vg.Points(4.2), Shape: draw.RingGlyph{}}, pt)
					}
				}
			}
		}
	}
}

// simplifyTol is how far a simplified line may stray from the points it
// stands for: a tenth of a point, under half a pixel even at 300 dpi.
const simplifyTol = vg.Length(0.1)

// simplify drops the points of a polyline that lie within tol of the line
// through the points kept around them (Ramer–Douglas–Peucker): a smooth
// training curve of hundreds of steps, drawn 125 times in a convergence
// plot, would otherwise make an SVG or PDF of hundreds of kilobytes that
// looks the same.
func simplify(pts []vg.Point, tol vg.Length) []vg.Point {
	if len(pts) < 3 {
		return pts
	}
	keep := make([]bool, len(pts))
	keep[0], keep[len(pts)-1] = true, true
	var rdp func(a, b int)
	rdp = func(a, b int) {
		far, at := vg.Length(0), -1
		for i := a + 1; i < b; i++ {
			if d := segmentDistance(pts[i], pts[a], pts[b]); d > far {
				far, at = d, i
			}
		}
		if at >= 0 && far > tol {
			keep[at] = true
			rdp(a, at)
			rdp(at, b)
		}
	}
	rdp(0, len(pts)-1)
	out := pts[:0:0]
	for i, k := range keep {
		if k {
			out = append(out, pts[i])
		}
	}
	return out
}

// segmentDistance is the distance from p to the segment from a to b.
func segmentDistance(p, a, b vg.Point) vg.Length {
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	px, py := float64(p.X-a.X), float64(p.Y-a.Y)
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t := math.Max(0, math.Min(1, (px*dx+py*dy)/l2))
		px, py = px-t*dx, py-t*dy
	}
	return vg.Length(math.Hypot(px, py))
}

// valueAxis sets up axis a for the levels of ax: by value on a log axis
// for log-spaced positive numbers, by value on a linear axis for linear
// numbers, else at index positions (also for a linear list that spans
// decades, such as 0, 1e-6, 1e-3, 1, which by value would crowd all but
// one level at zero); the returned positions place the levels.
func valueAxis(a *plot.Axis, ax axis) []float64 {
	var pos []float64
	prm := ax.param
	switch {
	case prm.logScaled():
		pos = ax.values()
		a.Scale = plot.LogScale{}
		lo, hi := minMax(pos)
		pad := math.Pow(hi/lo, 0.04)
		if pad == 1 {
			pad = 1.5
		}
		a.Min, a.Max = lo/pad, hi*pad
	case prm.numericAxis() && !prm.decades():
		pos = ax.values()
		lo, hi := minMax(pos)
		pad := (hi - lo) * 0.04
		if pad == 0 {
			pad = math.Max(math.Abs(lo)*0.1, 0.5)
		}
		a.Min, a.Max = lo-pad, hi+pad
	default:
		pos = indexPositions(len(ax.levels))
		a.Min, a.Max = -0.4, float64(len(pos))-0.6
	}
	a.Tick.Marker = newLevelTicks(ax, pos)
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
// of s.By), with markers at the levels the model sweeps and a band
// (numeric parameters with four or more levels) or error bars showing
// Options.Error, clipped to the metric's declared bounds. Log-spaced
// parameters get a log axis; ticks sit at the levels, labelled as written.
// Rings flag points some of whose values were NaN or ±Inf.
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
	models := d.models()
	xa := d.axisOf(xi, d.levels(xi, models...))
	if len(xa.levels) == 0 {
		return nil, ErrNoData
	}
	width := opt.width(3.5)
	t := newTheme(width)
	p := t.newPlot()
	pos := valueAxis(&p.X, xa)
	posOf := map[int]float64{}
	for i, l := range xa.levels {
		posOf[l] = pos[i]
	}
	p.X.Label.Text = s.Param
	p.Y.Label.Text = d.axisLabel(s.Metric)

	errKind := opt.errorKind()
	marginal := opt.marginal()
	clip := func(lo, hi float64) (float64, float64, bool) { return d.clip(s.Metric, lo, hi) }
	var all []series
	hidden := map[string]bool{}
	diverged := 0
	for _, m := range models {
		ml := d.levels(xi, m)
		if len(ml) == 0 {
			continue
		}
		keys, axes := []int{xi}, [][]int{ml}
		byLevels := []int{-1}
		if bi >= 0 && d.levelsFor(m)[bi] > 0 {
			bl := d.levels(bi, m)
			keys, axes = []int{bi, xi}, [][]int{bl, ml}
			byLevels = indexes(len(bl))
		}
		g := aggregate(d, m, s.Metric, keys, axes, marginal, errKind)
		marginal = g.marginal
		for _, h := range g.hidden {
			hidden[h] = true
		}
		for _, bl := range byLevels {
			n := len(ml)
			se := series{x: make([]float64, n), y: make([]float64, n), err: make([]float64, n), ringed: make([]bool, n), clip: clip}
			has := false
			for i, l := range ml {
				var pt point
				if bl >= 0 {
					pt = g.at(bl, i)
				} else {
					pt = g.at(i)
				}
				se.x[i], se.y[i], se.err[i] = posOf[l], pt.val, pt.err
				se.ringed[i] = pt.state == stOK && pt.nonFinite > 0
				if pt.state == stNonFinite {
					diverged++
				}
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
				parts = append(parts, s.By+"="+d.Params[bi].label(axes[0][bl]))
			}
			se.label = strings.Join(parts, ", ")
			all = append(all, se)
		}
	}
	if len(all) == 0 {
		return nil, ErrNoData
	}
	var entries []legendEntry
	clipped, ringed := false, false
	for i := range all {
		all[i].color, all[i].glyph, all[i].dashes = seriesStyle(i, len(all))
		if all[i].label != "" && (len(all) > 1 || len(d.Models) > 1) {
			entries = append(entries, legendEntry{label: all[i].label, color: all[i].color, glyph: all[i].glyph, dashes: all[i].dashes, line: true})
		}
		clipped = clipped || all[i].clipped()
		ringed = ringed || slices.Contains(all[i].ringed, true)
	}
	sp := &seriesPlot{series: all, band: xa.param.numericAxis() && len(pos) >= 4, width: t.line}
	_, _, ylo, yhi := sp.DataRange()
	p.Add(sp)
	padRange(&p.Y, ylo, yhi)
	valueAxis(&p.X, xa) // Add widened the x range; restore the padded one.

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
	if clipped {
		sub += ", clipped at the declared bounds"
	}
	if n := marginalNote(names, marginal); n != "" {
		sub = n + " · " + sub
	}
	if ringed {
		sub += " · ringed: some values NaN or ±Inf, left out"
	}
	if diverged > 0 {
		sub += fmt.Sprintf(" · %d points not drawn: every value NaN or ±Inf", diverged)
	}
	name := fmt.Sprintf("lines_%s_%s", s.Param, s.Metric)
	if s.By != "" {
		name += "_by_" + s.By
	}
	title := d.title(s.Metric) + " vs " + s.Param
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
