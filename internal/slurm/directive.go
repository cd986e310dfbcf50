package slurm

import (
	"fmt"
	"strings"

	"github.com/gridstudy/gridstudy/internal/study"
)

// DirectiveValue quotes s as the value of an #SBATCH option. sbatch reads
// each #SBATCH line as a small command line: a space ends the value, and an
// unquoted # starts a comment, unless the value is quoted; inside "…" a
// backslash escapes the next character, " and \ included. A newline (or a
// NUL) ends the line whatever the quoting, so a value holding one is
// refused.
func DirectiveValue(s string) (string, error) {
	if i := strings.IndexAny(s, "\n\x00"); i >= 0 {
		return "", fmt.Errorf("%q holds %q, which no #SBATCH line can express", s, s[i])
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// FilenamePattern returns dir, a folder, as the start of an --output or
// --error pattern: each % doubled, so that SLURM expands only the patterns
// (%A, %a, %j …) that gridstudy adds after it. SLURM takes a pattern that
// holds a backslash literally, expanding none of them, so that every task
// would write one file: a folder with a backslash is refused.
func FilenamePattern(dir string) (string, error) {
	if strings.Contains(dir, `\`) {
		return "", fmt.Errorf("%q holds a backslash, which makes SLURM ignore the %%A and %%a of the log file names", dir)
	}
	return strings.ReplaceAll(dir, "%", "%%"), nil
}

// LogPath is the value of an array script's --output (ext "out") or
// --error (ext "err") line: one file per task under LogDir, escaped for
// SLURM's patterns and quoted for the #SBATCH line. A study folder whose
// path cannot be written there is a bad -o: it is refused as such (exit 2),
// before anything is written.
func (d ScriptData) LogPath(ext string) (string, error) {
	dir, err := FilenamePattern(d.LogDir)
	if err == nil {
		var v string
		if v, err = DirectiveValue(dir + "/" + d.Chunk.Name + "_%A_%a." + ext); err == nil {
			return v, nil
		}
	}
	return "", &study.InvalidError{File: d.StudyDir, Problems: []study.Problem{{
		Msg: fmt.Sprintf("this study folder cannot be named in an sbatch script: %v; choose another folder (-o)", err)}}}
}
