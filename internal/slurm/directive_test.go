package slurm

import (
	"errors"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/templates"
)

// sbatchArgument reads one argument from an #SBATCH line as sbatch 22.05's
// script parser does (_get_argument in src/sbatch/opt.c, and checked with a
// real sbatch): whitespace separates arguments unless quoted with ' or ",
// a backslash escapes the next character (inside quotes too), an unquoted
// # starts a comment.
func sbatchArgument(line string) string {
	var b strings.Builder
	var quote rune
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
			continue
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
		case r == '"' || r == '\'':
			quote = r
			continue
		case r == '#' || r == ' ' || r == '\t':
			return b.String()
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestDirectiveValueRoundTrips(t *testing.T) {
	for _, s := range []string{
		"/plain/path",
		"/my study/logs",
		`/q"uote'd/logs`,
		`/back\slash`,
		"/hash #not a comment",
		"/tab\there",
		"/unicode é/日本",
		"/dollar $HOME `x` $(y)",
		`/ends in backslash\`,
	} {
		v, err := DirectiveValue(s)
		if err != nil {
			t.Errorf("DirectiveValue(%q): %v", s, err)
			continue
		}
		if got := sbatchArgument("--output=" + v + " # trailing comment"); got != "--output="+s {
			t.Errorf("DirectiveValue(%q) = %s, which sbatch reads as %q", s, v, got)
		}
	}
}

func TestDirectiveValueRefusesLineBreaks(t *testing.T) {
	for _, s := range []string{"/a\nb", "/a\x00b", "\n"} {
		if v, err := DirectiveValue(s); err == nil {
			t.Errorf("DirectiveValue(%q) = %s, want an error", s, v)
		}
	}
}

func TestFilenamePattern(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/data/study", "/data/study"},
		{"/data/st%jdir", "/data/st%%jdir"},
		{"/100% done/%%", "/100%% done/%%%%"},
	} {
		got, err := FilenamePattern(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("FilenamePattern(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	if got, err := FilenamePattern(`/a\b`); err == nil {
		t.Errorf(`FilenamePattern("/a\\b") = %q, want an error`, got)
	}
}

// renderDefault renders the default array script for a study in dir.
func renderDefault(t *testing.T, dir string) (string, error) {
	t.Helper()
	tmpl, err := ParseScript("sbatch.tmpl", templates.Sbatch())
	if err != nil {
		t.Fatal(err)
	}
	return RenderScript(tmpl, ScriptData{Version: "test", Study: "s", JobName: "s",
		Chunk:    Chunk{Name: "array_000", Array: "0-3", Last: 3},
		StudyDir: dir, LogDir: dir + "/logs", Binary: dir + "/bin/gridstudy"})
}

// Every path in the default script reaches sbatch and bash whole: the log
// patterns quoted for #SBATCH with % escaped, the runner and the study
// quoted for bash.
func TestScriptPathsQuoted(t *testing.T) {
	dir := `/tmp/my study %j "q" 'a' é`
	script, err := renderDefault(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"--output": `--output="/tmp/my study %%j \"q\" 'a' é/logs/array_000_%A_%a.out"`,
		"--error":  `--error="/tmp/my study %%j \"q\" 'a' é/logs/array_000_%A_%a.err"`,
	}
	for opt, line := range want {
		if !strings.Contains(script, "\n#SBATCH "+line+"\n") {
			t.Errorf("script has no line #SBATCH %s:\n%s", line, script)
		}
		if got := sbatchArgument(line); got != opt+"="+strings.ReplaceAll(dir, "%", "%%")+"/logs/array_000_%A_%a."+opt[2:5] {
			t.Errorf("sbatch reads %s as %q", line, got)
		}
	}
	exec := `exec '/tmp/my study %j "q" '\''a'\'' é/bin/gridstudy' exec '/tmp/my study %j "q" '\''a'\'' é' --offset 0`
	if !strings.Contains(script, "\n"+exec+"\n") {
		t.Errorf("script has no line %s:\n%s", exec, script)
	}
}

// A study folder that no #SBATCH line can name is refused as a bad study
// (exit 2), not rendered into a script that sbatch refuses or that loses
// every log.
func TestScriptRefusesUnwritablePaths(t *testing.T) {
	for _, dir := range []string{"/tmp/line\nbreak", `/tmp/back\slash`} {
		_, err := renderDefault(t, dir)
		var inv *study.InvalidError
		if !errors.As(err, &inv) || inv.File != dir {
			t.Errorf("render for %q: %v, want a study.InvalidError naming the folder", dir, err)
		}
	}
}
