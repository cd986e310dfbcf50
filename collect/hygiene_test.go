package collect

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/parquet-go/parquet-go"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Text that a browser or Markdown renderer would run if a report passed it
// through: a parameter value, a metric name and a line of stderr hold it.
const (
	xssScript = "<script>alert(1)</script>"
	xssImg    = "<img src=x onerror=alert(1)>"
)

// hygieneStudy has a string parameter whose values are markup and a
// formula, a parameter with a negative value, and (in its shards) two
// metrics whose names are markup: one it declares, one it does not.
const hygieneStudy = `name = "hygiene"
trials = 2
seed = 3
[run]
command = "true"
[params.tag]
values = ["` + xssScript + `", "=1+2"]
[params.n]
values = [-1, 2]
[collect]
maximize = ["psnr", "` + xssImg + `"]
[plots]
formats = ["png"]
`

// hygieneDir plans hygieneStudy and writes its shards: every run ok with
// known metrics (psnr negative in some cells), except the last, which
// failed with markup in its stderr; plus one shard of a run the manifest
// does not have. It collects the study and returns its folder.
func hygieneDir(t *testing.T) (string, *Result) {
	t.Helper()
	d := plantest.Dir(t, hygieneStudy)
	dir, entries := d.Path, plantest.Entries(t, d)
	for i, e := range entries {
		n := float64(e.Params["n"].(int64))
		metrics := map[string]float64{"psnr": n*1.5 + float64(e.Trial)/4, xssImg: 0.25 * float64(i+1), xssScript: float64(i)}
		if i == len(entries)-1 {
			hygieneShard(t, dir, e, shard.StatusFailed, nil)
			if err := os.MkdirAll(filepath.Join(dir, e.Dir), 0o755); err != nil {
				t.Fatal(err)
			}
			line := "loading\n" + xssScript + " | *boom* `x` " + xssImg + "\n"
			if err := os.WriteFile(filepath.Join(dir, e.Dir, "stderr.log"), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		hygieneShard(t, dir, e, shard.StatusOK, metrics)
	}
	hygieneShard(t, dir, manifest.Entry{RunID: "0123456789ab_t1", CellID: "0123456789ab", Trial: 1,
		Params: map[string]any{"tag": "x", "n": int64(1)}}, shard.StatusOK, map[string]float64{"psnr": 1})
	res, err := Collect(context.Background(), dir, Options{Version: "test", Now: func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// hygieneShard writes attempt 1 of a run as the runner does. Run columns
// are filled by name, so that the test follows shard.RunColumns.
func hygieneShard(t *testing.T, dir string, e manifest.Entry, status string, metrics map[string]float64) {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exit := int64(0)
	if status != shard.StatusOK {
		exit = 1
	}
	vals := map[string]any{"run_id": e.RunID, "cell_id": e.CellID, "model": e.Model, "trial": int64(e.Trial), "seed": e.Seed,
		"attempt": int64(1), "status": status, "exit_code": exit, "wall_s": 36.0, "cpu_s": 30.0, "max_rss_mb": 100.0,
		"host": "node1", "started_at": start, "finished_at": start.Add(36 * time.Second), "tag": e.Params["tag"], "n": e.Params["n"]}
	schema := append(shard.RunColumns(), table.Column{Name: "tag", Kind: table.String}, table.Column{Name: "n", Kind: table.Int64})
	for _, m := range slices.Sorted(mapKeys(metrics)) {
		schema = append(schema, table.Column{Name: m, Kind: table.Double})
		vals[m] = metrics[m]
	}
	row := make([]any, len(schema))
	for i, c := range schema {
		row[i] = vals[c.Name]
	}
	if err := table.WriteFile(shard.Path(dir, e.RunID, 1), schema, func(w *table.Writer) error { return w.Write(row) }); err != nil {
		t.Fatal(err)
	}
}

// TestReportHygiene collects a study whose values and names are markup and
// formulas, and checks each output that shows them.
func TestReportHygiene(t *testing.T) {
	dir, res := hygieneDir(t)

	// study_summary.toml is TOML that reads back into its fields, each
	// value with the type the study gave it.
	t.Run("summary_toml", func(t *testing.T) {
		var got summaryFile
		md, err := toml.DecodeFile(filepath.Join(dir, "study_summary.toml"), &got)
		if err != nil {
			t.Fatal(err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			t.Errorf("keys the summary should not have: %v", und)
		}
		s := got.Study
		if s.Name != "hygiene" || s.Date != "2026-05-01 00:00:00 UTC" || s.Version != "test" || s.TotalRuns != 8 ||
			s.RunsOK != 7 || s.RunsFailed != 1 || s.RunsLost != 0 || s.Cells != 4 || s.ShardsSetAside != 1 || s.RuntimeHours != 0.08 {
			t.Errorf("study_metadata = %+v", s)
		}
		if tags, _ := got.Parameters["tag"].([]any); !slices.Equal(tags, []any{xssScript, "=1+2"}) {
			t.Errorf("parameter_space.tag = %#v", got.Parameters["tag"])
		}
		if ns, _ := got.Parameters["n"].([]any); !slices.Equal(ns, []any{int64(-1), int64(2)}) {
			t.Errorf("parameter_space.n = %#v, want integers", got.Parameters["n"])
		}
		psnr := got.Best["psnr"]
		if psnr.Direction != "maximize" || psnr.N != 2 || psnr.Score != 3.375 || psnr.Params["n"] != int64(2) || psnr.CellID == "" {
			t.Errorf("best_parameters.psnr = %+v", psnr)
		}
		if img := got.Best[xssImg]; img.Direction != "maximize" || img.Params["tag"] != "=1+2" {
			t.Errorf("best_parameters.%q = %+v", xssImg, img)
		}
		// The metric the study declares no direction for has no best
		// cell: it is listed instead.
		if b, ok := got.Best[xssScript]; ok {
			t.Errorf("best_parameters.%q = %+v: want none, its direction is not declared", xssScript, b)
		}
		if !slices.Equal(s.Undeclared, []string{xssScript}) {
			t.Errorf("study_metadata.metrics_without_direction = %q, want [%q]", s.Undeclared, xssScript)
		}
		// The runner's own measures have a best cell too: one ok trial
		// leaves the std undefined, which TOML spells nan.
		if w := got.Best["wall_s"]; w.Direction != "minimize" || w.Score != 36 {
			t.Errorf("best_parameters.wall_s = %+v", w)
		}
		var nanStd bool
		for _, b := range got.Best {
			nanStd = nanStd || b.N == 1 && math.IsNaN(b.Std)
		}
		if !nanStd {
			t.Errorf("no best cell of one trial with std nan: %+v", got.Best)
		}
	})

	// The HTML report shows the markup as text: html/template escapes it
	// in text and attributes alike.
	t.Run("html_escapes", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, "reports", "detailed_analysis.html"))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, raw := range []string{"<script>alert", "<img src=x", "onerror=alert(1)>"} {
			if strings.Contains(page, raw) {
				t.Errorf("detailed_analysis.html holds %q unescaped", raw)
			}
		}
		for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;",
			`<th>&lt;img src=x onerror=alert(1)&gt;</th>`, `data-v="&lt;script&gt;alert(1)&lt;/script&gt;"`,
			"=1&#43;2", "<h1>hygiene</h1>", `<td data-v="-1">-1</td>`, "data:image/png;base64,iVBOR",
			"<code>0123456789ab_t1.a1.parquet</code>", "<script>document.querySelectorAll('table.sortable th')",
			`<p class="warn">Direction not declared: &lt;script&gt;alert(1)&lt;/script&gt; — statistics only`,
			`<h2 id="undeclared">Metrics without a declared direction</h2>`} {
			if !strings.Contains(page, want) {
				t.Errorf("detailed_analysis.html lacks %q", want)
			}
		}
		if strings.Count(page, "<script>") != 1 {
			t.Errorf("detailed_analysis.html has %d <script> tags, want 1 (its own)", strings.Count(page, "<script>"))
		}
	})

	// The executive summary, against its golden file (go test -update
	// rewrites it): markup and Markdown in values come out as text.
	t.Run("executive_summary_golden", func(t *testing.T) {
		got, err := os.ReadFile(filepath.Join(dir, "reports", "executive_summary.md"))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "executive_summary.golden")
		if *updateGolden {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./collect -run TestReportHygiene -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("executive_summary.md differs from %s (rerun with -update if the change is meant):\n%s", golden, lineDiff(string(want), string(got)))
		}
		// Markdown shows a code span as is: markup is text there.
		text := regexp.MustCompile("`[^`]*`").ReplaceAll(got, nil)
		for _, raw := range []string{"<script>", "<img"} {
			if bytes.Contains(text, []byte(raw)) {
				t.Errorf("executive_summary.md holds %q outside a code span", raw)
			}
		}
	})

	// Text cells that a spreadsheet would run as a formula are guarded;
	// numbers, negative ones included, are not.
	t.Run("csv_formula_guard", func(t *testing.T) {
		for _, name := range []string{rawFile + ".csv", aggFile + ".csv"} {
			rows := readCSV(t, filepath.Join(dir, "data", name))
			head := rows[0]
			tag, n := slices.Index(head, "tag"), slices.Index(head, "n")
			var tags, ns []string
			for _, r := range rows[1:] {
				tags = append(tags, r[tag])
				ns = append(ns, r[n])
			}
			if !slices.Contains(tags, "'=1+2") || slices.Contains(tags, "=1+2") || !slices.Contains(tags, xssScript) {
				t.Errorf("%s: tag cells %q, want '=1+2 guarded and %s as is", name, tags, xssScript)
			}
			if !slices.Contains(ns, "-1") {
				t.Errorf("%s: n cells %q, want -1 as a number", name, ns)
			}
		}
		rows := readCSV(t, filepath.Join(dir, "data", aggFile+".csv"))
		mean := slices.Index(rows[0], "psnr_mean")
		var negative bool
		for _, r := range rows[1:] {
			negative = negative || strings.HasPrefix(r[mean], "-")
		}
		if !negative {
			t.Errorf("no negative psnr_mean in %v: want negative numbers written as numbers", rows)
		}
	})

	// The Parquet tables hold their columns in the CSV's order, which is
	// what DuckDB and pyarrow show.
	t.Run("parquet_column_order", func(t *testing.T) {
		for _, name := range []string{rawFile, aggFile} {
			head := readCSV(t, filepath.Join(dir, "data", name+".csv"))[0]
			f, err := os.Open(filepath.Join(dir, "data", name+".parquet"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			pf, err := parquet.OpenFile(f, fi.Size())
			if err != nil {
				t.Fatal(err)
			}
			var cols []string
			for _, c := range pf.Schema().Fields() {
				cols = append(cols, c.Name())
			}
			if !slices.Equal(cols, head) {
				t.Errorf("%s.parquet columns\n%q\nCSV columns\n%q", name, cols, head)
			}
		}
	})

	t.Run("set_aside_lines", func(t *testing.T) {
		if got := res.SetAsideLines(); len(got) != 1 || !strings.Contains(got[0], "0123456789ab_t1.a1.parquet: from another study") {
			t.Errorf("SetAsideLines = %q, want the one foreign shard named", got)
		}
	})
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// lineDiff lists the lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestCSVCell pins the formula guard: text starting with =, +, -, @, tab or
// carriage return gets a leading quote; numbers and other text do not.
func TestCSVCell(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{"=1+2", "'=1+2"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{`=HYPERLINK("http://x")`, `'=HYPERLINK("http://x")`},
		{"a=1", "a=1"}, {"", ""}, {xssScript, xssScript}, {"'quoted", "'quoted"},
		{-1.5, "-1.5"}, {int64(-3), "-3"}, {1e6, "1e6"}, {math.Inf(-1), "-inf"}, {nil, ""}, {true, "true"},
	} {
		if got := csvCell(c.v); got != c.want {
			t.Errorf("csvCell(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestSetAsideLinesSummarises checks that the shards of runs that are not
// in the manifest, which a value removed from the study leaves by the
// dozen, make one line, and every other shard a line of its own.
func TestSetAsideLinesSummarises(t *testing.T) {
	res := &Result{}
	for i := range 84 {
		id := fmt.Sprintf("%012x_t1", i)
		res.SetAside = append(res.SetAside, BadShard{Name: shard.Name(id, 1, false), Reason: foreign(id)})
	}
	res.SetAside = append(res.SetAside, BadShard{Name: "aaaaaaaaaaaa_t1.a1.parquet", Reason: "unreadable: truncated"})
	got := res.SetAsideLines()
	want := []string{
		"set aside aaaaaaaaaaaa_t1.a1.parquet: unreadable: truncated",
		"set aside 84 shards of runs that are not in this study's manifest (000000000000_t1.a1.parquet, 000000000001_t1.a1.parquet, …): " +
			"values removed from the study file since they ran, or shards of another study; reports/ lists them all",
	}
	if !slices.Equal(got, want) {
		t.Errorf("SetAsideLines =\n%q\nwant\n%q", got, want)
	}
	one := &Result{SetAside: res.SetAside[:1]}
	if got := one.SetAsideLines(); !slices.Equal(got, []string{"set aside 000000000000_t1.a1.parquet: " + foreign("000000000000_t1")}) {
		t.Errorf("one foreign shard: %q, want it named as any other", got)
	}
}
