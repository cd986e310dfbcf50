package collect

import (
	"fmt"
	"html"
	"io"
	"path/filepath"
	"strings"
)

// htmlRowsMax bounds the rows of the cell table in the HTML report, which
// must stay quick to open; the full table is in data/.
const htmlRowsMax = 5000

// sortScript makes every table with class "sortable" sort by the column
// whose header is clicked: numerically when both cells are numbers.
const sortScript = `document.querySelectorAll('table.sortable th').forEach(function (th, _) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0], i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.dataset.dir !== 'asc'; th.parentNode.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = asc ? 'asc' : 'desc';
    var key = function (r) { var t = r.children[i].dataset.v || r.children[i].textContent; var n = parseFloat(t); return isNaN(n) || !/^[-+0-9.eE]+$/.test(t.trim()) ? t : n; };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b), c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
      return asc ? c : -c;
    }).forEach(function (r) { body.appendChild(r); });
  });
});`

const css = `body{font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1120px;margin:0 auto;padding:24px 32px 64px;background:#fff;min-height:100vh;box-shadow:0 0 0 1px #d0d7de}
h1{font-size:28px;margin:8px 0 4px}h2{font-size:20px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid #d0d7de}
h3{font-size:16px;margin:22px 0 8px}.meta{color:#59636e;margin:0 0 16px}
nav{font-size:14px;margin:12px 0 8px}nav a{margin-right:14px;color:#0969da;text-decoration:none}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{flex:1 1 130px;border:1px solid #d0d7de;border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:24px}.card span{color:#59636e;font-size:13px}.ok b{color:#1a7f37}.bad b{color:#cf222e}.lost b{color:#9a6700}
table{border-collapse:collapse;font-size:13px;margin:8px 0 16px;width:100%}th,td{padding:4px 10px;border-bottom:1px solid #e6e9ed;text-align:left;white-space:nowrap}
th{background:#f6f8fa;font-weight:600;position:sticky;top:0}table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \2195";color:#9aa4ae;font-size:11px}table.sortable th[data-dir=asc]:after{content:" \2191";color:#1f2328}table.sortable th[data-dir=desc]:after{content:" \2193";color:#1f2328}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr:hover td{background:#f6f8fa}
.scroll{max-height:520px;overflow:auto;border:1px solid #e6e9ed;border-radius:6px}.scroll table{margin:0}
.note{color:#59636e;font-size:13px}.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}
figure{margin:0;border:1px solid #e6e9ed;border-radius:8px;padding:8px}figure img{width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#59636e;margin-top:4px;word-break:break-all}code{font-size:12px;background:#f6f8fa;padding:1px 4px;border-radius:4px}
.bar{display:inline-block;height:10px;background:#2f7ebc;border-radius:2px;vertical-align:middle;margin-right:6px}`

// html writes reports/detailed_analysis.html: one file with its styles,
// script and figures inline, so that it opens offline and can be mailed.
func (r *report) html(w io.Writer) error {
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	e := html.EscapeString
	p("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n")
	p("<title>%s — detailed analysis</title>\n<style>%s</style></head><body><main>\n", e(r.st.Name), css)
	p("<h1>%s</h1><p class=\"meta\">Detailed analysis · collected %s by gridstudy %s</p>\n", e(r.st.Name), e(r.date), e(r.version))
	p("<nav><a href=\"#best\">Best cells</a><a href=\"#sensitivity\">Sensitivity</a>")
	if len(r.a.comparisons) > 0 {
		p("<a href=\"#models\">Models</a>")
	}
	p("<a href=\"#figures\">Figures</a><a href=\"#cells\">All cells</a><a href=\"#outliers\">Outliers</a><a href=\"#failures\">Failures</a><a href=\"#shards\">Shards set aside</a></nav>\n")
	p("<div class=\"cards\"><div class=\"card\"><b>%d</b><span>runs in %d cells</span></div><div class=\"card ok\"><b>%d</b><span>ok</span></div>", r.res.Runs, len(r.g.cells), r.a.ok)
	p("<div class=\"card bad\"><b>%d</b><span>failed</span></div><div class=\"card lost\"><b>%d</b><span>lost (no usable shard)</span></div>", r.a.failed, r.a.lost)
	p("<div class=\"card\"><b>%s</b><span>hours of run time</span></div><div class=\"card\"><b>%d</b><span>shards set aside</span></div></div>\n", num(r.runtimeHours()), len(r.s.bad))

	p("<h2 id=\"best\">Best cell per metric</h2>\n<table class=\"sortable\"><thead><tr><th>metric</th><th>judged</th><th>mean</th><th>std</th><th>n</th><th>cell</th></tr></thead><tbody>\n")
	for _, m := range r.a.metrics {
		if ci, ok := r.a.best[m]; ok {
			sm := r.a.cells[ci].stats[m]
			p("<tr><td>%s</td><td>%s</td>%s%s<td class=\"n\">%d</td><td>%s</td></tr>\n", e(m), e(r.dirNote(m)), numTD(sm.Mean), numTD(sm.Std), sm.N, e(r.paramsOf(ci)))
		}
	}
	p("</tbody></table>\n")
	for _, m := range r.a.metrics {
		p("<h3>Top %d: %s <span class=\"note\">(%s)</span></h3>\n<table class=\"sortable\"><thead><tr><th>rank</th><th>cell</th><th>mean</th><th>std</th><th>sem</th><th>n</th></tr></thead><tbody>\n", topN, e(m), e(r.dirNote(m)))
		for i, ci := range r.a.ranked(m) {
			if i == topN {
				break
			}
			sm := r.a.cells[ci].stats[m]
			p("<tr><td class=\"n\">%d</td><td>%s</td>%s%s%s<td class=\"n\">%d</td></tr>\n", i+1, e(r.paramsOf(ci)), numTD(sm.Mean), numTD(sm.Std), numTD(sm.SEM), sm.N)
		}
		p("</tbody></table>\n")
	}

	p("<h2 id=\"sensitivity\">Sensitivity</h2>\n<p class=\"note\">Share of the variance between cell means that each parameter's main effect explains; what is left is interaction and noise.</p>\n")
	p("<table class=\"sortable\"><thead><tr><th>metric</th><th>model</th><th>parameter</th><th>share</th></tr></thead><tbody>\n")
	for _, row := range r.sensitivityRows() {
		for i, prm := range row.params {
			p("<tr><td>%s</td><td>%s</td><td>%s</td><td data-v=\"%g\"><span class=\"bar\" style=\"width:%.0fpx\"></span>%s</td></tr>\n", e(row.metric), e(row.model), e(prm), row.shares[i], 120*row.shares[i], pct(row.shares[i]))
		}
		p("<tr><td>%s</td><td>%s</td><td><i>interaction and noise</i></td><td data-v=\"%g\"><span class=\"bar\" style=\"width:%.0fpx;background:#b6c2cc\"></span>%s</td></tr>\n", e(row.metric), e(row.model), row.rest, 120*row.rest, pct(row.rest))
	}
	p("</tbody></table>\n")

	if len(r.a.comparisons) > 0 {
		p("<h2 id=\"models\">Model comparison</h2>\n<p class=\"note\">Per setting of the parameters both models sweep: difference of the means over trials (a − b) with its Welch standard error; a model's own parameters are pooled.</p>\n")
		p("<table class=\"sortable\"><thead><tr><th>a − b</th><th>metric</th><th>settings</th><th>a better</th><th>|diff| &gt; 2 se</th><th>mean difference</th></tr></thead><tbody>\n")
		for _, s := range r.pairSummaries() {
			p("<tr><td>%s − %s</td><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>%s</tr>\n", e(s.a), e(s.b), e(s.metric), s.settings, s.aBetter, s.significant, numTD(s.meanDiff))
		}
		p("</tbody></table>\n<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>a − b</th><th>metric</th><th>setting</th><th>mean a</th><th>mean b</th><th>difference</th><th>se</th><th>n a</th><th>n b</th></tr></thead><tbody>\n")
		for i, c := range r.a.comparisons {
			if i == htmlRowsMax {
				break
			}
			p("<tr><td>%s − %s</td><td>%s</td><td>%s</td>%s%s%s%s<td class=\"n\">%d</td><td class=\"n\">%d</td></tr>\n", e(c.a), e(c.b), e(c.metric), e(c.setting), numTD(c.meanA), numTD(c.meanB), numTD(c.diff), numTD(c.se), c.nA, c.nB)
		}
		p("</tbody></table></div>\n")
	}

	p("<h2 id=\"figures\">Figures</h2>\n")
	if len(r.res.Warnings) > 0 {
		p("<p class=\"note\">Not drawn: %s</p>\n", e(strings.Join(r.res.Warnings, "; ")))
	}
	for _, grp := range []struct{ prefix, title string }{{"heatmap_", "Heatmaps"}, {"lines_", "Metric against each parameter"}, {"sensitivity_", "Sensitivity"}, {"pareto_", "Trade-offs"}, {"convergence_", "Convergence"}, {"", "Model differences and others"}} {
		var figs []figure
		for _, f := range r.figs {
			if strings.HasPrefix(f.name, grp.prefix) && (grp.prefix != "" || !knownFigure(f.name)) {
				figs = append(figs, f)
			}
		}
		if len(figs) == 0 {
			continue
		}
		p("<h3>%s</h3><div class=\"figs\">\n", grp.title)
		for _, f := range figs {
			p("<figure><img alt=\"%s\" src=\"data:image/png;base64,%s\"><figcaption>%s</figcaption></figure>\n", e(f.name), base64PNG(f.png), e(f.name))
		}
		p("</div>\n")
	}
	// The surfaces are siblings of the report folder, not inlined: each
	// is a page of its own with its own script.
	var surfaces []string
	for _, f := range r.res.Figures {
		if name := filepath.Base(f); strings.HasPrefix(name, "surface_") && strings.HasSuffix(name, ".html") {
			surfaces = append(surfaces, name)
		}
	}
	if len(surfaces) > 0 {
		p("<h3>Interactive 3-D surfaces</h3><p class=\"note\">Open in a browser beside this report (in ../visualizations/): drag to rotate, hover for values.</p><ul>\n")
		for _, name := range surfaces {
			p("<li><a href=\"../visualizations/%s\">%s</a></li>\n", e(name), e(strings.TrimSuffix(name, ".html")))
		}
		p("</ul>\n")
	}

	p("<h2 id=\"cells\">All cells</h2>\n<p class=\"note\">Mean ± std over the ok trials of each cell; click a header to sort. Every statistic is in data/aggregated_results.csv.</p>\n<div class=\"scroll\"><table class=\"sortable\"><thead><tr>")
	if len(r.st.Models) > 0 {
		p("<th>model</th>")
	}
	for _, c := range r.g.params {
		p("<th>%s</th>", e(c.Name))
	}
	p("<th>ok</th><th>failed</th><th>lost</th>")
	for _, m := range r.a.metrics {
		p("<th>%s</th>", e(m))
	}
	p("<th>wall_s</th></tr></thead><tbody>\n")
	for ci, c := range r.g.cells {
		if ci == htmlRowsMax {
			break
		}
		cs := r.a.cells[ci]
		p("<tr>")
		if len(r.st.Models) > 0 {
			p("<td>%s</td>", e(c.model))
		}
		for _, v := range c.values {
			p("<td data-v=\"%s\">%s</td>", e(csvValue(v)), e(formatValue(v)))
		}
		p("<td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>", cs.nOK, cs.nFailed, cs.nLost)
		for _, m := range append(append([]string{}, r.a.metrics...), "wall_s") {
			sm := cs.stats[m]
			if sm.N == 0 {
				p("<td class=\"n\" data-v=\"\">–</td>")
				continue
			}
			txt := num(sm.Mean)
			if isFinite(sm.Std) {
				txt += " ± " + num(sm.Std)
			}
			p("<td class=\"n\" data-v=\"%g\">%s</td>", sm.Mean, txt)
		}
		p("</tr>\n")
	}
	p("</tbody></table></div>\n")
	if len(r.g.cells) > htmlRowsMax {
		p("<p class=\"note\">First %d of %d cells shown.</p>\n", htmlRowsMax, len(r.g.cells))
	}

	p("<h2 id=\"outliers\">Outlier trials</h2>\n<p class=\"note\">Robust z-score within the cell, 0.6745·(x − median)/MAD, beyond ±%g (cells of three or more trials).</p>\n", outlierZ)
	if len(r.a.outliers) == 0 {
		p("<p>None.</p>\n")
	} else {
		p("<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>run</th><th>metric</th><th>value</th><th>cell median</th><th>z</th><th>cell</th></tr></thead><tbody>\n")
		for _, o := range r.a.outliers {
			p("<tr><td><code>%s</code></td><td>%s</td>%s%s%s<td>%s</td></tr>\n", e(r.g.entries[o.pos].RunID), e(o.metric), numTD(o.value), numTD(o.median), numTD(o.z), e(r.paramsOf(o.cell)))
		}
		p("</tbody></table></div>\n")
	}
	p("<h2 id=\"failures\">Failures</h2>\n")
	if fails := r.failures(); len(fails) == 0 {
		p("<p>None.</p>\n")
	} else {
		p("<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>run</th><th>status</th><th>exit</th><th>last line of stderr</th><th>cell</th></tr></thead><tbody>\n")
		for _, f := range fails {
			p("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td></tr>\n", e(f.runID), e(f.status), e(f.exit), e(f.line), e(f.cell))
		}
		p("</tbody></table></div>\n")
	}
	p("<h2 id=\"shards\">Shards set aside</h2>\n")
	if len(r.s.bad) == 0 {
		p("<p>None.</p>\n")
	} else {
		p("<p class=\"note\">These files were not merged; the runs they belong to count as lost unless another attempt was usable.</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>shard</th><th>reason</th></tr></thead><tbody>\n")
		for _, s := range r.s.bad {
			p("<tr><td><code>%s</code></td><td style=\"white-space:normal\">%s</td></tr>\n", e(s.Name), e(s.Reason))
		}
		p("</tbody></table></div>\n")
	}
	p("</main><script>%s</script></body></html>\n", sortScript)
	_, err := io.WriteString(w, b.String())
	return err
}

// knownFigure reports whether a figure belongs to one of the named groups.
func knownFigure(name string) bool {
	for _, p := range []string{"heatmap_", "lines_", "sensitivity_", "pareto_", "convergence_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// numTD is a numeric table cell that sorts by its exact value.
func numTD(v float64) string {
	if !isFinite(v) {
		return "<td class=\"n\" data-v=\"\">–</td>"
	}
	return fmt.Sprintf("<td class=\"n\" data-v=\"%g\">%s</td>", v, num(v))
}
