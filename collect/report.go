package collect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/gridstudy/gridstudy/internal/runner"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
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
	if err := writeWith(filepath.Join(dir, "study_summary.toml"), r.summaryTOML); err != nil {
		return err
	}
	if err := writeWith(filepath.Join(dir, "reports", "executive_summary.md"), r.markdown); err != nil {
		return err
	}
	if err := writeWith(filepath.Join(dir, "reports", "detailed_analysis.html"), r.html); err != nil {
		return err
	}
	return writeWith(filepath.Join(dir, "reports", "latex_figures", "aggregated_results.tex"), r.latex)
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
		if errs[i] = writeWith(filepath.Join(latex, f.Name+".pdf"), func(w io.Writer) error { return f.Render(w, "pdf") }); errs[i] != nil {
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

// tomlKey quotes a key unless it is bare (dotted parameter names are not).
var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return tomlString(k)
}

// tomlString quotes s as a TOML basic string; JSON's escapes are TOML's.
func tomlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// tomlValue renders a parameter value or score as TOML, numbers as the
// user writes them (a float keeps a fraction or exponent so that it reads
// back as a float).
func tomlValue(v any) string {
	switch x := v.(type) {
	case float64:
		// FormatFloat spells NaN and infinities as TOML does (nan, inf).
		f := study.FormatFloat(x)
		if !strings.ContainsAny(f, ".ein") {
			f += ".0"
		}
		return f
	case string:
		return tomlString(x)
	}
	return csvValue(v)
}

// summaryTOML writes study_summary.toml: the study, its totals and the
// best parameters per metric.
func (r *report) summaryTOML(w io.Writer) error {
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Written by gridstudy collect. Tables: data/; reports: reports/.\n\n")
	p("[study_metadata]\nname = %s\ndate = %s\ngridstudy_version = %s\n", tomlString(r.st.Name), tomlString(r.date), tomlString(r.version))
	p("total_runs = %d\nruns_ok = %d\nruns_failed = %d\nruns_lost = %d\ncells = %d\n", r.res.Runs, r.a.ok, r.a.failed, r.a.lost, len(r.g.cells))
	p("shards_set_aside = %d\ntotal_runtime_hours = %s\n\n", len(r.s.bad), tomlValue(math.Round(r.runtimeHours()*1000)/1000))
	p("[parameter_space]\n")
	for i, col := range r.g.params {
		vals := make([]string, len(r.g.labels[i]))
		for j := range vals {
			switch col.Kind {
			case table.Double:
				vals[j] = tomlValue(r.g.numeric[i][j])
			case table.String:
				vals[j] = tomlString(r.g.labels[i][j])
			default:
				vals[j] = r.g.labels[i][j]
			}
		}
		p("%s = [%s]\n", tomlKey(col.Name), strings.Join(vals, ", "))
	}
	if len(r.st.Models) > 0 {
		q := make([]string, len(r.st.Models))
		for i, m := range r.st.ModelNames() {
			q[i] = tomlString(m)
		}
		p("models = [%s]\n", strings.Join(q, ", "))
	}
	for _, m := range append(slices.Clone(r.a.metrics), measures...) {
		ci, ok := r.a.best[m]
		if !ok {
			continue
		}
		c, cs := r.g.cells[ci], r.a.cells[ci]
		p("\n[best_parameters.%s]\n", tomlKey(m))
		p("direction = %s", tomlString(direction(r.a.maximize[m])))
		if r.a.guessed[m] {
			p(" # guessed from the name")
		}
		p("\nscore = %s\nstd = %s\nn = %d\ncell_id = %s\n", tomlValue(cs.stats[m].Mean), tomlValue(cs.stats[m].Std), cs.stats[m].N, tomlString(c.id))
		if c.model != "" {
			p("model = %s\n", tomlString(c.model))
		}
		p("[best_parameters.%s.params]\n", tomlKey(m))
		for i, v := range c.values {
			if v != nil {
				p("%s = %s\n", tomlKey(r.g.params[i].Name), tomlValue(v))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
		f.line = runner.LastLine(filepath.Join(r.dir, e.Dir, "stderr.log"), 0)
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
