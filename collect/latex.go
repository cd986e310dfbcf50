package collect

import (
	"fmt"
	"io"
	"strings"
)

// latex writes reports/latex_figures/aggregated_results.tex: the cell means
// ± std of every metric as a booktabs longtable, to \input in a paper
// (needs \usepackage{booktabs,longtable}).
func (r *report) latex(w io.Writer) error {
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	var head []string
	if len(r.st.Models) > 0 {
		head = append(head, "model")
	}
	for _, c := range r.g.params {
		head = append(head, texEscape(c.Name))
	}
	for _, m := range r.a.metrics {
		head = append(head, texEscape(m))
	}
	head = append(head, "$n$")
	cols := strings.Repeat("l", len(head)-len(r.a.metrics)-1) + strings.Repeat("r", len(r.a.metrics)+1)
	p("%% Written by gridstudy collect from data/aggregated_results.csv: mean $\\pm$ std over ok trials.\n")
	p("%% Needs \\usepackage{booktabs,longtable}.\n")
	p("\\begin{longtable}{%s}\n\\caption{%s: aggregated results (mean $\\pm$ std over trials).}\\\\\n\\toprule\n%s \\\\\n\\midrule\n\\endhead\n\\bottomrule\n\\endfoot\n", cols, texEscape(r.st.Name), strings.Join(head, " & "))
	for ci, c := range r.g.cells {
		cs := r.a.cells[ci]
		var row []string
		if len(r.st.Models) > 0 {
			row = append(row, texEscape(c.model))
		}
		for _, v := range c.values {
			row = append(row, texEscape(formatValue(v)))
		}
		for _, m := range r.a.metrics {
			sm := cs.stats[m]
			switch {
			case sm.N == 0:
				row = append(row, "--")
			case isFinite(sm.Std):
				row = append(row, fmt.Sprintf("$%s \\pm %s$", texNum(sm.Mean), texNum(sm.Std)))
			default:
				row = append(row, "$"+texNum(sm.Mean)+"$")
			}
		}
		row = append(row, fmt.Sprint(cs.nOK))
		p("%s \\\\\n", strings.Join(row, " & "))
	}
	p("\\end{longtable}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// texNum writes a number for math mode: 1.2e-05 as 1.2\times10^{-5}.
func texNum(v float64) string {
	s := num(v)
	if m, e, ok := strings.Cut(s, "e"); ok {
		return m + `\times10^{` + e + `}`
	}
	return s
}

func texEscape(s string) string {
	return strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`).Replace(s)
}
