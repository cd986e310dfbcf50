package collect

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/gridstudy/gridstudy/internal/lifecycle"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/stage"
	"github.com/gridstudy/gridstudy/internal/table"
)

// hasAfterStages reports whether the study in dir has stages after the
// runs. Their metrics join the runs' rows afresh at every collect, so the
// state is rebuilt from the shards rather than carried over: a carried-over
// row would hold last collect's stage metrics as if they were the run's own.
func hasAfterStages(dir string) bool {
	p, err := stage.Read(dir)
	return err == nil && slices.ContainsFunc(p.Stages, func(s *stage.Stage) bool { return s.After != "" })
}

// attachStageMetrics puts the final metrics of each after-runs task's
// result, when it is ok, on the rows of the runs of its group: a metric
// its stage stored as NAME@MODEL (stage.ModelSep) on that model's run, any
// other on every run of the group. A name that a run reports itself, or
// that an earlier stage took, becomes <stage>_<name>. A run in several
// groups (a model without a parameter of the key) takes a group's metric
// only if it is in that group alone; otherwise the metric is left off it,
// with a warning.
func attachStageMetrics(dir string, g *grid, s *state) ([]string, error) {
	p, err := stage.Read(dir)
	if err != nil {
		return nil, err
	}
	posOf := make(map[int]int, len(g.entries)) // manifest index → position
	for i, e := range g.entries {
		posOf[e.Index] = i
	}
	own := map[string]bool{} // the runs' own metric columns
	for name := range s.metricCols {
		own[name] = true
	}
	taken := maps.Clone(own)
	var warnings []string
	for _, st := range p.Stages {
		if st.After == "" {
			continue
		}
		groups := map[int]int{} // manifest index → groups it is in
		for _, t := range st.Tasks {
			for _, r := range t.Runs {
				groups[r]++
			}
		}
		columns := map[string]string{} // metric → its column in the runs' rows
		column := func(metric string) string {
			if c, ok := columns[metric]; ok {
				return c
			}
			c := metric
			if taken[c] {
				c = st.Name + "_" + metric
			}
			taken[c] = true
			columns[metric] = c
			return c
		}
		shared := map[string]bool{}
		for _, t := range st.Tasks {
			vals, err := okMetrics(stage.Root(dir, st.Name), t.ID)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("stage %s task %d (%s): %v", st.Name, t.Index, t.Label, err))
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(vals)) {
				metric, model, forModel := strings.Cut(name, stage.ModelSep)
				targets := t.Runs
				if forModel {
					r, ok := t.RunsByModel[model]
					if !ok {
						continue
					}
					targets = []int{r}
				}
				for _, r := range targets {
					pos, ok := posOf[r]
					if !ok || s.runs[pos] == nil {
						continue
					}
					if groups[r] > 1 {
						shared[metric] = true
						continue
					}
					c := s.metricCols[column(metric)]
					if c == nil {
						c = newColumn(len(g.entries))
						s.metricCols[column(metric)] = c
					}
					s.put(c, pos, vals[name], true)
				}
			}
		}
		for _, m := range slices.Sorted(maps.Keys(shared)) {
			warnings = append(warnings, fmt.Sprintf("stage %s: metric %s is not put on runs that are in several of its groups (a model without a parameter of its key)", st.Name, m))
		}
	}
	s.types = nil
	return warnings, nil
}

// okMetrics returns the final metrics in the result shard of the task
// with id under root, or nil when its result is not ok (or it has none).
func okMetrics(root, id string) (map[string]any, error) {
	d := lifecycle.Decide(lifecycle.Probe(root, id), lifecycle.Queued{})
	if d.ResultStatus != shard.StatusOK {
		return nil, nil
	}
	path := shard.Path(root, id, d.Result)
	r, err := table.Open(path)
	if err != nil {
		return nil, fmt.Errorf("its shard: %w", err)
	}
	defer r.Close()
	row, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("its shard %s holds no row", path)
	}
	if err != nil {
		return nil, fmt.Errorf("its shard: %w", err)
	}
	runCols := shard.RunColumns()
	out := map[string]any{}
	for i, c := range r.Schema() {
		// Parameter columns are empty: a stage task's shard records no
		// run's parameters.
		if runCols.Index(c.Name) >= 0 || row[i] == nil {
			continue
		}
		out[c.Name] = row[i]
	}
	return out, nil
}
