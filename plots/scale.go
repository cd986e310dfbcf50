package plots

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// viridisAt returns viridis at f in [0, 1].
func viridisAt(f float64) color.NRGBA {
	i := int(math.Round(math.Max(0, math.Min(1, f)) * 255))
	v := viridis[i]
	return color.NRGBA{R: v[0], G: v[1], B: v[2], A: 255}
}

// coolWarm is Moreland's smooth blue–white–red diverging map, tabulated
// at 256 entries on first use (the map is slow to evaluate per cell, and
// a process that draws no difference map should not pay for it at start).
var coolWarm = sync.OnceValue(func() [256]color.NRGBA {
	var t [256]color.NRGBA
	m := moreland.SmoothBlueRed()
	m.SetMin(0)
	m.SetMax(1)
	for i := range t {
		c, err := m.At(float64(i) / 255)
		if err != nil {
			panic(err) // unreachable: i/255 lies in [0, 1]
		}
		t[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
	}
	return t
})

// colorScale maps values in [min, max] to a 256-entry table. reversed
// flips the table, so that the good end of a metric keeps one colour.
type colorScale struct {
	table    func(f float64) color.NRGBA
	min, max float64
	reversed bool
}

// sequential returns a viridis scale over the finite values of vals,
// reversed when lower is better, so that good is always yellow.
func sequential(vals []float64, maximize bool) colorScale {
	lo, hi := finiteRange(vals)
	return colorScale{table: viridisAt, min: lo, max: hi, reversed: !maximize}
}

// diverging returns a blue–white–red scale symmetric about zero over the
// finite values of vals; when lower is better it is reversed, so that red
// always means "better".
func diverging(vals []float64, maximize bool) colorScale {
	lo, hi := finiteRange(vals)
	m := math.Max(math.Abs(lo), math.Abs(hi))
	table := func(f float64) color.NRGBA {
		return coolWarm()[int(math.Round(math.Max(0, math.Min(1, f))*255))]
	}
	return colorScale{table: table, min: -m, max: m, reversed: !maximize}
}

// finiteRange returns the range of the finite values of vals, widened
// when it is empty or a single point so that a scale never has max == min.
func finiteRange(vals []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	switch {
	case lo > hi: // no finite value
		return 0, 1
	case lo == hi:
		d := math.Abs(lo) * 0.05
		if d == 0 {
			d = 0.5
		}
		return lo - d, hi + d
	}
	return lo, hi
}

// at returns the colour of v (which must be finite).
func (s colorScale) at(v float64) color.NRGBA {
	f := (v - s.min) / (s.max - s.min)
	if s.reversed {
		f = 1 - f
	}
	return s.table(f)
}

// colorBarWidth is the width a vertical colour bar with its tick labels and
// rotated title needs.
func (t theme) colorBarWidth(s colorScale, title string) vg.Length {
	lab := t.text(t.tick, text.XLeft, text.YCenter)
	var w vg.Length
	for _, tk := range barTicks(s) {
		w = max(w, lab.Width(tk.Label))
	}
	tsty := t.text(t.label, text.XCenter, text.YBottom)
	return vg.Points(6) + barWidth + vg.Points(5) + w + vg.Points(4) + tsty.FontExtents().Height
}

// barWidth is the thickness of a colour bar.
const barWidth = vg.Length(9)

// barTicks returns the labelled ticks of a colour bar over s's range, at
// least its two ends.
func barTicks(s colorScale) []plot.Tick {
	var ts []plot.Tick
	for _, t := range (niceTicks{}).Ticks(s.min, s.max) {
		if t.Label != "" && t.Value >= s.min-1e-12*math.Abs(s.max-s.min) && t.Value <= s.max+1e-12*math.Abs(s.max-s.min) {
			ts = append(ts, t)
		}
	}
	if len(ts) < 2 {
		f := newFormatter([]float64{s.min, s.max})
		ts = []plot.Tick{{Value: s.min, Label: f.format(s.min)}, {Value: s.max, Label: f.format(s.max)}}
	}
	for i := range ts {
		ts[i].Label = tidyNumber(ts[i].Label)
	}
	return ts
}

// colorBar draws a vertical colour bar for s in c, spanning y0..y1, with
// tick labels to its right and title rotated along it.
func (t theme) colorBar(c draw.Canvas, s colorScale, title string, y0, y1 vg.Length) {
	x0 := c.Min.X + vg.Points(6)
	const n = 256
	img := image.NewNRGBA(image.Rect(0, 0, 4, n))
	for i := range n {
		v := s.min + (s.max-s.min)*float64(i)/float64(n-1)
		col := s.at(v)
		for x := range 4 {
			img.SetNRGBA(x, n-1-i, col)
		}
	}
	r := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + barWidth, Y: y1}}
	c.DrawImage(r, img)
	edge := draw.LineStyle{Color: black, Width: vg.Points(0.6)}
	c.StrokeLines(edge, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})

	lab := t.text(t.tick, text.XLeft, text.YCenter)
	var w vg.Length
	for _, tk := range barTicks(s) {
		y := y0 + vg.Length((tk.Value-s.min)/(s.max-s.min))*(y1-y0)
		c.StrokeLine2(edge, r.Max.X, y, r.Max.X+vg.Points(3), y)
		c.FillText(lab, vg.Point{X: r.Max.X + vg.Points(5), Y: y}, tk.Label)
		w = max(w, lab.Width(tk.Label))
	}
	tsty := t.text(t.label, text.XCenter, text.YBottom)
	tsty.Rotation = math.Pi / 2
	x := r.Max.X + vg.Points(5) + w + vg.Points(4) + tsty.FontExtents().Height - tsty.FontExtents().Descent
	c.FillText(tsty, vg.Point{X: x, Y: (y0 + y1) / 2}, title)
}

// formatter prints the values of one figure alike: with a fixed number of
// decimals, or in exponent form when the largest magnitude is below 1e-3
// or from 1e5 up. It starts at three significant digits and adds digits
// (up to six) until values that differ print differently, so that
// neighbouring cells, and the outlined best, can be told apart.
type formatter struct {
	decimals int // decimals in fixed form
	exp      bool
	digits   int // significant digits in exponent form
}

// maxDigits caps the significant digits: values that agree in six digits
// are printed alike.
const maxDigits = 6

// newFormatter returns a formatter that tells every two values of vals
// apart.
func newFormatter(vals []float64) formatter {
	return newPairFormatter(vals, nil)
}

// newPairFormatter returns a formatter that tells apart the values of
// each pair of indices into vals (every pair when pairs is nil): a heatmap
// needs its neighbouring cells told apart, not every two of hundreds.
func newPairFormatter(vals []float64, pairs [][2]int) formatter {
	m := 0.0
	for _, v := range vals {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m = math.Max(m, math.Abs(v))
		}
	}
	if m == 0 {
		return formatter{decimals: 2}
	}
	f := formatter{exp: m >= 1e5 || m < 1e-3, digits: 3}
	top := int(math.Floor(math.Log10(m))) // decade of the largest value
	for sig := 3; sig <= maxDigits; sig++ {
		f.digits, f.decimals = sig, max(0, sig-1-top)
		if f.distinct(vals, pairs) {
			break
		}
	}
	return f
}

// distinct reports whether the values of each pair (every pair when pairs
// is nil) that differ in their first maxDigits significant digits print
// differently.
func (f formatter) distinct(vals []float64, pairs [][2]int) bool {
	key := func(v float64) string { return strconv.FormatFloat(v, 'e', maxDigits-1, 64) }
	ok := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if pairs != nil {
		for _, p := range pairs {
			a, b := vals[p[0]], vals[p[1]]
			if ok(a) && ok(b) && f.format(a) == f.format(b) && key(a) != key(b) {
				return false
			}
		}
		return true
	}
	printed := map[string]string{}
	for _, v := range vals {
		if !ok(v) {
			continue
		}
		s := f.format(v)
		if k, seen := printed[s]; seen && k != key(v) {
			return false
		}
		printed[s] = key(v)
	}
	return true
}

func (f formatter) format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	if f.exp {
		// Trailing zeros of the mantissa go: 1.20e-3 reads 1.2e-3.
		s := strconv.FormatFloat(v, 'e', max(0, f.digits-1), 64)
		i := strings.IndexByte(s, 'e')
		mant := s[:i]
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		return tidyNumber(mant + s[i:])
	}
	s := strconv.FormatFloat(v, 'f', f.decimals, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-") // no "-0.00"
	}
	return s
}

// tidyNumber shortens exponents ("1.5e+06" → "1.5e6", "2e-05" → "2e-5").
func tidyNumber(s string) string {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return s
	}
	mant, exp := s[:i], s[i+1:]
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-0")
	if exp == "" {
		return mant
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}
