// Package command renders a study's run command for one run. Every value a
// template substitutes reaches the shell quoted, so parameter values never
// become shell code.
package command

import (
	"fmt"
	"strings"
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
}

// Template is a parsed run command: a string run under bash -c, or an
// argument list run without a shell.
type Template struct {
	shell *template.Template   // set for a string command
	args  []*template.Template // set for an argument list
}

// ParseShell parses a command run under `bash -c`. Each action's output is
// shell-quoted: `--out {{.RunDir}}` renders as `--out '/path with space'`.
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

// Shell reports whether the command runs under a shell.
func (t *Template) Shell() bool { return t.shell != nil }

// Render returns the argv to execute for one run.
func (t *Template) Render(d Data) ([]string, error) {
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

func exec1(t *template.Template, d Data) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return b.String(), nil
}

func parse1(name, src string, quote bool) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(templates.FuncMap()).Parse(src)
	if err != nil {
		return nil, err
	}
	if quote {
		for _, tt := range t.Templates() {
			if tt.Tree != nil {
				quoteActions(tt.Tree, tt.Tree.Root)
			}
		}
	}
	return t, nil
}

// quoteActions appends `| shq` to every action that prints something, in
// every branch of ifs, ranges and withs.
func quoteActions(tree *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			quoteActions(tree, c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return // {{ $x := ... }} prints nothing
		}
		id := parse.NewIdentifier("shq").SetTree(tree).SetPos(n.Pos)
		n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{id}})
	case *parse.IfNode:
		quoteActions(tree, n.List)
		quoteActions(tree, n.ElseList)
	case *parse.RangeNode:
		quoteActions(tree, n.List)
		quoteActions(tree, n.ElseList)
	case *parse.WithNode:
		quoteActions(tree, n.List)
		quoteActions(tree, n.ElseList)
	}
}
