package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// levelTicks marks the levels of a parameter, labelled as the user wrote
// them, every stride-th one labelled so that labels never overlap.
type levelTicks struct {
	pos    []float64 // axis position of each level
	labels []string
	stride int
	hidden bool // tick marks only (inner panels of small multiples)
}

// newLevelTicks marks the levels of a at pos (one position per level).
func newLevelTicks(a axis, pos []float64) *levelTicks {
	return &levelTicks{pos: pos, labels: a.labels(), stride: 1}
}

// indexPositions returns 0, 1, …, n-1.
func indexPositions(n int) []float64 {
	pos := make([]float64, n)
	for i := range pos {
		pos[i] = float64(i)
	}
	return pos
}

// Ticks implements plot.Ticker.
func (t *levelTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i, v := range t.pos {
		if v < lo || v > hi {
			continue
		}
		if t.hidden || i%t.stride != 0 {
			if len(t.pos) <= 60 { // unlabelled marks only while they stay apart
				ts = append(ts, plot.Tick{Value: v})
			}
			continue
		}
		ts = append(ts, plot.Tick{Value: v, Label: t.labels[i]})
	}
	return ts
}

// fit chooses the stride for an axis of the given length: along a
// horizontal axis labels need their width apart, along a vertical one
// their height.
func (t *levelTicks) fit(sty text.Style, length vg.Length, horizontal bool, norm func(float64) float64) {
	t.stride = 1
	if len(t.pos) < 2 || length <= 0 {
		return
	}
	var need vg.Length
	for _, l := range t.labels {
		if horizontal {
			need = max(need, sty.Width(l))
		} else {
			need = max(need, sty.Height(l))
		}
	}
	need += vg.Points(4)
	// The smallest gap between neighbouring levels on the axis.
	gap := math.Inf(1)
	for i := 1; i < len(t.pos); i++ {
		gap = math.Min(gap, math.Abs(norm(t.pos[i])-norm(t.pos[i-1])))
	}
	if gap <= 0 || math.IsInf(gap, 0) || math.IsNaN(gap) {
		return
	}
	t.stride = max(1, int(math.Ceil(float64(need)/(gap*float64(length)))))
}

// fitTicks thins the level labels of p's axes to the data area that p
// gets inside c.
func fitTicks(p *plot.Plot, c draw.Canvas) {
	for range 2 { // thinning frees space, which may change the data area
		dc := p.DataCanvas(c)
		if t, ok := p.X.Tick.Marker.(*levelTicks); ok {
			t.fit(p.X.Tick.Label, dc.Max.X-dc.Min.X, true, p.X.Norm)
		}
		if t, ok := p.Y.Tick.Marker.(*levelTicks); ok {
			t.fit(p.Y.Tick.Label, dc.Max.Y-dc.Min.Y, false, p.Y.Norm)
		}
	}
}

// niceTicks labels a linear axis at 1, 2, 2.5 or 5 × 10^k steps, about
// five of them, printed as briefly as possible ("2500", "0.5", "1e-5").
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: tidyNumber(strconv.FormatFloat(lo, 'g', 4, 64))}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ts = append(ts, plot.Tick{Value: v, Label: tidyNumber(strconv.FormatFloat(v, 'g', 6, 64))})
	}
	return ts
}

// logTicks labels a log axis at powers of ten ("1e-5", "0.01", "100"),
// with unlabelled marks at 2…9 × 10^k, and also labels 2 and 5 × 10^k
// when the axis spans too few decades for two labels. It replaces
// plot.LogTicks, whose labels read "9.999999999999999e-05".
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return niceTicks{}.Ticks(lo, hi)
	}
	k0, k1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	decades := 0
	for k := k0; k <= k1; k++ {
		if in(math.Pow10(k)) {
			decades++
		}
	}
	var ts []plot.Tick
	for k := k0; k <= k1; k++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow10(k)
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (decades < 2 && (m == 2 || m == 5)) {
				t.Label = numberLabel(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// numberLabel prints a tick value briefly: "0.01", "100", "1e-5", "2e6".
func numberLabel(v float64) string {
	// Rounding to 12 digits first drops the binary noise of computed
	// tick values (3 × 1e-5 = 3.0000000000000004e-05).
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	a := math.Abs(v)
	if a != 0 && (a < 1e-3 || a >= 1e5) {
		return tidyNumber(strconv.FormatFloat(v, 'e', -1, 64))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
