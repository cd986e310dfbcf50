package plots

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// surfaceAxis is one horizontal axis of a surface page: the levels that
// hold data, sorted by value, and their positions in [-1, 1].
type surfaceAxis struct {
	Name   string    `json:"name"`
	Labels []string  `json:"labels"` // as the user wrote them
	Pos    []float64 `json:"pos"`    // linear in the value, or in log10 of it on a log axis
}

// surfaceTick is a labelled value on the vertical axis.
type surfaceTick struct {
	V float64 `json:"v"`
	L string  `json:"l"`
}

// surfacePage is the data the page's script draws. The grid is row-major,
// y slowest; states are stMissing, stFailed and stOK.
type surfacePage struct {
	Metric string        `json:"metric"`
	X      surfaceAxis   `json:"x"`
	Y      surfaceAxis   `json:"y"`
	ZMin   float64       `json:"zmin"` // range of the vertical axis and colour scale
	ZMax   float64       `json:"zmax"`
	ZTicks []surfaceTick `json:"zticks"`
	Val    []jsonFloat   `json:"val"`
	State  []int         `json:"state"`
	Note   []string      `json:"note"` // the value as the tooltip prints it
	Best   int           `json:"best"` // index of the best point, -1 when none stands out
	// Colors is the 256-entry colour map as hex triplets, low to high
	// values, already reversed for metrics to minimise (good is yellow).
	Colors string `json:"colors"`
}

// jsonFloat is a number that encodes NaN and infinities as null, which
// encoding/json refuses to write.
type jsonFloat float64

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// Surface draws metric of model over the numeric parameters x and y as an
// interactive 3-D surface and returns one self-contained HTML page: its
// script, styles and data are inline, so it opens offline and can be
// mailed. The page draws on a 2-D canvas (no WebGL, nothing fetched):
// drag to rotate, wheel to zoom, hover for the values of the nearest grid
// point. The metric is on z and coloured with viridis, reversed for
// metrics to minimise so that good is always yellow; the best point is
// ringed. Levels are placed by value, log-spaced ones by log10 of it (so a
// log range is evenly spaced, as in the heatmaps), and labelled as the user
// wrote them. Other parameters are marginalised as Options.Marginal says.
// Points where every run failed are grey crosses on the floor, points
// whose runs ended ok without reporting the metric gaps in the mesh; levels
// that hold no cell of the model are left out. A surface with no finite
// value returns ErrNoData; one over a non-numeric parameter an error.
func Surface(d Data, x, y, metric, model string, opt Options) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.hasMetric(metric); err != nil {
		return nil, err
	}
	if err := d.checkModel(model); err != nil {
		return nil, err
	}
	xi, err := d.paramIndex(x)
	if err != nil {
		return nil, err
	}
	yi, err := d.paramIndex(y)
	if err != nil {
		return nil, err
	}
	if xi == yi {
		return nil, fmt.Errorf("plots: surface needs two distinct parameters, got %s twice", x)
	}
	for _, p := range []Param{d.Params[xi], d.Params[yi]} {
		if !p.numericAxis() {
			return nil, fmt.Errorf("plots: surface: parameter %s is not numeric", p.Name)
		}
	}
	marginal := opt.marginal()
	g := aggregate(d, model, metric, []int{yi, xi}, allLevels(d, []int{yi, xi}), marginal, ErrorStd)
	marginal = g.marginal
	nx := g.sizes[1]
	xs := surfaceLevels(d.Params[xi], func(l int) bool {
		for j := range g.sizes[0] {
			if g.at(j, l).state != stMissing {
				return true
			}
		}
		return false
	})
	ys := surfaceLevels(d.Params[yi], func(l int) bool {
		for _, pt := range g.points[l*nx : (l+1)*nx] {
			if pt.state != stMissing {
				return true
			}
		}
		return false
	})

	n := len(xs) * len(ys)
	pts := make([]point, 0, n)
	vals := make([]float64, 0, n)
	for _, j := range ys {
		for _, i := range xs {
			pt := g.at(j, i)
			pts = append(pts, pt)
			vals = append(vals, pt.val)
		}
	}
	maximize := d.maximize(metric)
	best := -1
	for k, pt := range pts {
		if pt.state == stOK && (best < 0 || better(pt.val, pts[best].val, maximize)) {
			best = k
		}
	}
	if best < 0 {
		return nil, ErrNoData
	}
	if !d.directed(metric) {
		best = -1 // no ring without a declared direction
	}

	page := surfacePage{
		Metric: d.axisLabel(metric),
		X:      surfaceAxisOf(d.Params[xi], xs),
		Y:      surfaceAxisOf(d.Params[yi], ys),
		Val:    make([]jsonFloat, n),
		State:  make([]int, n),
		Note:   make([]string, n),
		Best:   best,
	}
	scale := sequential(vals, maximize)
	page.ZMin, page.ZMax = scale.min, scale.max
	for _, tk := range barTicks(scale) {
		page.ZTicks = append(page.ZTicks, surfaceTick{V: tk.Value, L: tk.Label})
	}
	var colors strings.Builder
	for i := range 256 {
		c := viridis[i]
		if scale.reversed {
			c = viridis[255-i]
		}
		fmt.Fprintf(&colors, "%02x%02x%02x", c[0], c[1], c[2])
	}
	page.Colors = colors.String()

	fmtr := newFormatter(vals)
	stds := make([]float64, n)
	for k, pt := range pts {
		stds[k] = pt.std
	}
	stdFmt := newFormatter(stds)
	stdFmt.decimals = max(stdFmt.decimals, fmtr.decimals)
	for k, pt := range pts {
		page.Val[k] = jsonFloat(pt.val)
		page.State[k] = pt.state
		switch pt.state {
		case stNonFinite:
			// The page draws it on the floor like a failed point.
			page.State[k] = stFailed
			page.Note[k] = "every value NaN or ±Inf"
		case stOK:
			page.Note[k] = fmtr.format(pt.val)
			if pt.std > 0 {
				page.Note[k] += " ± " + stdFmt.format(pt.std)
			}
		case stFailed:
			page.Note[k] = "every run failed"
		case stNoValue:
			// Left blank like a point not run: the runs are ok, they
			// did not report the metric.
			page.State[k] = stMissing
			page.Note[k] = "no value reported"
		}
	}

	lo, hi := minMax(finiteOnly(vals))
	title := d.title(metric)
	if model != "" {
		title += " – " + model
	}
	sub := []string{}
	if note := marginalNote(g.hidden, marginal); note != "" {
		sub = append(sub, note)
	}
	if lo == hi {
		// A ring on one point of a flat surface would claim a winner.
		page.Best = -1
		sub = append(sub, "constant: "+fmtr.format(lo))
	} else if d.directed(metric) {
		sub = append(sub, "ringed: best ("+d.direction(metric)+"), yellow is better")
	} else {
		sub = append(sub, "no best ringed: direction not declared")
	}
	if hasState(pts, stFailed) || hasState(pts, stNonFinite) {
		sub = append(sub, "grey ×: every run failed, or every value NaN or ±Inf")
	}
	if hasState(pts, stNoValue) {
		sub = append(sub, "gap: runs ok, no value reported")
	}

	data, err := json.Marshal(page)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	r := strings.NewReplacer("{{TITLE}}", html.EscapeString(title), "{{SUBTITLE}}", html.EscapeString(strings.Join(sub, " · ")),
		"{{DATA}}", string(data), "{{SCRIPT}}", surfaceScript)
	if _, err := r.WriteString(&b, surfaceHTML); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// surfaceLevels returns the levels of p for which has is true, sorted by
// value so that neighbours in the mesh are neighbours on the axis.
func surfaceLevels(p Param, has func(level int) bool) []int {
	var ls []int
	for l := range p.Labels {
		if has(l) {
			ls = append(ls, l)
		}
	}
	sort.SliceStable(ls, func(a, b int) bool { return p.Numeric[ls[a]] < p.Numeric[ls[b]] })
	return ls
}

// surfaceAxisOf places levels of p in [-1, 1]; a single level sits at 0.
func surfaceAxisOf(p Param, levels []int) surfaceAxis {
	a := surfaceAxis{Name: p.Name, Labels: make([]string, len(levels)), Pos: make([]float64, len(levels))}
	v := make([]float64, len(levels))
	for k, l := range levels {
		a.Labels[k] = p.label(l)
		v[k] = p.Numeric[l]
		if p.logScaled() {
			v[k] = math.Log10(v[k])
		}
	}
	lo, hi := minMax(v)
	for k := range v {
		if hi > lo {
			a.Pos[k] = 2*(v[k]-lo)/(hi-lo) - 1
		}
	}
	return a
}

// hasState reports whether any of pts is in state st.
func hasState(pts []point, st int) bool {
	for _, p := range pts {
		if p.state == st {
			return true
		}
	}
	return false
}

// surfaceName is the file name, without extension, of a surface:
// surface_<x>_<y>_<metric>, with _<model> when the study has several.
func (d Data) surfaceName(x, y, metric, model string) string {
	name := fmt.Sprintf("surface_%s_%s_%s", x, y, metric)
	if len(d.Models) > 1 && model != "" {
		name += "_" + model
	}
	return fileName(name)
}

// surfacePairs returns the parameter pairs to draw as surfaces: those of
// Options.Heatmaps (default: every pair of swept parameters) whose two
// parameters are numeric and swept.
func (d Data) surfacePairs(opt Options) [][2]int {
	ok := func(i int) bool { return len(d.Params[i].Labels) > 1 && d.Params[i].numericAxis() }
	var out [][2]int
	if opt.Heatmaps != nil {
		for _, pair := range opt.Heatmaps {
			a, errA := d.paramIndex(pair[0])
			b, errB := d.paramIndex(pair[1])
			if errA == nil && errB == nil && a != b && ok(a) && ok(b) {
				out = append(out, [2]int{a, b})
			}
		}
		return out
	}
	for a := range d.Params {
		for b := a + 1; b < len(d.Params); b++ {
			if ok(a) && ok(b) {
				out = append(out, [2]int{a, b})
			}
		}
	}
	return out
}

// SurfaceAll writes a Surface for every pair of numeric swept parameters
// (those of Options.Heatmaps when set), per metric of Selection and model
// (none when Options.Kinds leaves out KindSurface), into
// opt.Dir as surface_<x>_<y>_<metric>[_<model>].html, and returns the
// files written in that order. Surfaces with nothing to show (ErrNoData,
// e.g. a parameter the model does not have) are skipped; other errors are
// joined and returned with the files that could be written.
func SurfaceAll(d Data, opt Options) ([]string, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	pairs := d.surfacePairs(opt)
	if len(pairs) == 0 || !opt.drawKind(KindSurface) {
		return nil, nil
	}
	drawn, _ := Selection(d, opt)
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	var errs []error
	for _, pair := range pairs {
		x, y := d.Params[pair[0]].Name, d.Params[pair[1]].Name
		for _, metric := range drawn {
			if !slices.Contains(d.Metrics, metric) {
				continue // a history: it has no final values
			}
			for _, model := range d.models() {
				page, err := Surface(d, x, y, metric, model, opt)
				if errors.Is(err, ErrNoData) {
					continue
				}
				name := d.surfaceName(x, y, metric, model)
				if err == nil {
					path := filepath.Join(opt.Dir, name+".html")
					if err = os.WriteFile(path, page, 0o644); err == nil {
						files = append(files, path)
					}
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", name, err))
				}
			}
		}
	}
	return files, errors.Join(errs...)
}
