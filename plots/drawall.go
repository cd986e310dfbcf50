package plots

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
)

// Figure kinds (Options.Kinds).
const (
	KindHeatmap     = "heatmap"
	KindLines       = "lines"
	KindSensitivity = "sensitivity"
	KindPareto      = "pareto"
	KindConvergence = "convergence"
	KindDifference  = "difference"
	KindSurface     = "surface"
)

// Kinds lists every figure kind, in the order Figures draws them.
var Kinds = []string{KindHeatmap, KindLines, KindSensitivity, KindPareto, KindConvergence, KindDifference, KindSurface}

// DefaultMetrics is how many metrics are drawn when neither Options.Metrics
// nor the study (MetricInfo.Declared) chooses them: a study that reports a
// hundred metrics must not write a thousand figures.
const DefaultMetrics = 6

// Selection returns the metrics the figures draw, in order, and the
// metrics left out. The candidates are Data.Metrics and the names of
// Data.Curves that are no final metric (histories such as a training
// loss). Options.Metrics chooses among them; by default the declared ones
// are drawn, or the first DefaultMetrics when none is declared.
func Selection(d Data, opt Options) (drawn, left []string) {
	cands := slices.Clone(d.Metrics)
	for _, name := range slices.Sorted(maps.Keys(d.Curves)) {
		if !slices.Contains(cands, name) {
			cands = append(cands, name)
		}
	}
	switch {
	case opt.Metrics != nil:
		for _, m := range opt.Metrics {
			if slices.Contains(cands, m) && !slices.Contains(drawn, m) {
				drawn = append(drawn, m)
			}
		}
	default:
		for _, m := range cands {
			if d.Info[m].Declared {
				drawn = append(drawn, m)
			}
		}
		if drawn == nil {
			drawn = cands[:min(len(cands), DefaultMetrics)]
		}
	}
	for _, m := range cands {
		if !slices.Contains(drawn, m) {
			left = append(left, m)
		}
	}
	return drawn, left
}

// drawKind reports whether Options.Kinds asks for figures of kind k (all
// kinds when it is nil).
func (o Options) drawKind(k string) bool {
	return o.Kinds == nil || slices.Contains(o.Kinds, k)
}

// Figures builds every figure DrawAll draws, for the metrics of
// Selection and the kinds of Options.Kinds, in a fixed order:
//   - heatmaps for each pair of Options.Heatmaps (default: every pair of
//     parameters with two or more levels), per metric and model, as small
//     multiples over the first other parameter that has 2–12 levels for
//     the model (all the rest marginalised);
//   - line plots of every metric against every swept parameter, plus
//     Options.Lines;
//   - a sensitivity chart per metric;
//   - Pareto plots for Options.Pareto (default: wall_s on x against the
//     first drawn metric with a declared direction, else the first two
//     drawn metrics with declared directions; none without);
//   - convergence curves for every metric with Data.Curves;
//   - model differences (Options.Difference, default the first two
//     models) for the first heatmap pair, per metric (Data.Comparisons
//     when given, see ModelDifference).
//
// Figures that would be empty (ErrNoData) are left out; other errors are
// joined and returned with the figures that could be built.
func Figures(d Data, opt Options) ([]*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	for _, k := range opt.Kinds {
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("plots: unknown figure kind %q", k)
		}
	}
	var figs []*Figure
	var errs []error
	add := func(f *Figure, err error) {
		switch {
		case errors.Is(err, ErrNoData):
		case err != nil:
			errs = append(errs, err)
		default:
			figs = append(figs, f)
		}
	}
	drawn, _ := Selection(d, opt)
	var metrics []string // the drawn final metrics (others are histories only)
	for _, m := range drawn {
		if slices.Contains(d.Metrics, m) {
			metrics = append(metrics, m)
		}
	}
	var swept []int
	for i, p := range d.Params {
		if len(p.Labels) > 1 {
			swept = append(swept, i)
		}
	}
	pairs := opt.Heatmaps
	if pairs == nil {
		for a := range swept {
			for b := a + 1; b < len(swept); b++ {
				pairs = append(pairs, [2]string{d.Params[swept[a]].Name, d.Params[swept[b]].Name})
			}
		}
	}
	if opt.drawKind(KindHeatmap) {
		for _, pair := range pairs {
			for _, metric := range metrics {
				for _, model := range d.models() {
					add(Heatmap(d, HeatmapSpec{X: pair[0], Y: pair[1], Facet: d.facetFor(model, pair), Metric: metric, Model: model}, opt))
				}
			}
		}
	}
	if opt.drawKind(KindLines) {
		for _, p := range swept {
			for _, metric := range metrics {
				add(Lines(d, LinesSpec{Param: d.Params[p].Name, Metric: metric}, opt))
			}
		}
		for _, s := range opt.Lines {
			add(Lines(d, s, opt))
		}
	}
	if opt.drawKind(KindSensitivity) {
		for _, metric := range metrics {
			add(Sensitivity(d, metric, opt))
		}
	}
	if opt.drawKind(KindPareto) {
		for _, pair := range d.paretoPairs(opt, metrics) {
			add(Pareto(d, pair[0], pair[1], opt))
		}
	}
	if opt.drawKind(KindConvergence) {
		for _, name := range drawn {
			if len(d.Curves[name]) > 0 {
				add(Convergence(d, name, opt))
			}
		}
	}
	a, b := opt.Difference[0], opt.Difference[1]
	if a == "" && b == "" && len(d.Models) >= 2 {
		a, b = d.Models[0], d.Models[1]
	}
	if opt.drawKind(KindDifference) && a != "" && b != "" && len(pairs) > 0 {
		for _, metric := range metrics {
			add(ModelDifference(d, DifferenceSpec{X: pairs[0][0], Y: pairs[0][1], Metric: metric, A: a, B: b}, opt))
		}
	}
	return figs, errors.Join(errs...)
}

// facetFor picks the facet parameter of a heatmap of pair for model: the
// first other parameter with 2 to 12 levels used by the model, or "".
func (d Data) facetFor(model string, pair [2]string) string {
	used := d.levelsFor(model)
	for i, p := range d.Params {
		if p.Name != pair[0] && p.Name != pair[1] && used[i] >= 2 && used[i] <= 12 {
			return p.Name
		}
	}
	return ""
}

// paretoPairs returns Options.Pareto or the default pair among metrics:
// cost (wall_s) against the first metric with a declared direction, else
// the first two such metrics. An undeclared metric is never chosen: its
// front would rest on a guess.
func (d Data) paretoPairs(opt Options, metrics []string) [][2]string {
	if opt.Pareto != nil {
		return opt.Pareto
	}
	var directed []string
	for _, m := range metrics {
		if d.directed(m) && m != "wall_s" {
			directed = append(directed, m)
		}
	}
	switch {
	case len(directed) >= 1 && slices.Contains(d.Metrics, "wall_s"):
		return [][2]string{{"wall_s", directed[0]}}
	case len(directed) >= 2:
		return [][2]string{{directed[0], directed[1]}}
	}
	return nil
}

// DrawAll builds the figures of Figures and writes each into opt.Dir in
// every format of opt.Formats, rendering on all CPUs. It returns the files
// written, in figure order, and every error met (one bad figure does not
// stop the others).
func DrawAll(d Data, opt Options) ([]string, error) {
	figs, err := Figures(d, opt)
	errs := []error{err}
	files := make([][]string, len(figs))
	ferrs := make([]error, len(figs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(len(figs), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				files[i], ferrs[i] = figs[i].Save(opt.Dir, opt.Formats)
				if ferrs[i] != nil {
					ferrs[i] = fmt.Errorf("%s: %w", figs[i].Name, ferrs[i])
				}
			}
		})
	}
	for i := range figs {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []string
	for i := range figs {
		out = append(out, files[i]...)
	}
	return out, errors.Join(append(errs, ferrs...)...)
}
