package study

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// ExprName is how a parameter is named inside a constraint: dots and dashes
// become underscores (model.nll_weight -> model_nll_weight), because expr
// reads a dot as a member access. `model` is the comparison model's name.
func ExprName(param string) string {
	return exprNamer.Replace(param)
}

var exprNamer = strings.NewReplacer(".", "_", "-", "_")

// constraint is one compiled constraint; programs holds one program per
// model, nil for a model whose parameters the constraint does not name.
type constraint struct {
	src      string
	programs map[string]*vm.Program
}

// envFor is the sample environment of one model: every parameter of that
// model and every fixed value, under its expr name.
func envFor(st *Study, model string) map[string]any {
	env := map[string]any{"model": model}
	for _, s := range st.Fixed {
		if v, err := valueOf(s.Value); err == nil {
			env[ExprName(s.Name)] = exprValue(v)
		}
	}
	for _, p := range st.ParamsFor(model) {
		env[ExprName(p.Name)] = exprValue(p.Values[0])
	}
	return env
}

// exprValue gives numbers to expr as float64 so that ints and floats mix.
func exprValue(v Value) any {
	if f, ok := v.Number(); ok {
		return f
	}
	return v.Any()
}

func compileConstraints(ps *problems, st *Study) {
	names := map[string]string{"model": "the model name"}
	for _, p := range st.AllParams() {
		n := ExprName(p.Name)
		if other, ok := names[n]; ok && other != p.Name && len(st.Constraints) > 0 {
			ps.add("constraints", "parameters %q and %s are both %q in constraints: rename one", p.Name, other, n)
		}
		names[n] = p.Name
	}
	for i, src := range st.Constraints {
		c := constraint{src: src, programs: map[string]*vm.Program{}}
		var firstErr error
		for _, m := range st.ModelNames() {
			prog, err := expr.Compile(src, expr.Env(envFor(st, m)), expr.AsBool(), expr.DisableBuiltin("now"))
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			c.programs[m] = prog
		}
		st.constraints = append(st.constraints, c)
		if len(c.programs) == 0 {
			ps.add("constraints", "constraint %d %q: %s", i+1, src, oneLine(firstErr.Error()))
		}
	}
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// keep evaluates the constraints for one cell.
func keep(cs []constraint, model string, env map[string]any) (bool, error) {
	for _, c := range cs {
		prog := c.programs[model]
		if prog == nil {
			continue
		}
		out, err := expr.Run(prog, env)
		if err != nil {
			return false, fmt.Errorf("constraint %q: %w", c.src, err)
		}
		if ok, _ := out.(bool); !ok {
			return false, nil
		}
	}
	return true, nil
}
