package command

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostile is a value that runs `touch X` if any shell construct around it
// reads it as code, and is mangled if any quoting is wrong.
const hostile = "a\"; touch X; echo \" $(touch X) `touch X` ' \\ $HOME * \n\t!"

func TestQuotingContexts(t *testing.T) {
	tests := []struct {
		name, src string
		want      quoting
	}{
		{"word", `printf '%s\0' {{.Model}}`, quoteWord},
		{"word after text", `printf '%s\0' --x={{.Model}}`, quoteWord},
		{"single quotes", `printf '%s\0' 'v={{.Model}}.'`, quoteInSingle},
		{"double quotes", `printf '%s\0' "v={{.Model}}."`, quoteInDouble},
		{"locale quotes", `printf '%s\0' $"v={{.Model}}."`, quoteInDouble},
		{"ANSI-C quotes", `printf '%s\0' $'v={{.Model}}.'`, quoteInANSI},
		{"$() in double quotes", `printf '%s\0' "$(printf '%s' {{.Model}})"`, quoteWord},
		{"double quotes in $() in double quotes", `printf '%s\0' "$(printf '%s' "<{{.Model}}>")"`, quoteInDouble},
		{"single quotes in $()", `printf '%s\0' "$(printf '%s' '{{.Model}}')"`, quoteInSingle},
		{"process substitution", `cat <(printf '%s\0' {{.Model}})`, quoteWord},
		{"subshell", `(printf '%s\0' {{.Model}})`, quoteWord},
		{"after an arithmetic expansion", `printf '%s\0' $((1+(2))) {{.Model}}`, quoteWord},
		{"after a parameter expansion", `x=1; printf '%s\0' ${x:-d} "${x}{{.Model}}"`, quoteInDouble},
		{"after a comment", "# a 'comment\nprintf '%s\\0' {{.Model}}", quoteWord},
		{"# inside a word", `printf '%s\0' a#{{.Model}}`, quoteWord},
		{"after a backquote substitution", "printf '%s\\0' `echo a` \"{{.Model}}\"", quoteInDouble},
		{"case pattern in $()", `printf '%s\0' "$(case a in a) printf '%s' "{{.Model}}";; esac)"`, quoteInDouble},
		{"after case in $()", `printf '%s\0' "$(case a in (a) printf x;; esac){{.Model}}"`, quoteInDouble},
		{"redirection", `printf '%s\0' {{.Model}} >&2 2>&1`, quoteWord},
		{"here-string", `cat <<< {{.Model}}`, quoteWord},
		{"here-doc", "cat <<EOF\n<{{.Model}}>\nEOF", quoteHeredoc},
		{"here-doc with tabs", "cat <<-EOF\n\tv: {{.Model}}\n\tEOF", quoteHeredoc},
		{"quoted here-doc", "cat <<'EOF'\nv: {{.Model}}\nEOF", quoteHeredocText},
		{"here-doc quoted by a backslash", "cat <<\\EOF\nv: {{.Model}}\nEOF", quoteHeredocText},
		{"after a here-doc", "cat <<EOF >/dev/null\nnot the EOF\nEOF\nprintf '%s\\0' {{.Model}}", quoteWord},
		{"second here-doc", "cat <<A - 3<<'B'\nx\nA\nv: {{.Model}}\nB", quoteHeredocText},
		{"if branches", `printf '%s\0' {{if .Trial}}"{{.Model}}"{{else}}'{{.Model}}'{{end}} {{.Model}}`, quoteWord},
		{"range", `printf '%s\0' {{range $k, $v := .Params}}"{{$v}}" {{end}}`, quoteInDouble},
		{"with", `printf '%s\0' "{{with .Model}}{{.}}{{end}}"`, quoteInDouble},
		{"line continuation", "printf '%s\\0' \\\n {{.Model}}", quoteWord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseShell(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			// The analysis appends the quoting function to the action's
			// pipeline, where the tree's text shows it.
			if got := tmpl.shell.Tree.Root.String(); !strings.Contains(got, "| "+quoteFuncs[tt.want]) {
				t.Errorf("analysed template = %s, want an action quoted with %s", got, quoteFuncs[tt.want])
			}
		})
	}
}

// TestQuotingRunsNothing runs each context under bash with a hostile value:
// nothing runs, and the value arrives byte for byte.
func TestQuotingRunsNothing(t *testing.T) {
	value := strings.ReplaceAll(hostile, "\n", " ") // here-docs refuse newlines
	tests := []struct{ src, want string }{
		{`printf '%s\0' {{.Model}}`, value},
		{`printf '%s\0' 'v={{.Model}}.'`, "v=" + value + "."},
		{`printf '%s\0' "v={{.Model}}."`, "v=" + value + "."},
		{`printf '%s\0' $'v={{.Model}}.'`, "v=" + value + "."},
		{`printf '%s\0' "$(printf '%s' "<{{.Model}}>" {{.Model}})"`, "<" + value + ">" + value},
		{"cat <<EOF\n<{{.Model}}>\nEOF", "<" + value + ">\n"},
		{"cat <<-'EOF'\n\t<{{.Model}}>\n\tEOF", "<" + value + ">\n"},
		{`printf '%s\0' {{if .Model}}"{{.Model}}"{{end}} x`, value + "\x00x"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		tmpl, err := ParseShell(tt.src)
		if err != nil {
			t.Fatalf("ParseShell(%q): %v", tt.src, err)
		}
		argv, err := tmpl.Render(Data{Model: value})
		if err != nil {
			t.Fatalf("Render(%q): %v", tt.src, err)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("run %q: %v", argv, err)
		}
		want := tt.want
		if strings.HasPrefix(tt.src, "printf") {
			want += "\x00"
		}
		if string(out) != want {
			t.Errorf("%q printed %q, want %q", tt.src, out, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "X")); err == nil {
			t.Errorf("%q ran the value as code", tt.src)
		}
	}
}

func TestQuotingRefused(t *testing.T) {
	tests := []struct{ src, want string }{
		{"echo `x {{.Model}}`", "command:1:10: {{.Model}}: no quoting is safe here: it is inside `…`"},
		{"echo \"`{{.Model}}`\"", "inside `…`"},
		{"echo 1 # {{.Model}}", "inside a # comment"},
		{"echo $(( {{.Trial}} + 1 ))", "inside an arithmetic expression"},
		{"(( x = {{.Trial}} ))", "inside an arithmetic expression"},
		{"echo $[ {{.Trial}} ]", "inside an arithmetic expression"},
		{"echo ${x:-{{.Model}}}", "inside ${…}"},
		{`echo "${x:-{{.Model}}}"`, "inside ${…}"},
		{`echo \{{.Model}}`, "follows a backslash"},
		{`echo "\{{.Model}}"`, "follows a backslash"},
		{`echo ${{.Model}}`, "follows a $"},
		{`echo "${{.Model}}"`, "follows a $"},
		{"cat <<{{.Model}}\nx\n", "here-doc delimiter"},
		{"cat <<EOF\n{{.Model}}\nEOF", "command:2:2: {{.Model}}: no quoting is safe here: the text before it on its here-doc line does not tell the line from the delimiter \"EOF\""},
		{"cat <<EOF\nEO{{.Model}} x\nEOF", "does not tell the line from the delimiter"},
		{"cat <<EOF\nEOF{{.Model}}\nEOF", "does not tell the line from the delimiter"},
		{"cat <<-EOF\n\t{{.Model}}\nEOF", "does not tell the line from the delimiter"},
		{"echo \"$(cat <<EOF\nx\nEOF)\"\necho {{.Model}}", "a here-doc line that starts with its delimiter"},
		{"cat <<EOF\n$(echo x) {{.Model}}\nEOF", "follows an expansion"},
		{"cat <<EOF\nx \\\n{{.Model}}\nEOF", "beyond what gridstudy can follow"},
		{"echo `echo '`'` {{.Model}}", "beyond what gridstudy can follow"},
		{"echo ${x:-'a'} {{.Model}}", "beyond what gridstudy can follow"},
		{`echo {{if .Model}}"{{end}} {{.Model}}`, "command:1:10: {{if .Model}}\"{{end}}: its branches leave the shell in different quoting contexts"},
		{`echo {{range .Params}}'{{end}}`, "its body leaves the shell in another quoting context"},
		{`echo x{{if .Model}} {{end}}#{{.Model}}`, "may or may not start a comment"},
		{`{{define "x"}}a{{end}}echo {{template "x"}}`, "{{template}} is not supported"},
		{`echo {{range .Params}}{{if .}}"{{break}}{{end}}{{end}}`, "leaves the range in another shell context"},
	}
	for _, tt := range tests {
		_, err := ParseShell(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseShell(%q) = %v, want an error with %q", tt.src, err, tt.want)
		}
	}
}

func TestQuotingValues(t *testing.T) {
	tests := []struct {
		q         quoting
		in, want  string
		wantError bool
	}{
		{quoteWord, "7", "7", false},
		{quoteWord, "1e-06", "1e-06", false},
		{quoteWord, "", "''", false},
		{quoteWord, "a=b", "'a=b'", false},
		{quoteWord, "a,b", "'a,b'", false},
		{quoteWord, "it's", `'it'\''s'`, false},
		{quoteInSingle, "it's", `it'\''s`, false},
		{quoteInDouble, "a\"$`\\'!\n", "a\\\"\\$\\`\\\\'!\n", false},
		{quoteInANSI, "a'\\\"$", "a\\'\\\\\"$", false},
		{quoteHeredoc, "a\"$`\\'", "a\"\\$\\`\\\\'", false},
		{quoteHeredoc, "a\nb", "", true},
		{quoteHeredocText, "a\"$`\\'", "a\"$`\\'", false},
		{quoteHeredocText, "a\nb", "", true},
	}
	for _, tt := range tests {
		f := quoteFuncMap[quoteFuncs[tt.q]].(func(any) (string, error))
		got, err := f(tt.in)
		if (err != nil) != tt.wantError || got != tt.want {
			t.Errorf("%s(%q) = %q, %v; want %q (error %v)", quoteFuncs[tt.q], tt.in, got, err, tt.want, tt.wantError)
		}
	}
	if _, err := quoteFuncMap[quoteFuncs[quoteWord]].(func(any) (string, error))(nil); err == nil {
		t.Error("quoting a nil value: no error, want one")
	}
}

// TestArgsStayRaw: an args list runs without a shell, so its values are
// neither quoted nor analysed, whatever the text around them.
func TestArgsStayRaw(t *testing.T) {
	tmpl, err := ParseArgs([]string{"printf", "%s", `"{{.Model}}"`, "`{{.Model}}`", "{{.Model}}"})
	if err != nil {
		t.Fatal(err)
	}
	argv, err := tmpl.Render(Data{Model: hostile})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"printf", "%s", `"` + hostile + `"`, "`" + hostile + "`", hostile}
	if strings.Join(argv, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("Render = %q, want %q", argv, want)
	}
}
