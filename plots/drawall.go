package plots

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Figures builds every figure DrawAll draws, in a fixed order:
//   - heatmaps for each pair of Options.Heatmaps (default: every pair of
//     parameters with two or more levels), per metric and model, as small
//     multiples over the first other parameter that has 2–12 levels for
//     the model (all the rest marginalised);
//   - line plots of every metric against every swept parameter, plus
//     Options.Lines;
//   - a sensitivity chart per metric;
//   - Pareto plots for Options.Pareto (default: the first maximised metric
//     on y against wall_s on x when wall_s is a metric, else the first
//     two metrics);
//   - convergence curves for every metric with Data.Curves;
//   - model differences (Options.Difference, default the first two
//     models) for the first heatmap pair, per metric.
//
// Figures that would be empty (ErrNoData) are left out; other errors are
// joined and returned with the figures that could be built.
func Figures(d Data, opt Options) ([]*Figure, error) {
	if err := d.Validate(); err != nil {
		return nil, err
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
	for _, pair := range pairs {
		for _, metric := range d.Metrics {
			for _, model := range d.models() {
				add(Heatmap(d, HeatmapSpec{X: pair[0], Y: pair[1], Facet: d.facetFor(model, pair), Metric: metric, Model: model}, opt))
			}
		}
	}
	for _, p := range swept {
		for _, metric := range d.Metrics {
			add(Lines(d, LinesSpec{Param: d.Params[p].Name, Metric: metric}, opt))
		}
	}
	for _, s := range opt.Lines {
		add(Lines(d, s, opt))
	}
	for _, metric := range d.Metrics {
		add(Sensitivity(d, metric, opt))
	}
	for _, pair := range d.paretoPairs(opt) {
		add(Pareto(d, pair[0], pair[1], opt))
	}
	for _, metric := range d.Metrics {
		if len(d.Curves[metric]) > 0 {
			add(Convergence(d, metric, opt))
		}
	}
	a, b := opt.Difference[0], opt.Difference[1]
	if a == "" && b == "" && len(d.Models) >= 2 {
		a, b = d.Models[0], d.Models[1]
	}
	if a != "" && b != "" && len(pairs) > 0 {
		for _, metric := range d.Metrics {
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

// paretoPairs returns Options.Pareto or the default metric pair.
func (d Data) paretoPairs(opt Options) [][2]string {
	if opt.Pareto != nil {
		return opt.Pareto
	}
	hasWall := false
	for _, m := range d.Metrics {
		hasWall = hasWall || m == "wall_s"
	}
	for _, m := range d.Metrics {
		if d.Maximize[m] && hasWall {
			return [][2]string{{"wall_s", m}}
		}
	}
	if len(d.Metrics) >= 2 {
		return [][2]string{{d.Metrics[0], d.Metrics[1]}}
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
