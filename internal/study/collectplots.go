package study

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/gridstudy/gridstudy/plots"
)

// metricDeclKeys are the keys of a [collect.metrics.NAME] table.
var metricDeclKeys = keyTree{"label": {}, "unit": {}, "direction": {}, "lower_bound": {}, "upper_bound": {}}

// metricDeclOrder returns the names of the [collect.metrics.NAME] tables in
// the order the file declares them: figures and reports list declared
// metrics in that order.
func metricDeclOrder(keys []toml.Key) []string {
	var out []string
	for _, k := range keys {
		if len(k) >= 3 && k[0] == "collect" && k[1] == "metrics" && !slices.Contains(out, k[2]) {
			out = append(out, k[2])
		}
	}
	return out
}

// checkCollectPlots checks [collect] and [plots]. Metric names cannot be
// checked here, as runs report them; collect warns about those
// (Study.UnreportedMetrics). Parameter and figure names can.
func checkCollectPlots(ps *problems, st *Study) {
	c := st.Collect
	max := map[string]bool{}
	for _, m := range c.Maximize {
		max[m] = true
	}
	for _, m := range c.Minimize {
		if max[m] {
			ps.add("collect.minimize", "metric %q is both maximised and minimised", m)
		}
	}
	for _, name := range c.metricNames() {
		key := "collect.metrics." + joinKey(name)
		d := c.Metrics[name]
		switch d.Direction {
		case "":
		case Maximize, Minimize:
			other, list := Minimize, c.Minimize
			if d.Direction == Minimize {
				other, list = Maximize, c.Maximize
			}
			if slices.Contains(list, name) {
				ps.add(key+".direction", "%q, but [collect] %s lists %q", d.Direction, other, name)
			}
		default:
			ps.add(key+".direction", "%q: want \"maximize\" or \"minimize\"", d.Direction)
		}
		for _, b := range []struct {
			key string
			v   *float64
		}{{"lower_bound", d.LowerBound}, {"upper_bound", d.UpperBound}} {
			if b.v != nil && (math.IsNaN(*b.v) || math.IsInf(*b.v, 0)) {
				ps.add(key+"."+b.key, "%v: want a finite number", *b.v)
			}
		}
		if d.LowerBound != nil && d.UpperBound != nil && !(*d.LowerBound < *d.UpperBound) {
			ps.add(key+".upper_bound", "%v is not above lower_bound %v", *d.UpperBound, *d.LowerBound)
		}
	}

	p := st.Plots
	for i, pair := range p.Heatmaps {
		if len(pair) != 2 {
			ps.add("plots.heatmaps", "entry %d: want a pair of parameters, got %d names", i+1, len(pair))
			continue
		}
		for _, n := range pair {
			if findParam(st, n) == nil {
				ps.add("plots.heatmaps", "entry %d names unknown parameter %q", i+1, n)
			}
		}
	}
	for _, f := range p.Formats {
		if f != "png" && f != "pdf" && f != "svg" {
			ps.add("plots.formats", "format %q: want png, pdf or svg", f)
		}
	}
	for _, k := range p.Kinds {
		if !slices.Contains(plots.Kinds, k) {
			msg := fmt.Sprintf("unknown figure kind %q; known kinds: %s", k, strings.Join(plots.Kinds, ", "))
			if s := suggest(k, plots.Kinds); s != "" {
				msg = fmt.Sprintf("unknown figure kind %q; did you mean %q?", k, s)
			}
			ps.add("plots.kinds", "%s", msg)
		}
	}
	metric := func(key, m string) {
		switch {
		case strings.TrimSpace(m) == "":
			ps.add(key, "empty metric name")
		case findParam(st, m) != nil:
			ps.add(key, "%q is a parameter, not a metric: figures draw metrics against parameters", m)
		}
	}
	for _, m := range p.Metrics {
		metric("plots.metrics", m)
	}
	for i, pair := range p.Pareto {
		if len(pair) != 2 {
			ps.add("plots.pareto", "entry %d: want a pair of metrics [x, y], got %d names", i+1, len(pair))
			continue
		}
		if pair[0] == pair[1] {
			ps.add("plots.pareto", "entry %d: %q against itself", i+1, pair[0])
		}
		for _, m := range pair {
			metric("plots.pareto", m)
		}
	}
}

// UnreportedMetrics returns a warning for each metric the study names in
// [collect] or [plots] that is not among reported (the metrics, measures
// and history names the runs reported), with the closest reported name:
// a misspelt name would otherwise silently judge or draw nothing.
func (st *Study) UnreportedMetrics(reported []string) []string {
	var out []string
	seen := map[string]bool{}
	check := func(key string, names []string) {
		for _, m := range names {
			if seen[m] || slices.Contains(reported, m) {
				continue
			}
			seen[m] = true
			w := fmt.Sprintf("%s: %s: no run reported it", key, m)
			if s := suggest(m, reported); s != "" {
				w += fmt.Sprintf("; did you mean %s?", s)
			}
			out = append(out, w)
		}
	}
	check("[collect] maximize", st.Collect.Maximize)
	check("[collect] minimize", st.Collect.Minimize)
	check("[collect.metrics]", st.Collect.metricNames())
	check("[plots] metrics", st.Plots.Metrics)
	for _, pair := range st.Plots.Pareto {
		check("[plots] pareto", pair)
	}
	return out
}
