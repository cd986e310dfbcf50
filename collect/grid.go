package collect

import (
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/shard"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/internal/table"
)

// grid is the study as the manifest lays it out: its runs, its cells (in
// manifest order) and its parameters with their levels.
type grid struct {
	st      *study.Study
	entries []manifest.Entry
	byRun   map[string]int // run id -> position in entries
	// params are the parameter columns (each name once, even when
	// several models sweep it); labels and keys list each one's levels.
	params    table.Schema
	labels    [][]string
	numeric   [][]float64 // nil for a parameter that is not numeric
	scales    []string
	levelKeys []map[string]int // canonical value -> level
	cells     []*cell
	cellOf    []int // position in entries -> cell index
	expected  table.Schema
}

// cell is one grid point with the manifest positions of its trials.
type cell struct {
	id     string
	model  string
	values []any // per parameter; nil where it does not apply to the model
	levels []int // per parameter; -1 where it does not apply
	runs   []int
}

func newGrid(st *study.Study, entries []manifest.Entry) *grid {
	g := &grid{st: st, entries: entries, byRun: make(map[string]int, len(entries)), params: manifest.ParamColumns(st)}
	g.expected = append(shard.RunColumns(), g.params...)
	g.labels = make([][]string, len(g.params))
	g.numeric = make([][]float64, len(g.params))
	g.scales = make([]string, len(g.params))
	g.levelKeys = make([]map[string]int, len(g.params))
	for i, col := range g.params {
		g.levelKeys[i] = map[string]int{}
		numeric := col.Kind == table.Int64 || col.Kind == table.Double
		// A parameter swept by several models under one name gets the
		// union of their values as levels, in the order first seen.
		for _, p := range st.AllParams() {
			if p.Name != col.Name {
				continue
			}
			if g.scales[i] == "" {
				g.scales[i] = p.Scale
			}
			for _, v := range p.Values {
				k := valueKey(v.Any())
				if _, dup := g.levelKeys[i][k]; dup {
					continue
				}
				g.levelKeys[i][k] = len(g.labels[i])
				g.labels[i] = append(g.labels[i], v.String())
				if f, ok := v.Number(); ok && numeric {
					g.numeric[i] = append(g.numeric[i], f)
				}
			}
		}
		if !numeric {
			g.numeric[i] = nil
		}
	}
	byCell := map[string]int{}
	g.cellOf = make([]int, len(entries))
	for i, e := range entries {
		g.byRun[e.RunID] = i
		c, ok := byCell[e.CellID]
		if !ok {
			c = len(g.cells)
			byCell[e.CellID] = c
			nc := &cell{id: e.CellID, model: e.Model, values: make([]any, len(g.params)), levels: make([]int, len(g.params))}
			for j, col := range g.params {
				nc.levels[j] = -1
				if v, ok := e.Params[col.Name]; ok {
					nc.values[j] = v
					if l, ok := g.levelKeys[j][valueKey(v)]; ok {
						nc.levels[j] = l
					} else {
						// A value the study file no longer lists (the
						// study was edited): still a level of its own.
						nc.levels[j] = len(g.labels[j])
						g.levelKeys[j][valueKey(v)] = nc.levels[j]
						g.labels[j] = append(g.labels[j], formatValue(v))
						if g.numeric[j] != nil {
							f, _ := toFloat(v)
							g.numeric[j] = append(g.numeric[j], f)
						}
					}
				}
			}
			g.cells = append(g.cells, nc)
		}
		g.cellOf[i] = c
		g.cells[c].runs = append(g.cells[c].runs, i)
	}
	return g
}

// valueKey identifies a parameter value by value: 1e6 and 1000000 are one
// level, as they are one cell.
func valueKey(v any) string {
	if f, ok := toFloat(v); ok {
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	switch x := v.(type) {
	case string:
		return "s:" + x
	case bool:
		return "b:" + strconv.FormatBool(x)
	}
	return ""
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// formatValue renders a parameter value the way a user writes it in a
// study file: 1e6 rather than 1e+06 or 1000000.0, 512 for an integer.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return study.FormatFloat(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// label describes cell c by its model and parameter values, e.g.
// "pinn, nphotons=1e6, n_images=512".
func (g *grid) label(c *cell) string {
	var parts []string
	if c.model != "" {
		parts = append(parts, c.model)
	}
	for i, v := range c.values {
		if v != nil {
			parts = append(parts, g.params[i].Name+"="+formatValue(v))
		}
	}
	return strings.Join(parts, ", ")
}
