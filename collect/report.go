package collect

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/studydir"
	"github.com/gridstudy/gridstudy/plots"
)

// figure is one drawn figure with what the HTML report embeds of it.
type figure struct {
	name string
	png  []byte
}

// writeReports draws the figures and writes study_summary.toml and the
// reports. A figure that cannot be drawn is named in Result.Warnings and
// the reports; the others are still drawn.
func writeReports(ctx context.Context, dir string, st *study.Study, g *grid, s *state, a *analysis, opt Options, res *Result) error {
	if err := mkdirs(dir, "visualizations", "reports", filepath.Join("reports", "latex_figures")); err != nil {
		return err
	}
	figs, err := drawFigures(ctx, dir, st, a, res)
	if err != nil {
		return err
	}
	r := &report{dir: dir, st: st, g: g, s: s, a: a, res: res, date: opt.Now().UTC().Format("2006-01-02 15:04:05 UTC"), version: opt.Version, figs: figs}
	if err := atomicfile.Write(filepath.Join(dir, "study_summary.toml"), 0o644, false, r.summaryTOML); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "reports", "executive_summary.md"), 0o644, false, r.markdown); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "reports", "detailed_analysis.html"), 0o644, false, r.html); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "reports", "latex_figures", "aggregated_results.tex"), 0o644, false, r.latex)
}

// drawFigures writes every figure into visualizations/ in the study's
// formats and as PDF into reports/latex_figures/, and returns them with
// their PNG for the HTML report.
func drawFigures(ctx context.Context, dir string, st *study.Study, a *analysis, res *Result) ([]figure, error) {
	opt := plots.Options{Dir: filepath.Join(dir, "visualizations"), Formats: st.Plots.Formats, Width: st.Plots.Width}
	if len(opt.Formats) == 0 {
		opt.Formats = []string{"png", "pdf", "svg"}
	}
	for _, h := range st.Plots.Heatmaps {
		opt.Heatmaps = append(opt.Heatmaps, [2]string{h[0], h[1]})
	}
	figs, err := plots.Figures(a.data, opt)
	if err != nil {
		res.Warnings = append(res.Warnings, "figures: "+oneLine(err))
	}
	// Histories of names that are no final metric (a training loss) are
	// drawn too: plots.Figures draws curves of final metrics only.
	for _, name := range slices.Sorted(mapKeys(a.data.Curves)) {
		if !slices.Contains(a.data.Metrics, name) {
			f, err := plots.Convergence(a.data, name, opt)
			if err == nil {
				figs = append(figs, f)
			} else if !errors.Is(err, plots.ErrNoData) {
				res.Warnings = append(res.Warnings, "figure convergence of "+name+": "+oneLine(err))
			}
		}
	}
	out := make([]figure, len(figs))
	files := make([][]string, len(figs))
	errs := make([]error, len(figs))
	latex := filepath.Join(dir, "reports", "latex_figures")
	if err := parallelCtx(ctx, len(figs), runtimeWorkers(), func(i int) {
		f := figs[i]
		out[i].name = f.Name
		files[i], errs[i] = f.Save(opt.Dir, opt.Formats)
		if errs[i] != nil {
			return
		}
		if errs[i] = atomicfile.Write(filepath.Join(latex, f.Name+".pdf"), 0o644, false, func(w io.Writer) error { return f.Render(w, "pdf") }); errs[i] != nil {
			return
		}
		// The HTML report embeds a screen rendition: the 300-dpi files
		// would make it tens of megabytes.
		var b strings.Builder
		errs[i] = f.RenderPNG(&b, reportDPI)
		out[i].png = []byte(b.String())
	}); err != nil {
		return nil, err
	}
	var ok []figure
	for i := range figs {
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
	return ok, nil
}

// report holds what every report shows.
type report struct {
	dir           string
	st            *study.Study
	g             *grid
	s             *state
	a             *analysis
	res           *Result
	date, version string
	figs          []figure
}

func (r *report) runtimeHours() float64 {
	var sec float64
	for _, rec := range r.s.runs {
		if rec != nil {
			if v, ok := rec.value("wall_s"); ok {
				sec += v
			}
		}
	}
	return sec / 3600
}

// failure is one run whose kept attempt did not finish ok.
type failure struct {
	runID, cell, status, exit, line string
}

// failures lists the failed runs with the last line of their stderr.log
// (else the runner's error), in manifest order.
func (r *report) failures() []failure {
	var out []failure
	for pos, rec := range r.s.runs {
		if rec == nil || rec.ok {
			continue
		}
		e := r.g.entries[pos]
		f := failure{runID: e.RunID, cell: r.g.label(r.g.cells[r.g.cellOf[pos]]), status: csvValue(rec.vals[runCol["status"]]), exit: csvValue(rec.vals[runCol["exit_code"]])}
		if sig := csvValue(rec.vals[runCol["signal"]]); sig != "" {
			f.exit = sig
		}
		f.line = studydir.LastLine(filepath.Join(studydir.RunDir(r.dir, e), studydir.StderrLog), 0)
		if f.line == "" {
			f.line = csvValue(rec.vals[runCol["error"]])
		}
		out = append(out, f)
	}
	return out
}

// reportDPI is the resolution of the figures the HTML report embeds.
const reportDPI = 150

// sensRow is the sensitivity of one metric for one model: parameters by
// falling share, and what their main effects leave unexplained.
type sensRow struct {
	metric, model string
	params        []string
	shares        []float64
	rest          float64
}

func (r *report) sensitivityRows() []sensRow {
	var out []sensRow
	for _, m := range r.a.metrics {
		for _, model := range r.st.ModelNames() {
			sh := r.a.sensitivity[m][model]
			if len(sh) == 0 {
				continue
			}
			row := sensRow{metric: m, model: model, rest: 1}
			row.params = slices.Sorted(mapKeys(sh))
			sort.SliceStable(row.params, func(i, j int) bool { return sh[row.params[i]] > sh[row.params[j]] })
			for _, p := range row.params {
				row.shares = append(row.shares, sh[p])
				row.rest -= sh[p]
			}
			row.rest = max(row.rest, 0)
			out = append(out, row)
		}
	}
	return out
}

// pairSummary condenses the comparisons of two models in one metric.
type pairSummary struct {
	a, b, metric string
	settings     int
	aBetter      int
	meanDiff     float64
	significant  int // settings where |diff| > 2 se
}

func (r *report) pairSummaries() []pairSummary {
	var out []pairSummary
	for _, c := range r.a.comparisons {
		if len(out) == 0 || out[len(out)-1].a != c.a || out[len(out)-1].b != c.b || out[len(out)-1].metric != c.metric {
			out = append(out, pairSummary{a: c.a, b: c.b, metric: c.metric})
		}
		ps := &out[len(out)-1]
		ps.settings++
		ps.meanDiff += c.diff
		if r.a.better(c.metric, c.meanA, c.meanB) {
			ps.aBetter++
		}
		if isFinite(c.se) && math.Abs(c.diff) > 2*c.se {
			ps.significant++
		}
	}
	for i := range out {
		out[i].meanDiff /= float64(out[i].settings)
	}
	return out
}

// num formats a statistic for a report: four significant digits.
func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return study.FormatFloat(roundSig(v, 4))
}

func roundSig(v float64, digits int) float64 {
	if v == 0 || !isFinite(v) {
		return v
	}
	p := math.Pow(10, float64(digits)-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

func pct(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

// dirNote says how a metric is judged, and whether that was guessed.
func (r *report) dirNote(m string) string {
	d := "higher is better"
	if !r.a.maximize[m] {
		d = "lower is better"
	}
	if r.a.guessed[m] {
		d += ", guessed from the name"
	}
	return d
}

// paramsOf renders a cell's parameter values, model first.
func (r *report) paramsOf(ci int) string {
	return r.g.label(r.g.cells[ci])
}

func runtimeWorkers() int { return runtime.GOMAXPROCS(0) }

func base64PNG(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
