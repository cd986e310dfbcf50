// Package stage plans and tracks a study's stages: commands that run once
// per distinct value of their key, before the runs that need them (a
// dataset simulated once per photon dose) or after the runs of a group (a
// comparison of the models of one setting and trial).
//
// A stage task is identified by its cache key, a SHA-256 over the stage's
// name, its key assignment and its rendered command: its folder
// (DIR/stages/NAME/<key>-<cachekey[:10]>) and its attempts (run id
// NAME-<cachekey[:16]>, shards in DIR/stages/NAME/shards) follow from it,
// so re-planning after adding values, trials or models keeps every task
// that exists, and changing a stage's command gives new tasks; a task
// whose folder was deleted runs again (decide, in state.go). Plan writes
// the tasks to DIR/stages/plan.json; exec, the executors and status read
// them from there.
package stage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/manifest"
	"github.com/gridstudy/gridstudy/internal/study"
)

// PlanFile is the plan's name under DIR/stages.
const PlanFile = "plan.json"

// folderMax bounds the key part of a task's folder name, as cell folders.
const folderMax = 100

// Plan is every stage of a study with its tasks.
type Plan struct {
	Stages []*Stage `json:"stages"`

	// byRun maps stage name → manifest index → task index, built on
	// first use.
	byRun map[string]map[int]int
}

// Stage is one stage with its resolved settings and its tasks.
type Stage struct {
	Name string `json:"name"`
	// After is "" for a stage before the runs, study.AfterRuns after them.
	After string   `json:"after"`
	Key   []string `json:"key"`
	// Timeout is the stage's own time limit ("" for none), as Go spells
	// durations.
	Timeout string      `json:"timeout,omitempty"`
	Slurm   study.Slurm `json:"slurm"`
	Local   study.Local `json:"local"`
	Tasks   []*Task     `json:"tasks"`
}

// Task is one distinct value of a stage's key.
type Task struct {
	// Index is the task's position in its stage: the SLURM array index.
	Index int `json:"index"`
	// ID is NAME-<cachekey[:16]>, the run id of its attempts.
	ID       string `json:"id"`
	CacheKey string `json:"cache_key"`
	// Dir is the task's folder, relative to the study directory.
	Dir string `json:"dir"`
	// Key maps each key name to its canonical value text (as in cell ids).
	Key map[string]string `json:"key"`
	// Label is the key assignment as people read it: "nphotons=1e6 trial=2".
	Label string `json:"label"`
	// Argv is the command to execute: bash -c and the rendered text, or
	// the rendered args.
	Argv []string `json:"argv"`
	// Model and Trial are set when the key holds them; Seed with Trial.
	Model string `json:"model,omitempty"`
	Trial int    `json:"trial,omitempty"`
	Seed  int64  `json:"seed,omitempty"`
	// Needs maps each earlier stage whose folder the task may use
	// (.Stages) to that stage's task index: it must be ok first.
	Needs map[string]int `json:"needs,omitempty"`
	// Runs are the manifest indices of the runs that need the task (before
	// the runs) or of its group (after them), ascending.
	Runs []int `json:"runs"`
	// RunsByModel maps each model to its run in the group (after-runs
	// stages only).
	RunsByModel map[string]int `json:"runs_by_model,omitempty"`
}

// Dir is the folder of the study's stages.
func Dir(studyDir string) string { return filepath.Join(studyDir, "stages") }

// PlanPath is the path of the plan file.
func PlanPath(studyDir string) string { return filepath.Join(Dir(studyDir), PlanFile) }

// Root is the folder whose shards/ subfolder holds the attempts of the
// stage's tasks: the shard, claim and lifecycle functions take it where
// they take a study directory for runs.
func Root(studyDir, stage string) string { return filepath.Join(Dir(studyDir), stage) }

// Stage returns the stage called name, or nil.
func (p *Plan) Stage(name string) *Stage {
	for _, s := range p.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Before returns the stages that run before the runs, in order.
func (p *Plan) Before() []*Stage {
	var out []*Stage
	for _, s := range p.Stages {
		if s.After == "" {
			out = append(out, s)
		}
	}
	return out
}

// TaskOfRun returns the index of the task of stage that run runIndex (a
// manifest index) needs, or belongs to after the runs; false when there is
// none (an unknown stage or run).
func (p *Plan) TaskOfRun(stage string, runIndex int) (int, bool) {
	if p.byRun == nil {
		p.byRun = map[string]map[int]int{}
		for _, s := range p.Stages {
			m := map[int]int{}
			for _, t := range s.Tasks {
				for _, r := range t.Runs {
					m[r] = t.Index
				}
			}
			p.byRun[s.Name] = m
		}
	}
	i, ok := p.byRun[stage][runIndex]
	return i, ok
}

// RunStages returns the folders (absolute, under studyDir) of the
// before-runs stage tasks that run runIndex needs: its .Stages.
func (p *Plan) RunStages(studyDir string, runIndex int) map[string]string {
	out := map[string]string{}
	for _, s := range p.Before() {
		if i, ok := p.TaskOfRun(s.Name, runIndex); ok {
			out[s.Name] = filepath.Join(studyDir, s.Tasks[i].Dir)
		}
	}
	return out
}

// Entry is the task as the runner takes a run: its id, folder, model,
// trial and seed; its index is the task's index in its stage.
func (t *Task) Entry() manifest.Entry {
	return manifest.Entry{Index: t.Index, RunID: t.ID, CellID: t.CacheKey[:12], Model: t.Model, Trial: t.Trial,
		Seed: t.Seed, Dir: t.Dir}
}

// Read reads DIR/stages/plan.json. A study planned without stages has
// none: Read returns an empty plan.
func Read(studyDir string) (*Plan, error) {
	b, err := os.ReadFile(PlanPath(studyDir))
	if errors.Is(err, fs.ErrNotExist) {
		return &Plan{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the stage plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("read the stage plan %s: %w", PlanPath(studyDir), err)
	}
	return &p, nil
}

// Write writes the plan to DIR/stages/plan.json atomically, and creates
// each stage's folder. A plan without stages removes an old plan file, so
// that a study whose stages were taken out schedules none.
func Write(studyDir string, p *Plan) error {
	if len(p.Stages) == 0 {
		if err := os.Remove(PlanPath(studyDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	for _, s := range p.Stages {
		if err := os.MkdirAll(filepath.Join(Root(studyDir, s.Name), "shards"), 0o755); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(PlanPath(studyDir), append(b, '\n'), 0o644, true)
}

// Build makes the stage tasks of the planned runs (sorted by manifest
// index) of st, whose study directory is the absolute studyDir. Tasks are
// numbered in the order of the first run that needs them, so that a grown
// study keeps the numbers of its first tasks as long as its runs keep
// theirs. It refuses an after-runs stage whose group holds two runs of
// one model: .Runs could not name one.
func Build(st *study.Study, runs []study.RunSpec, studyDir string) (*Plan, error) {
	p := &Plan{}
	byIndex := make(map[int]*study.RunSpec, len(runs))
	for i := range runs {
		byIndex[runs[i].Index] = &runs[i]
	}
	// keyed[stage] maps a key assignment to its task.
	keyed := map[string]map[string]*Task{}
	for si, ss := range st.Stages {
		tmpl, err := ss.Template()
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", ss.Name, err)
		}
		s := &Stage{Name: ss.Name, After: ss.After, Key: ss.Key, Slurm: ss.Slurm, Local: ss.Local}
		if ss.Timeout > 0 {
			s.Timeout = ss.Timeout.String()
		}
		tasks := map[string]*Task{}
		reps := map[*Task]*study.RunSpec{} // a run with every key parameter
		var partial []*study.RunSpec       // runs that lack a key parameter
		for i := range runs {
			r := &runs[i]
			k := keyOf(ss, r)
			if len(k.missing) > 0 {
				partial = append(partial, r)
				continue
			}
			t := tasks[k.canon]
			if t == nil {
				t = &Task{Index: len(s.Tasks), Key: k.values, Label: k.label}
				if ss.HasKey(study.KeyModel) {
					t.Model = r.Cell.Model
				}
				if ss.HasKey(study.KeyTrial) {
					t.Trial = r.Trial
					t.Seed = study.Seed(st.Seed, "stage\x00"+ss.Name+"\x00"+k.canonNoTrial, r.Trial)
				}
				tasks[k.canon] = t
				reps[t] = r
				s.Tasks = append(s.Tasks, t)
				t.ID, t.Dir = k.canon, k.folder // completed below, once rendered
			}
			if err := t.add(st, ss, r, byIndex); err != nil {
				return nil, err
			}
		}
		// A run of a model that does not sweep a key parameter (the
		// baseline beside pinn's own tv_weight) joins every group that
		// matches it on the key parameters it has.
		if err := joinPartial(st, ss, s.Tasks, partial, byIndex); err != nil {
			return nil, err
		}
		for _, t := range s.Tasks {
			canon, folder := t.ID, t.Dir
			slices.Sort(t.Runs)
			d := taskData(st, ss, si, t, reps[t], byIndex, keyed, studyDir)
			d["StageDir"] = "{{.StageDir}}"
			argv, err := tmpl.RenderMap(d)
			if err != nil {
				return nil, fmt.Errorf("stage %s, task %s: %w", ss.Name, t.Label, err)
			}
			t.CacheKey = CacheKey(ss.Name, canon, argv)
			t.ID = ss.Name + "-" + t.CacheKey[:16]
			t.Dir = filepath.ToSlash(filepath.Join("stages", ss.Name, folder+"-"+t.CacheKey[:10]))
			d["StageDir"] = filepath.Join(studyDir, t.Dir)
			if t.Argv, err = tmpl.RenderMap(d); err != nil {
				return nil, fmt.Errorf("stage %s, task %s: %w", ss.Name, t.Label, err)
			}
			t.Needs = needs(st, ss, si, reps[t], keyed)
		}
		keyed[ss.Name] = tasks
		p.Stages = append(p.Stages, s)
	}
	return p, nil
}

// invalid is a problem of the study file found while building the tasks.
func invalid(st *study.Study, key, msg string) error {
	file := st.Path
	if file == "" {
		file = "flags"
	}
	return &study.InvalidError{File: file, Problems: []study.Problem{{Key: key, Msg: msg}}}
}

// CacheKey is the hex SHA-256 of a stage's name, its canonical key
// assignment and its command as rendered with .StageDir left as the text
// "{{.StageDir}}", so that the key does not depend on the folder it names.
func CacheKey(stage, canonKey string, argv []string) string {
	h := sha256.New()
	h.Write([]byte(stage))
	h.Write([]byte{0})
	h.Write([]byte(canonKey))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(argv, "\x00")))
	return hex.EncodeToString(h.Sum(nil))
}

// add puts run r into task t (of stage ss); after the runs, it refuses a
// second run of one model in a group.
func (t *Task) add(st *study.Study, ss *study.Stage, r *study.RunSpec, byIndex map[int]*study.RunSpec) error {
	t.Runs = append(t.Runs, r.Index)
	if ss.After != study.AfterRuns {
		return nil
	}
	if t.RunsByModel == nil {
		t.RunsByModel = map[string]int{}
	}
	if other, dup := t.RunsByModel[r.Cell.Model]; dup {
		return invalid(st, "stages."+ss.Name+".key", fmt.Sprintf("the group %s holds two runs of model %q (%s and %s): an after-runs stage's key must hold every parameter that varies within a model, and trial when trials > 1",
			t.Label, r.Cell.Model, byIndex[other].ID, r.ID))
	}
	t.RunsByModel[r.Cell.Model] = r.Index
	return nil
}

// joinPartial adds each run of partial, which lacks some key parameters,
// to every task that matches it on the others.
func joinPartial(st *study.Study, ss *study.Stage, tasks []*Task, partial []*study.RunSpec, byIndex map[int]*study.RunSpec) error {
	// index[missing names][assignment of the other names] → tasks
	index := map[string]map[string][]*Task{}
	for _, r := range partial {
		k := keyOf(ss, r)
		miss := strings.Join(k.missing, "\x00")
		m := index[miss]
		if m == nil {
			m = map[string][]*Task{}
			for _, t := range tasks {
				c := partialCanon(ss, t.Key, k.missing)
				m[c] = append(m[c], t)
			}
			index[miss] = m
		}
		for _, t := range m[partialCanon(ss, k.values, k.missing)] {
			if err := t.add(st, ss, r, byIndex); err != nil {
				return err
			}
		}
	}
	return nil
}

// partialCanon is a key assignment without the names in skip.
func partialCanon(ss *study.Stage, values map[string]string, skip []string) string {
	var b strings.Builder
	for _, name := range ss.Key {
		if !slices.Contains(skip, name) {
			b.WriteString(name + "=" + values[name] + "\x00")
		}
	}
	return b.String()
}

// key is a run's assignment of a stage's key.
type key struct {
	canon        string            // name=value pairs, NUL-separated, in key order
	canonNoTrial string            // the same without the trial
	values       map[string]string // name → canonical value text
	label        string            // "nphotons=1e6 trial=2"
	folder       string            // "nphotons=1e6_trial_2"
	missing      []string          // key parameters the run's model does not sweep
}

func keyOf(s *study.Stage, r *study.RunSpec) key {
	k := key{values: map[string]string{}}
	var canon, noTrial, label, folder []string
	for _, name := range s.Key {
		var c, l, f string
		switch name {
		case study.KeyModel:
			c, l, f = r.Cell.Model, "model="+r.Cell.Model, r.Cell.Model
		case study.KeyTrial:
			c = strconv.Itoa(r.Trial)
			l, f = "trial="+c, "trial_"+c
		default:
			v, ok := r.Cell.Value(name)
			if !ok {
				k.missing = append(k.missing, name)
				continue
			}
			c, l, f = v.KeyString(), name+"="+v.String(), study.FolderPart(name, v)
		}
		k.values[name] = c
		canon = append(canon, name+"="+c)
		if name != study.KeyTrial {
			noTrial = append(noTrial, name+"="+c)
		}
		label = append(label, l)
		folder = append(folder, f)
	}
	k.canon = strings.Join(canon, "\x00")
	k.canonNoTrial = strings.Join(noTrial, "\x00")
	k.label = strings.Join(label, " ")
	k.folder = strings.Join(folder, "_")
	switch {
	case k.folder == "":
		k.folder = "all"
	case len(k.folder) > folderMax:
		// The cache key that follows keeps the name unique.
		k.folder = k.folder[:folderMax]
	}
	if k.label == "" {
		k.label = "all"
	}
	return k
}

// taskData is what the stage's command sees for task t: .Params of the
// key and [fixed] only, .Model/.Trial/.Seed when the key holds them, the folders of
// the earlier stages it may use and, after the runs, .Runs.
func taskData(st *study.Study, ss *study.Stage, si int, t *Task, first *study.RunSpec, byIndex map[int]*study.RunSpec,
	keyed map[string]map[string]*Task, studyDir string) map[string]any {
	params := study.TemplateParams(st, nil)
	for _, name := range ss.Key {
		if v, ok := first.Cell.Value(name); ok {
			params[name] = v
		}
	}
	stages := map[string]string{}
	for _, o := range st.StagesBefore(ss.Key, si) {
		stages[o.Name] = filepath.Join(studyDir, keyed[o.Name][keyOf(o, first).canon].Dir)
	}
	d := map[string]any{"Params": params, "StudyDir": studyDir, "StudyFileDir": st.FileDir, "Stages": stages}
	if ss.HasKey(study.KeyModel) {
		d["Model"] = t.Model
	}
	if ss.HasKey(study.KeyTrial) {
		d["Trial"], d["Seed"] = t.Trial, t.Seed
	}
	if ss.After == study.AfterRuns {
		rs := map[string]string{}
		for m, i := range t.RunsByModel {
			rs[m] = filepath.Join(studyDir, byIndex[i].Dir())
		}
		d["Runs"] = rs
	}
	return d
}

// needs maps the earlier before-runs stages whose key is part of t's
// stage's key to the task that t's runs share with it.
func needs(st *study.Study, ss *study.Stage, si int, first *study.RunSpec, keyed map[string]map[string]*Task) map[string]int {
	var out map[string]int
	for _, o := range st.StagesBefore(ss.Key, si) {
		if out == nil {
			out = map[string]int{}
		}
		out[o.Name] = keyed[o.Name][keyOf(o, first).canon].Index
	}
	return out
}
