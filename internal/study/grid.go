package study

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Cell is one point of the grid: a model and one value for each of the
// model's parameters.
type Cell struct {
	ID     string
	Model  string
	Params []*Param // the model's parameters, in grid order
	Values []Value  // aligned with Params
	Folder string   // folder name under experiments/
}

// RunSpec is one trial of one cell: the unit of work.
type RunSpec struct {
	Index int // position in the manifest
	ID    string
	Cell  *Cell
	Trial int // 1-based
	Seed  int64
	Dir   string // relative to the study dir
}

// Value returns the cell's value of the named parameter.
func (c *Cell) Value(name string) (Value, bool) {
	for i, p := range c.Params {
		if p.Name == name {
			return c.Values[i], true
		}
	}
	return Value{}, false
}

// folderMax bounds cell folder names; longer ones are cut and made unique
// with the cell id.
const folderMax = 100

// Cells expands the grid, model by model: parameters in file order, the
// first varying slowest; zipped parameters step together; cells that fail a
// constraint are dropped.
func (st *Study) Cells() ([]*Cell, error) {
	var cells []*Cell
	for _, model := range st.ModelNames() {
		params := st.ParamsFor(model)
		axes := axesOf(st, params)
		order := make([]int, len(params)) // parameter positions sorted by name, for ids
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return params[order[a]].Name < params[order[b]].Name })
		env := envFor(st, model)
		pos := make([]int, len(axes))
		for {
			vals := make([]Value, len(params))
			for a, ax := range axes {
				for _, pi := range ax {
					vals[pi] = params[pi].Values[pos[a]]
				}
			}
			for i, p := range params {
				env[ExprName(p.Name)] = exprValue(vals[i])
			}
			ok, err := keep(st.constraints, model, env)
			if err != nil {
				return nil, err
			}
			if ok {
				c := &Cell{Model: model, Params: params, Values: vals}
				c.ID = cellID(model, params, vals, order)
				c.Folder = folderName(c)
				cells = append(cells, c)
			}
			// Advance the odometer, last axis fastest.
			a := len(axes) - 1
			for ; a >= 0; a-- {
				pos[a]++
				if pos[a] < len(params[axes[a][0]].Values) {
					break
				}
				pos[a] = 0
			}
			if a < 0 {
				break
			}
		}
	}
	return cells, nil
}

// axesOf groups parameter positions into axes: a zip group is one axis, at
// the position of its first member; every other parameter is its own axis.
func axesOf(st *Study, params []*Param) [][]int {
	index := map[string]int{}
	for i, p := range params {
		index[p.Name] = i
	}
	group := map[int]int{} // param position -> zip group
	for g, names := range st.Zip {
		for _, n := range names {
			if i, ok := index[n]; ok {
				group[i] = g
			}
		}
	}
	var axes [][]int
	placed := map[int]int{} // zip group -> axis
	for i := range params {
		g, zipped := group[i]
		if !zipped {
			axes = append(axes, []int{i})
			continue
		}
		if a, ok := placed[g]; ok {
			axes[a] = append(axes[a], i)
			continue
		}
		placed[g] = len(axes)
		axes = append(axes, []int{i})
	}
	return axes
}

// cellID hashes the canonical assignment: model and name=value pairs sorted
// by name, numbers by value. Adding a value to a dimension or a parameter to
// another model leaves it unchanged.
func cellID(model string, params []*Param, vals []Value, order []int) string {
	h := sha256.New()
	h.Write([]byte(model))
	for _, i := range order {
		h.Write([]byte{0})
		h.Write([]byte(params[i].Name))
		h.Write([]byte{'='})
		h.Write([]byte(vals[i].canonical()))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:6])
}

// folderName builds a readable folder name from the values
// (pinn_nphotons=1e6_n_images=512), adding the cell id when a value had to
// be altered to be a file name or the name is too long, so names stay unique.
func folderName(c *Cell) string {
	var b strings.Builder
	altered := false
	if c.Model != "" {
		b.WriteString(c.Model)
	}
	for i, p := range c.Params {
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		for _, r := range c.Values[i].String() {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
				altered = true
			}
		}
	}
	name := b.String()
	switch {
	case name == "":
		return "cell_" + c.ID
	case len(name) > folderMax:
		return name[:folderMax-len(c.ID)-1] + "_" + c.ID
	case altered || name[0] == '.' || name[0] == '-':
		return name + "_" + c.ID
	}
	return name
}

// Seed derives a run's seed from the study seed, the cell and the trial:
// the same run always gets the same seed, and no two runs share one by
// construction of their position. It fits in 31 bits, which every
// framework's seed argument accepts.
func Seed(studySeed int64, cellID string, trial int) int64 {
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], studySeed, 10)
	b = append(b, 0)
	b = append(b, cellID...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(trial), 10)
	sum := sha256.Sum256(b)
	return int64(binary.BigEndian.Uint32(sum[:4]) >> 1)
}

// RunID names one trial of one cell.
func RunID(cellID string, trial int) string {
	return cellID + "_t" + strconv.Itoa(trial)
}

// Runs lists the runs of the given cells, trials innermost, indexed from 0.
// Cell ids must be unique: a collision is reported rather than merged.
func (st *Study) Runs(cells []*Cell) ([]RunSpec, error) {
	runs := make([]RunSpec, 0, len(cells)*st.Trials)
	seen := make(map[string]*Cell, len(cells))
	folders := make(map[string]bool, len(cells))
	for _, c := range cells {
		if other, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("cells %s and %s share id %s", other.Folder, c.Folder, c.ID)
		}
		seen[c.ID] = c
		if folders[c.Folder] {
			c.Folder += "_" + c.ID
		}
		folders[c.Folder] = true
		for t := 1; t <= st.Trials; t++ {
			runs = append(runs, RunSpec{
				Index: len(runs),
				ID:    RunID(c.ID, t),
				Cell:  c,
				Trial: t,
				Seed:  Seed(st.Seed, c.ID, t),
				Dir:   "experiments/" + c.Folder + "/trial_" + strconv.Itoa(t),
			})
		}
	}
	return runs, nil
}
