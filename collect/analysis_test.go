package collect

import (
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/plan/plantest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/table"
)

// analysed plans src and analyses it with the metrics that values gives
// each run, every run ok (nil: it reported no metric), without shards: it
// tests the statistics alone.
func analysed(t *testing.T, src string, values func(e manifest.Entry) map[string]float64) (*report, []manifest.Entry) {
	t.Helper()
	d := plantest.Dir(t, src)
	entries := plantest.Entries(t, d)
	g := newGrid(d.Study, entries)
	s := newState(entries)
	for pos, e := range entries {
		schema := table.Schema{{Name: "status", Kind: table.String}}
		row := []any{shard.StatusOK}
		for m, v := range values(e) {
			schema = append(schema, table.Column{Name: m, Kind: table.Double})
			row = append(row, v)
		}
		s.keep(pos, 1, schema, row, nil)
	}
	a := analyse(d.Study, g, s)
	return &report{dir: d.Path, st: d.Study, g: g, s: s, a: a, res: &Result{Runs: len(entries)}, date: "today", version: "test"}, entries
}

// markdownOf is the executive summary of r.
func markdownOf(t *testing.T, r *report) string {
	t.Helper()
	var b strings.Builder
	if err := r.markdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// htmlOf is the detailed report of r, its character references (&#43;
// for +) read back as the characters a browser shows.
func htmlOf(t *testing.T, r *report) string {
	t.Helper()
	var b strings.Builder
	if err := r.html(&b); err != nil {
		t.Fatal(err)
	}
	return html.UnescapeString(b.String())
}

func TestRobustZ(t *testing.T) {
	tests := []struct {
		name    string
		xs      []float64
		pooled  float64
		flagged []int // indices beyond outlierZ; nil z when xs is too short
		short   bool
	}{
		// The demo's three trials: MAD ≈ 0 made z = 102.9.
		{"three trials", []float64{-7.78, -8.81, -8.8135}, 0, nil, true},
		{"four trials", []float64{1, 1, 1, 50}, 0, nil, true},
		{"five equal", []float64{2, 2, 2, 2, 2}, 0, nil, false},
		{"all zero", []float64{0, 0, 0, 0, 0}, 0, nil, false},
		// A deterministic metric that changed once is an outlier...
		{"constant but one", []float64{1, 1, 1, 1, 5}, 0, []int{4}, false},
		// ...unless the other cells of its model vary that much anyway.
		{"constant but one, noisy study", []float64{1, 1, 1, 1, 5}, 4, nil, false},
		// Rounding noise is no outlier: the floor is 1e-9 of the values.
		{"rounding noise", []float64{1, 1 + 1e-15, 1, 1, 1}, 0, nil, false},
		{"one far out", []float64{10, 11, 9, 10.5, 9.5, 30}, 0.5, []int{5}, false},
		{"one far low", []float64{10, 11, 9, 10.5, 9.5, -30}, 0.5, []int{5}, false},
		// The cell's own spread wins over a smaller pooled one.
		{"wide cell", []float64{0, 10, 20, 30, 40}, 0.1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := robustZ(tt.xs, tt.pooled)
			if tt.short {
				if z != nil {
					t.Errorf("robustZ(%v) = %v, want nil for %d values", tt.xs, z, len(tt.xs))
				}
				return
			}
			if len(z) != len(tt.xs) {
				t.Fatalf("robustZ(%v) = %v", tt.xs, z)
			}
			var got []int
			for i, v := range z {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("z[%d] = %v", i, v)
				}
				if math.Abs(v) > outlierZ {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tt.flagged) {
				t.Errorf("robustZ(%v, %v) = %v: flagged %v, want %v", tt.xs, tt.pooled, z, got, tt.flagged)
			}
		})
	}
}

func TestPooledMAD(t *testing.T) {
	tests := []struct {
		name   string
		groups [][]float64
		want   float64
	}{
		{"none", nil, 0},
		{"single values", [][]float64{{5}, {7}}, 0},
		// The median of an odd group is one of its values: its zero
		// deviation is left out.
		{"odd", [][]float64{{1, 2, 3}}, 1},
		// In an even group the two middle deviations are one gap:
		// one of them is left out (here 3's, the same as 2's).
		{"even", [][]float64{{10, 1, 3, 2}}, 1.5},
		{"two", [][]float64{{1, 2}}, 0.5},
		{"pooled", [][]float64{{1, 2, 3}, {10, 14}, {3}}, 1},
		// Only one zero is left out: four equal values stay a MAD of 0.
		{"constant but one", [][]float64{{1, 1, 1, 1, 5}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pooledMAD(tt.groups); got != tt.want {
				t.Errorf("pooledMAD(%v) = %v, want %v", tt.groups, got, tt.want)
			}
		})
	}
}

// noiseStudy is a study of cells with the given number of trials.
func noiseStudy(cells, trials int) string {
	values := make([]string, cells)
	for i := range values {
		values[i] = fmt.Sprint(i + 1)
	}
	return fmt.Sprintf("name = \"noise\"\ntrials = %d\nseed = 7\n[run]\ncommand = \"true\"\n[params.x]\nvalues = [%s]\n", trials, strings.Join(values, ", "))
}

// TestOutliersOnNoise: plain normal noise has next to no outliers (at most
// about 1 %), a cell of three trials none at all, and a trial planted far
// out in a cell of five is found.
func TestOutliersOnNoise(t *testing.T) {
	tests := []struct {
		name          string
		cells, trials int
		seed          uint64
		plant         bool // move trial 1 of cell 1 by 20σ
		maxFlagged    int
	}{
		{"120 runs in cells of 5", 24, 5, 1, false, 1},
		{"120 runs in cells of 5, another seed", 24, 5, 2, false, 1},
		{"1200 runs in cells of 5", 240, 5, 3, false, 12},
		{"600 runs in cells of 6", 100, 6, 4, false, 6},
		{"120 runs in cells of 3", 40, 3, 5, false, 0},
		{"planted", 24, 5, 6, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tt.seed, 0))
			r, entries := analysed(t, noiseStudy(tt.cells, tt.trials), func(e manifest.Entry) map[string]float64 {
				v := 100 + rng.NormFloat64()
				if tt.plant && e.Params["x"] == int64(1) && e.Trial == 1 {
					v += 20
				}
				return map[string]float64{"noise": v}
			})
			if len(entries) != tt.cells*tt.trials {
				t.Fatalf("%d runs, want %d", len(entries), tt.cells*tt.trials)
			}
			got := len(r.a.outliers)
			t.Logf("%d of %d runs flagged", got, len(entries))
			if got > tt.maxFlagged {
				t.Errorf("%d of %d runs of normal noise flagged as outliers, want at most %d", got, len(entries), tt.maxFlagged)
			}
			if tt.plant {
				planted := slices.ContainsFunc(r.a.outliers, func(o outlier) bool {
					e := entries[o.pos]
					return e.Params["x"] == int64(1) && e.Trial == 1 && o.metric == "noise" && o.z > outlierZ
				})
				if !planted {
					t.Errorf("the trial planted 20σ out is not flagged: %+v", r.a.outliers)
				}
			}
		})
	}
}

// TestNonFinite: NaN and ±Inf of runs that ended ok are counted per cell
// and metric, left out of the statistics, and named in the reports; the
// runs stay ok.
func TestNonFinite(t *testing.T) {
	src := `name = "nf"
trials = 3
seed = 1
[run]
command = "true"
[params.x]
values = [1, 2, 3]
[collect]
minimize = ["loss"]
`
	r, _ := analysed(t, src, func(e manifest.Entry) map[string]float64 {
		x := e.Params["x"].(int64)
		switch {
		case x == 2 && e.Trial == 1:
			return map[string]float64{"loss": math.Inf(1), "acc": 0.5}
		case x == 3:
			return map[string]float64{"loss": math.NaN(), "acc": 0.25}
		}
		return map[string]float64{"loss": float64(x) + float64(e.Trial)/10, "acc": 0.5}
	})
	if r.a.ok != 9 || r.a.failed != 0 {
		t.Errorf("ok, failed = %d, %d; want 9, 0: a non-finite metric fails no run", r.a.ok, r.a.failed)
	}
	tests := []struct {
		cell      int
		n, nonFin int
		mean      float64
	}{
		{0, 3, 0, 1.2},
		{1, 2, 1, 2.25},
		{2, 0, 3, math.NaN()},
	}
	for _, tt := range tests {
		cs := r.a.cells[tt.cell]
		sm := cs.stats["loss"]
		if sm.N != tt.n || cs.nonFinite["loss"] != tt.nonFin || cs.nOK != 3 || !(near(sm.Mean, tt.mean) || math.IsNaN(tt.mean) && math.IsNaN(sm.Mean)) {
			t.Errorf("cell %d: n %d, non-finite %d, n_ok %d, mean %v; want %d, %d, 3, %v", tt.cell, sm.N, cs.nonFinite["loss"], cs.nOK, sm.Mean, tt.n, tt.nonFin, tt.mean)
		}
		if cs.nonFinite["acc"] != 0 {
			t.Errorf("cell %d: acc has %d non-finite values, want 0", tt.cell, cs.nonFinite["acc"])
		}
	}
	nf := r.a.nonFiniteCells()
	if want := []nonFiniteCell{{1, "loss", 1}, {2, "loss", 3}}; !slices.Equal(nf, want) {
		t.Errorf("nonFiniteCells = %v, want %v", nf, want)
	}
	// The aggregated table counts them in loss_n_nonfinite.
	schema, rows := aggregated(r.g, r.a)
	col := schema.Index("loss_n_nonfinite")
	if col < 0 || schema.Index("acc_n_nonfinite") < 0 || schema.Index("wall_s_n_nonfinite") >= 0 {
		t.Fatalf("aggregated columns %v: want loss_n_nonfinite and acc_n_nonfinite, not for the runner's measures", schema)
	}
	var counts []any
	if err := rows(func(row []any) error { counts = append(counts, row[col]); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(counts, []any{int64(0), int64(1), int64(3)}) {
		t.Errorf("loss_n_nonfinite = %v, want 0 1 3", counts)
	}
	var b strings.Builder
	if err := r.summaryTOML(&b); err != nil {
		t.Fatal(err)
	}
	var sum summaryFile
	if _, err := toml.Decode(b.String(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Study.NonFinite != 4 || sum.Study.RunsOK != 9 {
		t.Errorf("study_summary.toml: %+v; want nonfinite_values = 4, runs_ok = 9", sum.Study)
	}
	md := markdownOf(t, r)
	for _, want := range []string{
		"- **Non-finite values:** 4 NaN or ±Inf values of loss in 2 cells, left out of the statistics",
		"## Non-finite values",
		"| loss | x=2 | 1 | 3 |\n| loss | x=3 | 3 | 3 |\n",
		"| 2 | x=2 | 2.25 | 0.07071 | 2 (+1 non-finite) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("executive summary lacks %q:\n%s", want, md)
		}
	}
	page := htmlOf(t, r)
	for _, want := range []string{`id="nonfinite"`, "4 NaN or ±Inf values of loss in 2 cells", "2.25 ± 0.07071 (+1 non-finite)", "– (+3 non-finite)"} {
		if !strings.Contains(page, want) {
			t.Errorf("detailed_analysis.html lacks %q", want)
		}
	}
}

// TestNoMetrics: ok runs that reported no metric at all are named, at most
// idsMax of them, in both reports.
func TestNoMetrics(t *testing.T) {
	tests := []struct {
		name   string
		silent func(e manifest.Entry) bool
		line   string // "" for none; else a prefix of the line
		more   string
	}{
		{"none", func(manifest.Entry) bool { return false }, "", ""},
		{"one", func(e manifest.Entry) bool { return e.Index == 4 }, "1 ok run reported no metrics: ", ""},
		{"many", func(e manifest.Entry) bool { return e.Index%2 == 0 }, "25 ok runs reported no metrics: ", " and 5 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, entries := analysed(t, noiseStudy(25, 2), func(e manifest.Entry) map[string]float64 {
				if tt.silent(e) {
					return nil
				}
				return map[string]float64{"psnr": 30}
			})
			line := r.noMetricsLine()
			var b strings.Builder
			if err := r.summaryTOML(&b); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("runs_ok_without_metrics = %d\n", len(r.a.noMetrics)); !strings.Contains(b.String(), want) {
				t.Errorf("study_summary.toml lacks %q:\n%s", want, b.String())
			}
			md, page := markdownOf(t, r), htmlOf(t, r)
			if tt.line == "" {
				if line != "" || strings.Contains(md, "No metrics") || strings.Contains(page, "reported no metrics") {
					t.Errorf("line %q; want none in either report", line)
				}
				return
			}
			var ids []string
			for _, e := range entries {
				if tt.silent(e) {
					ids = append(ids, e.RunID)
				}
			}
			want := tt.line + strings.Join(ids[:min(len(ids), idsMax)], ", ") + tt.more
			if line != want {
				t.Errorf("line = %q, want %q", line, want)
			}
			if !strings.Contains(md, "- **No metrics:** "+mdEscape(want)+"\n") {
				t.Errorf("executive summary lacks the line:\n%s", md)
			}
			if !strings.Contains(page, `<p class="warn">`+want+`</p>`) {
				t.Errorf("detailed_analysis.html lacks the line %q", want)
			}
		})
	}
}

// modelStudy has a shared parameter n and a pinn model with a parameter tv
// of its own; tv = 1 is good, tv = 2 very bad.
const modelStudy = `name = "models"
trials = 4
seed = 1
[run]
command = "true"
[params.n]
values = [1, 2]
[models.pinn.params.tv]
values = [1, 2]
[models.baseline]
[collect]
maximize = ["psnr"]
minimize = ["mse"]
`

// TestBestVsBest: pooled over its own tv the pinn is significantly worse
// than the baseline, at its best tv significantly better; the direction
// follows each metric's (psnr higher, mse lower is better).
func TestBestVsBest(t *testing.T) {
	noise := []float64{-0.15, 0.05, -0.05, 0.15}
	r, _ := analysed(t, modelStudy, func(e manifest.Entry) map[string]float64 {
		psnr := 30.0
		if e.Model == "pinn" {
			psnr = 32
			if e.Params["tv"] == int64(2) {
				psnr = 10
			}
		}
		psnr += noise[e.Trial-1]
		return map[string]float64{"psnr": psnr, "mse": 1 / psnr}
	})
	type key struct {
		best   bool
		metric string
	}
	got := map[key]pairSummary{}
	for _, s := range r.pairSummaries() {
		if s.a != "pinn" || s.b != "baseline" {
			t.Fatalf("pair %s − %s, want pinn − baseline", s.a, s.b)
		}
		got[key{s.best, s.metric}] = s
	}
	tests := []struct {
		best          bool
		metric        string
		aBetter       int
		aSig, bSig    int
		meanDiff, rel float64
		tolerance     float64
	}{
		{false, "psnr", 0, 0, 2, -9, -9.0 / 30, 1e-9},
		{true, "psnr", 2, 2, 0, 2, 2.0 / 30, 1e-9},
		{true, "mse", 2, 2, 0, 1.0/32 - 1.0/30, (1.0/32 - 1.0/30) * 30, 1e-5},
	}
	for _, tt := range tests {
		s, ok := got[key{tt.best, tt.metric}]
		if !ok {
			t.Errorf("no %s comparison of %s", kind(tt.best), tt.metric)
			continue
		}
		if s.settings != 2 || s.aBetter != tt.aBetter || s.aSignificant != tt.aSig || s.bSignificant != tt.bSig ||
			math.Abs(s.meanDiff-tt.meanDiff) > tt.tolerance || math.Abs(s.relDiff-tt.rel) > tt.tolerance {
			t.Errorf("%s %s: %+v; want 2 settings, a better %d, significant %d for a and %d for b, mean difference %v, relative %v",
				kind(tt.best), tt.metric, s, tt.aBetter, tt.aSig, tt.bSig, tt.meanDiff, tt.rel)
		}
	}
	// Best vs best compares pinn at tv=1 with the baseline, per n.
	for _, c := range r.a.comparisons {
		if c.best && (r.g.cells[c.cellA].values[1] != int64(1) || r.g.cells[c.cellB].model != "baseline" || c.nA != 4 || c.nB != 4) {
			t.Errorf("best vs best at %s compares %s with %s", c.setting, r.paramsOf(c.cellA), r.paramsOf(c.cellB))
		}
	}
	md := markdownOf(t, r)
	for _, want := range []string{
		"| pooled | pinn − baseline | psnr | 2 | 0 | 0 | 2 | -9 | -30.0% |",
		"| best vs best | pinn − baseline | psnr | 2 | 2 | 2 | 0 | 2 | +6.7% |",
		"| psnr | n=1 | pinn | 2 | +6.7% | pinn, n=1, tv=1 (mean 32, n 4) | baseline, n=1 (mean 30, n 4) |",
		"| mse | n=2 | pinn |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("executive summary lacks %q:\n%s", want, md)
		}
	}
	if page := htmlOf(t, r); !strings.Contains(page, "<td>best vs best</td><td>pinn − baseline</td><td>psnr</td><td>n=1</td><td>pinn, n=1, tv=1</td><td>baseline, n=1</td>") {
		t.Errorf("detailed_analysis.html lacks the best-vs-best row of psnr at n=1")
	}
}

// TestPooledOnlyWithoutOwnParams: models that sweep the same parameters
// have one cell each per setting, and no best-vs-best comparison, which
// would repeat the pooled one. A metric the study gives no direction is
// compared (its difference and significance) but no model is better in
// it, whatever its name.
func TestPooledOnlyWithoutOwnParams(t *testing.T) {
	src := strings.Replace(modelStudy, "[models.pinn.params.tv]\nvalues = [1, 2]\n", "[models.pinn]\n", 1)
	r, _ := analysed(t, src, func(e manifest.Entry) map[string]float64 {
		wnorm := 1.0
		if e.Model == "pinn" {
			wnorm = 5
		}
		return map[string]float64{"psnr": 30 + float64(e.Trial), "wnorm": wnorm + float64(e.Trial)/10}
	})
	if len(r.a.comparisons) != 4 {
		t.Errorf("%d comparisons, want 4 (pooled, of psnr and wnorm at n=1 and n=2)", len(r.a.comparisons))
	}
	for _, c := range r.a.comparisons {
		if c.best {
			t.Errorf("best-vs-best comparison %+v without parameters of a model's own", c)
		}
	}
	md := markdownOf(t, r)
	for _, want := range []string{
		"| pooled | pinn − baseline | psnr | 2 | 0 | 0 | 0 | 0 |",
		"| pooled | pinn − baseline | wnorm (direction not declared) | 2 | – | – | – | 4 | +320.0% |",
		"| wnorm (direction not declared) | n=1 | – | 4 | +320.0% | pooled | pooled |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("executive summary lacks %q:\n%s", want, md)
		}
	}
	page := htmlOf(t, r)
	for _, want := range []string{
		"<td>pooled</td><td>pinn − baseline</td><td>wnorm (direction not declared)</td><td class=\"n\">2</td><td class=\"n\">–</td><td class=\"n\">–</td><td class=\"n\">–</td>",
		"<td>wnorm (direction not declared)</td><td>n=2</td><td>–</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("detailed_analysis.html lacks %q", want)
		}
	}
}

// directionStudy declares its metrics every way the study file can, in an
// order that is not alphabetical, and leaves two undeclared: val_loss and
// accuracy, whose names once made a guess.
const directionStudy = `name = "directions"
trials = 2
seed = 1
[run]
command = "true"
[params.x]
values = [1, 2, 3]
[collect]
maximize = ["gamma"]
minimize = ["beta"]
[collect.metrics.zeta]
label = "Zeta score"
unit = "dB"
direction = "minimize"
[collect.metrics.delta]
unit = "px"
`

// TestDeclaredDirections: only what the study (or, for its measures, the
// runner) declares judges a metric. Declared metrics come first, in the
// study's order; an undeclared one keeps its statistics but has no best
// cell, no ranking and no best_parameters entry, and the reports say its
// direction is not declared instead of judging it.
func TestDeclaredDirections(t *testing.T) {
	r, _ := analysed(t, directionStudy, func(e manifest.Entry) map[string]float64 {
		x := float64(e.Params["x"].(int64))
		v := x + float64(e.Trial)/10
		return map[string]float64{"zeta": v, "gamma": v, "beta": v, "delta": v, "val_loss": v, "accuracy": v, "wall_s": 10 * v}
	})
	if want := []string{"zeta", "delta", "gamma", "beta", "accuracy", "val_loss"}; !slices.Equal(r.a.metrics, want) {
		t.Errorf("metrics in order %q, want %q (declared first, as the study orders them)", r.a.metrics, want)
	}
	tests := []struct {
		metric, direction string
		best              int // cell index; -1: none
	}{
		{"zeta", "minimize", 0},
		{"gamma", "maximize", 2},
		{"beta", "minimize", 0},
		{"delta", "", -1}, // declared, with a unit but no direction
		{"val_loss", "", -1},
		{"accuracy", "", -1},
		{"wall_s", "minimize", 0}, // the runner's own measure
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			if got := r.a.direction[tt.metric]; got != tt.direction {
				t.Errorf("direction %q, want %q", got, tt.direction)
			}
			ci, ok := r.a.best[tt.metric]
			if tt.best < 0 && ok || tt.best >= 0 && ci != tt.best {
				t.Errorf("best cell %d (%v), want %d", ci, ok, tt.best)
			}
			if ranked := r.a.ranked(tt.metric); (tt.best < 0) != (ranked == nil) {
				t.Errorf("ranked %v; want a ranking exactly when the direction is declared", ranked)
			}
			// The statistics are there whatever the direction.
			if sm := r.a.cells[1].stats[tt.metric]; sm.N != 2 || !near(sm.Mean, 2.15) && !near(sm.Mean, 21.5) {
				t.Errorf("cell x=2: %+v, want n 2 and its mean", sm)
			}
		})
	}
	if got, want := r.a.undeclared(), []string{"delta", "accuracy", "val_loss"}; !slices.Equal(got, want) {
		t.Errorf("undeclared %q, want %q", got, want)
	}

	var b strings.Builder
	if err := r.summaryTOML(&b); err != nil {
		t.Fatal(err)
	}
	var sum summaryFile
	if _, err := toml.Decode(b.String(), &sum); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapKeys(sum.Best)); !slices.Equal(got, []string{"beta", "gamma", "wall_s", "zeta"}) {
		t.Errorf("best_parameters of %q, want the metrics with a direction only", got)
	}
	if sum.Best["gamma"].Direction != "maximize" || sum.Best["zeta"].Direction != "minimize" {
		t.Errorf("best_parameters directions: %+v", sum.Best)
	}
	if !slices.Equal(sum.Study.Undeclared, []string{"delta", "accuracy", "val_loss"}) {
		t.Errorf("metrics_without_direction = %q", sum.Study.Undeclared)
	}

	md, page := markdownOf(t, r), htmlOf(t, r)
	line := "delta, accuracy, val_loss — statistics only: no best cell, ranking or better model " +
		"(declare one with [collect.metrics.NAME] direction, or [collect] maximize or minimize)"
	for _, want := range []string{
		"- **Direction not declared:** " + mdEscape(line) + "\n",
		"| zeta (Zeta score, dB) | lower is better | 1.15 | 0.07071 | 2 | x=1 |\n",
		"| gamma | higher is better | 3.15 | 0.07071 | 2 | x=3 |\n",
		"### zeta (Zeta score, dB) (lower is better)",
		"## Metrics without a declared direction",
		"| delta (px) | 6 | 2.15 | 0.8961 | 1.1 | 2.15 | 3.2 | 3 | 1.15 | 3.15 |\n",
		"| val\\_loss | 6 | 2.15 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("executive summary lacks %q:\n%s", want, md)
		}
	}
	for _, bad := range []string{"guess", "| val\\_loss | lower", "| accuracy | higher", "### delta", "### val"} {
		if strings.Contains(md, bad) {
			t.Errorf("executive summary holds %q:\n%s", bad, md)
		}
	}
	for _, want := range []string{
		`<p class="warn">Direction not declared: ` + line + ` (<a href="#undeclared">statistics</a>)</p>`,
		`<td>delta (px)</td><td class="n">6</td><td class="n" data-v="2.15`,
		"<th>zeta (Zeta score, dB)</th>", "<th>wall_s (wall time, s)</th>",
		"Top 5: zeta (Zeta score, dB)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("detailed_analysis.html lacks %q", want)
		}
	}
	if strings.Contains(page, "Top 5: val_loss") || strings.Contains(page, "guess") {
		t.Errorf("detailed_analysis.html ranks or guesses an undeclared metric")
	}
}

// TestNoDirectionAtAll: with no metric declared no metric has a best cell
// (only the runner's wall_s, which the table of metrics leaves out), and
// the reports say so rather than show an empty table.
func TestNoDirectionAtAll(t *testing.T) {
	r, _ := analysed(t, noiseStudy(2, 2), func(e manifest.Entry) map[string]float64 {
		return map[string]float64{"loss": float64(e.Trial), "wall_s": float64(e.Trial)}
	})
	if _, ok := r.a.best["wall_s"]; !ok || len(r.a.best) != 1 {
		t.Errorf("best cells %v, want wall_s's only", r.a.best)
	}
	want := "None: no metric with a declared direction has a value."
	if md := markdownOf(t, r); !strings.Contains(md, "## Best cell per metric\n\n"+want+"\n") {
		t.Errorf("executive summary lacks %q:\n%s", want, md)
	}
	if md := markdownOf(t, r); strings.Contains(md, "## Top") {
		t.Errorf("executive summary has a ranking without a metric to rank:\n%s", md)
	}
	if page := htmlOf(t, r); !strings.Contains(page, "<p>"+want+"</p>") {
		t.Errorf("detailed_analysis.html lacks %q", want)
	}
}
