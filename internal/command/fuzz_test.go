package command

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// payload is appended to the fuzzed value for the second parameter: it runs
// `touch MARKER` through every kind of quoting mistake.
const payload = "$(touch MARKER)`touch MARKER`'\"; touch MARKER; echo \"'; touch MARKER; '\\"

// cmdGen builds a random command template from layout bytes: printf
// statements whose arguments are made of words, '…', "…", $'…', $(…),
// here-docs, template branches and substitutions, with actions in all of
// them. It tracks the bytes each argument must print, and whether the
// template holds an action that must be refused.
type cmdGen struct {
	layout  []byte
	i       int
	refused bool // an action stands where no quoting is safe
	heredoc bool // an action stands in a here-doc (values with newlines fail)
	values  [2]string
}

func (g *cmdGen) pick(n int) int {
	if g.i >= len(g.layout) {
		return 0
	}
	c := g.layout[g.i]
	g.i++
	return int(c) % n
}

// action returns an action printing one of the two values.
func (g *cmdGen) action() (src, want string) {
	if g.pick(2) == 0 {
		return `{{.Params.v0}}`, g.values[0]
	}
	return `{{index .Params "v1"}}`, g.values[1]
}

// word returns an unquoted word, or word part, and what it prints.
func (g *cmdGen) word() (string, string) {
	lits := [][2]string{{"", ""}, {"w", "w"}, {"-x=", "-x="}, {"a/b.c", "a/b.c"}, {`\#`, "#"}, {"\\'", "'"}}
	l := lits[g.pick(len(lits))]
	r := lits[g.pick(2)]
	a, v := g.action()
	return l[0] + a + r[0], l[1] + v + r[1]
}

// arg returns one printf argument and what it prints.
func (g *cmdGen) arg(depth int) (string, string) {
	n := 8
	if depth > 2 {
		n = 4 // no more nesting
	}
	switch g.pick(n) {
	case 0:
		return g.word()
	case 1:
		lits := []string{"", `a "b" $HOME \ `, "`x` ", "#"}
		l := lits[g.pick(len(lits))]
		a, v := g.action()
		return "'" + l + a + l + "'", l + v + l
	case 2:
		var src, want strings.Builder
		src.WriteByte('"')
		for range 1 + g.pick(3) {
			s, w := g.inDouble(depth)
			src.WriteString(s)
			want.WriteString(w)
		}
		src.WriteByte('"')
		return src.String(), want.String()
	case 3:
		a, v := g.action()
		return `$'\t` + a + `\x41'`, "\t" + v + "A"
	case 4:
		// A here-doc inside $(…); `printf .` keeps trailing newlines.
		g.heredoc = true
		a, v := g.action()
		delim := []string{"EOF", "'EOF'", `"E"OF`, `\EOF`}[g.pick(4)]
		home := "$HOME" // a quoted delimiter: the body is not expanded
		if delim == "EOF" {
			home = os.Getenv("HOME")
		}
		return "\"$(cat <<" + delim + "\nv: " + a + " $HOME\n\nEOF\nprintf .)\"",
			"v: " + v + " " + home + "\n\n."
	case 5:
		s1, w1 := g.arg(depth + 1)
		s2, _ := g.arg(depth + 1)
		return "{{if .Trial}}" + s1 + "{{else}}" + s2 + "{{end}}", w1
	case 6:
		s1, w1 := g.arg(depth + 1)
		s2, w2 := g.arg(depth + 1)
		return s1 + s2, w1 + w2
	default:
		return g.refusedArg()
	}
}

// inDouble returns a piece of text inside "…" and what it prints.
func (g *cmdGen) inDouble(depth int) (string, string) {
	switch g.pick(8) {
	case 0, 1:
		a, v := g.action()
		return a, v
	case 6, 7:
		if depth > 2 {
			return "x", "x"
		}
		s, w := g.arg(depth + 1)
		if g.pick(2) == 0 {
			return "$(case x in x) printf '%s' " + s + ";; esac; printf .)", w + "."
		}
		return "$(cat <(printf '%s' " + s + "); printf .)", w + "."
	case 2:
		return `a 'b' # \$ \" \\ `, `a 'b' # $ " \ `
	case 3:
		if depth > 2 {
			return "$((6*7))", "42"
		}
		s, w := g.arg(depth + 1)
		return "$(printf '%s' " + s + "; printf .)", w + "."
	case 4:
		return "`printf x` ${GRIDSTUDY_FUZZ_UNSET:-d} $((1+(2)))", "x d 3"
	default:
		return "$'x'", "$'x'"
	}
}

// refusedArg returns an argument with an action where no quoting is safe.
func (g *cmdGen) refusedArg() (string, string) {
	g.refused = true
	a, _ := g.action()
	return []string{
		"`printf %s " + a + "`",
		"\"`printf %s " + a + "`\"",
		"$((1+" + a + "))",
		"${GRIDSTUDY_FUZZ_UNSET:-" + a + "}",
		`"\` + a + `"`,
		"$" + a,
		"\"$(cat <<EOF\n" + a + "\nEOF\n)\"",
	}[g.pick(7)], ""
}

// build returns the template and the output it must print.
func (g *cmdGen) build() (string, string) {
	var src, want strings.Builder
	for range 1 + g.pick(4) {
		s, w := g.arg(0)
		src.WriteString("printf '%s\\0' " + s)
		want.WriteString(w + "\x00")
		switch g.pick(4) {
		case 0:
			src.WriteString(" # it's a comment with $(touch MARKER)")
		case 1:
			if g.pick(4) == 0 {
				g.refused = true
				a, _ := g.action()
				src.WriteString(" # " + a)
			}
		}
		src.WriteString("\n")
	}
	return src.String(), want.String()
}

func FuzzQuoting(f *testing.F) {
	for _, seed := range []struct {
		layout []byte
		value  string
	}{
		{[]byte{0}, "plain"},
		{[]byte{2, 0, 0}, "a\"; touch MARKER; echo \""},
		{[]byte{1, 1, 0}, "it's"},
		{[]byte{3, 1, 1}, "\\'"},
		{[]byte{4, 0, 0}, "EOF"},
		{[]byte{4, 1, 3}, "line\nEOF\n$(touch MARKER)"},
		{[]byte{2, 2, 3, 2, 3, 2, 0, 1}, "`touch MARKER`"},
		{[]byte{5, 2, 0, 1, 1}, "* ? [a] ~ {a,b} !x"},
		{[]byte{6, 0, 0, 2, 0, 0}, "ünïcødé \t\r\x7f\xff"},
		{[]byte{3, 7, 0, 0}, "$HOME"},
		{[]byte{1, 2, 0, 0, 2, 0, 1, 0, 1, 0}, "x"},
		{[]byte{2, 3, 4, 4, 4, 4}, "\\"},
		{[]byte{0, 5, 1, 0}, ""},
		{[]byte{0, 2, 0, 6, 0, 2, 0, 0, 0, 1}, "a\"$(touch MARKER)"},
		{[]byte{0, 2, 0, 7, 1, 0, 0}, ")'; touch MARKER #"},
	} {
		f.Add(seed.layout, seed.value)
	}
	f.Fuzz(func(t *testing.T, layout []byte, value string) {
		if strings.Contains(value, "\x00") {
			t.Skip("an argument cannot hold NUL")
		}
		g := &cmdGen{layout: layout, values: [2]string{value, value + payload}}
		src, want := g.build()
		tmpl, err := ParseShell(src)
		if err != nil {
			if !g.refused || !strings.Contains(err.Error(), "no quoting is safe here") {
				t.Fatalf("ParseShell(%q): %v", src, err)
			}
			return
		}
		if g.refused {
			t.Fatalf("ParseShell(%q) accepted an action where no quoting is safe", src)
		}
		argv, err := tmpl.Render(Data{Trial: 1, Params: map[string]any{"v0": g.values[0], "v1": g.values[1]}})
		if err != nil {
			if g.heredoc && strings.Contains(value, "\n") && strings.Contains(err.Error(), "newline") {
				return
			}
			t.Fatalf("Render(%q): %v", src, err)
		}
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%q did not end in 10 s", argv[2])
		}
		if _, serr := os.Stat(filepath.Join(dir, "MARKER")); serr == nil {
			t.Fatalf("a value ran as code in %q", argv[2])
		}
		if err != nil {
			t.Fatalf("run %q: %v\n%s", argv[2], err, stderr.Bytes())
		}
		if string(out) != want {
			t.Fatalf("%q printed\n%q, want\n%q", argv[2], out, want)
		}
	})
}
