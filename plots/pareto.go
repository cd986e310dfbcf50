package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// scatterPoint is one cell in a Pareto plot.
type scatterPoint struct {
	x, y  float64
	model int
	front bool
}

// paretoPlot draws every cell faintly, and the front as a step line
// through emphasised, outlined markers.
type paretoPlot struct {
	pts     []scatterPoint
	front   []scatterPoint // in order along the step line
	nModels int
	width   vg.Length
}

// DataRange implements plot.DataRanger.
func (pp *paretoPlot) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, p := range pp.pts {
		xmin, xmax = math.Min(xmin, p.x), math.Max(xmax, p.x)
		ymin, ymax = math.Min(ymin, p.y), math.Max(ymax, p.y)
	}
	return xmin, xmax, ymin, ymax
}

// Plot implements plot.Plotter.
func (pp *paretoPlot) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for _, s := range pp.pts {
		if s.front {
			continue
		}
		col, g, _ := seriesStyle(s.model, pp.nModels)
		c.DrawGlyph(draw.GlyphStyle{Color: withAlpha(col, 0.45), Radius: vg.Points(1.8), Shape: g}, vg.Point{X: tx(s.x), Y: ty(s.y)})
	}
	// Step line: from each front point, hold its y until the next x.
	var line []vg.Point
	for i, s := range pp.front {
		pt := vg.Point{X: tx(s.x), Y: ty(s.y)}
		if i > 0 {
			line = append(line, vg.Point{X: pt.X, Y: line[len(line)-1].Y})
		}
		line = append(line, pt)
	}
	if len(line) > 1 {
		c.StrokeLines(draw.LineStyle{Color: color.NRGBA{A: 200}, Width: pp.width}, c.ClipLinesXY(line)...)
	}
	for _, s := range pp.front {
		col, g, _ := seriesStyle(s.model, pp.nModels)
		pt := vg.Point{X: tx(s.x), Y: ty(s.y)}
		c.DrawGlyph(draw.GlyphStyle{Color: black, Radius: vg.Points(3.6), Shape: g}, pt)
		c.DrawGlyph(draw.GlyphStyle{Color: col, Radius: vg.Points(2.8), Shape: g}, pt)
	}
}

// paretoFront marks the points that no other point beats in both metrics
// and returns them sorted by x.
func paretoFront(pts []scatterPoint, maxX, maxY bool) []scatterPoint {
	gx := func(s scatterPoint) float64 {
		if maxX {
			return s.x
		}
		return -s.x
	}
	gy := func(s scatterPoint) float64 {
		if maxY {
			return s.y
		}
		return -s.y
	}
	idx := make([]int, len(pts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		pa, pb := pts[idx[a]], pts[idx[b]]
		if gx(pa) != gx(pb) {
			return gx(pa) > gx(pb)
		}
		return gy(pa) > gy(pb)
	})
	var front []scatterPoint
	best := math.Inf(-1)
	for _, i := range idx {
		if gy(pts[i]) > best {
			best = gy(pts[i])
			pts[i].front = true
			front = append(front, pts[i])
		}
	}
	sort.SliceStable(front, func(a, b int) bool { return front[a].x < front[b].x })
	return front
}

// metricAxis sets a to a log scale when every value is positive and they
// span two decades or more, else to a linear one, padded by 5%.
func metricAxis(a *plot.Axis, vals []float64) {
	lo, hi := minMax(vals)
	if lo > 0 && hi/lo >= 100 {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = logTicks{}
		pad := math.Pow(hi/lo, 0.05)
		a.Min, a.Max = lo/pad, hi*pad
		return
	}
	padRange(a, lo, hi)
}

// Pareto draws every cell as a point of metric x against metric y, one
// colour and marker per model, and highlights the Pareto front: the cells
// no other cell beats in both metrics, joined by a step line. The front
// needs both metrics' directions: without a declared one the plot shows
// the points alone and says why. Metrics spanning two decades or more get
// log axes.
func Pareto(d Data, x, y string, opt Options) (*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	for _, m := range []string{x, y} {
		if err := d.hasMetric(m); err != nil {
			return nil, err
		}
	}
	if x == y {
		return nil, fmt.Errorf("plots: Pareto plot of %s against itself", x)
	}
	models := d.models()
	mi := map[string]int{}
	for i, m := range models {
		mi[m] = i
	}
	var pts []scatterPoint
	var xs, ys []float64
	for _, c := range d.Cells {
		vx, vy := value(c, x), value(c, y)
		if math.IsNaN(vx) || math.IsNaN(vy) {
			continue
		}
		pts = append(pts, scatterPoint{x: vx, y: vy, model: mi[c.Model]})
		xs, ys = append(xs, vx), append(ys, vy)
	}
	if len(pts) == 0 {
		return nil, ErrNoData
	}
	width := opt.width(3.5)
	t := newTheme(width)
	pp := &paretoPlot{pts: pts, nModels: len(models), width: t.line * 0.8}
	directed := d.directed(x) && d.directed(y)
	if directed {
		pp.front = paretoFront(pp.pts, d.maximize(x), d.maximize(y))
	}
	p := t.newPlot()
	p.Add(pp)
	metricAxis(&p.X, xs)
	metricAxis(&p.Y, ys)
	p.X.Label.Text = d.axisLabel(x) + ", " + d.direction(x)
	p.Y.Label.Text = d.axisLabel(y) + ", " + d.direction(y)

	var entries []legendEntry
	if len(models) > 1 {
		for i, m := range models {
			col, g, _ := seriesStyle(i, len(models))
			entries = append(entries, legendEntry{label: m, color: col, glyph: g})
		}
	}
	title := "Pareto front: " + d.title(y) + " vs " + d.title(x)
	sub := fmt.Sprintf("%d cells, %d on the front (large markers, line)", len(pts), len(pp.front))
	if !directed {
		title = d.title(y) + " vs " + d.title(x)
		sub = fmt.Sprintf("%d cells; no Pareto front: declare the direction of both metrics", len(pts))
	}
	inner := width - 2*margin
	_, legH := t.legendLayout(entries, inner)
	height := t.headerHeight(inner, title, sub) + legH + width*0.68 + 2*margin
	return &Figure{Name: fileName(fmt.Sprintf("pareto_%s_vs_%s", x, y)), Width: width, Height: height, draw: func(c draw.Canvas) {
		c = background(c)
		c = t.header(c, title, sub)
		c = t.legend(c, entries)
		p.Draw(c)
	}}, nil
}
