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
	others table.Schema
	// direction is, per metric and measure, plots.Maximize or
	// plots.Minimize as the study (or, for the runner's measures, the
	// runner) declares it, "" when undeclared: such a metric has
	// statistics but no best cell, no ranking and no better model.
	direction map[string]string
	cells     []cellStats    // aligned with grid.cells
	best      map[string]int // metric -> cell index, absent when no cell has it or no direction
	outliers  []outlier
	outlierOf map[int][]string // manifest position -> metrics
	// noMetrics are the manifest positions of the ok runs that reported
	// no metric at all: a command that forgot to write them, or wrote
	// them where the runner does not look.
	noMetrics   []int
	sensitivity map[string]map[string]map[string]float64
	comparisons []comparison
	spread      []spreadRow
	data        plots.Data
	dataCell    []int // grid cell index -> index in data.Cells, -1 when not drawn
}

type cellStats struct {
	nOK, nFailed, nLost int
	stats               map[string]summary // metric or measure -> summary over ok trials
	// nonFinite counts, per metric, the ok trials that reported NaN or
	// ±Inf (a diverged run): they are left out of stats, and the run
	// stays ok. Nil in the common cell without any.
	nonFinite map[string]int
	tallies   map[string]tally // other metric -> tally over ok trials
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
// one setting of the parameters they share: pooled over each model's own
// parameters, or (best) between each model's best cell at that setting.
type comparison struct {
	a, b, metric, setting string
	best                  bool
	cellA, cellB          int // the grid cells compared when best, else -1
	meanA, meanB, diff    float64
	se                    float64 // Welch standard error of diff, NaN under two trials a side
	nA, nB                int
}

// significant reports whether the difference exceeds twice its standard
// error (about 95 % confidence for a handful of trials or more).
func (c comparison) significant() bool {
	return isFinite(c.se) && math.Abs(c.diff) > 2*c.se
}

// spreadRow is one line of statistical_summary.csv.
type spreadRow struct {
	metric, model    string
	nCells           int
	all              summary // over every ok trial
	cellMin, cellMax float64 // range of the cell means
}

func analyse(st *study.Study, g *grid, s *state) *analysis {
	a := &analysis{direction: map[string]string{}, best: map[string]int{}, outlierOf: map[int][]string{}}
	a.metrics = displayOrder(st, s.metrics())
	for _, c := range s.metricColumns() {
		if c.Kind != table.Double {
			a.others = append(a.others, c)
		}
	}
	all := append(slices.Clone(a.metrics), measures...)
	for _, m := range all {
		if d := metricInfo(st, m).Direction; d != "" {
			a.direction[m] = d
		}
	}
	a.cells = make([]cellStats, len(g.cells))
	for ci, c := range g.cells {
		cs := cellStats{stats: map[string]summary{}, tallies: map[string]tally{}}
		for _, pos := range c.runs {
			switch r := s.runs[pos]; {
			case r == nil:
				cs.nLost++
			case r.ok:
				cs.nOK++
				if !r.hasMetrics() {
					a.noMetrics = append(a.noMetrics, pos)
				}
				for m, v := range r.numbers() {
					if !isFinite(v) {
						if cs.nonFinite == nil {
							cs.nonFinite = map[string]int{}
						}
						cs.nonFinite[m]++
					}
				}
			default:
				cs.nFailed++
			}
		}
		for _, m := range all {
			xs, _ := cellValues(s, c, m)
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
		if !a.judged(m) {
			continue
		}
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
	slices.Sort(a.noMetrics)
	a.findOutliers(g, s)
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

// cellValues returns the finite values of metric or measure m of the ok
// trials of cell c, in manifest order, with the manifest position of each.
func cellValues(s *state, c *cell, m string) (xs []float64, at []int) {
	for _, pos := range c.runs {
		if r := s.runs[pos]; r != nil && r.ok {
			if v, ok := r.value(m); ok {
				xs = append(xs, v)
				at = append(at, pos)
			}
		}
	}
	return xs, at
}

// findOutliers flags the trials whose metric stands out of their cell
// (robustZ), one metric at a time: each cell is judged against the spread
// of the metric pooled over the cells of its model, so the values of one
// metric are all in memory at once, never those of every metric.
func (a *analysis) findOutliers(g *grid, s *state) {
	for _, m := range a.metrics {
		vals := make([][]float64, len(g.cells))
		at := make([][]int, len(g.cells))
		byModel := map[string][][]float64{}
		for ci, c := range g.cells {
			vals[ci], at[ci] = cellValues(s, c, m)
			byModel[c.model] = append(byModel[c.model], vals[ci])
		}
		pooled := map[string]float64{}
		for model, groups := range byModel {
			pooled[model] = pooledMAD(groups)
		}
		for ci, c := range g.cells {
			xs := vals[ci]
			z := robustZ(xs, pooled[c.model])
			if z == nil {
				continue
			}
			med := quantile(slices.Sorted(slices.Values(xs)), 0.5)
			for i, pos := range at[ci] {
				if math.Abs(z[i]) > outlierZ {
					a.outliers = append(a.outliers, outlier{pos: pos, cell: ci, metric: m, value: xs[i], median: med, z: z[i]})
					a.outlierOf[pos] = append(a.outlierOf[pos], m)
				}
			}
		}
	}
}

// nonFiniteCell is one cell where ok trials reported NaN or ±Inf for a
// metric.
type nonFiniteCell struct {
	cell   int
	metric string
	n      int
}

// nonFiniteCells lists the cells with non-finite values, in grid order
// and, within a cell, in display order of the metrics.
func (a *analysis) nonFiniteCells() []nonFiniteCell {
	var out []nonFiniteCell
	for ci, cs := range a.cells {
		for _, m := range a.metrics {
			if n := cs.nonFinite[m]; n > 0 {
				out = append(out, nonFiniteCell{cell: ci, metric: m, n: n})
			}
		}
	}
	return out
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
			if v, ok := r.boolMetric(col.Name); ok {
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

// judged reports whether metric m has a declared direction, so that one
// value of it can be better than another.
func (a *analysis) judged(m string) bool { return a.direction[m] != "" }

// better reports whether x is a better value of metric m than y; never for
// a metric without a declared direction, which has no better value.
func (a *analysis) better(m string, x, y float64) bool {
	switch a.direction[m] {
	case plots.Maximize:
		return x > y
	case plots.Minimize:
		return x < y
	}
	return false
}

// bestMetrics lists the metrics that have a best cell, in display order
// (the runner's measures are not among them).
func (a *analysis) bestMetrics() []string {
	var out []string
	for _, m := range a.metrics {
		if _, ok := a.best[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

// undeclared lists the metrics without a declared direction, in display
// order.
func (a *analysis) undeclared() []string {
	var out []string
	for _, m := range a.metrics {
		if !a.judged(m) {
			out = append(out, m)
		}
	}
	return out
}

// displayOrder lists the metrics the study declares in [collect] first, in
// its order (study.Collect.Declared), then the others alphabetically.
func displayOrder(st *study.Study, reported []string) []string {
	var out []string
	for _, m := range st.Collect.Declared() {
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

// compareModels compares every pair of models at each setting of the
// parameters they share, two ways. Pooled: a model's trials at a setting
// are pooled over the parameters only it sweeps, "model a as swept"
// against "model b as swept", good and bad values of its own parameters
// alike. Best vs best: each model at its best cell of the setting (its
// best own hyperparameters for that metric), which is what a user tuning
// both would compare; made only when a model of the pair has parameters of
// its own, since it is the pooled comparison otherwise.
func compareModels(st *study.Study, g *grid, s *state, a *analysis) []comparison {
	models := st.ModelNames()
	var out []comparison
	for i := range models {
		for j := i + 1; j < len(models); j++ {
			ma, mb := models[i], models[j]
			shared := sharedParams(g, ma, mb)
			own := len(st.ParamsFor(ma)) > len(shared) || len(st.ParamsFor(mb)) > len(shared)
			settings, order := settingCells(g, shared)
			for _, best := range []bool{false, true} {
				if best && !own {
					continue
				}
				for _, m := range a.metrics {
					if best && !a.judged(m) {
						// No best cell without a direction.
						continue
					}
					for _, key := range order {
						if c, ok := a.compareAt(g, s, m, key, settings[key], ma, mb, best); ok {
							out = append(out, c)
						}
					}
				}
			}
		}
	}
	return out
}

// compareAt compares models ma and mb in metric m among the cells of one
// setting, pooled or best vs best; ok is false when a model has no value.
func (a *analysis) compareAt(g *grid, s *state, m, setting string, cells []int, ma, mb string, best bool) (comparison, bool) {
	c := comparison{a: ma, b: mb, metric: m, setting: setting, best: best, se: math.NaN()}
	values := func(model string) ([]float64, int) {
		var xs []float64
		pick := -1
		for _, ci := range cells {
			if g.cells[ci].model != model {
				continue
			}
			if !best {
				v, _ := cellValues(s, g.cells[ci], m)
				xs = append(xs, v...)
			} else if mean := a.cells[ci].stats[m].Mean; isFinite(mean) && (pick < 0 || a.better(m, mean, a.cells[pick].stats[m].Mean)) {
				pick = ci
			}
		}
		if pick >= 0 {
			xs, _ = cellValues(s, g.cells[pick], m)
		}
		return xs, pick
	}
	xa, pa := values(ma)
	xb, pb := values(mb)
	if len(xa) == 0 || len(xb) == 0 {
		return c, false
	}
	sa, sb := summarize(xa), summarize(xb)
	c.cellA, c.cellB = pa, pb
	c.meanA, c.meanB, c.diff, c.nA, c.nB = sa.Mean, sb.Mean, sa.Mean-sb.Mean, sa.N, sb.N
	if sa.N > 1 && sb.N > 1 {
		c.se = math.Sqrt(sa.Std*sa.Std/float64(sa.N) + sb.Std*sb.Std/float64(sb.N))
	}
	return c, true
}

func hasParam(st *study.Study, model, name string) bool {
	for _, p := range st.ParamsFor(model) {
		if p.Name == name {
			return true
		}
	}
	return false
}

// settingCells groups the grid cells by their values of the shared
// parameters ("nphotons=1e6, n_images=512"); order lists the settings as
// first met in the grid.
func settingCells(g *grid, shared []int) (map[string][]int, []string) {
	cells := map[string][]int{}
	var order []string
	for ci, c := range g.cells {
		parts := make([]string, len(shared))
		for k, pi := range shared {
			parts[k] = g.params[pi].Name + "=" + formatValue(c.values[pi])
		}
		key := strings.Join(parts, ", ")
		if _, ok := cells[key]; !ok {
			order = append(order, key)
		}
		cells[key] = append(cells[key], ci)
	}
	return cells, order
}

// ranked returns the indices of cells with a finite mean of m, best first
// (ties in grid order); none for a metric without a declared direction.
func (a *analysis) ranked(m string) []int {
	if !a.judged(m) {
		return nil
	}
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
