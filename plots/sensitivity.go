package plots

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// MainEffects returns, for each parameter that varies for model, the share
// of the between-cell variance of metric that its main effect explains:
// Σ_levels n_l (mean_l − mean)² / Σ_cells (v − mean)², over the cells with a
// finite value. Shares are in [0, 1]; what the main effects leave is
// interaction (and noise). A constant metric gives every parameter 0.
func MainEffects(d Data, metric, model string) map[string]float64 {
	var vals []float64
	var cells []Cell
	for _, c := range d.Cells {
		if c.Model != model {
			continue
		}
		if v := value(c, metric); !math.IsNaN(v) {
			vals = append(vals, v)
			cells = append(cells, c)
		}
	}
	out := map[string]float64{}
	if len(vals) == 0 {
		return out
	}
	var mean float64
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	var total float64
	for _, v := range vals {
		total += (v - mean) * (v - mean)
	}
	used := d.levelsFor(model)
	for p, prm := range d.Params {
		if used[p] < 2 {
			continue
		}
		sum := make([]float64, len(prm.Labels))
		n := make([]float64, len(prm.Labels))
		for i, c := range cells {
			if l := c.Levels[p]; l >= 0 {
				sum[l] += vals[i]
				n[l]++
			}
		}
		var ss float64
		for l := range sum {
			if n[l] > 0 {
				m := sum[l] / n[l]
				ss += n[l] * (m - mean) * (m - mean)
			}
		}
		share := 0.0
		if total > 0 {
			share = math.Min(1, ss/total)
		}
		out[prm.Name] = share
	}
	return out
}

// sensitivityBars draws horizontal bars, one group per parameter (at index
// positions on y, top first) and one bar per model inside a group.
type sensitivityBars struct {
	shares [][]float64 // [param][model], NaN = not applicable
	theme  theme
}

// DataRange implements plot.DataRanger.
func (b *sensitivityBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmax = 0
	for _, row := range b.shares {
		for _, v := range row {
			if !math.IsNaN(v) {
				xmax = math.Max(xmax, v)
			}
		}
	}
	return 0, xmax, -0.5, float64(len(b.shares)) - 0.5
}

// Plot implements plot.Plotter.
func (b *sensitivityBars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	lab := b.theme.text(b.theme.note, text.XLeft, text.YCenter)
	for i, row := range b.shares {
		y := float64(len(b.shares) - 1 - i)
		n := float64(len(row))
		h := 0.8 / n
		for m, v := range row {
			if math.IsNaN(v) {
				continue
			}
			col, _, _ := seriesStyle(m, len(row))
			y0 := y + 0.4 - h*float64(m+1)
			r := vg.Rectangle{Min: vg.Point{X: tx(0), Y: ty(y0)}, Max: vg.Point{X: tx(v), Y: ty(y0 + h)}}
			c.SetColor(col)
			c.Fill(r.Path())
			if r.Max.Y-r.Min.Y >= lineHeight(lab)*0.8 {
				c.FillText(lab, vg.Point{X: r.Max.X + vg.Points(2), Y: (r.Min.Y + r.Max.Y) / 2}, strconv.FormatFloat(100*v, 'f', 0, 64)+"%")
			}
		}
	}
}

// Sensitivity draws, for metric, the share of variance each parameter
// explains (Data.Sensitivity when given, else MainEffects), one bar per
// model, parameters sorted by their largest share.
func Sensitivity(d Data, metric string, opt Options) (*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.hasMetric(metric); err != nil {
		return nil, err
	}
	// A model that never reports the metric gets no bars and no legend
	// entry (see unreported).
	models := slices.DeleteFunc(slices.Clone(d.models()), func(m string) bool {
		return d.Sensitivity[metric][m] == nil && d.unreported(m, metric)
	})
	shares := map[string][]float64{}
	for m, model := range models {
		sh := d.Sensitivity[metric][model]
		if sh == nil {
			sh = MainEffects(d, metric, model)
		}
		for name, v := range sh {
			if _, ok := shares[name]; !ok {
				shares[name] = make([]float64, len(models))
				for k := range shares[name] {
					shares[name][k] = math.NaN()
				}
			}
			shares[name][m] = math.Max(0, math.Min(1, finite(v)))
		}
	}
	if len(shares) == 0 {
		return nil, ErrNoData
	}
	// Parameters in study order, then by largest share (stable).
	var names []string
	for _, prm := range d.Params {
		if _, ok := shares[prm.Name]; ok {
			names = append(names, prm.Name)
		}
	}
	var extra []string // shares given for names that are not parameters
	for name := range shares {
		if _, err := d.paramIndex(name); err != nil {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	names = append(names, extra...)
	sort.SliceStable(names, func(i, j int) bool {
		return maxFinite(shares[names[i]]) > maxFinite(shares[names[j]])
	})
	width := opt.width(3.5)
	t := newTheme(width)
	bars := &sensitivityBars{theme: t}
	labels := make([]string, len(names))
	for i, name := range names {
		bars.shares = append(bars.shares, shares[name])
		labels[len(names)-1-i] = name
	}
	p := t.newPlot()
	p.Add(bars)
	_, xmax, _, _ := bars.DataRange()
	p.X.Min, p.X.Max = 0, math.Min(1, math.Max(0.05, xmax*1.2))
	p.X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		ts := niceTicks{}.Ticks(lo*100, hi*100)
		for i := range ts {
			ts[i].Value /= 100
		}
		return ts
	})
	p.X.Label.Text = "share of variance (%)"
	p.Y.Min, p.Y.Max = -0.5, float64(len(names))-0.5
	p.Y.Padding = 0
	p.Y.Tick.Marker = &levelTicks{pos: indexPositions(len(names)), labels: labels, stride: 1}

	var entries []legendEntry
	if len(d.Models) > 1 {
		for m, model := range models {
			col, _, _ := seriesStyle(m, len(models))
			entries = append(entries, legendEntry{label: model, color: col, box: true})
		}
	}
	title := "Sensitivity of " + d.title(metric)
	sub := "main-effect share of the variance between cells"
	if d.Sensitivity[metric] != nil {
		sub = "share of variance per parameter"
	}
	inner := width - 2*margin
	_, legH := t.legendLayout(entries, inner)
	rowH := vg.Points(10) * vg.Length(math.Max(1, float64(len(models))*0.8))
	height := t.headerHeight(inner, title, sub) + legH + vg.Length(len(names))*rowH + vg.Inch*0.55 + 2*margin
	return &Figure{Name: fileName(fmt.Sprintf("sensitivity_%s", metric)), Width: width, Height: height, draw: func(c draw.Canvas) {
		c = background(c)
		c = t.header(c, title, sub)
		c = t.legend(c, entries)
		fitTicks(p, c)
		p.Draw(c)
	}}, nil
}

// maxFinite returns the largest non-NaN value of xs (−1 if none).
func maxFinite(xs []float64) float64 {
	m := -1.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			m = math.Max(m, x)
		}
	}
	return m
}
