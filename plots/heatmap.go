package plots

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapSpec selects one heatmap: a metric of one model over two
// parameters, optionally as small multiples over a third. Every other
// parameter is marginalised as Options.Marginal says, and the figure's
// subtitle names them.
type HeatmapSpec struct {
	X, Y   string // parameters on the axes
	Facet  string // optional: one panel per level of this parameter, one shared colour bar
	Metric string
	Model  string // "" when the study has no model dimension
}

// heatCells is a plot.Plotter drawing one panel of a heatmap at index
// positions: coloured cells annotated with their values, grey marked
// cells where nothing is known, and the best cell outlined.
type heatCells struct {
	nx, ny int
	pts    []point  // row-major, y slowest
	notes  []string // annotation of each point ("" = none)
	short  []string // shorter annotations (means without ± std), nil if none
	scale  colorScale
	best   int // index into pts of the cell to outline, -1 for none
	theme  theme
	// annot is the annotation font size that fits every cell of the
	// figure (0: cells too small to annotate); set before drawing.
	annot font.Length
}

// DataRange implements plot.DataRanger.
func (h *heatCells) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(h.nx) - 0.5, -0.5, float64(h.ny) - 0.5
}

// rect returns the rectangle of cell (i, j) in c.
func (h *heatCells) rect(c draw.Canvas, p *plot.Plot, i, j int) vg.Rectangle {
	tx, ty := p.Transforms(&c)
	return vg.Rectangle{
		Min: vg.Point{X: tx(float64(i) - 0.5), Y: ty(float64(j) - 0.5)},
		Max: vg.Point{X: tx(float64(i) + 0.5), Y: ty(float64(j) + 0.5)},
	}
}

// minCell is the smallest cell side drawn as a vector rectangle; smaller
// cells are drawn as one image (smooth, fast, and a small SVG or PDF).
const minCell = vg.Length(4)

// Plot implements plot.Plotter.
func (h *heatCells) Plot(c draw.Canvas, p *plot.Plot) {
	all := h.rect(c, p, 0, 0)
	if w, ht := all.Max.X-all.Min.X, all.Max.Y-all.Min.Y; w < minCell || ht < minCell {
		h.plotImage(c, p)
		return
	}
	mark := draw.LineStyle{Color: darkGrey, Width: vg.Points(0.6)}
	for j := range h.ny {
		for i := range h.nx {
			k := j*h.nx + i
			pt := h.pts[k]
			r := h.rect(c, p, i, j)
			// Overlap neighbours by a hair so no seams show between cells.
			fill := vg.Rectangle{Min: r.Min, Max: vg.Point{X: r.Max.X + 0.3, Y: r.Max.Y + 0.3}}
			w, ht := r.Max.X-r.Min.X, r.Max.Y-r.Min.Y
			switch pt.state {
			case stOK:
				bg := h.scale.at(pt.val)
				c.SetColor(bg)
				c.Fill(fill.Path())
				if h.annot > 0 && h.notes[k] != "" {
					sty := h.theme.text(h.annot, text.XCenter, text.YCenter)
					sty.Color = textOn(bg)
					c.FillText(sty, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, h.notes[k])
				}
			case stFailed:
				c.SetColor(failGrey)
				c.Fill(fill.Path())
				dx, dy := min(w, ht)*0.22, min(w, ht)*0.22
				cx, cy := (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2
				c.StrokeLine2(mark, cx-dx, cy-dy, cx+dx, cy+dy)
				c.StrokeLine2(mark, cx-dx, cy+dy, cx+dx, cy-dy)
			case stNoValue:
				// Blank with a dash: the runs are ok, they just do not
				// report this metric.
				c.SetColor(white)
				c.Fill(fill.Path())
				d := min(w, ht) * 0.12
				cx, cy := (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2
				c.StrokeLine2(draw.LineStyle{Color: midGrey, Width: vg.Points(0.8)}, cx-d, cy, cx+d, cy)
			case stNonFinite:
				// Hatched: the runs finished but diverged, which is
				// not a failure of the command.
				c.SetColor(failGrey)
				c.Fill(fill.Path())
				hatch(c, r, draw.LineStyle{Color: darkGrey, Width: vg.Points(0.5)})
			default:
				c.SetColor(emptyGrey)
				c.Fill(fill.Path())
				d := min(w, ht) * 0.22
				cx, cy := (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2
				c.StrokeLine2(draw.LineStyle{Color: midGrey, Width: vg.Points(0.6)}, cx-d, cy-d, cx+d, cy+d)
			}
		}
	}
	// Corner marks last: a neighbour's fill would cover them.
	for k, pt := range h.pts {
		if pt.state == stOK && pt.nonFinite > 0 {
			nonFiniteCorner(c, h.rect(c, p, k%h.nx, k/h.nx))
		}
	}
	h.plotBest(c, p)
}

// hatch draws diagonal lines across r, clipped to it.
func hatch(c draw.Canvas, r vg.Rectangle, ls draw.LineStyle) {
	w, h := r.Max.X-r.Min.X, r.Max.Y-r.Min.Y
	step := max(vg.Points(2.5), min(w, h)/5)
	for d := step / 2; d < w+h; d += step {
		// The line x - y = d - h through r, from its lower-left edge to
		// its upper-right edge.
		x0, y0 := r.Min.X+max(0, d-h), r.Min.Y+max(0, h-d)
		x1, y1 := r.Min.X+min(w, d), r.Min.Y+min(h, h-d+w)
		c.StrokeLine2(ls, x0, y0, x1, y1)
	}
}

// nonFiniteCorner marks a cell some of whose trials were non-finite: a
// small black triangle in its top-right corner, white-edged to show on
// any colour.
func nonFiniteCorner(c draw.Canvas, r vg.Rectangle) {
	s := min(vg.Points(5), min(r.Max.X-r.Min.X, r.Max.Y-r.Min.Y)/3)
	tri := func(s vg.Length) []vg.Point {
		return []vg.Point{{X: r.Max.X, Y: r.Max.Y}, {X: r.Max.X - s, Y: r.Max.Y}, {X: r.Max.X, Y: r.Max.Y - s}}
	}
	c.FillPolygon(white, tri(s+vg.Points(0.8)))
	c.FillPolygon(black, tri(s))
}

// plotImage draws the cells as one image, a pixel per cell, failed and
// missing cells in their greys.
func (h *heatCells) plotImage(c draw.Canvas, p *plot.Plot) {
	img := image.NewNRGBA(image.Rect(0, 0, h.nx, h.ny))
	for j := range h.ny {
		for i := range h.nx {
			col := emptyGrey
			switch pt := h.pts[j*h.nx+i]; pt.state {
			case stOK:
				col = h.scale.at(pt.val)
			case stFailed, stNonFinite:
				col = failGrey
			case stNoValue:
				col = white
			}
			img.SetNRGBA(i, h.ny-1-j, col)
		}
	}
	lo, hi := h.rect(c, p, 0, 0), h.rect(c, p, h.nx-1, h.ny-1)
	c.DrawImage(vg.Rectangle{Min: lo.Min, Max: hi.Max}, img)
	h.plotBest(c, p)
}

// plotBest outlines the best cell; a cell too small to see gets a ring
// around it as well.
func (h *heatCells) plotBest(c draw.Canvas, p *plot.Plot) {
	if h.best < 0 {
		return
	}
	r := h.rect(c, p, h.best%h.nx, h.best/h.nx)
	size := min(r.Max.X-r.Min.X, r.Max.Y-r.Min.Y)
	if size >= minCell {
		outline(c, r, size)
		return
	}
	mid := vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}
	var ring vg.Path
	ring.Move(vg.Point{X: mid.X + vg.Points(4.5), Y: mid.Y})
	ring.Arc(mid, vg.Points(4.5), 0, 2*math.Pi)
	ring.Close()
	for _, ls := range []draw.LineStyle{{Color: white, Width: vg.Points(2.6)}, {Color: black, Width: vg.Points(1.2)}} {
		c.SetLineStyle(ls)
		c.Stroke(ring)
	}
}

// outline draws a black frame with a white inner line around r, visible on
// any colour; size is the cell's smaller side, which caps the frame's width.
func outline(c draw.Canvas, r vg.Rectangle, size vg.Length) {
	w := min(vg.Points(1.8), size/5)
	in := func(d vg.Length) []vg.Point {
		return []vg.Point{{X: r.Min.X + d, Y: r.Min.Y + d}, {X: r.Max.X - d, Y: r.Min.Y + d},
			{X: r.Max.X - d, Y: r.Max.Y - d}, {X: r.Min.X + d, Y: r.Max.Y - d}, {X: r.Min.X + d, Y: r.Min.Y + d}}
	}
	c.StrokeLines(draw.LineStyle{Color: black, Width: w}, in(w/2))
	c.StrokeLines(draw.LineStyle{Color: white, Width: w / 2.5}, in(w+w/5))
}

// fitAnnotation returns the largest font size, from the theme's tick size
// down to 5 pt, at which every note fits a cell of size w×h, or 0.
func fitAnnotation(t theme, notes []string, w, h vg.Length) font.Length {
	for size := t.tick; size >= 5; size -= 0.5 {
		sty := t.text(size, text.XCenter, text.YCenter)
		ok := sty.FontExtents().Height <= h*0.85
		for _, n := range notes {
			if !ok {
				break
			}
			ok = sty.Width(n) <= w*0.82
		}
		if ok {
			return size
		}
	}
	return 0
}

// heatPanel is one panel of a heatmap figure before layout.
type heatPanel struct {
	title string
	cells *heatCells
}

// heatFigure lays out panels (sharing x and y parameters) with one colour
// bar; notes lists what grey marks mean and is printed under the panels.
type heatFigure struct {
	name, title, subtitle string
	x, y                  axis
	panels                []heatPanel
	scale                 colorScale
	barTitle              string
	width                 vg.Length
}

// figure turns the layout into a Figure.
func (hf heatFigure) figure() *Figure {
	t := newTheme(hf.width)
	n := len(hf.panels)
	cols := 1
	if n > 1 {
		maxCols := 2
		if hf.width >= 6*vg.Inch {
			maxCols = 4
		}
		cols = min(maxCols, int(math.Ceil(math.Sqrt(float64(n)))))
	}
	rows := (n + cols - 1) / cols
	nx, ny := len(hf.x.levels), len(hf.y.levels)
	ratio := math.Max(0.55, math.Min(1.1, float64(ny)/float64(max(1, nx))))
	inner := hf.width - 2*margin
	barW := t.colorBarWidth(hf.scale, hf.barTitle)
	panelW := (inner - barW - vg.Inch*0.7) / vg.Length(cols)
	panelH := panelW * vg.Length(ratio)
	if n > 1 {
		panelH += lineHeight(t.text(t.label, text.XCenter, text.YTop)) + vg.Points(4)
	}
	note := hf.footnote()
	noteH := vg.Length(0)
	if note != "" {
		noteH = lineHeight(t.text(t.note, text.XLeft, text.YBottom)) * 1.3
	}
	height := t.headerHeight(inner, hf.title, hf.subtitle) + vg.Length(rows)*panelH + vg.Inch*0.5 + noteH + 2*margin
	return &Figure{Name: hf.name, Width: hf.width, Height: height, draw: func(c draw.Canvas) { hf.draw(c, t, rows, cols) }}
}

// footnote explains the grey cells that occur in the figure.
func (hf heatFigure) footnote() string {
	var failed, missing, diverged, some, noValue bool
	for _, p := range hf.panels {
		for _, pt := range p.cells.pts {
			failed = failed || pt.state == stFailed
			missing = missing || pt.state == stMissing
			diverged = diverged || pt.state == stNonFinite
			noValue = noValue || pt.state == stNoValue
			some = some || (pt.state == stOK && pt.nonFinite > 0)
		}
	}
	var parts []string
	if failed {
		parts = append(parts, "grey × : every run failed")
	}
	if noValue {
		parts = append(parts, "– : no value reported")
	}
	if diverged {
		parts = append(parts, "hatched: every value NaN or ±Inf")
	}
	if some {
		parts = append(parts, "black corner: some values NaN or ±Inf, left out of the mean")
	}
	if missing {
		parts = append(parts, "light grey / : not run")
	}
	return strings.Join(parts, "; ")
}

func (hf heatFigure) draw(c draw.Canvas, t theme, rows, cols int) {
	c = background(c)
	c = t.header(c, hf.title, hf.subtitle)
	c = t.footer(c, hf.footnote())
	barW := t.colorBarWidth(hf.scale, hf.barTitle)
	main := draw.Crop(c, 0, -barW, 0, 0)

	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	for k, panel := range hf.panels {
		r, col := k/cols, k%cols
		below := (r+1)*cols + col // the panel under this one
		p := t.newPlot()
		p.Title.Text = panel.title
		p.X.Padding, p.Y.Padding = 0, 0
		p.Add(panel.cells)
		xt := newLevelTicks(hf.x, indexPositions(len(hf.x.levels)))
		yt := newLevelTicks(hf.y, indexPositions(len(hf.y.levels)))
		p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
		if below >= len(hf.panels) {
			p.X.Label.Text = hf.x.name()
		} else {
			xt.hidden = true
		}
		if col == 0 {
			p.Y.Label.Text = hf.y.name()
		} else {
			yt.hidden = true
		}
		plots[r][col] = p
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(4)}
	canvases := plot.Align(plots, tiles, main)
	for r := range plots {
		for col, p := range plots[r] {
			if p != nil {
				fitTicks(p, canvases[r][col])
			}
		}
	}
	canvases = plot.Align(plots, tiles, main)

	// One annotation size for the whole figure, fitted to its cells;
	// "mean ± std" falls back to the mean alone when it does not fit.
	var notes, short []string
	for _, panel := range hf.panels {
		notes = append(notes, panel.cells.notes...)
		short = append(short, panel.cells.short...)
	}
	dc := plots[0][0].DataCanvas(canvases[0][0])
	cw := (dc.Max.X - dc.Min.X) / vg.Length(max(1, len(hf.x.levels)))
	ch := (dc.Max.Y - dc.Min.Y) / vg.Length(max(1, len(hf.y.levels)))
	size := fitAnnotation(t, notes, cw, ch)
	if size == 0 && short != nil {
		if size = fitAnnotation(t, short, cw, ch); size > 0 {
			for _, panel := range hf.panels {
				panel.cells.notes = panel.cells.short
			}
		}
	}

	top, bottom := vg.Length(math.Inf(-1)), vg.Length(math.Inf(1))
	for r := range plots {
		for col, p := range plots[r] {
			if p == nil {
				continue
			}
			hf.panels[r*cols+col].cells.annot = size
			p.Draw(canvases[r][col])
			dc := p.DataCanvas(canvases[r][col])
			top, bottom = max(top, dc.Max.Y), min(bottom, dc.Min.Y)
		}
	}
	bar := draw.Crop(c, c.Max.X-c.Min.X-barW, 0, 0, 0)
	t.colorBar(bar, hf.scale, hf.barTitle, bottom, top)
}

// Heatmap draws s.Metric of s.Model over s.X (horizontal) and s.Y
// (vertical), one panel per level of s.Facet when set. The axes hold the
// levels the model sweeps, numbers in numeric order, at evenly spaced
// positions labelled as the user wrote them. Cells are coloured with
// viridis on one scale shared by all panels (reversed for metrics to
// minimise, so that good is always yellow), and annotated with their means
// (± std with Options.ShowStd) in black or white for contrast, with the
// digits it takes to tell them apart. The best cell of the figure is
// outlined when the metric's direction is declared; cells where every run
// failed are grey with a ×, cells whose runs ended ok without reporting
// the metric blank with a –, cells whose every value was NaN or ±Inf
// hatched, cells with some such values get a black corner, cells never run
// are light grey with a /.
func Heatmap(d Data, s HeatmapSpec, opt Options) (*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.hasMetric(s.Metric); err != nil {
		return nil, err
	}
	if err := d.checkModel(s.Model); err != nil {
		return nil, err
	}
	if d.unreported(s.Model, s.Metric) {
		return nil, ErrNoData
	}
	xi, err := d.paramIndex(s.X)
	if err != nil {
		return nil, err
	}
	yi, err := d.paramIndex(s.Y)
	if err != nil {
		return nil, err
	}
	keys := []int{yi, xi}
	fi := -1
	if s.Facet != "" {
		if fi, err = d.paramIndex(s.Facet); err != nil {
			return nil, err
		}
		keys = []int{fi, yi, xi}
	}
	if xi == yi || xi == fi || yi == fi {
		return nil, fmt.Errorf("plots: heatmap needs distinct parameters, got %s, %s, %s", s.X, s.Y, s.Facet)
	}
	xa, ya := d.axisOf(xi, d.levels(xi, s.Model)), d.axisOf(yi, d.levels(yi, s.Model))
	axes := [][]int{ya.levels, xa.levels}
	if fi >= 0 {
		axes = [][]int{d.levels(fi, s.Model), ya.levels, xa.levels}
	}
	g := aggregate(d, s.Model, s.Metric, keys, axes, opt.marginal(), ErrorStd)
	if g.empty() {
		return nil, ErrNoData
	}
	nx, ny := len(xa.levels), len(ya.levels)
	maximize, directed := d.maximize(s.Metric), d.directed(s.Metric)

	// Facet levels (positions along the facet axis) that hold any cell.
	facets := []int{-1}
	if fi >= 0 {
		facets = nil
		for f := range len(axes[0]) {
			for _, pt := range g.points[f*nx*ny : (f+1)*nx*ny] {
				if pt.state != stMissing {
					facets = append(facets, f)
					break
				}
			}
		}
	}

	var vals []float64
	for _, pt := range g.points {
		vals = append(vals, pt.val)
	}
	scale := sequential(vals, maximize)
	fmtr := newPairFormatter(vals, heatPairs(g.points, nx, ny, maximize))
	stdFmt := newFormatter(nil)
	if opt.ShowStd {
		var stds []float64
		for _, pt := range g.points {
			stds = append(stds, pt.std)
		}
		stdFmt = newFormatter(stds)
		stdFmt.decimals = max(stdFmt.decimals, fmtr.decimals)
	}

	width := opt.width(3.5)
	if len(facets) > 1 {
		width = opt.width(7)
	}
	t := newTheme(width)

	// The best point of the whole figure.
	bestF, bestK := -1, -1
	bestV := math.NaN()
	var panels []heatPanel
	for pi, f := range facets {
		off := 0
		if f >= 0 {
			off = f * nx * ny
		}
		cells := &heatCells{nx: nx, ny: ny, pts: g.points[off : off+nx*ny], notes: make([]string, nx*ny),
			scale: scale, best: -1, theme: t}
		for k, pt := range cells.pts {
			if pt.state != stOK {
				continue
			}
			cells.notes[k] = fmtr.format(pt.val)
			if opt.ShowStd {
				if cells.short == nil {
					cells.short = make([]string, nx*ny)
				}
				cells.short[k] = cells.notes[k]
				cells.notes[k] += "±" + stdFmt.format(pt.std)
			}
			if bestK < 0 || better(pt.val, bestV, maximize) {
				bestF, bestK, bestV = pi, k, pt.val
			}
		}
		title := ""
		if f >= 0 {
			title = s.Facet + " = " + d.Params[fi].label(axes[0][f])
		}
		panels = append(panels, heatPanel{title: title, cells: cells})
	}
	lo, hi := minMax(finiteOnly(vals))
	constant := bestK >= 0 && lo == hi
	if bestK >= 0 && !constant && directed {
		panels[bestF].cells.best = bestK
	}

	title := d.title(s.Metric)
	if s.Model != "" {
		title += " – " + s.Model
	}
	sub := []string{}
	if n := marginalNote(g.hidden, g.marginal); n != "" {
		sub = append(sub, n)
	}
	switch {
	case constant:
		sub = append(sub, "constant: "+fmtr.format(lo))
	case bestK >= 0 && directed:
		sub = append(sub, "outlined: best ("+d.direction(s.Metric)+")")
	case bestK >= 0:
		sub = append(sub, "no best marked: direction not declared")
	}
	name := fmt.Sprintf("heatmap_%s_vs_%s_%s", s.X, s.Y, s.Metric)
	if len(d.Models) > 1 && s.Model != "" {
		name += "_" + s.Model
	}
	hf := heatFigure{
		name: fileName(name), title: title, subtitle: strings.Join(sub, " · "),
		x: xa, y: ya, panels: panels, scale: scale,
		barTitle: d.axisLabel(s.Metric), width: width,
	}
	return hf.figure(), nil
}

// heatPairs lists the cells of pts (panels of nx×ny, row-major) whose
// printed values must differ: neighbours along a row or a column, and the
// best cell with every other.
func heatPairs(pts []point, nx, ny int, maximize bool) [][2]int {
	pairs := [][2]int{}
	best := -1
	for k, pt := range pts {
		i, j := k%nx, (k/nx)%ny
		if i+1 < nx {
			pairs = append(pairs, [2]int{k, k + 1})
		}
		if j+1 < ny {
			pairs = append(pairs, [2]int{k, k + nx})
		}
		if pt.state == stOK && (best < 0 || better(pt.val, pts[best].val, maximize)) {
			best = k
		}
	}
	for k := range pts {
		if best >= 0 && k != best {
			pairs = append(pairs, [2]int{best, k})
		}
	}
	return pairs
}

// finiteOnly returns the finite values of xs.
func finiteOnly(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

// fileName makes s a file name: characters other than letters, digits,
// '_', '-' and '.' become '_', and a name that had any gets a short hash
// of s, so that distinct metrics ("train/loss", "train_loss") never write
// the same file.
func fileName(s string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
	if clean == s {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return clean + "-" + hex.EncodeToString(sum[:3])
}
