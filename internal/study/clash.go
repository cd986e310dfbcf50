package study

import (
	"math"
	"strings"
)

// paramKey is the key of the study file that defines p.
func paramKey(p *Param) string {
	if p.Model == "" {
		return "params." + joinKey(p.Name)
	}
	return "models." + joinKey(p.Model) + ".params." + joinKey(p.Name)
}

// checkEnvNames refuses two parameters of one run that the run protocol
// exports as one environment variable (a.b, a_b and A-B are all
// GRIDSTUDY_PARAM_A_B): the command would see one value and lose the other.
// Parameters of different models never meet in one run, so they may.
func checkEnvNames(ps *problems, st *Study) {
	reported := map[string]bool{}
	for _, model := range st.ModelNames() {
		byEnv := map[string]*Param{}
		for _, p := range st.ParamsFor(model) {
			env := ParamEnv(p.Name)
			other, ok := byEnv[env]
			if !ok {
				byEnv[env] = p
				continue
			}
			key := paramKey(p)
			if reported[key+"\x00"+other.Name] {
				continue // a parameter of every model clashes in each model
			}
			reported[key+"\x00"+other.Name] = true
			ps.add(key, "parameters %q and %q are both %s in a run's environment: rename one", other.Name, p.Name, env)
		}
	}
}

// configKey is a dotted name that a run's config file receives: a fixed
// value, a model's override or a parameter, with the study-file key that
// sets it.
type configKey struct {
	name, key string
}

// checkNesting refuses a dotted name that is both a value and a table of one
// run's config: sweeping "a" and "a.b", or fixing one and sweeping the
// other. Whichever was written last would replace the other, or the run
// would fail writing its config.
func checkNesting(ps *problems, st *Study) {
	reported := map[string]bool{}
	for _, model := range st.ModelNames() {
		var keys []configKey
		for _, s := range st.Fixed {
			keys = append(keys, configKey{s.Name, ps.settingKey("fixed", s.Name)})
		}
		if m := st.Model(model); m != nil {
			for _, s := range m.Overrides {
				keys = append(keys, configKey{s.Name, ps.settingKey("models."+joinKey(m.Name)+".overrides", s.Name)})
			}
		}
		for _, p := range st.ParamsFor(model) {
			keys = append(keys, configKey{p.Name, paramKey(p)})
		}
		byName := map[string]configKey{}
		for _, k := range keys {
			if _, ok := byName[k.name]; !ok {
				byName[k.name] = k
			}
		}
		for _, k := range keys {
			for i := range len(k.name) {
				if k.name[i] != '.' {
					continue
				}
				outer, ok := byName[k.name[:i]]
				if !ok || reported[k.key+"\x00"+outer.key] {
					continue
				}
				reported[k.key+"\x00"+outer.key] = true
				ps.add(k.key, "%q is a key inside %q, which %s sets to a value: a key of the run's config is a value or a table, not both", k.name, outer.name, outer.key)
			}
		}
	}
}

// settingKey is the key of a fixed value or an override as the file spells
// it, so that a message points at its line: "model.N" = 64 under [fixed] is
// fixed."model.N"; N = 64 under [fixed.model], or model = {N = 64}, is
// fixed.model.N.
func (ps *problems) settingKey(prefix, name string) string {
	quoted := prefix + "." + joinKey(name)
	if _, ok := ps.lines[quoted]; ok {
		return quoted
	}
	first, _, nested := strings.Cut(name, ".")
	if _, ok := ps.lines[prefix+"."+joinKey(first)]; ok && nested {
		return prefix + "." + name
	}
	return quoted
}

// checkFinite refuses NaN and infinities among fixed values or overrides
// (TOML and --fixed accept nan and inf): JSON configs cannot hold them, and
// a NaN is not even equal to itself.
func checkFinite(ps *problems, prefix string, settings []Setting) {
	for _, s := range settings {
		if !finite(s.Value) {
			ps.add(ps.settingKey(prefix, s.Name), "%s holds %v: values must be finite numbers", s.Name, s.Value)
		}
	}
}

// finite reports whether v, and every value inside it, is free of NaN and
// infinities.
func finite(v any) bool {
	switch x := v.(type) {
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case []any:
		for _, e := range x {
			if !finite(e) {
				return false
			}
		}
	case []map[string]any:
		for _, e := range x {
			if !finite(e) {
				return false
			}
		}
	case map[string]any:
		for _, e := range x {
			if !finite(e) {
				return false
			}
		}
	}
	return true
}
