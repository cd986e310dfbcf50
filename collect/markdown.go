package collect

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// topN is how many cells the per-metric rankings show.
const topN = 5

// listMax bounds the failures, outliers and set-aside shards listed in the
// executive summary; the HTML report lists them all.
const listMax = 50

// idsMax bounds the run ids that a report names on one line.
const idsMax = 20

// markdown writes reports/executive_summary.md.
func (r *report) markdown(w io.Writer) error {
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# %s — executive summary\n\n", mdEscape(r.st.Name))
	p("Collected %s by gridstudy %s.\n\n", mdEscape(r.date), mdEscape(r.version))
	p("- **Runs:** %d in %d cells — %d ok, %d failed, %d lost (no usable shard)\n", r.res.Runs, len(r.g.cells), r.a.ok, r.a.failed, r.a.lost)
	p("- **Run time:** %s hours in total\n", num(r.runtimeHours()))
	p("- **Shards set aside:** %d\n", len(r.s.bad))
	if nf := r.a.nonFiniteCells(); len(nf) > 0 {
		p("- **Non-finite values:** %s — see below\n", mdEscape(nonFiniteLine(nf)))
	}
	if line := r.noMetricsLine(); line != "" {
		p("- **No metrics:** %s\n", mdEscape(line))
	}
	if line := r.undeclaredLine(); line != "" {
		p("- **Direction not declared:** %s\n", mdEscape(line))
	}
	p("\n")

	p("## Best cell per metric\n\n")
	best := r.a.bestMetrics()
	if len(best) == 0 {
		p("%s\n", noBestText)
	} else {
		p("| metric | judged | mean | std | n | cell |\n|---|---|---|---|---|---|\n")
		for _, m := range best {
			ci := r.a.best[m]
			sm := r.a.cells[ci].stats[m]
			p("| %s | %s | %s | %s | %d%s | %s |\n", mdEscape(r.metricTitle(m)), r.dirNote(m), num(sm.Mean), num(sm.Std), sm.N, nonFiniteNote(r.a.cells[ci].nonFinite[m]), mdEscape(r.paramsOf(ci)))
		}
	}
	if len(best) > 0 {
		p("\n## Top %d cells per metric\n", topN)
	}
	for _, m := range best {
		p("\n### %s (%s)\n\n| rank | cell | mean | std | n |\n|---|---|---|---|---|\n", mdEscape(r.metricTitle(m)), r.dirNote(m))
		for i, ci := range r.a.ranked(m) {
			if i == topN {
				break
			}
			sm := r.a.cells[ci].stats[m]
			p("| %d | %s | %s | %s | %d%s |\n", i+1, mdEscape(r.paramsOf(ci)), num(sm.Mean), num(sm.Std), sm.N, nonFiniteNote(r.a.cells[ci].nonFinite[m]))
		}
	}
	if rows := r.undeclaredSpread(); len(rows) > 0 {
		p("\n## Metrics without a declared direction\n\n%s\n\n", undeclaredNote)
		p("| metric | runs | mean | std | min | median | max | cells | cell means from | to |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for i, row := range rows {
			if i == listMax {
				p("\n%d more in detailed_analysis.html and data/statistical_summary.csv.\n", len(rows)-listMax)
				break
			}
			who := r.metricTitle(row.metric)
			if row.model != "" {
				who += " — " + row.model
			}
			p("| %s | %d | %s | %s | %s | %s | %s | %d | %s | %s |\n", mdEscape(who), row.all.N, num(row.all.Mean), num(row.all.Std), num(row.all.Min), num(row.all.Median), num(row.all.Max),
				row.nCells, num(row.cellMin), num(row.cellMax))
		}
	}
	p("\n## Sensitivity\n\nShare of the variance between cell means that each parameter's main effect explains; the rest is interaction and noise.\n\n")
	for _, row := range r.sensitivityRows() {
		parts := make([]string, len(row.params))
		for i, prm := range row.params {
			parts[i] = fmt.Sprintf("%s %s", mdEscape(prm), pct(row.shares[i]))
		}
		who := mdEscape(row.metric)
		if row.model != "" {
			who += " (" + mdEscape(row.model) + ")"
		}
		p("- **%s:** %s; interaction and noise %s\n", who, strings.Join(parts, ", "), pct(row.rest))
	}
	if ps := r.pairSummaries(); len(ps) > 0 {
		p("\n## Model comparison\n\n%s\n\n", comparisonNote)
		p("| comparison | a − b | metric | settings | a better | significant: a better | significant: b better | mean difference | relative |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range ps {
			p("| %s | %s − %s | %s | %d | %s | %s | %s | %s | %s |\n", kind(s.best), mdEscape(s.a), mdEscape(s.b), mdEscape(r.metricJudged(s.metric)), s.settings,
				countIfJudged(s.aBetter, s.judged), countIfJudged(s.aSignificant, s.judged), countIfJudged(s.bSignificant, s.judged), num(s.meanDiff), signedPct(s.relDiff))
		}
		if ds := r.significantDiffs(); len(ds) > 0 {
			p("\n### Significant differences\n\n%s\n\n| metric | setting | better | a − b | relative | a | b |\n|---|---|---|---|---|---|---|\n", significantNote)
			for i, d := range ds {
				if i == listMax {
					p("\n%d more in detailed_analysis.html.\n", len(ds)-listMax)
					break
				}
				p("| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(r.metricJudged(d.metric)), mdEscape(d.setting), mdEscape(orDash(d.better)), num(d.diff), signedPct(relative(d.diff, math.Abs(d.meanB))),
					mdEscape(r.atBest(d.cellA, d.meanA, d.nA)), mdEscape(r.atBest(d.cellB, d.meanB, d.nB)))
			}
		}
	}
	if nf := r.a.nonFiniteCells(); len(nf) > 0 {
		p("\n## Non-finite values\n\n%s\n\n| metric | cell | non-finite | ok trials |\n|---|---|---|---|\n", nonFiniteText)
		for i, c := range nf {
			if i == listMax {
				p("\n%d more in detailed_analysis.html.\n", len(nf)-listMax)
				break
			}
			p("| %s | %s | %d | %d |\n", mdEscape(c.metric), mdEscape(r.paramsOf(c.cell)), c.n, r.a.cells[c.cell].nOK)
		}
	}
	p("\n## Outlier trials\n\n%s\n\n", outlierNote)
	if len(r.a.outliers) == 0 {
		p("None.\n")
	} else {
		p("| run | metric | value | cell median | z | cell |\n|---|---|---|---|---|---|\n")
		for i, o := range r.a.outliers {
			if i == listMax {
				p("\n%d more in detailed_analysis.html.\n", len(r.a.outliers)-listMax)
				break
			}
			p("| %s | %s | %s | %s | %s | %s |\n", mdEscape(r.g.entries[o.pos].RunID), mdEscape(o.metric), num(o.value), num(o.median), num(o.z), mdEscape(r.paramsOf(o.cell)))
		}
	}
	fails := r.failures()
	p("\n## Failures\n\n")
	if len(fails) == 0 {
		p("None.\n")
	} else {
		p("| run | status | exit | last line of stderr | cell |\n|---|---|---|---|---|\n")
		for i, f := range fails {
			if i == listMax {
				p("\n%d more in detailed_analysis.html.\n", len(fails)-listMax)
				break
			}
			p("| %s | %s | %s | %s | %s |\n", mdEscape(f.runID), mdEscape(f.status), mdEscape(f.exit), mdCode(f.line), mdEscape(f.cell))
		}
	}
	p("\n## Shards set aside\n\n")
	if len(r.s.bad) == 0 {
		p("None.\n")
	} else {
		p("| shard | reason |\n|---|---|\n")
		for i, s := range r.s.bad {
			if i == listMax {
				p("\n%d more in detailed_analysis.html.\n", len(r.s.bad)-listMax)
				break
			}
			p("| %s | %s |\n", mdEscape(s.Name), mdEscape(s.Reason))
		}
	}
	if len(r.res.Warnings) > 0 {
		p("\n## Warnings\n\n")
		for _, w := range r.res.Warnings {
			p("- %s\n", mdEscape(w))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscaper writes text as itself in Markdown. Parameter values, metric
// names and error messages are whatever the study and its command chose,
// and Markdown passes HTML through: <, > and & become entities, which
// every renderer shows as the characters (a backslash before < is not an
// escape in Python-Markdown, and MkDocs would run a <script>). Markdown's
// own punctuation gets a backslash so that it cannot open emphasis, code,
// a link or an image, or end a table cell; line breaks become spaces so
// that a value stays on its table row.
var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "~", `\~`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdEscape writes text as itself in Markdown; see mdEscaper.
func mdEscape(s string) string { return mdEscaper.Replace(s) }

// mdCode writes s as a code span, where Markdown shows everything as is,
// HTML included; only a backtick would end the span and a | the table
// cell, and a line break the row.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.NewReplacer("`", "'", "|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s) + "`"
}
