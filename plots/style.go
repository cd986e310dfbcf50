package plots

import (
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is the typeface of every figure: Liberation Sans, metric-compatible
// with Arial/Helvetica, shipped with gonum/plot and embedded in PDF and SVG.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Colours used outside the palettes.
var (
	black     = color.NRGBA{A: 255}
	white     = color.NRGBA{R: 255, G: 255, B: 255, A: 255}
	darkGrey  = color.NRGBA{R: 80, G: 80, B: 80, A: 255}
	midGrey   = color.NRGBA{R: 150, G: 150, B: 150, A: 255}
	failGrey  = color.NRGBA{R: 190, G: 190, B: 190, A: 255}
	emptyGrey = color.NRGBA{R: 228, G: 228, B: 228, A: 255}
)

// okabeIto is the colour-blind-safe qualitative palette of Okabe and Ito
// (without its yellow, too faint on white), used for models and series.
var okabeIto = []color.NRGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
}

// glyphs and dashes tell series apart in greyscale print too.
var (
	glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.PyramidGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}}
	dashes = [][]vg.Length{nil, {vg.Points(4), vg.Points(2)}, {vg.Points(1), vg.Points(1.5)},
		{vg.Points(5), vg.Points(1.5), vg.Points(1), vg.Points(1.5)}}
)

// seriesStyle is how series i of n is drawn.
func seriesStyle(i, n int) (color.NRGBA, draw.GlyphDrawer, []vg.Length) {
	var c color.NRGBA
	if n <= len(okabeIto) {
		c = okabeIto[i%len(okabeIto)]
	} else {
		// Many series: walk viridis, stopping short of the pale yellow end.
		c = viridisAt(0.85 * float64(i) / float64(n-1))
	}
	return c, glyphs[i%len(glyphs)], dashes[(i/len(okabeIto))%len(dashes)]
}

// theme holds the sizes of one figure, scaled with its printed width so
// that text stays 7–9 pt in a 3.5 in column and on a 7 in page.
type theme struct {
	tick, label, title, note font.Length
	line                     vg.Length
}

func newTheme(width vg.Length) theme {
	s := 7 + float64(width/vg.Inch-3.5)/3.5*1.5
	s = math.Max(7, math.Min(8.5, s))
	return theme{
		tick:  font.Length(s),
		label: font.Length(s + 0.5),
		title: font.Length(s + 1.5),
		note:  font.Length(s - 0.5),
		line:  vg.Points(1.2),
	}
}

// margin is the white border around every figure.
const margin = vg.Length(4)

// text returns a black text style of the given size, aligned as asked.
func (t theme) text(size font.Length, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{
		Color:   black,
		Font:    font.From(sans, size),
		XAlign:  xa,
		YAlign:  ya,
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot styled with t: sans text, thin axes, short ticks.
func (t theme) newPlot() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	p.Title.TextStyle = t.text(t.label, text.XCenter, text.YTop)
	p.Title.Padding = vg.Points(3)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = t.text(t.label, text.XCenter, text.YBottom)
		a.Label.Padding = vg.Points(2)
		a.Tick.Label.Font = font.From(sans, t.tick)
		a.Tick.Length = vg.Points(3)
		a.Width = vg.Points(0.6)
		a.Tick.Width = vg.Points(0.6)
		a.Padding = vg.Points(2)
		a.Tick.Marker = niceTicks{}
	}
	return p
}

// wrap breaks s into lines no wider than w (a word longer than w gets a
// line of its own).
func wrap(sty text.Style, s string, w vg.Length) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if line != "" && sty.Width(try) > w {
				lines = append(lines, line)
				line = word
				continue
			}
			line = try
		}
		lines = append(lines, line)
	}
	return lines
}

// lineHeight is the distance between two baselines of sty.
func lineHeight(sty text.Style) vg.Length {
	return sty.FontExtents().Height
}

// header draws a title and a smaller, wrapped subtitle at the top of c and
// returns the rest of the canvas.
func (t theme) header(c draw.Canvas, title, subtitle string) draw.Canvas {
	y := c.Max.Y
	w := c.Max.X - c.Min.X
	for _, part := range []struct {
		s    string
		size font.Length
	}{{title, t.title}, {subtitle, t.note}} {
		if part.s == "" {
			continue
		}
		sty := t.text(part.size, text.XCenter, text.YTop)
		if part.size == t.note {
			sty.Color = darkGrey
		}
		for _, l := range wrap(sty, part.s, w) {
			c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: y}, l)
			y -= lineHeight(sty)
		}
	}
	c.Max.Y = y - vg.Points(3)
	return c
}

// headerHeight is the height header needs for title and subtitle in width w.
func (t theme) headerHeight(w vg.Length, title, subtitle string) vg.Length {
	var h vg.Length
	if title != "" {
		sty := t.text(t.title, text.XCenter, text.YTop)
		h += vg.Length(len(wrap(sty, title, w))) * lineHeight(sty)
	}
	if subtitle != "" {
		sty := t.text(t.note, text.XCenter, text.YTop)
		h += vg.Length(len(wrap(sty, subtitle, w))) * lineHeight(sty)
	}
	return h + vg.Points(3)
}

// footer draws a small note at the bottom-left of c and returns the rest.
func (t theme) footer(c draw.Canvas, note string) draw.Canvas {
	if note == "" {
		return c
	}
	sty := t.text(t.note, text.XLeft, text.YBottom)
	sty.Color = darkGrey
	lines := wrap(sty, note, c.Max.X-c.Min.X)
	y := c.Min.Y + sty.FontExtents().Descent
	for i := len(lines) - 1; i >= 0; i-- {
		c.FillText(sty, vg.Point{X: c.Min.X, Y: y}, lines[i])
		y += lineHeight(sty)
	}
	c.Min.Y = y + vg.Points(2)
	return c
}

// legendEntry is one item of a legend strip.
type legendEntry struct {
	label  string
	color  color.Color
	glyph  draw.GlyphDrawer // nil: no marker
	dashes []vg.Length
	line   bool // draw a line sample
	box    bool // draw a filled box (bars)
}

// legendLayout places entries left to right, wrapping to width w; it returns
// the rows and the height they need.
func (t theme) legendLayout(entries []legendEntry, w vg.Length) ([][]legendEntry, vg.Length) {
	sty := t.text(t.tick, text.XLeft, text.YCenter)
	sample := vg.Points(16)
	var rows [][]legendEntry
	var x vg.Length
	for _, e := range entries {
		ew := sample + vg.Points(3) + sty.Width(e.label) + vg.Points(10)
		if len(rows) == 0 || (x+ew > w && x > 0) {
			rows = append(rows, nil)
			x = 0
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], e)
		x += ew
	}
	return rows, vg.Length(len(rows)) * lineHeight(sty) * 1.15
}

// legend draws entries in rows centred at the top of c and returns the rest.
func (t theme) legend(c draw.Canvas, entries []legendEntry) draw.Canvas {
	if len(entries) == 0 {
		return c
	}
	sty := t.text(t.tick, text.XLeft, text.YCenter)
	sample := vg.Points(16)
	rows, h := t.legendLayout(entries, c.Max.X-c.Min.X)
	// Rows share a left edge, the widest row centred.
	var rw vg.Length
	for _, row := range rows {
		var w vg.Length
		for _, e := range row {
			w += sample + vg.Points(3) + sty.Width(e.label) + vg.Points(10)
		}
		rw = max(rw, w)
	}
	y := c.Max.Y - lineHeight(sty)*0.6
	for _, row := range rows {
		x := (c.Min.X+c.Max.X)/2 - (rw-vg.Points(10))/2
		for _, e := range row {
			mid := vg.Point{X: x + sample/2, Y: y}
			if e.box {
				r := vg.Rectangle{Min: vg.Point{X: x + sample*0.2, Y: y - vg.Points(3.5)}, Max: vg.Point{X: x + sample*0.8, Y: y + vg.Points(3.5)}}
				c.SetColor(e.color)
				c.Fill(r.Path())
			}
			if e.line {
				c.StrokeLine2(draw.LineStyle{Color: e.color, Width: t.line, Dashes: e.dashes}, x, y, x+sample, y)
			}
			if e.glyph != nil {
				c.DrawGlyphNoClip(draw.GlyphStyle{Color: e.color, Radius: vg.Points(2.2), Shape: e.glyph}, mid)
			}
			c.FillText(sty, vg.Point{X: x + sample + vg.Points(3), Y: y}, e.label)
			x += sample + vg.Points(3) + sty.Width(e.label) + vg.Points(10)
		}
		y -= lineHeight(sty) * 1.15
	}
	c.Max.Y -= h + vg.Points(2)
	return c
}

// luminance is the relative luminance of c (0 black, 1 white).
func luminance(c color.NRGBA) float64 {
	lin := func(v uint8) float64 {
		f := float64(v) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// textOn returns black or white, whichever contrasts more with bg.
func textOn(bg color.NRGBA) color.NRGBA {
	// Black and white have equal contrast ratios at L ≈ 0.179.
	if luminance(bg) > 0.179 {
		return black
	}
	return white
}

// withAlpha returns c with alpha a in [0, 1] (non-premultiplied).
func withAlpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(math.Round(a * 255))
	return c
}
