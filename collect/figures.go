package collect

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/plots"
)

// drawFigures writes the figures [plots] asks for into visualizations/ in
// the study's formats and as PDF into reports/latex_figures/, and returns
// them with their PNG for the HTML report. It warns about metric names in
// [collect] and [plots] that no run reported, metrics without a declared
// direction, and metrics left out of the figures. Once the new figures are
// in place, it removes those an earlier collect drew and this one did not
// (pruneFigures). The model-difference heatmaps draw the reports' own
// comparisons (figureComparisons).
func drawFigures(ctx context.Context, dir string, st *study.Study, g *grid, a *analysis, res *Result) ([]figure, error) {
	opt := plotOptions(dir, st)
	res.Warnings = append(res.Warnings, figureWarnings(st, a, opt)...)
	// A Pareto pair naming a metric no run reported was warned about
	// above; the others are still drawn.
	opt.Pareto = slices.DeleteFunc(opt.Pareto, func(p [2]string) bool {
		return !slices.Contains(a.data.Metrics, p[0]) || !slices.Contains(a.data.Metrics, p[1])
	})
	d := a.data
	d.Comparisons = figureComparisons(g, a)
	figs, err := plots.Figures(d, opt)
	if err != nil {
		res.Warnings = append(res.Warnings, "figures: "+oneLine(err))
	}
	out := make([]figure, len(figs))
	files := make([][]string, len(figs))
	latexFiles := make([]string, len(figs))
	errs := make([]error, len(figs))
	latex := filepath.Join(dir, "reports", "latex_figures")
	if err := parallelCtx(ctx, len(figs), runtimeWorkers(), func(i int) {
		f := figs[i]
		out[i].name = f.Name
		files[i], errs[i] = f.Save(opt.Dir, opt.Formats)
		if errs[i] != nil {
			return
		}
		path := filepath.Join(latex, f.Name+".pdf")
		if errs[i] = atomicfile.Write(path, 0o644, false, func(w io.Writer) error { return f.Render(w, "pdf") }); errs[i] != nil {
			return
		}
		latexFiles[i] = path
		// The HTML report embeds a screen rendition: the 300-dpi files
		// would make it tens of megabytes.
		var b strings.Builder
		errs[i] = f.RenderPNG(&b, reportDPI)
		out[i].png = []byte(b.String())
	}); err != nil {
		return nil, err
	}
	var ok []figure
	// written is every figure file on disk that this collect wrote, those
	// of a figure that failed half-way included: they are not stale.
	var written []string
	for i := range figs {
		written = append(written, files[i]...)
		if latexFiles[i] != "" {
			written = append(written, latexFiles[i])
		}
		if errs[i] != nil {
			res.Warnings = append(res.Warnings, "figure "+figs[i].Name+": "+oneLine(errs[i]))
			continue
		}
		res.Figures = append(res.Figures, files[i]...)
		ok = append(ok, out[i])
	}
	// Interactive 3-D surfaces are HTML files beside the figures; the
	// detailed report links them from res.Figures.
	surfaces, err := plots.SurfaceAll(a.data, opt)
	if err != nil {
		res.Warnings = append(res.Warnings, "surfaces: "+oneLine(err))
	}
	res.Figures = append(res.Figures, surfaces...)
	written = append(written, surfaces...)
	if err := pruneFigures(dir, written); err != nil {
		res.Warnings = append(res.Warnings, "figures: stale figures not removed: "+oneLine(err))
	}
	return ok, nil
}

// plotOptions turns [plots] into the figures' options.
func plotOptions(dir string, st *study.Study) plots.Options {
	opt := plots.Options{Dir: filepath.Join(dir, "visualizations"), Formats: st.Plots.Formats, Width: st.Plots.Width,
		Metrics: st.Plots.Metrics, Kinds: st.Plots.Kinds}
	if len(opt.Formats) == 0 {
		opt.Formats = []string{"png", "pdf", "svg"}
	}
	for _, h := range st.Plots.Heatmaps {
		opt.Heatmaps = append(opt.Heatmaps, [2]string{h[0], h[1]})
	}
	for _, p := range st.Plots.Pareto {
		opt.Pareto = append(opt.Pareto, [2]string{p[0], p[1]})
	}
	return opt
}

// maxNamed is how many metric names one warning lists.
const maxNamed = 12

// figureWarnings says which declared names no run reported (a misspelt
// minimize would otherwise silently judge nothing) and which metrics the
// figures leave out by default. (A metric without a declared direction is
// no warning: its figures say so, and the reports list it.)
func figureWarnings(st *study.Study, a *analysis, opt plots.Options) []string {
	reported := append(slices.Clone(a.metrics), measures...)
	for _, c := range a.others {
		reported = append(reported, c.Name)
	}
	for name := range a.data.Curves {
		if !slices.Contains(reported, name) {
			reported = append(reported, name)
		}
	}
	out := st.UnreportedMetrics(reported)
	_, left := plots.Selection(a.data, opt)
	// The runner's own measures are never missed: they have their tables.
	left = slices.DeleteFunc(left, func(m string) bool { return slices.Contains(measures, m) })
	if len(left) > 0 && opt.Metrics == nil {
		why := "only declared metrics are drawn"
		if len(st.Collect.Declared()) == 0 {
			why = fmt.Sprintf("no metric is declared, so the first %d are drawn", plots.DefaultMetrics)
		}
		what := fmt.Sprintf("%d metrics", len(left))
		if len(left) == 1 {
			what = "1 metric"
		}
		out = append(out, fmt.Sprintf("figures: %s not drawn (%s; choose with [plots] metrics): %s", what, why, nameList(left)))
	}
	return out
}

// nameList joins names, the first maxNamed of them.
func nameList(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamed], ", "), len(names)-maxNamed)
}

// builtinInfo describes what the runner measures itself; what a study
// declares of the same name takes precedence, field by field.
var builtinInfo = map[string]plots.MetricInfo{
	"wall_s":     {Label: "wall time", Unit: "s", Direction: plots.Minimize, Lower: ptr(0.0)},
	"cpu_s":      {Label: "CPU time", Unit: "s", Direction: plots.Minimize, Lower: ptr(0.0)},
	"max_rss_mb": {Label: "peak memory", Unit: "MB", Direction: plots.Minimize, Lower: ptr(0.0)},
	"gpu_mem_mb": {Label: "peak GPU memory", Unit: "MB", Direction: plots.Minimize, Lower: ptr(0.0)},
}

func ptr[T any](v T) *T { return &v }

// metricInfo is what the figures know of metric m: the study's
// declaration over the runner's own description of its measures.
func metricInfo(st *study.Study, m string) plots.MetricInfo {
	in := builtinInfo[m]
	decl := st.Collect.Metrics[m]
	if decl.Label != "" {
		in.Label = decl.Label
	}
	if decl.Unit != "" {
		in.Unit = decl.Unit
	}
	if decl.LowerBound != nil {
		in.Lower = decl.LowerBound
	}
	if decl.UpperBound != nil {
		in.Upper = decl.UpperBound
	}
	if dir := st.Collect.Direction(m); dir != "" {
		in.Direction = dir
	}
	in.Declared = slices.Contains(st.Collect.Declared(), m)
	return in
}

// modelLevels returns, for each parameter, the levels each model's cells
// have in the manifest (run or not), so that a model's figures show its
// own values of a parameter that models sweep differently.
func modelLevels(g *grid) []map[string][]int {
	out := make([]map[string][]int, len(g.params))
	for i := range g.params {
		seen := map[string]map[int]bool{}
		for _, c := range g.cells {
			if l := c.levels[i]; l >= 0 {
				if seen[c.model] == nil {
					seen[c.model] = map[int]bool{}
				}
				seen[c.model][l] = true
			}
		}
		out[i] = map[string][]int{}
		for m, ls := range seen {
			out[i][m] = slices.Sorted(maps.Keys(ls))
		}
	}
	return out
}

// plotData builds the figures' view of the aggregates: every cell with at
// least one finished trial (cells never run are left out, so figures show
// them as not run), and the mean ± std convergence curve of each cell.
func plotData(st *study.Study, g *grid, s *state, a *analysis) (plots.Data, []int) {
	d := plots.Data{Info: map[string]plots.MetricInfo{}, Curves: map[string][]plots.Curve{}}
	levels := modelLevels(g)
	for i, col := range g.params {
		p := plots.Param{Name: col.Name, Labels: g.labels[i], Numeric: g.numeric[i], Scale: plotScale(g.scales[i], g.numeric[i])}
		if len(st.Models) > 0 {
			p.ModelLevels = levels[i]
		}
		d.Params = append(d.Params, p)
	}
	if len(st.Models) > 0 {
		d.Models = st.ModelNames()
	}
	d.Metrics = slices.Clone(a.metrics)
	if _, ok := a.best["wall_s"]; ok {
		// Run time is the cost axis of the Pareto plot.
		d.Metrics = append(d.Metrics, "wall_s")
	}
	at := make([]int, len(g.cells))
	for ci, c := range g.cells {
		cs := a.cells[ci]
		at[ci] = -1
		if cs.nOK+cs.nFailed == 0 {
			continue
		}
		pc := plots.Cell{Model: c.model, Levels: c.levels, Metrics: map[string]plots.Stat{}, Failed: cs.nOK == 0}
		for _, m := range d.Metrics {
			if sm, nf := cs.stats[m], cs.nonFinite[m]; sm.N > 0 || nf > 0 {
				pc.Metrics[m] = plots.Stat{Mean: sm.Mean, Std: sm.Std, SEM: sm.SEM, CI95: ci95(sm.SEM, sm.N), N: sm.N, NonFinite: nf}
			}
		}
		at[ci] = len(d.Cells)
		d.Cells = append(d.Cells, pc)
	}
	for ci, c := range g.cells {
		if at[ci] < 0 {
			continue
		}
		byName := map[string]map[int64][]float64{}
		for _, pos := range c.runs {
			if r := s.runs[pos]; r == nil || !r.ok {
				continue
			}
			for _, h := range s.hist[pos] {
				if !isFinite(h.value) {
					continue
				}
				if byName[h.name] == nil {
					byName[h.name] = map[int64][]float64{}
				}
				byName[h.name][h.step] = append(byName[h.name][h.step], h.value)
			}
		}
		for _, name := range slices.Sorted(mapKeys(byName)) {
			steps := byName[name]
			cv := plots.Curve{Model: c.model, Cell: at[ci]}
			keys := make([]int64, 0, len(steps))
			for k := range steps {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				sm := summarize(steps[k])
				lo, hi := sm.Mean, sm.Mean
				if isFinite(sm.Std) {
					lo, hi = sm.Mean-sm.Std, sm.Mean+sm.Std
				}
				cv.Steps = append(cv.Steps, float64(k))
				cv.Mean = append(cv.Mean, sm.Mean)
				cv.Lo = append(cv.Lo, lo)
				cv.Hi = append(cv.Hi, hi)
			}
			d.Curves[name] = append(d.Curves[name], cv)
		}
	}
	for _, m := range append(slices.Clone(d.Metrics), slices.Collect(maps.Keys(d.Curves))...) {
		d.Info[m] = metricInfo(st, m)
	}
	return d, at
}
