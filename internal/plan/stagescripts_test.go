package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridstudy/gridstudy/internal/slurm"
	"github.com/gridstudy/gridstudy/internal/study"
)

const stagedSrc = `name = "staged"
[run]
command = "train --data {{.Stages.sim}}"
[params.x]
values = [1, 2, 3]
[params.y]
values = [10, 20]
[stages.sim]
key = ["x"]
command = "sim {{.Params.x}} {{.StageDir}}"
[stages.sim.slurm]
gpus = 0
time = "00:10:00"
[slurm]
gpus = 1
time = "02:00:00"
max_array_size = 2
`

// Each stage gets array scripts chunked like the runs, with its own
// resources and an exec line that runs the stage's tasks from the chunk's
// offset; re-planning without the stage removes them.
func TestStageScripts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sd")
	p, err := New(parse(t, stagedSrc), dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "test", ""); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	for name, want := range map[string][]string{
		"stage_sim_000": {"#SBATCH --array=0-1\n", "#SBATCH --time=00:10:00\n", "#SBATCH --job-name=staged-sim\n",
			"stage sim chunk 0 (tasks 0-1)", "exec " + filepath.Join(abs, "bin", "gridstudy") + " exec " + abs + " --stage sim --offset 0\n"},
		"stage_sim_001": {"#SBATCH --array=0\n", "stage sim chunk 1 (tasks 2-2)", " --stage sim --offset 2\n"},
	} {
		b, err := os.ReadFile(slurm.ScriptPath(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q:\n%s", name, w, b)
			}
		}
		if strings.Contains(string(b), "--gres") {
			t.Errorf("%s asks for a GPU, but the stage has gpus = 0:\n%s", name, b)
		}
	}
	run, err := os.ReadFile(slurm.ScriptPath(dir, "array_000"))
	if err != nil || strings.Contains(string(run), "--stage") || !strings.Contains(string(run), "--gres=gpu:1") {
		t.Errorf("the runs' script (%v):\n%s", err, run)
	}
	src := strings.Replace(stagedSrc, "{{.Stages.sim}}", "data", 1)
	src = src[:strings.Index(src, "[stages.sim]")] + src[strings.Index(src, "[slurm]"):]
	p, err = New(parse(t, src), dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir, "test", ""); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(slurm.ScriptPath(dir, "stage_*")); len(left) != 0 {
		t.Errorf("stage scripts left after the stage was removed: %v", left)
	}
}

// A custom sbatch template whose exec line ignores .Stage would run the
// runs from a stage's array: plan refuses it and writes nothing.
func TestStageScriptsRefuseTemplateWithoutStage(t *testing.T) {
	tmp := t.TempDir()
	tmpl := filepath.Join(tmp, "my.sbatch.tmpl")
	if err := os.WriteFile(tmpl, []byte("#!/bin/bash\n#SBATCH --array={{ .Chunk.Array }}\nexec {{ .Binary }} exec {{ .StudyDir }} --offset {{ .Chunk.Offset }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "sd")
	p, err := New(parse(t, stagedSrc+"template = \""+tmpl+"\"\n"), dir, slurm.Limits{MaxArraySize: 1001})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Write(dir, "test", "")
	var inv *study.InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "stage sim runs no stage") {
		t.Fatalf("Write = %v, want an InvalidError about the stage's exec line", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plan wrote %s despite the refused template", dir)
	}
}
