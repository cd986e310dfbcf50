package study

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/gridstudy/gridstudy/internal/command"
)

// AfterRuns is a stage's after value for a stage that runs once per group
// of runs after they ended.
const AfterRuns = "runs"

// Key names a stage's key may hold besides parameters.
const (
	KeyModel = "model"
	KeyTrial = "trial"
)

// Stage is one [stages.NAME] table: a command run once per distinct value
// of its key, before the runs that need it or (After == AfterRuns) after
// the runs of its group.
type Stage struct {
	Name string
	// Key lists the parameters the stage depends on, in the file's order;
	// it may hold KeyModel and KeyTrial.
	Key     []string
	After   string // "" or AfterRuns
	Command string
	Args    []string
	Timeout time.Duration
	// Slurm and Local are the study's tables with the stage's own
	// [stages.NAME.slurm] and [stages.NAME.local] keys over them.
	Slurm Slurm
	Local Local

	// slurmOwn and localOwn are the keys the stage sets itself, written
	// back as they are by Encode: the merged tables cannot say which
	// zero value was meant (gpus = 0 under a study with gpus = 1).
	slurmOwn, localOwn map[string]any
}

// HasKey reports whether name (a parameter, KeyModel or KeyTrial) is in
// the stage's key.
func (s *Stage) HasKey(name string) bool { return slices.Contains(s.Key, name) }

// Template parses the stage's command.
func (s *Stage) Template() (*command.Template, error) {
	if s.Command != "" {
		return command.ParseShell(s.Command)
	}
	return command.ParseArgs(s.Args)
}

// Provenance is one [provenance] entry: a shell command whose output
// records which code produced the study's results.
type Provenance struct {
	Name    string
	Command string
}

// Stage returns the stage called name, or nil.
func (st *Study) Stage(name string) *Stage {
	for _, s := range st.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// StagesBefore returns the before-runs stages whose folders a template
// keyed by key may name as .Stages: every before-runs stage for a run
// (key nil, before = -1), else the before-runs stages declared before
// position before whose key is a subset of key.
func (st *Study) StagesBefore(key []string, before int) []*Stage {
	var out []*Stage
	for i, s := range st.Stages {
		if s.After != "" || before >= 0 && i >= before {
			continue
		}
		if key != nil && !subset(s.Key, key) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// RunCommand returns the command (or args) that the runs of model run: the
// model's own when [models.NAME] gives one, else [run]'s.
func (st *Study) RunCommand(model string) (cmd string, args []string) {
	if m := st.Model(model); m != nil && (m.Command != "" || len(m.Args) > 0) {
		return m.Command, m.Args
	}
	return st.Run.Command, st.Run.Args
}

type stageFile struct {
	Key     []string       `toml:"key"`
	Command string         `toml:"command"`
	Args    []string       `toml:"args"`
	Timeout string         `toml:"timeout"`
	After   string         `toml:"after"`
	Slurm   map[string]any `toml:"slurm"`
	Local   map[string]any `toml:"local"`
}

// stageSlurmKeys are the [slurm] keys that shape one stage's jobs.
var stageSlurmKeys = keyTree{"partition": {}, "account": {}, "qos": {}, "time": {}, "gpus": {}, "gpu_type": {},
	"cpus_per_task": {}, "mem": {}, "constraint": {}, "setup": {}, "extra": {}, "max_concurrent": {}}

var stageKeys = keyTree{"key": {}, "command": {}, "args": {}, "timeout": {}, "after": {},
	"slurm": stageSlurmKeys, "local": {"gpu_per_run": {}, "mem_per_run": {}}}

var stageNameRE = lazyRE(`^[A-Za-z][A-Za-z0-9_]*$`)

// stageOrder returns the stage names and provenance names in file order.
func stageOrder(keys []toml.Key) (stages, prov []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		if len(k) >= 2 && (k[0] == "stages" || k[0] == "provenance") && !seen[k[0]+"\x00"+k[1]] {
			seen[k[0]+"\x00"+k[1]] = true
			if k[0] == "stages" {
				stages = append(stages, k[1])
			} else {
				prov = append(prov, k[1])
			}
		}
	}
	return stages, prov
}

// resolveStages checks the stages, the per-model commands and provenance,
// after the parameters, models and [slurm]/[local] are resolved.
func resolveStages(ps *problems, st *Study, f *file, baseDir string) {
	order, provOrder := f.stageOrder, f.provOrder
	st.FileDir = baseDir
	if d, ok := f.Gridstudy["study_file_dir"].(string); ok && d != "" {
		// A resolved study.toml: the study file's folder as plan saw it.
		st.FileDir = d
	} else if abs, err := filepath.Abs(baseDir); err == nil {
		st.FileDir = abs
	}
	for _, name := range provOrder {
		key := "provenance." + joinKey(name)
		cmd, ok := f.Provenance[name].(string)
		if !ok || strings.TrimSpace(cmd) == "" {
			ps.add(key, "want a shell command as a string, such as \"git rev-parse HEAD\"")
			continue
		}
		st.Provenance = append(st.Provenance, Provenance{Name: name, Command: cmd})
	}
	for _, name := range order {
		key := "stages." + joinKey(name)
		if !stageNameRE().MatchString(name) {
			ps.add(key, "stage name %q: use letters, digits and '_', starting with a letter", name)
			continue
		}
		sf := f.Stages[name]
		// Key is never nil: StagesBefore takes a nil key for a run's.
		s := &Stage{Name: name, Key: []string{}, After: sf.After, Command: sf.Command, Args: sf.Args, Slurm: st.Slurm,
			Local: st.Local, slurmOwn: sf.Slurm, localOwn: sf.Local}
		if s.After != "" && s.After != AfterRuns {
			ps.add(key+".after", "%q: want \"runs\" (or no after for a stage before the runs)", s.After)
		}
		checkStageKey(ps, st, s, sf.Key, key)
		if sf.Timeout != "" {
			d, err := ParseDuration(sf.Timeout)
			if err != nil {
				ps.add(key+".timeout", "%v", err)
			}
			s.Timeout = d
		}
		mergeOwn(ps, key+".slurm", sf.Slurm, &s.Slurm, func(sub *problems, v *Slurm) { checkSlurm(sub, v, baseDir) })
		mergeOwn(ps, key+".local", sf.Local, &s.Local, func(sub *problems, v *Local) { checkLocal(sub, v) })
		st.Stages = append(st.Stages, s)
	}
	// Templates are checked once every stage is known, so that a stage
	// naming a later one is told that it comes later, not that it is unknown.
	for i, s := range st.Stages {
		checkStageCommand(ps, st, s, i)
	}
	for _, m := range st.Models {
		checkModelCommand(ps, st, m)
	}
}

// checkStageKey sets s.Key from the file's key, refusing names that are
// not swept parameters of every model, "model" or "trial".
func checkStageKey(ps *problems, st *Study, s *Stage, key []string, at string) {
	for _, name := range key {
		switch {
		case slices.Contains(s.Key, name):
			ps.add(at+".key", "%q is in the key twice", name)
			continue
		case name == KeyModel:
			if len(st.Models) == 0 {
				ps.add(at+".key", "\"model\": the study compares no models ([models] is empty)")
				continue
			}
			if s.After == AfterRuns {
				ps.add(at+".key", "an after-runs stage compares the models of a group: its key must not hold \"model\"")
				continue
			}
		case name == KeyTrial:
		case slices.ContainsFunc(st.Params, func(p *Param) bool { return p.Name == name }):
		case s.After == AfterRuns && findParam(st, name) != nil:
			// A model's own parameter: runs of the other models join
			// every group that matches them on the rest of the key.
		default:
			if p := findParam(st, name); p != nil {
				ps.add(at+".key", "parameter %q is swept for model %s only: the key of a stage before the runs names parameters of every model (an after-runs stage's key may name it)", name, p.Model)
			} else if slices.ContainsFunc(st.Fixed, func(x Setting) bool { return x.Name == name }) {
				ps.add(at+".key", "%q is fixed, not swept: a stage's key names swept parameters", name)
			} else {
				known := []string{KeyModel, KeyTrial}
				for _, p := range st.Params {
					known = append(known, p.Name)
				}
				msg := fmt.Sprintf("%q is not a parameter of the study (known: %s)", name, strings.Join(known, ", "))
				if sg := suggest(name, known); sg != "" {
					msg = fmt.Sprintf("%q is not a parameter of the study; did you mean %q?", name, sg)
				}
				ps.add(at+".key", "%s", msg)
			}
			continue
		}
		s.Key = append(s.Key, name)
	}
}

// mergeOwn lays the stage's own keys of a [slurm] or [local] table over
// the study's (*dst) and checks the result, reporting only problems of the
// keys the stage sets: the study's own are reported under their table.
func mergeOwn[T any](ps *problems, at string, own map[string]any, dst *T, check func(*problems, *T)) {
	if len(own) == 0 {
		return
	}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(own); err != nil {
		ps.add(at, "%v", err)
		return
	}
	// Decoding onto the study's values replaces only the keys given.
	if _, err := toml.Decode(b.String(), dst); err != nil {
		ps.add(at, "%s", strings.TrimPrefix(err.Error(), "toml: "))
		return
	}
	sub := &problems{lines: ps.lines}
	check(sub, dst)
	for _, p := range sub.list {
		_, k, _ := strings.Cut(p.Key, ".")
		if _, set := own[k]; set {
			ps.add(at+"."+k, "%s", p.Msg)
		}
	}
}

var paramRefRE = lazyRE(`\.Params\.([A-Za-z_][A-Za-z0-9_]*)|index\s+\.Params\s+"([^"]*)"`)

// checkStageCommand refuses a stage command that does not parse or that
// uses what a stage does not have: a parameter outside its key, .Model or
// .Trial without them in the key, .Runs before the runs, or a stage that
// is unknown, later, or keyed on more than this one.
func checkStageCommand(ps *problems, st *Study, s *Stage, pos int) {
	at := "stages." + joinKey(s.Name)
	key := at + ".command"
	switch {
	case s.Command != "" && len(s.Args) > 0:
		ps.add(at, "give command or args, not both")
		return
	case s.Command == "" && len(s.Args) == 0:
		ps.add(at, "no command: give command = \"...\" or args = [...]")
		return
	case s.Command == "":
		key = at + ".args"
	}
	text := s.Command + "\x00" + strings.Join(s.Args, "\x00")
	for _, m := range paramRefRE().FindAllStringSubmatch(text, -1) {
		name := m[1] + m[2]
		if !s.HasKey(name) && findParam(st, name) != nil {
			ps.add(key, "uses parameter %q, which is not in the stage's key [%s]: the stage runs once per key value, so add %q to key", name, strings.Join(s.Key, ", "), name)
			return
		}
	}
	t, err := s.Template()
	if err != nil {
		ps.add(key, "%v", err)
		return
	}
	if _, err := t.RenderMap(stageSample(st, s, pos)); err != nil {
		ps.add(key, "%s", explainStageRender(st, s, pos, err))
	}
}

var noEntryRE = lazyRE(`at <([^>]*)>: map has no entry for key "([^"]*)"`)

// explainStageRender turns a render error of a stage's sample into what
// the user must change.
func explainStageRender(st *Study, s *Stage, pos int, err error) string {
	m := noEntryRE().FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	field, name := m[1], m[2]
	switch {
	case strings.HasPrefix(field, ".Params"):
		if findParam(st, name) != nil {
			return fmt.Sprintf("uses parameter %q, which is not in the stage's key [%s]: add it to key", name, strings.Join(s.Key, ", "))
		}
		return fmt.Sprintf("uses .Params.%s: the study has no parameter %q", name, name)
	case strings.HasPrefix(field, ".Stages"):
		if i := slices.IndexFunc(st.Stages, func(o *Stage) bool { return o.Name == name }); i >= 0 {
			o := st.Stages[i]
			switch {
			case o.After != "":
				return fmt.Sprintf("uses .Stages.%s, an after-runs stage: only stages before the runs have a folder here", name)
			case i >= pos && pos >= 0:
				return fmt.Sprintf("uses .Stages.%s, which is declared after this stage: declare it first", name)
			default:
				return fmt.Sprintf("uses .Stages.%s, whose key [%s] is not part of this stage's key [%s]", name, strings.Join(o.Key, ", "), strings.Join(s.Key, ", "))
			}
		}
		return fmt.Sprintf("uses .Stages.%s: the study has no stage %q", name, name)
	case field == ".Model":
		return "uses .Model, but \"model\" is not in the stage's key: add it to key"
	case field == ".Trial" || field == ".Seed":
		return fmt.Sprintf("uses %s, but \"trial\" is not in the stage's key: add it to key", field)
	case field == ".Runs":
		return "uses .Runs, which only an after-runs stage (after = \"runs\") has"
	}
	return fmt.Sprintf("uses %s, which a stage's command does not have (it has .Params of its key and [fixed], .StageDir, .StudyDir, .StudyFileDir, .Stages and, by its key, .Model, .Trial, .Seed; after the runs, .Runs)", field)
}

// stageSample is the template data of a stage task made of the first
// value of every key parameter, used to check the command before any task
// exists. pos is the stage's position in st.Stages.
func stageSample(st *Study, s *Stage, pos int) map[string]any {
	params := TemplateParams(st, nil) // [fixed] values are the same for every task
	for _, name := range s.Key {
		if p := findParam(st, name); p != nil {
			params[name] = p.Values[0]
		}
	}
	stages := map[string]string{}
	for _, o := range st.StagesBefore(s.Key, pos) {
		stages[o.Name] = "/study/stages/" + o.Name + "/sample"
	}
	d := map[string]any{"Params": params, "StudyDir": "/study", "StudyFileDir": st.FileDir,
		"StageDir": "/study/stages/" + s.Name + "/sample", "Stages": stages}
	if s.HasKey(KeyModel) {
		d["Model"] = st.Models[0].Name
	}
	if s.HasKey(KeyTrial) {
		d["Trial"], d["Seed"] = 1, int64(1)
	}
	if s.After == AfterRuns {
		runs := map[string]string{}
		for _, m := range st.ModelNames() {
			runs[m] = "/study/experiments/sample_" + m
		}
		d["Runs"] = runs
	}
	return d
}

// checkModelCommand checks a [models.NAME] command like [run]'s.
func checkModelCommand(ps *problems, st *Study, m *Model) {
	at := "models." + joinKey(m.Name)
	if m.Command == "" && len(m.Args) == 0 {
		return
	}
	if m.Command != "" && len(m.Args) > 0 {
		ps.add(at, "give command or args, not both")
		return
	}
	key, t, err := at+".command", (*command.Template)(nil), error(nil)
	if m.Command != "" {
		t, err = command.ParseShell(m.Command)
	} else {
		key = at + ".args"
		t, err = command.ParseArgs(m.Args)
	}
	if err == nil {
		d := SampleData(st)
		d.Model = m.Name
		for _, p := range m.Params {
			d.Params[p.Name] = p.Values[0]
		}
		_, err = t.Render(d)
	}
	if err != nil {
		ps.add(key, "%v", err)
	}
}

// encodeStages writes the [stages.NAME] and [provenance] tables of a
// resolved study.toml.
func (st *Study) encodeStages(b *bytes.Buffer) {
	for _, s := range st.Stages {
		t := map[string]any{"key": s.Key}
		if s.Command != "" {
			t["command"] = s.Command
		}
		if len(s.Args) > 0 {
			t["args"] = s.Args
		}
		if s.After != "" {
			t["after"] = s.After
		}
		if s.Timeout > 0 {
			t["timeout"] = s.Timeout.String()
		}
		section(b, "stages."+joinKey(s.Name), t)
		section(b, "stages."+joinKey(s.Name)+".slurm", s.slurmOwn)
		section(b, "stages."+joinKey(s.Name)+".local", s.localOwn)
	}
	prov := map[string]any{}
	for _, p := range st.Provenance {
		prov[p.Name] = p.Command
	}
	section(b, "provenance", prov)
}

// modelCommandTable adds a model's own command to its encoded table.
func modelCommandTable(m *Model) map[string]any {
	t := map[string]any{}
	if m.Command != "" {
		t["command"] = m.Command
	}
	if len(m.Args) > 0 {
		t["args"] = m.Args
	}
	return t
}

// KeyString is the text that identifies v in a key assignment: the same
// canonical text as in cell ids, so 1e6 and 1000000 are one key.
func (v Value) KeyString() string { return v.canonical() }

// FolderPart is "name=value" as cell folder names spell it, characters
// that do not belong in a file name replaced by "_".
func FolderPart(name string, v Value) string {
	s, _ := folderPart(name, v)
	return s
}
