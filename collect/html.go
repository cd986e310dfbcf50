package collect

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// htmlRowsMax bounds the rows of the cell table in the HTML report, which
// must stay quick to open; the full table is in data/.
const htmlRowsMax = 5000

// htmlSource is the page of reports/detailed_analysis.html, its styles and
// its table-sorting script included.
//
//go:embed detailed_analysis.html.tmpl
var htmlSource string

// htmlPage escapes every value by where it lands (text, attribute, URL):
// parameter values, metric names and error lines are whatever the study
// and its command chose. It is parsed on first use, not when any gridstudy
// process (a run's supervisor included) starts.
var htmlPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("detailed_analysis").Parse(htmlSource))
})

// htmlView is what the HTML report shows, already formatted.
type htmlView struct {
	Name, Date, Version string
	Runs, CellCount     int
	OK, Failed, Lost    int
	Hours               string
	Best                []htmlBest
	TopN                int
	Top                 []htmlTop
	Sensitivity         []htmlShare
	ComparisonNote      string
	SignificantNote     string
	Pairs               []htmlPair
	Significant         []htmlSignificant
	Comparisons         []htmlComparison
	// NoMetrics names the ok runs that reported no metric; "" for none.
	NoMetrics string
	// NoBest replaces the table of best cells when it would be empty.
	NoBest string
	// Undeclared names the metrics without a declared direction (after
	// "Direction not declared:"); "" for none. Spread are their
	// statistics, as the executive summary shows them.
	Undeclared, UndeclaredNote string
	Spread                     []htmlSpread
	// NonFiniteLine summarises NonFinite; "" for none.
	NonFiniteLine, NonFiniteText string
	NonFinite                    []htmlNonFinite
	Warnings                     string
	FigureGroups                 []htmlFigureGroup
	Surfaces                     []htmlLink
	ModelColumn                  bool
	Params, Metrics              []string // headers of the cell table; Metrics ends with wall_s
	Cells                        []htmlCell
	CellsCut                     bool
	OutlierNote                  string
	Outliers                     []htmlOutlier
	Failures                     []htmlFailure
	Shards                       []BadShard
}

// htmlNum is a numeric table cell: its text, and the exact value it sorts
// by ("" when undefined).
type htmlNum struct{ V, Text string }

func numCell(v float64) htmlNum {
	if !isFinite(v) {
		return htmlNum{Text: "–"}
	}
	return htmlNum{V: fmt.Sprintf("%g", v), Text: num(v)}
}

// pctCell is a relative difference as a numeric table cell.
func pctCell(v float64) htmlNum {
	if !isFinite(v) {
		return htmlNum{Text: "–"}
	}
	return htmlNum{V: fmt.Sprintf("%g", v), Text: signedPct(v)}
}

type htmlBest struct {
	Metric, Judged, Cell string
	Mean, Std            htmlNum
	N, NonFinite         int
}

type htmlTop struct {
	Metric, Judged string
	Rows           []htmlRank
}

type htmlRank struct {
	Rank           int
	Cell           string
	Mean, Std, SEM htmlNum
	N, NonFinite   int
}

// htmlShare is one bar of the sensitivity table: a parameter's share, or
// (Rest) what the main effects leave unexplained.
type htmlShare struct {
	Metric, Model, Param string
	Rest                 bool
	V, Width, Pct        string
}

// htmlPair is one line of the model comparison. ABetter, ASig and BSig
// are counts, or "–" for a metric without a declared direction.
type htmlPair struct {
	Kind, A, B, Metric  string
	Settings            int
	ABetter, ASig, BSig string
	MeanDiff, Rel       htmlNum
}

// htmlSpread is one metric without a declared direction (of one model):
// its statistics over every ok trial and the range of its cell means.
type htmlSpread struct {
	Metric, Model               string
	N, Cells                    int
	Mean, Std, Min, Median, Max htmlNum
	CellMin, CellMax            htmlNum
}

type htmlSignificant struct {
	Metric, Setting, Better, CellA, CellB string
	Diff, Rel                             htmlNum
}

type htmlComparison struct {
	Kind, A, B, Metric, Setting, CellA, CellB string
	MeanA, MeanB, Diff, SE                    htmlNum
	NA, NB                                    int
}

type htmlNonFinite struct {
	Metric, Cell string
	N, OK        int
}

type htmlFigureGroup struct {
	Title   string
	Figures []htmlFigure
}

// htmlFigure is an embedded figure: its name and its PNG in base64.
type htmlFigure struct{ Name, PNG string }

type htmlLink struct{ File, Title string }

type htmlCell struct {
	Model            string
	Values           []htmlNum // parameter values: V sorts, Text shows
	OK, Failed, Lost int
	Stats            []htmlNum // mean ± std per metric, then wall_s
}

type htmlOutlier struct {
	RunID, Metric, Cell string
	Value, Median, Z    htmlNum
}

type htmlFailure struct{ RunID, Status, Exit, Line, Cell string }

// figureGroups are the sections of the figures, by name prefix; the last
// takes every figure the others do not.
var figureGroups = []struct{ prefix, title string }{
	{"heatmap_", "Heatmaps"}, {"lines_", "Metric against each parameter"}, {"sensitivity_", "Sensitivity"},
	{"pareto_", "Trade-offs"}, {"convergence_", "Convergence"}, {"", "Model differences and others"},
}

// html writes reports/detailed_analysis.html: one file with its styles,
// script and figures inline, so that it opens offline and can be mailed.
func (r *report) html(w io.Writer) error {
	return htmlPage().Execute(w, r.htmlView())
}

func (r *report) htmlView() *htmlView {
	v := &htmlView{
		Name: r.st.Name, Date: r.date, Version: r.version,
		Runs: r.res.Runs, CellCount: len(r.g.cells), OK: r.a.ok, Failed: r.a.failed, Lost: r.a.lost,
		Hours: num(r.runtimeHours()), TopN: topN, ModelColumn: len(r.st.Models) > 0,
		Warnings: strings.Join(r.res.Warnings, "; "), OutlierNote: outlierNote, Shards: r.s.bad,
		ComparisonNote: comparisonNote, SignificantNote: significantNote, NoMetrics: r.noMetricsLine(), NonFiniteText: nonFiniteText,
		Undeclared: r.undeclaredLine(), UndeclaredNote: undeclaredNote, NoBest: noBestText,
	}
	for _, row := range r.undeclaredSpread() {
		v.Spread = append(v.Spread, htmlSpread{Metric: r.metricTitle(row.metric), Model: row.model, N: row.all.N, Cells: row.nCells,
			Mean: numCell(row.all.Mean), Std: numCell(row.all.Std), Min: numCell(row.all.Min), Median: numCell(row.all.Median), Max: numCell(row.all.Max),
			CellMin: numCell(row.cellMin), CellMax: numCell(row.cellMax)})
	}
	if nf := r.a.nonFiniteCells(); len(nf) > 0 {
		v.NonFiniteLine = nonFiniteLine(nf)
		for _, c := range nf {
			v.NonFinite = append(v.NonFinite, htmlNonFinite{Metric: c.metric, Cell: r.paramsOf(c.cell), N: c.n, OK: r.a.cells[c.cell].nOK})
		}
	}
	for _, m := range r.a.bestMetrics() {
		ci := r.a.best[m]
		sm := r.a.cells[ci].stats[m]
		v.Best = append(v.Best, htmlBest{Metric: r.metricTitle(m), Judged: r.dirNote(m), Cell: r.paramsOf(ci), Mean: numCell(sm.Mean), Std: numCell(sm.Std), N: sm.N, NonFinite: r.a.cells[ci].nonFinite[m]})
	}
	for _, m := range r.a.bestMetrics() {
		top := htmlTop{Metric: r.metricTitle(m), Judged: r.dirNote(m)}
		for i, ci := range r.a.ranked(m) {
			if i == topN {
				break
			}
			sm := r.a.cells[ci].stats[m]
			top.Rows = append(top.Rows, htmlRank{Rank: i + 1, Cell: r.paramsOf(ci), Mean: numCell(sm.Mean), Std: numCell(sm.Std), SEM: numCell(sm.SEM), N: sm.N, NonFinite: r.a.cells[ci].nonFinite[m]})
		}
		v.Top = append(v.Top, top)
	}
	share := func(row sensRow, param string, rest bool, x float64) htmlShare {
		return htmlShare{Metric: row.metric, Model: row.model, Param: param, Rest: rest,
			V: fmt.Sprintf("%g", x), Width: fmt.Sprintf("%.0f", 120*x), Pct: pct(x)}
	}
	for _, row := range r.sensitivityRows() {
		for i, prm := range row.params {
			v.Sensitivity = append(v.Sensitivity, share(row, prm, false, row.shares[i]))
		}
		v.Sensitivity = append(v.Sensitivity, share(row, "", true, row.rest))
	}
	for _, s := range r.pairSummaries() {
		v.Pairs = append(v.Pairs, htmlPair{Kind: kind(s.best), A: s.a, B: s.b, Metric: r.metricJudged(s.metric), Settings: s.settings,
			ABetter: countIfJudged(s.aBetter, s.judged), ASig: countIfJudged(s.aSignificant, s.judged), BSig: countIfJudged(s.bSignificant, s.judged), MeanDiff: numCell(s.meanDiff), Rel: pctCell(s.relDiff)})
	}
	for i, d := range r.significantDiffs() {
		if i == htmlRowsMax {
			break
		}
		v.Significant = append(v.Significant, htmlSignificant{Metric: r.metricJudged(d.metric), Setting: d.setting, Better: orDash(d.better),
			CellA: r.atBest(d.cellA, d.meanA, d.nA), CellB: r.atBest(d.cellB, d.meanB, d.nB), Diff: numCell(d.diff), Rel: pctCell(relative(d.diff, math.Abs(d.meanB)))})
	}
	for i, c := range r.a.comparisons {
		if i == htmlRowsMax {
			break
		}
		hc := htmlComparison{Kind: kind(c.best), A: c.a, B: c.b, Metric: c.metric, Setting: c.setting,
			MeanA: numCell(c.meanA), MeanB: numCell(c.meanB), Diff: numCell(c.diff), SE: numCell(c.se), NA: c.nA, NB: c.nB}
		if c.best {
			hc.CellA, hc.CellB = r.paramsOf(c.cellA), r.paramsOf(c.cellB)
		}
		v.Comparisons = append(v.Comparisons, hc)
	}
	for _, grp := range figureGroups {
		g := htmlFigureGroup{Title: grp.title}
		for _, f := range r.figs {
			if strings.HasPrefix(f.name, grp.prefix) && (grp.prefix != "" || !knownFigure(f.name)) {
				g.Figures = append(g.Figures, htmlFigure{Name: f.name, PNG: base64PNG(f.png)})
			}
		}
		if len(g.Figures) > 0 {
			v.FigureGroups = append(v.FigureGroups, g)
		}
	}
	// The surfaces are siblings of the report folder, not inlined: each
	// is a page of its own with its own script.
	for _, f := range r.res.Figures {
		if name := filepath.Base(f); strings.HasPrefix(name, "surface_") && strings.HasSuffix(name, ".html") {
			v.Surfaces = append(v.Surfaces, htmlLink{File: name, Title: strings.TrimSuffix(name, ".html")})
		}
	}
	for _, c := range r.g.params {
		v.Params = append(v.Params, c.Name)
	}
	cellMetrics := append(slices.Clone(r.a.metrics), "wall_s")
	for _, m := range cellMetrics {
		v.Metrics = append(v.Metrics, r.metricTitle(m))
	}
	for ci, c := range r.g.cells {
		if ci == htmlRowsMax {
			v.CellsCut = true
			break
		}
		cs := r.a.cells[ci]
		row := htmlCell{Model: c.model, OK: cs.nOK, Failed: cs.nFailed, Lost: cs.nLost}
		for _, x := range c.values {
			row.Values = append(row.Values, htmlNum{V: csvValue(x), Text: formatValue(x)})
		}
		for _, m := range cellMetrics {
			sm, note := cs.stats[m], nonFiniteNote(cs.nonFinite[m])
			if sm.N == 0 {
				row.Stats = append(row.Stats, htmlNum{Text: "–" + note})
				continue
			}
			txt := num(sm.Mean)
			if isFinite(sm.Std) {
				txt += " ± " + num(sm.Std)
			}
			row.Stats = append(row.Stats, htmlNum{V: fmt.Sprintf("%g", sm.Mean), Text: txt + note})
		}
		v.Cells = append(v.Cells, row)
	}
	for _, o := range r.a.outliers {
		v.Outliers = append(v.Outliers, htmlOutlier{RunID: r.g.entries[o.pos].RunID, Metric: o.metric, Cell: r.paramsOf(o.cell),
			Value: numCell(o.value), Median: numCell(o.median), Z: numCell(o.z)})
	}
	for _, f := range r.failures() {
		v.Failures = append(v.Failures, htmlFailure{RunID: f.runID, Status: f.status, Exit: f.exit, Line: f.line, Cell: f.cell})
	}
	return v
}

// knownFigure reports whether a figure belongs to one of the named groups.
func knownFigure(name string) bool {
	for _, g := range figureGroups {
		if g.prefix != "" && strings.HasPrefix(name, g.prefix) {
			return true
		}
	}
	return false
}
