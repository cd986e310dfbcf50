package study

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Cell is one point of the grid: a model and one value for each of the
// model's parameters.
type Cell struct {
	ID     string
	hash   uint64 // the first 8 bytes of the id's hash, for duplicate checks
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
}

// Dir is the run's folder, relative to the study dir. It is built on
// demand: a million runs need not keep a million path strings alive.
func (r *RunSpec) Dir() string {
	return "experiments/" + r.Cell.Folder + "/trial_" + strconv.Itoa(r.Trial)
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
	// Models expand independently: one goroutine each.
	models := st.ModelNames()
	parts := make([][]*Cell, len(models))
	errs := make([]error, len(models))
	var wg sync.WaitGroup
	for i, model := range models {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i], errs[i] = st.modelCells(model)
		}()
	}
	wg.Wait()
	var cells []*Cell
	for i := range models {
		if errs[i] != nil {
			return nil, errs[i]
		}
		cells = append(cells, parts[i]...)
	}
	return cells, nil
}

// modelCells expands the grid of one model.
func (st *Study) modelCells(model string) ([]*Cell, error) {
	var cells []*Cell
	params := st.ParamsFor(model)
	axes := axesOf(st, params)
	order := make([]int, len(params)) // parameter positions sorted by name, for ids
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return params[order[a]].Name < params[order[b]].Name })
	// Text per parameter value, computed once rather than per cell:
	// a million cells share a few dozen values.
	names := make([]string, len(params))
	canon := make([][]string, len(params))
	parts := make([][]string, len(params))
	altered := make([][]bool, len(params))
	for i, p := range params {
		names[i] = ExprName(p.Name)
		for _, v := range p.Values {
			part, alt := folderPart(p.Name, v)
			canon[i] = append(canon[i], v.canonical())
			parts[i] = append(parts[i], part)
			altered[i] = append(altered[i], alt)
		}
	}
	env := envFor(st, model)
	pos := make([]int, len(axes))
	vidx := make([]int, len(params))
	for {
		vals := make([]Value, len(params))
		for a, ax := range axes {
			for _, pi := range ax {
				vidx[pi] = pos[a]
				vals[pi] = params[pi].Values[pos[a]]
			}
		}
		ok := true
		if len(st.constraints) > 0 {
			for i := range params {
				env[names[i]] = exprValue(vals[i])
			}
			var err error
			if ok, err = keep(st.constraints, model, env); err != nil {
				return nil, err
			}
		}
		if ok {
			c := &Cell{Model: model, Params: params, Values: vals}
			c.ID, c.hash = cellID(model, params, canon, vidx, order)
			c.Folder = folderName(model, parts, altered, vidx, c.ID)
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
func cellID(model string, params []*Param, canon [][]string, vidx, order []int) (string, uint64) {
	buf := make([]byte, 0, 256)
	buf = append(buf, model...)
	for _, i := range order {
		buf = append(buf, 0)
		buf = append(buf, params[i].Name...)
		buf = append(buf, '=')
		buf = append(buf, canon[i][vidx[i]]...)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:6]), binary.BigEndian.Uint64(sum[:8])
}

// folderPart is "name=value" with characters that do not belong in a file
// name replaced, and whether any was.
func folderPart(name string, v Value) (string, bool) {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('=')
	altered := false
	for _, r := range v.String() {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			altered = true
		}
	}
	return b.String(), altered
}

// folderName builds a readable folder name from the values
// (pinn_nphotons=1e6_n_images=512), adding the cell id when a value had to
// be altered to be a file name or the name is too long, so names stay unique.
func folderName(model string, parts [][]string, altered [][]bool, vidx []int, id string) string {
	b := make([]byte, 0, 128)
	b = append(b, model...)
	alt := false
	for i := range parts {
		if len(b) > 0 {
			b = append(b, '_')
		}
		b = append(b, parts[i][vidx[i]]...)
		alt = alt || altered[i][vidx[i]]
	}
	name := string(b)
	switch {
	case name == "":
		return "cell_" + id
	case len(name) > folderMax:
		return name[:folderMax-len(id)-1] + "_" + id
	case alt || name[0] == '.' || name[0] == '-':
		return name + "_" + id
	}
	return name
}

// Seed derives a run's seed from the study seed, the cell and the trial:
// the same run always gets the same seed. It fits in 31 bits, which every
// framework's seed argument accepts.
func Seed(studySeed int64, cellID string, trial int) int64 {
	return trialSeed(cellSeed(studySeed, cellID), trial)
}

// cellSeed hashes the study seed and the cell id once per cell.
func cellSeed(studySeed int64, cellID string) uint64 {
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], studySeed, 10)
	b = append(b, 0)
	b = append(b, cellID...)
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

// trialSeed mixes a cell's seed with the trial number (SplitMix64's
// finaliser), so that trials of one cell get unrelated seeds.
func trialSeed(base uint64, trial int) int64 {
	z := base + uint64(trial)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(z >> 33)
}

// RunID names one trial of one cell.
func RunID(cellID string, trial int) string {
	return cellID + "_t" + strconv.Itoa(trial)
}

// Runs lists the runs of the given cells, trials innermost, indexed from 0.
// Cell ids must be unique: a collision is reported rather than merged.
func (st *Study) Runs(cells []*Cell) ([]RunSpec, error) {
	if err := uniqueCells(cells); err != nil {
		return nil, err
	}
	runs := make([]RunSpec, 0, len(cells)*st.Trials)
	trials := make([]string, st.Trials+1)
	for t := 1; t <= st.Trials; t++ {
		trials[t] = "_t" + strconv.Itoa(t)
	}
	for _, c := range cells {
		base := cellSeed(st.Seed, c.ID)
		for t := 1; t <= st.Trials; t++ {
			runs = append(runs, RunSpec{Index: len(runs), ID: c.ID + trials[t], Cell: c, Trial: t, Seed: trialSeed(base, t)})
		}
	}
	return runs, nil
}

// uniqueCells refuses two cells with one id (a 48-bit hash collision:
// about one chance in a thousand for a million cells) and makes folder names
// unique. Folder names of one model cannot collide (values that are not
// plain file-name text get the id appended); those of two models can only
// when one model's name is another's followed by "_".
func uniqueCells(cells []*Cell) error {
	hashes := make([]uint64, len(cells))
	for i, c := range cells {
		hashes[i] = c.hash
	}
	slices.Sort(hashes)
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			seen := map[string]*Cell{}
			for _, c := range cells {
				if other, dup := seen[c.ID]; dup {
					return fmt.Errorf("cells %s and %s share id %s", other.Folder, c.Folder, c.ID)
				}
				seen[c.ID] = c
			}
		}
	}
	models := map[string]bool{}
	for _, c := range cells {
		models[c.Model] = true
	}
	for a := range models {
		for b := range models {
			if a != b && strings.HasPrefix(b, a+"_") {
				folders := make(map[string]bool, len(cells))
				for _, c := range cells {
					if folders[c.Folder] {
						c.Folder += "_" + c.ID
					}
					folders[c.Folder] = true
				}
				return nil
			}
		}
	}
	return nil
}
