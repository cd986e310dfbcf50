package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/gridstudy/gridstudy/internal/atomicfile"
	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
	"github.com/gridstudy/gridstudy/templates"
)

// StageScripts are the rendered array scripts of the stages' chunks, by
// path: one per chunk of each stage, chunked like the runs (ChunkTasks
// tasks per array, one stage task per array task).
type StageScripts map[string]string

// RenderStageScripts renders the array script of every stage chunk from
// the study's sbatch template, each with its stage's own resources and an
// exec line that runs the stage's tasks (exec DIR --stage NAME --offset
// K). A custom template whose exec line does not pass .Stage would run the
// runs instead of the stage: it is refused.
func (p *Plan) RenderStageScripts(dir, version string) (StageScripts, error) {
	out := StageScripts{}
	if p.Stages == nil || len(p.Stages.Stages) == 0 {
		return out, nil
	}
	t, err := p.sbatchTemplate()
	if err != nil {
		return nil, err
	}
	l := p.Layout().Stages()
	for _, s := range p.Stages.Stages {
		byChunk := map[int][]int{}
		var chunks []int
		for _, task := range s.Tasks {
			k, id := l.Locate(task.Index)
			if byChunk[k] == nil {
				chunks = append(chunks, k)
			}
			byChunk[k] = append(byChunk[k], id)
		}
		for _, k := range chunks {
			ids := byChunk[k]
			c := slurm.Chunk{Index: k, Name: slurm.StageChunkName(s.Name, k), Offset: l.Offset(k), Tasks: ids,
				First: l.Offset(k) + ids[0], Last: l.Offset(k) + ids[len(ids)-1], Array: slurm.ArraySpec(ids, s.Slurm.MaxConcurrent)}
			script, err := slurm.RenderScript(t, slurm.ScriptData{Version: version, Study: p.Study.Name,
				JobName: slurm.JobName(p.Study) + "-" + s.Name, Slurm: s.Slurm, Chunk: c, StudyDir: dir,
				LogDir: filepath.Join(dir, "logs"), Binary: filepath.Join(dir, "bin", "gridstudy"), Stage: s.Name})
			if err != nil {
				return nil, err
			}
			if !strings.Contains(script, " --stage "+templates.ShellQuote(s.Name)) {
				return nil, &study.InvalidError{File: p.Study.Slurm.Template, Problems: []study.Problem{{Key: "slurm.template",
					Msg: fmt.Sprintf("the script of stage %s runs no stage: the template's exec line must pass the stage, as the default template does: "+
						"exec {{ shq .Binary }} exec {{ shq .StudyDir }}{{ with .Stage }} --stage {{ shq . }}{{ end }} --offset {{ .Chunk.Offset }}", s.Name)}}}
			}
			out[slurm.ScriptPath(dir, c.Name)] = script
		}
	}
	return out, nil
}

// Write writes the stage scripts into the study directory dir and removes
// those of stage chunks the plan no longer has, which would run stale
// tasks.
func (s StageScripts) Write(dir string) error {
	old, _ := filepath.Glob(slurm.ScriptPath(dir, "stage_*"))
	for _, f := range old {
		if _, keep := s[f]; !keep {
			os.Remove(f)
		}
	}
	for path, script := range s {
		// As the runs' scripts: cheap to render again, so no fsync.
		if err := atomicfile.WriteBytes(path, []byte(script), 0o755, false); err != nil {
			return err
		}
	}
	return nil
}

// sbatchTemplate parses the study's sbatch template: [slurm] template, or
// gridstudy's own.
func (p *Plan) sbatchTemplate() (*template.Template, error) {
	src, name := templates.Sbatch(), "sbatch.tmpl"
	if p.Study.Slurm.Template != "" {
		b, err := os.ReadFile(p.Study.Slurm.Template)
		if err != nil {
			return nil, err
		}
		src, name = string(b), p.Study.Slurm.Template
	}
	return slurm.ParseScript(name, src)
}
