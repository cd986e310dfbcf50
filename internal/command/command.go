// Package command renders a study's run command for one run. Every value a
// template substitutes reaches the shell quoted, so parameter values never
// become shell code.
package command

import (
	"fmt"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"github.com/gridstudy/gridstudy/templates"
)

// Data is what a command template sees for one run.
type Data struct {
	Params     map[string]any
	Model      string
	Trial      int
	Seed       int64
	RunID      string
	CellID     string
	RunDir     string
	StudyDir   string
	ConfigFile string
	// StudyFileDir is the folder of the study file, so that scripts kept
	// beside it need no absolute path.
	StudyFileDir string
	// Stages maps each before-runs stage to the folder of the run's task.
	Stages map[string]string
}

// Template is a parsed run command: a string run under bash -c, or an
// argument list run without a shell.
type Template struct {
	shell *template.Template   // set for a string command
	args  []*template.Template // set for an argument list
}

// ParseShell parses a command run under `bash -c`. Each action's output is
// quoted for where it stands in the shell text: `--out {{.RunDir}}` renders
// as `--out '/path with space'`, `"v={{.Model}}"` with backslashes before
// \ " $ and `. A template with an action where no quoting is safe (inside
// `…`, a comment, an arithmetic expression, …) is refused with an error
// that names the action's line and column.
func ParseShell(src string) (*Template, error) {
	t, err := parse1("command", src, true)
	if err != nil {
		return nil, err
	}
	return &Template{shell: t}, nil
}

// ParseArgs parses an argument list run with no shell: values are passed
// as they are, each argument one word.
func ParseArgs(args []string) (*Template, error) {
	ts := make([]*template.Template, len(args))
	for i, a := range args {
		t, err := parse1(fmt.Sprintf("args[%d]", i), a, false)
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	return &Template{args: ts}, nil
}

// Text is a template that renders to one string used as it is, such as a
// file path: it never reaches a shell, so nothing in it is quoted.
type Text struct {
	t *template.Template
}

// ParseText parses a Text template with the same functions and the same
// refusal of unknown fields as a command; name labels its errors.
func ParseText(name, src string) (*Text, error) {
	t, err := parse1(name, src, false)
	if err != nil {
		return nil, err
	}
	return &Text{t: t}, nil
}

// Render renders the template for one run.
func (x *Text) Render(d Data) (string, error) { return exec1(x.t, d) }

// Shell reports whether the command runs under a shell.
func (t *Template) Shell() bool { return t.shell != nil }

// Render returns the argv to execute for one run.
func (t *Template) Render(d Data) ([]string, error) { return t.render(d) }

// RenderMap returns the argv for data given as a map from field name to
// value. A field the map lacks is an error, which lets a caller offer only
// some fields: a stage's command sees .Model only when its key holds the
// model.
func (t *Template) RenderMap(d map[string]any) ([]string, error) { return t.render(d) }

func (t *Template) render(d any) ([]string, error) {
	if t.shell != nil {
		s, err := exec1(t.shell, d)
		if err != nil {
			return nil, err
		}
		return []string{"bash", "-c", s}, nil
	}
	argv := make([]string, len(t.args))
	for i, a := range t.args {
		s, err := exec1(a, d)
		if err != nil {
			return nil, err
		}
		argv[i] = s
	}
	return argv, nil
}

func exec1(t *template.Template, d any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return b.String(), nil
}

func parse1(name, src string, quote bool) (*template.Template, error) {
	key := parsed{name, src, quote}
	if t, ok := parseCache.Load(key); ok {
		return t.(*template.Template), nil
	}
	t, err := parseNew(name, src, quote)
	if err != nil {
		return nil, err
	}
	parseCache.Store(key, t)
	return t, nil
}

// parsed is what a parsed template depends on.
type parsed struct {
	name, src string
	quote     bool
}

// parseCache holds the templates parsed by this process. A packed task or
// `gridstudy run` renders one command for each of thousands of runs, and
// parsing it with sprig's few hundred functions cost more than the rest
// of a no-op run's bookkeeping; a parsed template is never changed, and
// executing it is safe from many goroutines.
var parseCache sync.Map

func parseNew(name, src string, quote bool) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(templates.FuncMap()).Funcs(quoteFuncMap).Parse(src)
	if err != nil {
		return nil, err
	}
	if quote && t.Tree != nil {
		if err := quoteActions(t.Tree); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// quoteActions decides, from the shell syntax around each action that
// prints, how its output is quoted (context.go), and appends the quoting
// function to the action's pipeline; it refuses the template where no
// quoting is safe. Templates defined inside the command are not analysed:
// calling one is refused.
func quoteActions(tree *parse.Tree) error {
	a := &analyzer{tree: tree, decisions: map[*parse.ActionNode]quoting{}}
	if _, err := a.list(tree.Root, newShellState()); err != nil {
		return err
	}
	for n, q := range a.decisions {
		id := parse.NewIdentifier(quoteFuncs[q]).SetTree(tree).SetPos(n.Pos)
		n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{id}})
	}
	return nil
}
