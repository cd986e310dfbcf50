package local

import (
	"fmt"

	"github.com/gridstudy/gridstudy/internal/study"
)

// memory is the budget that the runs and stage tasks draw from by their
// own mem_per_run: a node starts only when its need fits in what is left.
type memory struct {
	budget int64            // bytes; 0: no limit
	run    int64            // what a run needs
	stages map[string]int64 // what a task of each stage needs
	inUse  int64
}

// newMemory resolves what each kind of node needs: a run opt.MemPerRun
// ([local] mem_per_run or --mem-per-run), a stage task its stage's own
// local.mem_per_run. The budget is opt.MemBudget, else the memory
// available now, read once; it is read only when something needs memory,
// and an unknown amount (not Linux) sets no limit, as before.
func newMemory(st *study.Study, opt Options) (*memory, error) {
	m := &memory{run: opt.MemPerRun, stages: map[string]int64{}}
	needs := m.run > 0
	if opt.Stages != nil {
		for _, s := range opt.Stages.Stages {
			need := m.run
			// The study loader lays a stage's own [stages.NAME.local] keys
			// over [local] (s.Local): a value equal to [local]'s is
			// [local]'s, which --mem-per-run may have replaced for runs;
			// an explicit "" declares none.
			if own := s.Local.MemPerRun; own != st.Local.MemPerRun {
				need = 0
				if own != "" {
					n, err := ParseSize(own)
					if err != nil {
						return nil, fmt.Errorf("stage %s: local.mem_per_run: %w", s.Name, err)
					}
					need = n
				}
			}
			m.stages[s.Name] = need
			needs = needs || need > 0
		}
	}
	if needs {
		m.budget = opt.MemBudget
		if m.budget <= 0 {
			m.budget = availableMemory()
		}
	}
	return m, nil
}

// need is what node n needs, in bytes.
func (m *memory) need(n *node) int64 {
	if n.stage != nil {
		return m.stages[n.stage.Name]
	}
	return m.run
}

// draw is what n takes from the budget: its need, or the whole budget
// when it alone needs more, so that it runs with nothing else that
// needs memory rather than never.
func (m *memory) draw(n *node) int64 {
	if m.budget <= 0 {
		return 0
	}
	return min(m.need(n), m.budget)
}

// oversize reports whether n alone needs more than the whole budget.
func (m *memory) oversize(n *node) bool { return m.budget > 0 && m.need(n) > m.budget }

// take draws n's memory when it fits in what is left, and reports whether
// it did.
func (m *memory) take(n *node) bool {
	d := m.draw(n)
	if m.inUse+d > m.budget && d > 0 {
		return false
	}
	m.inUse += d
	return true
}

// release gives back what n drew.
func (m *memory) release(n *node) { m.inUse -= m.draw(n) }

// gib writes a size in GiB for messages.
func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
