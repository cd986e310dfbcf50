package collect

import (
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/BurntSushi/toml"

	"github.com/gridstudy/gridstudy/internal/provenance"
	"github.com/gridstudy/gridstudy/internal/table"
)

// summaryFile is study_summary.toml.
type summaryFile struct {
	Study summaryStudy `toml:"study_metadata"`
	// Parameters lists each parameter's levels, typed as in the study
	// file, and the models under "models".
	Parameters map[string]any `toml:"parameter_space"`
	// Best is the best cell per metric and per measure of the runner that
	// has a declared direction: an undeclared metric has no best cell.
	Best map[string]summaryBest `toml:"best_parameters,omitempty"`
	// Provenance is the output of the study's [provenance] commands as
	// plan recorded it (DIR/provenance.toml).
	Provenance map[string]string `toml:"provenance,omitempty"`
}

type summaryStudy struct {
	Name           string  `toml:"name"`
	Date           string  `toml:"date"`
	Version        string  `toml:"gridstudy_version"`
	TotalRuns      int     `toml:"total_runs"`
	RunsOK         int     `toml:"runs_ok"`
	RunsFailed     int     `toml:"runs_failed"`
	RunsLost       int     `toml:"runs_lost"`
	Cells          int     `toml:"cells"`
	ShardsSetAside int     `toml:"shards_set_aside"`
	RuntimeHours   float64 `toml:"total_runtime_hours"`
	// NonFinite counts the NaN and ±Inf metric values of ok runs, left
	// out of every statistic; NoMetrics the ok runs that reported none.
	NonFinite int `toml:"nonfinite_values"`
	NoMetrics int `toml:"runs_ok_without_metrics"`
	// Undeclared lists the metrics without a declared direction, which
	// best_parameters leaves out.
	Undeclared []string `toml:"metrics_without_direction,omitempty"`
}

type summaryBest struct {
	Direction string         `toml:"direction"` // maximize or minimize, as declared
	Score     float64        `toml:"score"`     // mean over the cell's ok trials
	Std       float64        `toml:"std"`
	N         int            `toml:"n"`
	CellID    string         `toml:"cell_id"`
	Model     string         `toml:"model,omitempty"`
	Params    map[string]any `toml:"params"`
}

// summaryTOML writes study_summary.toml: the study, its totals and the
// best parameters per metric.
func (r *report) summaryTOML(w io.Writer) error {
	f := summaryFile{
		Study: summaryStudy{
			Name: r.st.Name, Date: r.date, Version: r.version,
			TotalRuns: r.res.Runs, RunsOK: r.a.ok, RunsFailed: r.a.failed, RunsLost: r.a.lost,
			Cells: len(r.g.cells), ShardsSetAside: len(r.s.bad),
			RuntimeHours: math.Round(r.runtimeHours()*1000) / 1000,
			NoMetrics:    len(r.a.noMetrics),
			Undeclared:   r.a.undeclared(),
		},
		Parameters: map[string]any{},
		Best:       map[string]summaryBest{},
	}
	for _, c := range r.a.nonFiniteCells() {
		f.Study.NonFinite += c.n
	}
	for i, col := range r.g.params {
		levels := make([]any, len(r.g.labels[i]))
		for j := range levels {
			levels[j] = r.level(i, j)
		}
		f.Parameters[col.Name] = levels
	}
	if len(r.st.Models) > 0 {
		f.Parameters["models"] = r.st.ModelNames()
	}
	for _, m := range append(slices.Clone(r.a.metrics), measures...) {
		ci, ok := r.a.best[m]
		if !ok {
			continue
		}
		c, sm := r.g.cells[ci], r.a.cells[ci].stats[m]
		b := summaryBest{Direction: r.a.direction[m], Score: sm.Mean, Std: sm.Std, N: sm.N,
			CellID: c.id, Model: c.model, Params: map[string]any{}}
		for i, v := range c.values {
			if v != nil {
				b.Params[r.g.params[i].Name] = v
			}
		}
		f.Best[m] = b
	}
	prov, err := provenance.Read(r.dir)
	if err != nil {
		return err
	}
	f.Provenance = prov.Summary()
	if _, err := io.WriteString(w, "# Written by gridstudy collect. Tables: data/; reports: reports/.\n\n"); err != nil {
		return err
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	return enc.Encode(f)
}

// level is level j of parameter i, typed as in the study file: the grid
// keeps each level as the label it shows, and as a float when numeric.
func (r *report) level(i, j int) any {
	label := r.g.labels[i][j]
	switch r.g.params[i].Kind {
	case table.Double:
		return r.g.numeric[i][j]
	case table.Int64:
		if n, err := strconv.ParseInt(label, 10, 64); err == nil {
			return n
		}
	case table.Bool:
		if b, err := strconv.ParseBool(label); err == nil {
			return b
		}
	}
	return label
}
