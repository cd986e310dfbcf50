package plots

import (
	"sort"
)

// maximize reports whether higher is better for metric m.
func (d Data) maximize(m string) bool {
	return d.Info[m].Direction == Maximize
}

// directed reports whether the study declares which way m is better.
func (d Data) directed(m string) bool {
	dir := d.Info[m].Direction
	return dir == Maximize || dir == Minimize
}

// direction is "higher is better", "lower is better" or, for a metric
// the study does not judge, "direction not declared".
func (d Data) direction(m string) string {
	switch d.Info[m].Direction {
	case Maximize:
		return "higher is better"
	case Minimize:
		return "lower is better"
	}
	return "direction not declared"
}

// title is the metric's declared label, else its name.
func (d Data) title(m string) string {
	if l := d.Info[m].Label; l != "" {
		return l
	}
	return m
}

// axisLabel is the metric's title with its unit, e.g. "test MSE (px²)".
func (d Data) axisLabel(m string) string {
	if u := d.Info[m].Unit; u != "" {
		return d.title(m) + " (" + u + ")"
	}
	return d.title(m)
}

// clip limits an error bar or band lo..hi of metric m to the values m can
// take; clipped reports whether it had to.
func (d Data) clip(m string, lo, hi float64) (float64, float64, bool) {
	in := d.Info[m]
	clipped := false
	if in.Lower != nil && lo < *in.Lower {
		lo, clipped = *in.Lower, true
	}
	if in.Upper != nil && hi > *in.Upper {
		hi, clipped = *in.Upper, true
	}
	return lo, hi, clipped
}

// levels returns the levels of parameter pi that any of models sweeps
// (Param.ModelLevels), in axis order: numbers in numeric order, other
// values in sweep order. A model's figure thus never shows another
// model's values as "not run".
func (d Data) levels(pi int, models ...string) []int {
	p := d.Params[pi]
	var ls []int
	if p.ModelLevels == nil {
		ls = indexes(len(p.Labels))
	} else {
		seen := make([]bool, len(p.Labels))
		for _, m := range models {
			for _, l := range p.ModelLevels[m] {
				seen[l] = true
			}
		}
		for l, ok := range seen {
			if ok {
				ls = append(ls, l)
			}
		}
	}
	if p.Numeric != nil {
		sort.SliceStable(ls, func(a, b int) bool { return p.Numeric[ls[a]] < p.Numeric[ls[b]] })
	}
	return ls
}

// commonLevels returns the levels of parameter pi that both models sweep,
// in axis order.
func (d Data) commonLevels(pi int, a, b string) []int {
	inB := map[int]bool{}
	for _, l := range d.levels(pi, b) {
		inB[l] = true
	}
	var out []int
	for _, l := range d.levels(pi, a) {
		if inB[l] {
			out = append(out, l)
		}
	}
	return out
}

// axis is one parameter axis of a figure: the levels it shows, in order.
type axis struct {
	param  Param
	levels []int
}

// axisOf returns the axis of parameter pi over levels.
func (d Data) axisOf(pi int, levels []int) axis {
	return axis{param: d.Params[pi], levels: levels}
}

// name is the parameter's name.
func (a axis) name() string { return a.param.Name }

// labels returns the label of each level shown.
func (a axis) labels() []string {
	out := make([]string, len(a.levels))
	for i, l := range a.levels {
		out[i] = a.param.label(l)
	}
	return out
}

// values returns the numeric value of each level shown.
func (a axis) values() []float64 {
	out := make([]float64, len(a.levels))
	for i, l := range a.levels {
		out[i] = a.param.Numeric[l]
	}
	return out
}
