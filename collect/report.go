package collect

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
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
	figs, err := drawFigures(ctx, dir, st, g, a, res)
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

// failures lists the failed runs with the last line of their stderr
// (else the runner's error), in manifest order.
func (r *report) failures() []failure {
	var out []failure
	for pos, rec := range r.s.runs {
		if rec == nil || rec.ok {
			continue
		}
		e := r.g.entries[pos]
		f := failure{runID: e.RunID, cell: r.g.label(r.g.cells[r.g.cellOf[pos]]), status: csvValue(rec.val("status")), exit: csvValue(rec.val("exit_code"))}
		if sig := csvValue(rec.val("signal")); sig != "" {
			f.exit = sig
		}
		// The shard keeps the tail of its own attempt's stderr, also when
		// [run] retain removed the log; shards of older versions have none.
		f.line = studydir.Hint(csvValue(rec.val("stderr_tail")))
		if f.line == "" {
			f.line = studydir.LastLine(filepath.Join(studydir.RunDir(r.dir, e), studydir.StderrLog), 0)
		}
		if f.line == "" {
			f.line = csvValue(rec.val("error"))
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

// pairSummary condenses the comparisons of two models in one metric, of
// one kind (pooled, or best vs best).
type pairSummary struct {
	a, b, metric string
	best         bool
	// judged says that the metric has a declared direction: without one,
	// no model is better and aBetter, aSignificant and bSignificant stay 0
	// (the reports show them as "–").
	judged   bool
	settings int
	aBetter  int
	// aSignificant and bSignificant count the settings where a, or b, is
	// better by more than twice the standard error of the difference.
	aSignificant, bSignificant int
	meanDiff                   float64 // mean of a − b over the settings
	relDiff                    float64 // Σ(a − b) / Σ|b|: the size of meanDiff relative to b
}

func (r *report) pairSummaries() []pairSummary {
	var out []pairSummary
	var sumB []float64
	for _, c := range r.a.comparisons {
		if n := len(out); n == 0 || out[n-1].a != c.a || out[n-1].b != c.b || out[n-1].metric != c.metric || out[n-1].best != c.best {
			out = append(out, pairSummary{a: c.a, b: c.b, metric: c.metric, best: c.best, judged: r.a.judged(c.metric)})
			sumB = append(sumB, 0)
		}
		ps := &out[len(out)-1]
		ps.settings++
		ps.meanDiff += c.diff
		sumB[len(sumB)-1] += math.Abs(c.meanB)
		if !ps.judged {
			continue
		}
		aBetter := r.a.better(c.metric, c.meanA, c.meanB)
		if aBetter {
			ps.aBetter++
		}
		if c.significant() {
			if aBetter {
				ps.aSignificant++
			} else {
				ps.bSignificant++
			}
		}
	}
	for i := range out {
		out[i].relDiff = relative(out[i].meanDiff, sumB[i])
		out[i].meanDiff /= float64(out[i].settings)
	}
	return out
}

// relative is d as a share of the magnitude ref, NaN where ref is 0.
func relative(d, ref float64) float64 {
	if ref == 0 {
		return math.NaN()
	}
	return d / ref
}

// significantDiff is one setting where two models differ significantly.
type significantDiff struct {
	comparison
	// better is the model that is better by the metric's direction, ""
	// when the metric has none declared.
	better string
}

// significantDiffs lists the significant differences of the best-vs-best
// comparisons, or of the pooled ones for pairs of models without
// parameters of their own (which have no other), in comparison order.
func (r *report) significantDiffs() []significantDiff {
	bestPairs := map[[2]string]bool{}
	for _, c := range r.a.comparisons {
		if c.best {
			bestPairs[[2]string{c.a, c.b}] = true
		}
	}
	var out []significantDiff
	for _, c := range r.a.comparisons {
		if c.best != bestPairs[[2]string{c.a, c.b}] || !c.significant() {
			continue
		}
		d := significantDiff{comparison: c}
		switch {
		case !r.a.judged(c.metric):
		case r.a.better(c.metric, c.meanA, c.meanB):
			d.better = c.a
		default:
			d.better = c.b
		}
		out = append(out, d)
	}
	return out
}

// kind names the kind of a comparison in the reports.
func kind(best bool) string {
	if best {
		return "best vs best"
	}
	return "pooled"
}

// signedPct formats a relative difference as a signed percentage.
func signedPct(v float64) string {
	if !isFinite(v) {
		return "–"
	}
	return fmt.Sprintf("%+.1f%%", 100*v)
}

// atBest describes the cell a model is compared at in a best-vs-best
// comparison: the cell's own parameters and its mean, or "pooled".
func (r *report) atBest(ci int, mean float64, n int) string {
	if ci < 0 {
		return "pooled"
	}
	return fmt.Sprintf("%s (mean %s, n %d)", r.paramsOf(ci), num(mean), n)
}

// The explanations the executive summary and the HTML report give, so
// that both say the same.
var (
	comparisonNote = "At each setting of the parameters both models sweep, the difference of the means over trials, a − b, and whether it exceeds twice its Welch standard error (significant). " +
		"Pooled: each model's trials averaged over the parameters only it sweeps, good and bad values alike. " +
		"Best vs best: each model at its best cell of the setting for that metric (its best own parameters), chosen on the same trials, which favours the model with more values to choose from. " +
		"Relative: a − b as a share of |b|."
	noBestText     = "None: no metric with a declared direction has a value."
	undeclaredNote = "The study declares no direction for these metrics, so no cell is best and no model better: their statistics over every ok trial (per model), and the range of their cell means. " +
		"Every cell's mean is in data/aggregated_results.csv."
	significantNote = "Best vs best where a model of the pair sweeps parameters of its own, pooled otherwise; each with the cells compared."
	nonFiniteText   = "Runs that ended ok but reported NaN or ±Inf (a diverged run): the runs count as ok, and these values are left out of the mean, std and confidence interval of their cell, whose n counts the finite values only."
	outlierNote     = fmt.Sprintf("A trial is an outlier when its robust z-score within its cell, 0.6745·(x − median)/scale, exceeds %g in absolute value; "+
		"the scale is the cell's MAD, but no less than the MAD pooled over the cells of its model (deviations from each cell's median) nor than %s of the cell's largest |x|. "+
		"Only cells of %d or more trials with a finite value are judged: with fewer, no trial can be told from noise.", outlierZ, study.FormatFloat(relScaleFloor), outlierMinN)
)

// nonFiniteLine summarises the non-finite values: how many, in how many
// cells, of which metrics.
func nonFiniteLine(nf []nonFiniteCell) string {
	n, cells, metrics := 0, map[int]bool{}, []string{}
	for _, c := range nf {
		n += c.n
		cells[c.cell] = true
		if !slices.Contains(metrics, c.metric) {
			metrics = append(metrics, c.metric)
		}
	}
	return fmt.Sprintf("%d NaN or ±Inf values of %s in %d cells, left out of the statistics", n, strings.Join(metrics, ", "), len(cells))
}

// noMetricsLine says which ok runs reported no metric at all, naming at
// most idsMax of them; "" when every ok run reported some.
func (r *report) noMetricsLine() string {
	if len(r.a.noMetrics) == 0 {
		return ""
	}
	ids := make([]string, 0, min(len(r.a.noMetrics), idsMax))
	for _, pos := range r.a.noMetrics[:min(len(r.a.noMetrics), idsMax)] {
		ids = append(ids, r.g.entries[pos].RunID)
	}
	more := ""
	if n := len(r.a.noMetrics) - len(ids); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	runs := "runs"
	if len(r.a.noMetrics) == 1 {
		runs = "run"
	}
	return fmt.Sprintf("%d ok %s reported no metrics: %s%s", len(r.a.noMetrics), runs, strings.Join(ids, ", "), more)
}

// metricJudged names metric m for a comparison, saying so when the study
// declares no direction for it: then no model is better.
func (r *report) metricJudged(m string) string {
	if !r.a.judged(m) {
		return m + " (" + noDirection + ")"
	}
	return m
}

// noDirection is what the reports say of a metric without a declared
// direction, in place of "higher is better".
const noDirection = "direction not declared"

// undeclaredLine names the metrics without a declared direction, at most
// maxNamed of them, and says where to declare one; "" when every metric
// has one. The reports give it after "Direction not declared:".
func (r *report) undeclaredLine() string {
	u := r.a.undeclared()
	if len(u) == 0 {
		return ""
	}
	return nameList(u) + " — statistics only: no best cell, ranking or better model " +
		"(declare one with [collect.metrics.NAME] direction, or [collect] maximize or minimize)"
}

// metricTitle names metric m with the label and unit the study (or, for
// a measure, the runner) gives it: "mse (test MSE, px²)", or just "mse".
func (r *report) metricTitle(m string) string {
	in := metricInfo(r.st, m)
	var parts []string
	if in.Label != "" && in.Label != m {
		parts = append(parts, in.Label)
	}
	if in.Unit != "" {
		parts = append(parts, in.Unit)
	}
	if len(parts) == 0 {
		return m
	}
	return m + " (" + strings.Join(parts, ", ") + ")"
}

// nonFiniteNote is what a report adds to a count of trials n for the
// non-finite values a cell's metric also had: "" for none.
func nonFiniteNote(k int) string {
	if k == 0 {
		return ""
	}
	return fmt.Sprintf(" (+%d non-finite)", k)
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

// dirNote says how a metric is judged.
func (r *report) dirNote(m string) string {
	switch r.a.direction[m] {
	case plots.Maximize:
		return "higher is better"
	case plots.Minimize:
		return "lower is better"
	}
	return noDirection
}

// orDash is s, or "–" where it is empty.
func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// undeclaredSpread is the spread over every ok trial (statistical_summary)
// of each metric without a declared direction, per model: what the
// reports show of a metric that has no best cell.
func (r *report) undeclaredSpread() []spreadRow {
	var out []spreadRow
	for _, row := range r.a.spread {
		if slices.Contains(r.a.metrics, row.metric) && !r.a.judged(row.metric) {
			out = append(out, row)
		}
	}
	return out
}

// countIfJudged is a count of settings where a model is better, "–" for a
// metric without a declared direction, where none is.
func countIfJudged(n int, judged bool) string {
	if !judged {
		return "–"
	}
	return strconv.Itoa(n)
}

// paramsOf renders a cell's parameter values, model first.
func (r *report) paramsOf(ci int) string {
	return r.g.label(r.g.cells[ci])
}

func runtimeWorkers() int { return runtime.GOMAXPROCS(0) }

func base64PNG(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
