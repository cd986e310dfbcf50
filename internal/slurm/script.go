package slurm

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/templates"
)

// Chunk is one array job: the runs whose manifest index lies in
// [Offset, Offset+Span), as task ids relative to Offset.
type Chunk struct {
	Index  int
	Name   string // array_000
	Offset int    // manifest index of task 0's first run
	Tasks  []int  // task ids present in this chunk
	First  int    // first and last manifest index covered
	Last   int
	Array  string // the --array value: index list and throttle
}

// ScriptData is what an sbatch template sees.
type ScriptData struct {
	Version  string
	Study    string
	JobName  string
	Slurm    study.Slurm
	Chunk    Chunk
	StudyDir string // absolute
	LogDir   string // absolute
	Binary   string // absolute path of the study's copy of gridstudy
	// Stage names the stage whose tasks the script runs; "" for runs. A
	// stage script's exec line passes it as --stage, and its Chunk's
	// Offset, First and Last are stage task indices.
	Stage string
}

// ParseScript parses an sbatch template with gridstudy's functions, so
// that an unknown field is an error rather than "<no value>".
func ParseScript(name, src string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(templates.FuncMap()).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("sbatch template %s: %w", name, err)
	}
	return t, nil
}

// RenderScript renders one array script.
func RenderScript(t *template.Template, d ScriptData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("sbatch template %s: %w", t.Name(), err)
	}
	return b.String(), nil
}

// ArraySpec is the --array value for task ids with a throttle.
func ArraySpec(tasks []int, maxConcurrent int64) string {
	s := FormatIndexList(tasks)
	if maxConcurrent > 0 {
		s += fmt.Sprintf("%%%d", maxConcurrent)
	}
	return s
}
