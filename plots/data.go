package plots

import (
	"fmt"
	"math"
	"strconv"
)

// Scales of a parameter's levels.
const (
	ScaleLinear      = "linear"      // evenly spaced numbers
	ScaleLog         = "log"         // log10-spaced numbers (1e2, 1e3, …)
	ScaleLog2        = "log2"        // powers of two (256, 512, …)
	ScaleCategorical = "categorical" // names, or numbers without order
)

// Param is one swept parameter: its levels in sweep order, labelled as the
// user wrote them ("1e6", "512", "adam"). Axes show numeric levels in
// numeric order, whatever the sweep order.
type Param struct {
	Name    string
	Labels  []string
	Numeric []float64 // value of each level; nil when the parameter is not numeric
	Scale   string    // ScaleLinear, ScaleLog, ScaleLog2 or ScaleCategorical ("" = categorical)
	// ModelLevels lists the levels each model sweeps, for a parameter
	// that models sweep over different values: a model's figures then
	// show its own levels only. nil: every model has every level.
	ModelLevels map[string][]int
}

// Stat summarises one metric over the trials of one cell.
type Stat struct {
	Mean, Std, SEM float64
	CI95           float64 // half-width of the 95% confidence interval of the mean
	N              int     // trials that reported a finite value
	// NonFinite counts the trials that reported NaN or ±Inf (a diverged
	// run); they are left out of Mean and N, and figures mark the cell.
	NonFinite int
}

// Metric directions (MetricInfo.Direction).
const (
	Maximize = "maximize"
	Minimize = "minimize"
)

// MetricInfo is what the study declares about a metric.
type MetricInfo struct {
	Label string // axis and title text; "" = the metric's name
	Unit  string // printed after the label, e.g. "s" or "dB"
	// Direction is Maximize, Minimize or "" when not declared: such a
	// metric gets no best cell, no Pareto front and a plain colour scale,
	// as nothing says which end is good.
	Direction string
	// Lower and Upper bound the values the metric can take (nil: none);
	// error bars and bands are clipped to them (an MSE is never
	// negative, whatever mean − std says).
	Lower, Upper *float64
	// Declared marks a metric the study names: figures draw the
	// declared metrics by default.
	Declared bool
}

// Cell is one grid point: one level index per parameter (in Data.Params
// order; -1 where the parameter does not apply to this model) and a model.
type Cell struct {
	Model   string
	Levels  []int
	Metrics map[string]Stat
	Failed  bool // no trial of the cell finished ok
}

// Curve is one convergence curve: a metric over training steps for one
// cell, averaged over its trials, with a band from Lo to Hi (e.g. mean ± std).
type Curve struct {
	Model        string
	Cell         int // index into Data.Cells, -1 when the curve is not a single cell's
	Steps        []float64
	Mean, Lo, Hi []float64 // same length as Steps; Lo and Hi may be nil
}

// Data is what the collector hands to the figures.
type Data struct {
	Params  []Param
	Models  []string // in display order; may be empty (cells then have Model "")
	Cells   []Cell
	Metrics []string              // in display order
	Info    map[string]MetricInfo // by metric (and history) name; absent: nothing declared

	// Curves holds convergence curves per metric name (optional).
	Curves map[string][]Curve
	// Sensitivity optionally overrides the computed sensitivity shares:
	// metric → model → parameter → share of variance in [0, 1].
	Sensitivity map[string]map[string]map[string]float64
	// Comparisons optionally gives the model differences the difference
	// heatmaps draw, as the collector's reports state them; when nil,
	// ModelDifference averages each model over its own parameters.
	Comparisons []Comparison
}

// Comparison is the difference of two models in one metric at one setting
// of the parameters both models sweep, as computed by the caller (so that
// a figure shows the very numbers a report states).
type Comparison struct {
	A, B, Metric string
	// Levels is the setting: a level index per parameter of Data.Params,
	// -1 for the parameters the two models do not share.
	Levels []int
	Diff   float64 // mean of A minus mean of B
	// Best says that each model is taken at its best cell of the setting
	// (its best own parameters, by the metric's direction); otherwise each
	// is pooled over the parameters only it sweeps.
	Best bool
	// CellA and CellB index Data.Cells: the cell of each model compared
	// when Best, -1 when pooled.
	CellA, CellB int
}

// Validate reports structural errors: cells whose level lists do not match
// the parameters, unknown models, mismatched curve lengths. Values (NaN,
// constants, failed cells) are never errors.
func (d Data) Validate() error {
	for i, p := range d.Params {
		if p.Name == "" {
			return fmt.Errorf("plots: parameter %d has no name", i)
		}
		if p.Numeric != nil && len(p.Numeric) != len(p.Labels) {
			return fmt.Errorf("plots: parameter %s: %d labels but %d numeric values", p.Name, len(p.Labels), len(p.Numeric))
		}
	}
	for _, p := range d.Params {
		for m, ls := range p.ModelLevels {
			for _, l := range ls {
				if l < 0 || l >= len(p.Labels) {
					return fmt.Errorf("plots: parameter %s: level %d of model %q out of range", p.Name, l, m)
				}
			}
		}
	}
	models := map[string]bool{}
	for _, m := range d.Models {
		models[m] = true
	}
	for i, c := range d.Cells {
		if err := d.checkLevels("cell", i, c.Levels); err != nil {
			return err
		}
		if len(d.Models) > 0 && !models[c.Model] {
			return fmt.Errorf("plots: cell %d: model %q not in Models", i, c.Model)
		}
	}
	for i, c := range d.Comparisons {
		if err := d.checkLevels("comparison", i, c.Levels); err != nil {
			return err
		}
		if c.CellA < -1 || c.CellA >= len(d.Cells) || c.CellB < -1 || c.CellB >= len(d.Cells) {
			return fmt.Errorf("plots: comparison %d: cell out of range", i)
		}
	}
	for m, cs := range d.Curves {
		for i, c := range cs {
			if len(c.Mean) != len(c.Steps) || (c.Lo != nil && len(c.Lo) != len(c.Steps)) || (c.Hi != nil && len(c.Hi) != len(c.Steps)) {
				return fmt.Errorf("plots: curve %d of %s: lengths of Steps, Mean, Lo, Hi differ", i, m)
			}
			if c.Cell < -1 || c.Cell >= len(d.Cells) {
				return fmt.Errorf("plots: curve %d of %s: cell %d out of range", i, m, c.Cell)
			}
		}
	}
	return nil
}

// models returns the models to draw: Data.Models, or the single unnamed
// model when the study has no model dimension.
func (d Data) models() []string {
	if len(d.Models) == 0 {
		return []string{""}
	}
	return d.Models
}

// paramIndex returns the index of the named parameter.
func (d Data) paramIndex(name string) (int, error) {
	for i, p := range d.Params {
		if p.Name == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("plots: unknown parameter %q", name)
}

// hasMetric reports whether metric is one of d.Metrics.
func (d Data) hasMetric(metric string) error {
	for _, m := range d.Metrics {
		if m == metric {
			return nil
		}
	}
	return fmt.Errorf("plots: unknown metric %q", metric)
}

// unreported reports whether no run of model reported metric although some
// of them ended ok: a metric that only another model's runs report (a
// stage after the runs may attach it to one model only). Figures of that
// metric for model would hold nothing but "no value" cells, so none is
// drawn. A model whose every run failed still gets them: its grey × cells
// say so truthfully.
func (d Data) unreported(model, metric string) bool {
	ok := false
	for _, c := range d.Cells {
		if c.Model != model {
			continue
		}
		if _, has := c.Metrics[metric]; has {
			return false
		}
		ok = ok || !c.Failed
	}
	return ok
}

// value is the mean of metric in c, NaN when the cell failed or lacks it.
func value(c Cell, metric string) float64 {
	if c.Failed {
		return math.NaN()
	}
	s, ok := c.Metrics[metric]
	if !ok || math.IsInf(s.Mean, 0) {
		return math.NaN()
	}
	return s.Mean
}

// levelsFor returns, for each parameter, how many distinct levels the
// cells of model use (0 when the parameter does not apply to it).
func (d Data) levelsFor(model string) []int {
	seen := make([]map[int]bool, len(d.Params))
	for i := range seen {
		seen[i] = map[int]bool{}
	}
	for _, c := range d.Cells {
		if c.Model != model {
			continue
		}
		for i, l := range c.Levels {
			if l >= 0 {
				seen[i][l] = true
			}
		}
	}
	n := make([]int, len(d.Params))
	for i, s := range seen {
		n[i] = len(s)
	}
	return n
}

// label is the text of level i of p.
func (p Param) label(i int) string {
	if i >= 0 && i < len(p.Labels) && p.Labels[i] != "" {
		return p.Labels[i]
	}
	if i >= 0 && i < len(p.Numeric) {
		return strconv.FormatFloat(p.Numeric[i], 'g', -1, 64)
	}
	return strconv.Itoa(i)
}

// logScaled reports whether p should be drawn on a logarithmic axis: it is
// log-spaced and every value is positive.
func (p Param) logScaled() bool {
	if (p.Scale != ScaleLog && p.Scale != ScaleLog2) || len(p.Numeric) == 0 {
		return false
	}
	for _, v := range p.Numeric {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// numericAxis reports whether p can be placed by value on a linear or log
// axis (otherwise its levels sit at evenly spaced index positions).
func (p Param) numericAxis() bool {
	if p.Scale == ScaleCategorical || p.Scale == "" || len(p.Numeric) == 0 {
		return false
	}
	for _, v := range p.Numeric {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return p.Scale == ScaleLinear || p.logScaled()
}

// decades reports whether p's positive values span two decades or more.
func (p Param) decades() bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range p.Numeric {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return hi/lo >= 100
}

// checkLevels checks the levels of item i (a cell or a comparison): one
// per parameter, each a label's index or -1.
func (d *Data) checkLevels(item string, i int, levels []int) error {
	if len(levels) != len(d.Params) {
		return fmt.Errorf("plots: %s %d has %d levels for %d parameters", item, i, len(levels), len(d.Params))
	}
	for j, l := range levels {
		if l < -1 || l >= len(d.Params[j].Labels) {
			return fmt.Errorf("plots: %s %d: level %d of %s out of range", item, i, l, d.Params[j].Name)
		}
	}
	return nil
}
