package collect

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
	"github.com/gridstudy/gridstudy/plots"
)

// measures are what the runner measures itself, aggregated like metrics.
var measures = []string{"wall_s", "cpu_s", "max_rss_mb", "gpu_mem_mb"}

// analysis is everything the tables, figures and reports show.
type analysis struct {
	ok, failed, lost int
	metrics          []string // the numeric metrics runs reported, in display order
	// others are the metrics of other types (booleans and strings, and
	// text for a metric whose type changed), by name: the tables count
	// their values; no figure or analysis uses them.
	others      table.Schema
	maximize    map[string]bool
	guessed     map[string]bool // direction guessed from the name
	cells       []cellStats     // aligned with grid.cells
	best        map[string]int  // metric -> cell index, absent when no cell has it
	outliers    []outlier
	outlierOf   map[int][]string // manifest position -> metrics
	sensitivity map[string]map[string]map[string]float64
	comparisons []comparison
	spread      []spreadRow
	data        plots.Data
	dataCell    []int // grid cell index -> index in data.Cells, -1 when not drawn
}

type cellStats struct {
	nOK, nFailed, nLost int
	stats               map[string]summary // metric or measure -> summary over ok trials
	tallies             map[string]tally   // other metric -> tally over ok trials
}

// outlier is one trial whose metric stands out of its cell.
type outlier struct {
	pos    int // manifest position
	cell   int
	metric string
	value  float64
	median float64
	z      float64
}

// comparison is the difference between two models' means of one metric at
// one setting of the parameters they share.
type comparison struct {
	a, b, metric, setting string
	meanA, meanB, diff    float64
	se                    float64 // Welch standard error of diff, NaN under two trials a side
	nA, nB                int
}

// spreadRow is one line of statistical_summary.csv.
type spreadRow struct {
	metric, model    string
	nCells           int
	all              summary // over every ok trial
	cellMin, cellMax float64 // range of the cell means
}

// value is the metric or measure m of a kept attempt, if usable.
func (r *runRec) value(m string) (float64, bool) {
	if i, ok := runCol[m]; ok {
		v, ok := r.vals[i].(float64)
		return v, ok && isFinite(v)
	}
	v, ok := r.metrics[m]
	return v, ok && isFinite(v)
}

func analyse(st *study.Study, g *grid, s *state) *analysis {
	a := &analysis{maximize: map[string]bool{}, guessed: map[string]bool{}, best: map[string]int{}, outlierOf: map[int][]string{}}
	a.metrics = displayOrder(st, s.metrics())
	for _, c := range s.metricColumns() {
		if c.Kind != table.Double {
			a.others = append(a.others, c)
		}
	}
	for _, m := range append(slices.Clone(a.metrics), measures...) {
		switch {
		case slices.Contains(st.Collect.Maximize, m):
			a.maximize[m] = true
		case slices.Contains(st.Collect.Minimize, m):
		default:
			a.maximize[m] = guessMaximize(m)
			a.guessed[m] = true
		}
	}
	all := append(slices.Clone(a.metrics), measures...)
	a.cells = make([]cellStats, len(g.cells))
	for ci, c := range g.cells {
		cs := cellStats{stats: map[string]summary{}, tallies: map[string]tally{}}
		for _, pos := range c.runs {
			switch r := s.runs[pos]; {
			case r == nil:
				cs.nLost++
			case r.ok:
				cs.nOK++
			default:
				cs.nFailed++
			}
		}
		for _, m := range all {
			var xs []float64
			var at []int
			for _, pos := range c.runs {
				if r := s.runs[pos]; r != nil && r.ok {
					if v, ok := r.value(m); ok {
						xs = append(xs, v)
						at = append(at, pos)
					}
				}
			}
			if !slices.Contains(measures, m) {
				for i, z := range robustZ(xs) {
					if math.Abs(z) > outlierZ {
						a.outliers = append(a.outliers, outlier{pos: at[i], cell: ci, metric: m, value: xs[i], median: quantile(slices.Sorted(slices.Values(xs)), 0.5), z: z})
						a.outlierOf[at[i]] = append(a.outlierOf[at[i]], m)
					}
				}
			}
			cs.stats[m] = summarize(xs)
		}
		for _, col := range a.others {
			cs.tallies[col.Name] = tallyOf(s, c.runs, col)
		}
		a.ok += cs.nOK
		a.failed += cs.nFailed
		a.lost += cs.nLost
		a.cells[ci] = cs
	}
	for _, m := range all {
		best := -1
		for ci, cs := range a.cells {
			v := cs.stats[m].Mean
			if !isFinite(v) {
				continue
			}
			if best < 0 || a.better(m, v, a.cells[best].stats[m].Mean) {
				best = ci
			}
		}
		if best >= 0 {
			a.best[m] = best
		}
	}
	a.spread = spreadOf(g, s, a, all)
	a.data, a.dataCell = plotData(st, g, s, a)
	a.sensitivity = map[string]map[string]map[string]float64{}
	for _, m := range a.metrics {
		a.sensitivity[m] = map[string]map[string]float64{}
		for _, model := range st.ModelNames() {
			a.sensitivity[m][model] = plots.MainEffects(a.data, m, model)
		}
	}
	a.comparisons = compareModels(st, g, s, a)
	return a
}

// tallyOf counts the values of the boolean or string metric col over the
// ok trials among the runs at the manifest positions.
func tallyOf(s *state, runs []int, col table.Column) tally {
	var bools []bool
	var texts []string
	for _, pos := range runs {
		r := s.runs[pos]
		if r == nil || !r.ok {
			continue
		}
		if col.Kind == table.Bool {
			if v, ok := r.other[col.Name].(bool); ok {
				bools = append(bools, v)
			}
		} else if v, ok := r.text(col.Name); ok {
			texts = append(texts, v)
		}
	}
	if col.Kind == table.Bool {
		return tallyBools(bools)
	}
	return tallyTexts(texts)
}

// better reports whether x is a better value of metric m than y.
func (a *analysis) better(m string, x, y float64) bool {
	if a.maximize[m] {
		return x > y
	}
	return x < y
}

// displayOrder lists the metrics the study names in [collect] first, in its
// order, then the others alphabetically.
func displayOrder(st *study.Study, reported []string) []string {
	var out []string
	for _, m := range append(slices.Clone(st.Collect.Maximize), st.Collect.Minimize...) {
		if slices.Contains(reported, m) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	for _, m := range reported {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func spreadOf(g *grid, s *state, a *analysis, all []string) []spreadRow {
	var rows []spreadRow
	for _, m := range all {
		for _, model := range g.st.ModelNames() {
			row := spreadRow{metric: m, model: model, cellMin: math.NaN(), cellMax: math.NaN()}
			var xs []float64
			for ci, c := range g.cells {
				if c.model != model {
					continue
				}
				if v := a.cells[ci].stats[m].Mean; isFinite(v) {
					row.nCells++
					row.cellMin = nanMin(row.cellMin, v)
					row.cellMax = nanMax(row.cellMax, v)
				}
				for _, pos := range c.runs {
					if r := s.runs[pos]; r != nil && r.ok {
						if v, ok := r.value(m); ok {
							xs = append(xs, v)
						}
					}
				}
			}
			if len(xs) == 0 {
				continue
			}
			row.all = summarize(xs)
			rows = append(rows, row)
		}
	}
	return rows
}

func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || b < a {
		return b
	}
	return a
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a {
		return b
	}
	return a
}

// plotScale maps a study scale to a figure scale. A hand-written list of
// positive numbers spanning two decades or more is drawn on a log axis, as
// people write 1e6, 1e7, 1e8.
func plotScale(scale string, numeric []float64) string {
	switch {
	case numeric == nil:
		return plots.ScaleCategorical
	case scale == "log" || scale == "log2" || scale == "linear":
		return scale
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range numeric {
		if !(v > 0) {
			return plots.ScaleLinear
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi/lo >= 100 {
		return plots.ScaleLog
	}
	return plots.ScaleLinear
}

// plotData builds the figures' view of the aggregates: every cell with at
// least one finished trial (cells never run are left out, so figures show
// them as not run), and the mean ± std convergence curve of each cell.
func plotData(st *study.Study, g *grid, s *state, a *analysis) (plots.Data, []int) {
	d := plots.Data{Maximize: map[string]bool{}, Curves: map[string][]plots.Curve{}}
	for i, col := range g.params {
		d.Params = append(d.Params, plots.Param{Name: col.Name, Labels: g.labels[i], Numeric: g.numeric[i], Scale: plotScale(g.scales[i], g.numeric[i])})
	}
	if len(st.Models) > 0 {
		d.Models = st.ModelNames()
	}
	d.Metrics = slices.Clone(a.metrics)
	if _, ok := a.best["wall_s"]; ok {
		// Run time is the cost axis of the Pareto plot.
		d.Metrics = append(d.Metrics, "wall_s")
	}
	for _, m := range d.Metrics {
		d.Maximize[m] = a.maximize[m]
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
			if sm := cs.stats[m]; sm.N > 0 {
				pc.Metrics[m] = plots.Stat{Mean: sm.Mean, Std: sm.Std, SEM: sm.SEM, CI95: ci95(sm.SEM, sm.N), N: sm.N}
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
	return d, at
}

// compareModels compares every pair of models at each setting of the
// parameters they share. A model's trials at a setting are pooled over the
// parameters only it sweeps: the comparison is then "model a as swept"
// against "model b as swept", and the spread includes a's own parameters.
func compareModels(st *study.Study, g *grid, s *state, a *analysis) []comparison {
	models := st.ModelNames()
	var out []comparison
	for i := range models {
		for j := i + 1; j < len(models); j++ {
			ma, mb := models[i], models[j]
			var shared []int
			for pi, col := range g.params {
				if hasParam(st, ma, col.Name) && hasParam(st, mb, col.Name) {
					shared = append(shared, pi)
				}
			}
			for _, m := range a.metrics {
				va, order := settingValues(g, s, ma, m, shared)
				vb, _ := settingValues(g, s, mb, m, shared)
				for _, key := range order {
					xa, xb := va[key], vb[key]
					if len(xa) == 0 || len(xb) == 0 {
						continue
					}
					sa, sb := summarize(xa), summarize(xb)
					c := comparison{a: ma, b: mb, metric: m, setting: key, meanA: sa.Mean, meanB: sb.Mean, diff: sa.Mean - sb.Mean, se: math.NaN(), nA: sa.N, nB: sb.N}
					if sa.N > 1 && sb.N > 1 {
						c.se = math.Sqrt(sa.Std*sa.Std/float64(sa.N) + sb.Std*sb.Std/float64(sb.N))
					}
					out = append(out, c)
				}
			}
		}
	}
	return out
}

func hasParam(st *study.Study, model, name string) bool {
	for _, p := range st.ParamsFor(model) {
		if p.Name == name {
			return true
		}
	}
	return false
}

// settingValues pools the ok trial values of metric m of model's cells by
// their setting of the shared parameters; order lists settings as first met.
func settingValues(g *grid, s *state, model, m string, shared []int) (map[string][]float64, []string) {
	vals := map[string][]float64{}
	var order []string
	for _, c := range g.cells {
		if c.model != model {
			continue
		}
		parts := make([]string, len(shared))
		for k, pi := range shared {
			parts[k] = g.params[pi].Name + "=" + formatValue(c.values[pi])
		}
		key := strings.Join(parts, ", ")
		if _, ok := vals[key]; !ok {
			order = append(order, key)
			vals[key] = nil
		}
		for _, pos := range c.runs {
			if r := s.runs[pos]; r != nil && r.ok {
				if v, ok := r.value(m); ok {
					vals[key] = append(vals[key], v)
				}
			}
		}
	}
	return vals, order
}

// ranked returns the indices of cells with a finite mean of m, best first
// (ties in grid order).
func (a *analysis) ranked(m string) []int {
	var idx []int
	for ci, cs := range a.cells {
		if isFinite(cs.stats[m].Mean) {
			idx = append(idx, ci)
		}
	}
	sort.SliceStable(idx, func(i, j int) bool {
		return a.better(m, a.cells[idx[i]].stats[m].Mean, a.cells[idx[j]].stats[m].Mean)
	})
	return idx
}
