package collect

import (
	"slices"

	"github.com/gridstudy/gridstudy/plots"
)

// figureComparisons hands the model-difference heatmaps the comparisons
// the reports state, so that figure and reports show the same numbers:
// per pair of models and metric, the best-vs-best comparisons (each model
// at its best own parameters, by the metric's declared direction) where
// there are any, else the pooled ones. A metric without a declared
// direction has no best cell, so its figure shows the pooled comparison,
// which the reports show too, and its subtitle says so: an average over
// the own parameters that is labelled as such, rather than no figure at
// all, is what the reports' pooled table states.
func figureComparisons(g *grid, a *analysis) []plots.Comparison {
	type key struct{ a, b, metric string }
	hasBest := map[key]bool{}
	for _, c := range a.comparisons {
		if c.best {
			hasBest[key{c.a, c.b, c.metric}] = true
		}
	}
	type pairCells struct {
		shared   []int
		settings map[string][]int // setting -> its cells
	}
	pairs := map[[2]string]pairCells{}
	// Not nil: the figures then draw these, even where there are none.
	out := []plots.Comparison{}
	for _, c := range a.comparisons {
		if c.best != hasBest[key{c.a, c.b, c.metric}] {
			continue
		}
		pc, ok := pairs[[2]string{c.a, c.b}]
		if !ok {
			pc.shared = sharedParams(g, c.a, c.b)
			pc.settings, _ = settingCells(g, pc.shared)
			pairs[[2]string{c.a, c.b}] = pc
		}
		// The cells of a setting all have its levels of the shared
		// parameters.
		levels := slices.Repeat([]int{-1}, len(g.params))
		first := g.cells[pc.settings[c.setting][0]]
		for _, pi := range pc.shared {
			levels[pi] = first.levels[pi]
		}
		fc := plots.Comparison{A: c.a, B: c.b, Metric: c.metric, Levels: levels, Diff: c.diff, Best: c.best, CellA: -1, CellB: -1}
		if c.best {
			fc.CellA, fc.CellB = a.dataCell[c.cellA], a.dataCell[c.cellB]
		}
		out = append(out, fc)
	}
	return out
}

// sharedParams lists the indices in g.params of the parameters both models
// sweep: the settings at which they are compared.
func sharedParams(g *grid, ma, mb string) []int {
	var shared []int
	for pi, col := range g.params {
		if hasParam(g.st, ma, col.Name) && hasParam(g.st, mb, col.Name) {
			shared = append(shared, pi)
		}
	}
	return shared
}
