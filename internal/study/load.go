package study

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/gridstudy/gridstudy/internal/command"
	"github.com/gridstudy/gridstudy/internal/runconfig"
)

// Overrides are the command-line flags that build or change a study.
type Overrides struct {
	Name       string
	Params     []string // NAME=V1,V2,...
	Fixed      []string // NAME=V
	Models     []string // replaces the set of models
	Trials     int      // 0: keep the file's
	BaseConfig string
	Command    string
}

// Load reads and validates the study file at path, with flags applied on
// top. A path of "" builds the study from the flags alone. Any problem with
// the study is reported as an *InvalidError listing all of them.
func Load(path string, ov Overrides) (*Study, error) {
	var src []byte
	name := "flags"
	baseDir, _ := os.Getwd()
	if path != "" {
		var err error
		src, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read study: %w", err)
		}
		name = path
		baseDir = filepath.Dir(path)
	}
	return parse(name, string(src), baseDir, ov)
}

// Parse validates a study given as TOML text. name labels error messages;
// relative paths in the study are resolved against baseDir.
func Parse(name, src, baseDir string, ov Overrides) (*Study, error) {
	return parse(name, src, baseDir, ov)
}

var lineRE = lazyRE(`line (\d+)`)

func parse(name, src, baseDir string, ov Overrides) (st *Study, err error) {
	defer func() {
		// The TOML decoder and template parser should not panic, but a
		// panic on odd input must never reach a user as a stack trace.
		if r := recover(); r != nil {
			st, err = nil, &InvalidError{File: name, Problems: []Problem{{Msg: fmt.Sprintf("cannot read study: %v", r)}}}
		}
	}()
	ps := &problems{lines: scanKeyLines(src)}
	var f file
	md, err := toml.Decode(src, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := strings.TrimPrefix(pe.Message, "toml: ")
			return nil, &InvalidError{File: name, Problems: []Problem{{Line: pe.Position.Line, Key: pe.LastKey, Msg: msg}}}
		}
		p := Problem{Msg: strings.TrimPrefix(err.Error(), "toml: ")}
		if m := lineRE().FindStringSubmatch(err.Error()); m != nil {
			fmt.Sscan(m[1], &p.Line)
		}
		return nil, &InvalidError{File: name, Problems: []Problem{p}}
	}
	checkKeys(ps, md.Keys())
	if md.IsDefined("slurm", "runs_at_once") && f.Slurm.RunsAtOnce == 0 {
		// 0 is also the unset value: only the metadata tells them apart.
		ps.add("slurm.runs_at_once", "0: give at least 1 run at once")
	}
	paramOrder, modelOrder, modelParamOrder := orders(md.Keys())
	f.stageOrder, f.provOrder = stageOrder(md.Keys())
	f.Collect.order = metricDeclOrder(md.Keys())
	applyFlags(ps, &f, ov, &paramOrder, &modelOrder)
	if name != "flags" && f.Name == "" {
		f.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	st = resolve(ps, &f, baseDir, paramOrder, modelOrder, modelParamOrder)
	if len(ps.list) > 0 {
		return nil, &InvalidError{File: name, Problems: ps.list}
	}
	st.Path = name
	if name == "flags" {
		st.Path = ""
	}
	return st, nil
}

// checkKeys refuses keys the study format does not know, case-sensitively
// (BurntSushi/toml matches struct fields case-insensitively).
func checkKeys(ps *problems, keys []toml.Key) {
	for _, k := range keys {
		tree := studyKeys
		for i, part := range k {
			if tree == nil {
				break // free-form table
			}
			next, ok := tree[part]
			if !ok {
				next, ok = tree["*"]
			}
			if !ok {
				known := make([]string, 0, len(tree))
				for name := range tree {
					known = append(known, name)
				}
				sort.Strings(known)
				key := joinKey(k[:i+1]...)
				if s := suggest(part, known); s != "" {
					ps.add(key, "unknown key %q; did you mean %q?", part, s)
				} else {
					ps.add(key, "unknown key %q; known keys here: %s", part, strings.Join(known, ", "))
				}
				break
			}
			tree = next
		}
	}
}

// orders recovers the order in which the file declares parameters and
// models: the grid and folder names follow it.
func orders(keys []toml.Key) (params, models []string, modelParams map[string][]string) {
	modelParams = map[string][]string{}
	seen := map[string]bool{}
	add := func(list []string, kind string, name string) []string {
		if seen[kind+"\x00"+name] {
			return list
		}
		seen[kind+"\x00"+name] = true
		return append(list, name)
	}
	// A table such as [models.pinn.params.x] defines models.pinn without
	// a key of its own, so every key below a name counts.
	for _, k := range keys {
		switch {
		case len(k) >= 2 && k[0] == "params":
			params = add(params, "p", k[1])
		case len(k) >= 2 && k[0] == "models":
			models = add(models, "m", k[1])
			if len(k) >= 4 && k[2] == "params" {
				modelParams[k[1]] = add(modelParams[k[1]], "mp."+k[1], k[3])
			}
		}
	}
	return params, models, modelParams
}

// applyFlags applies command-line overrides to the decoded file.
func applyFlags(ps *problems, f *file, ov Overrides, paramOrder, modelOrder *[]string) {
	if ov.Name != "" {
		f.Name = ov.Name
	}
	if ov.Trials != 0 {
		t := int64(ov.Trials)
		f.Trials = &t
	}
	if ov.BaseConfig != "" {
		f.Run.BaseConfig = ov.BaseConfig
	}
	if ov.Command != "" {
		f.Run.Command = ov.Command
	}
	for _, p := range ov.Params {
		name, vals, err := ParseParamFlag(p)
		if err != nil {
			ps.add("--param", "%v", err)
			continue
		}
		if f.Params == nil {
			f.Params = map[string]paramFile{}
		}
		if _, ok := f.Params[name]; !ok {
			*paramOrder = append(*paramOrder, name)
		}
		anys := make([]any, len(vals))
		for i, v := range vals {
			anys[i] = v.Any()
		}
		f.Params[name] = paramFile{Values: anys}
	}
	for _, fx := range ov.Fixed {
		name, val, ok := strings.Cut(fx, "=")
		if !ok || strings.TrimSpace(name) == "" {
			ps.add("--fixed", "%q: want NAME=VALUE", fx)
			continue
		}
		if f.Fixed == nil {
			f.Fixed = map[string]any{}
		}
		f.Fixed[strings.TrimSpace(name)] = ParseValue(strings.TrimSpace(val)).Any()
	}
	if len(ov.Models) > 0 {
		models := map[string]modelFile{}
		*modelOrder = nil
		for _, m := range ov.Models {
			m = strings.TrimSpace(m)
			if m == "" {
				continue
			}
			if _, dup := models[m]; dup {
				ps.add("--models", "model %q given twice", m)
				continue
			}
			models[m] = f.Models[m]
			*modelOrder = append(*modelOrder, m)
		}
		f.Models = models
	}
}

// ParseParamFlag parses NAME=V1,V2,... as given to --param.
func ParseParamFlag(s string) (string, []Value, error) {
	name, list, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", nil, fmt.Errorf("%q: want NAME=V1,V2 (a comma-separated list of values)", s)
	}
	var vals []Value
	for _, tok := range strings.Split(list, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			return "", nil, fmt.Errorf("%q: empty value in the list", s)
		}
		vals = append(vals, ParseValue(tok))
	}
	return name, vals, nil
}

func resolve(ps *problems, f *file, baseDir string, paramOrder, modelOrder []string, modelParamOrder map[string][]string) *Study {
	st := &Study{Name: f.Name, Seed: f.Seed, Constraints: f.Constraints, Zip: f.Zip,
		Slurm: f.Slurm, Local: f.Local, Collect: f.Collect, Plots: f.Plots, Metrics: f.Metrics}
	if msg := checkFolderName("study name", f.Name); f.Name != "" && msg != "" {
		ps.add("name", "%s", msg)
	}
	if f.Name == "" {
		ps.add("name", "the study has no name: set name = \"...\" or --name")
	}
	st.Trials = 1
	if f.Trials != nil {
		if *f.Trials < 1 {
			ps.add("trials", "trials = %d: want 1 or more", *f.Trials)
		} else if *f.Trials > 1_000_000 {
			ps.add("trials", "trials = %d: more than a million trials per cell", *f.Trials)
		} else {
			st.Trials = int(*f.Trials)
		}
	}

	seen := map[string]string{} // parameter name -> where it is defined
	for _, name := range paramOrder {
		p := resolveParam(ps, "params."+joinKey(name), name, f.Params[name])
		if p == nil {
			continue
		}
		seen[name] = "params"
		st.Params = append(st.Params, p)
	}
	kinds := map[string]Kind{}
	for _, mname := range modelOrder {
		key := "models." + joinKey(mname)
		if msg := checkFolderName("model name", mname); msg != "" {
			ps.add(key, "%s", msg)
			continue
		}
		mf := f.Models[mname]
		m := &Model{Name: mname, Command: mf.Command, Args: mf.Args, Overrides: settings(mf.Overrides)}
		for _, pname := range modelParamOrder[mname] {
			pkey := key + ".params." + joinKey(pname)
			if where, ok := seen[pname]; ok && where == "params" {
				ps.add(pkey, "parameter %q is also swept for every model under [params]", pname)
				continue
			}
			p := resolveParam(ps, pkey, pname, mf.Params[pname])
			if p == nil {
				continue
			}
			if k, ok := kinds[pname]; ok && k != p.Kind {
				ps.add(pkey, "parameter %q is %s here but %s in another model: one column has one type", pname, p.Kind, k)
			}
			kinds[pname] = p.Kind
			p.Model = mname
			m.Params = append(m.Params, p)
		}
		st.Models = append(st.Models, m)
	}
	st.Fixed = settings(f.Fixed)
	for _, s := range st.Fixed {
		if where, ok := seen[s.Name]; ok {
			ps.add("fixed."+joinKey(s.Name), "%q is both fixed and swept under [%s]", s.Name, where)
		}
	}
	checkFinite(ps, "fixed", st.Fixed)
	for _, m := range st.Models {
		checkFinite(ps, "models."+joinKey(m.Name)+".overrides", m.Overrides)
	}
	checkEnvNames(ps, st)
	checkNesting(ps, st)
	checkZip(ps, st)
	compileConstraints(ps, st)
	// Stages first: the run command may name their folders.
	resolveStages(ps, st, f, baseDir)
	resolveRun(ps, st, &f.Run, baseDir)
	resolveMetrics(ps, st, baseDir)
	checkSlurm(ps, &st.Slurm, baseDir)
	checkLocal(ps, &st.Local)
	checkCollect(ps, st)
	return st
}

// settings flattens a table of fixed values or overrides into dotted paths
// ({model = {N = 64}} and "model.N" = 64 are the same setting), sorted.
func settings(m map[string]any) []Setting {
	var out []Setting
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if sub, ok := m[k].(map[string]any); ok {
			for _, s := range settings(sub) {
				out = append(out, Setting{Name: k + "." + s.Name, Value: s.Value})
			}
			continue
		}
		out = append(out, Setting{Name: k, Value: m[k]})
	}
	return out
}

func resolveParam(ps *problems, key, name string, pf paramFile) *Param {
	if msg := checkParamName(name); msg != "" {
		ps.add(key, "%s", msg)
		return nil
	}
	p := &Param{Name: name, Scale: "list"}
	switch {
	case pf.Values != nil && pf.Range != nil:
		ps.add(key, "give values or range, not both")
		return nil
	case pf.Range != nil:
		if pf.Scale != "" {
			ps.add(key+".scale", "give the scale inside range = {...}")
		}
		vals, scale, err := expandRange(pf.Range)
		if err != nil {
			ps.add(key+".range", "%v", err)
			return nil
		}
		p.Values, p.Scale = vals, scale
	case len(pf.Values) == 0:
		if pf.Values != nil {
			ps.add(key+".values", "empty list: a parameter needs at least one value")
		} else {
			ps.add(key, "no values: give values = [...] or range = {...}")
		}
		return nil
	default:
		switch pf.Scale {
		case "", "list":
		case "linear", "log", "log2":
			p.Scale = pf.Scale
		default:
			ps.add(key+".scale", "scale %q: want \"linear\", \"log\" or \"log2\"", pf.Scale)
		}
		for i, x := range pf.Values {
			v, err := valueOf(x)
			if err != nil {
				ps.add(key+".values", "value %d: %v", i+1, err)
				return nil
			}
			p.Values = append(p.Values, v)
		}
	}
	kind, vals, err := unify(p.Values)
	if err != nil {
		ps.add(key+".values", "%v", err)
		return nil
	}
	p.Kind, p.Values = kind, vals
	valuesKey := key + ".values"
	if pf.Range != nil {
		valuesKey = key + ".range"
	}
	seen := map[string]Value{} // canonical text -> the first value with it
	for i, v := range p.Values {
		if v.Kind == Float && (math.IsNaN(v.F) || math.IsInf(v.F, 0)) {
			ps.add(valuesKey, "value %d is %s: a parameter's values must be finite numbers", i+1, v)
			return nil
		}
		c := v.canonical()
		if v.Kind == Float && v.F == 0 {
			// -0.0 and 0.0 are one number to the user's command, but
			// canonical keeps the sign (cell ids of existing studies must
			// not change), so they would be two cells of one grid point.
			c = Value{Kind: Float}.canonical()
		}
		if first, dup := seen[c]; dup {
			if math.Signbit(first.F) != math.Signbit(v.F) {
				ps.add(valuesKey, "duplicate value %s: 0.0 and -0.0 are one number", v)
			} else {
				ps.add(valuesKey, "duplicate value %s", v)
			}
			return nil
		}
		seen[c] = v
	}
	return p
}

func checkZip(ps *problems, st *Study) {
	inZip := map[string]bool{}
	for i, group := range st.Zip {
		key := fmt.Sprintf("zip[%d]", i)
		if len(group) < 2 {
			ps.add("zip", "group %d has %d parameter: zip at least two", i+1, len(group))
			continue
		}
		n := -1
		model := "-"
		for _, name := range group {
			p := findParam(st, name)
			if p == nil {
				ps.add("zip", "%s names unknown parameter %q", key, name)
				continue
			}
			if inZip[name] {
				ps.add("zip", "parameter %q is in more than one zip group", name)
			}
			inZip[name] = true
			if n >= 0 && len(p.Values) != n {
				ps.add("zip", "%s: parameters zipped together need the same number of values (%q has %d, not %d)", key, name, len(p.Values), n)
			}
			n = len(p.Values)
			if model != "-" && p.Model != model {
				ps.add("zip", "%s: zip parameters of one model, or of every model, not both", key)
			}
			model = p.Model
		}
	}
}

func findParam(st *Study, name string) *Param {
	for _, p := range st.AllParams() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func resolveRun(ps *problems, st *Study, rf *runFile, baseDir string) {
	st.Run = Run{Command: rf.Command, Args: rf.Args}
	if rf.Command != "" && len(rf.Args) > 0 {
		ps.add("run", "give command or args, not both")
	}
	var tmpl *command.Template
	var err error
	switch {
	case rf.Command != "":
		tmpl, err = command.ParseShell(rf.Command)
		if err != nil {
			ps.add("run.command", "%v", err)
		}
	case len(rf.Args) > 0:
		tmpl, err = command.ParseArgs(rf.Args)
		if err != nil {
			ps.add("run.args", "%v", err)
		}
	}
	if tmpl != nil && err == nil {
		// Render once with a sample run: catches unknown fields and
		// misspelt parameter names before anything is submitted.
		if _, err := tmpl.Render(SampleData(st)); err != nil {
			key := "run.command"
			if !tmpl.Shell() {
				key = "run.args"
			}
			ps.add(key, "%v", err)
		}
	}
	if rf.Timeout != "" {
		d, err := ParseDuration(rf.Timeout)
		if err != nil {
			ps.add("run.timeout", "%v", err)
		}
		st.Run.Timeout = d
	}
	resolveRetain(ps, st, rf)
	if rf.BaseConfig != "" {
		p := resolvePath(baseDir, rf.BaseConfig)
		if _, err := runconfig.Read(p); err != nil {
			ps.add("run.base_config", "%v", err)
		}
		st.Run.BaseConfig = p
	}
}

// SampleData is command data for the first value of every parameter, used
// to check a command template before any run exists.
func SampleData(st *Study) command.Data {
	d := command.Data{Params: map[string]any{}, Trial: 1, Seed: 1, RunID: "sample", CellID: "sample",
		RunDir: "/run", StudyDir: "/study", ConfigFile: "/run/config", StudyFileDir: st.FileDir, Stages: map[string]string{}}
	for _, s := range st.StagesBefore(nil, -1) {
		d.Stages[s.Name] = "/study/stages/" + s.Name + "/sample"
	}
	if len(st.Models) > 0 {
		d.Model = st.Models[0].Name
	}
	for _, p := range st.AllParams() {
		d.Params[p.Name] = p.Values[0]
	}
	for _, s := range st.Fixed {
		d.Params[s.Name] = s.Value
	}
	return d
}

var slurmTimeRE = lazyRE(`^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$`)

// ParseDuration reads a Go duration ("2h30m") or a SLURM time ("02:00:00",
// "1-12:00:00", "90" minutes).
func ParseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return 0, fmt.Errorf("duration %q must be positive", s)
		}
		return d, nil
	}
	m := slurmTimeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("cannot read duration %q: use 2h30m or SLURM's [D-]HH:MM:SS", s)
	}
	var n [4]int64
	for i := range n {
		if m[i+1] != "" {
			fmt.Sscan(m[i+1], &n[i])
		}
	}
	days, a, b, c := n[0], n[1], n[2], n[3]
	var d time.Duration
	switch {
	case m[1] != "" && m[3] == "": // D-HH
		d = time.Duration(days*24+a) * time.Hour
	case m[1] != "": // D-HH:MM[:SS]
		d = time.Duration(days*24+a)*time.Hour + time.Duration(b)*time.Minute + time.Duration(c)*time.Second
	case m[4] != "": // HH:MM:SS
		d = time.Duration(a)*time.Hour + time.Duration(b)*time.Minute + time.Duration(c)*time.Second
	case m[3] != "": // MM:SS
		d = time.Duration(a)*time.Minute + time.Duration(b)*time.Second
	default: // MM
		d = time.Duration(a) * time.Minute
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return d, nil
}

var (
	memRE       = lazyRE(`^[0-9]+[KMGT]?B?$`)
	directiveRE = lazyRE(`^[A-Za-z0-9_.,:+=@/%|&!()\[\]*-]*$`)
)

func checkSlurm(ps *problems, s *Slurm, baseDir string) {
	for _, f := range []struct{ key, v string }{{"partition", s.Partition}, {"account", s.Account}, {"qos", s.QOS},
		{"gpu_type", s.GPUType}, {"constraint", s.Constraint}, {"job_name", s.JobName}} {
		if !directiveRE().MatchString(f.v) {
			ps.add("slurm."+f.key, "%q has characters SLURM does not take in this field (spaces, quotes, newlines)", f.v)
		}
	}
	limit, limitErr := ParseDuration(s.Time)
	if s.Time != "" && limitErr != nil {
		ps.add("slurm.time", "%v", limitErr)
	}
	if s.SignalBefore != "" {
		d, err := ParseDuration(s.SignalBefore)
		switch {
		case err != nil:
			ps.add("slurm.signal_before", "%v", err)
		case d%time.Second != 0 || d > maxSignalLead:
			ps.add("slurm.signal_before", "%q: sbatch --signal takes whole seconds from 1 to %d", s.SignalBefore, int(maxSignalLead.Seconds()))
		case s.Time != "" && limitErr == nil && d >= limit:
			ps.add("slurm.signal_before", "%q is not below the time limit %q: the warning would come before the job starts", s.SignalBefore, s.Time)
		}
	}
	if s.MaxQueued == 1 {
		ps.add("slurm.max_queued", "1 leaves no room for an array task beside the feeder job that submits the next batch: give at least 2")
	}
	for _, f := range []struct {
		key string
		v   int64
	}{{"gpus", s.GPUs}, {"cpus_per_task", s.CPUsPerTask}, {"max_concurrent", s.MaxConcurrent},
		{"runs_per_task", s.RunsPerTask}, {"runs_at_once", s.RunsAtOnce}, {"max_array_size", s.MaxArraySize}, {"max_queued", s.MaxQueued}} {
		if f.v < 0 {
			ps.add("slurm."+f.key, "%d is negative", f.v)
		}
	}
	if s.Mem != "" && !memRE().MatchString(s.Mem) {
		ps.add("slurm.mem", "%q: want a size such as 32G or 4000M", s.Mem)
	}
	for i, line := range s.Setup {
		if strings.ContainsAny(line, "\n\r") {
			ps.add("slurm.setup", "line %d holds a newline: give one command per list entry", i+1)
		}
	}
	for i, line := range s.Extra {
		if !strings.HasPrefix(line, "--") || strings.ContainsAny(line, "\n\r") {
			ps.add("slurm.extra", "entry %d %q: want one sbatch option such as \"--qos=high\"", i+1, line)
		}
	}
	if s.Template != "" {
		if !filepath.IsAbs(s.Template) {
			s.Template = filepath.Join(baseDir, s.Template)
		}
		if _, err := os.Stat(s.Template); err != nil {
			ps.add("slurm.template", "%v", err)
		}
	}
}

func checkLocal(ps *problems, l *Local) {
	if l.Workers < 0 {
		ps.add("local.workers", "%d is negative", l.Workers)
	}
	if l.GPUPerRun < 0 {
		ps.add("local.gpu_per_run", "%g is negative", l.GPUPerRun)
	}
	if l.MemPerRun != "" && !memRE().MatchString(l.MemPerRun) {
		ps.add("local.mem_per_run", "%q: want a size such as 8G", l.MemPerRun)
	}
	if l.MaxAttempts < 0 {
		ps.add("local.max_attempts", "%d is negative", l.MaxAttempts)
	}
	switch g := l.GPUs.(type) {
	case nil, string:
	case []any:
		for _, x := range g {
			if i, ok := x.(int64); !ok || i < 0 {
				ps.add("local.gpus", "%v: want GPU indices such as [0, 1]", x)
			}
		}
	default:
		ps.add("local.gpus", "%v: want \"auto\", \"none\" or a list of GPU indices", g)
	}
}

func checkCollect(ps *problems, st *Study) {
	checkCollectPlots(ps, st)
	if c := st.Metrics.Convention; c != "" && c != "standard" && c != "ptychopinn" {
		ps.add("metrics.convention", "%q: want \"standard\" or \"ptychopinn\"", c)
	}
}
