package study

import (
	"reflect"
	"strings"
	"testing"
)

const stagesSrc = `
name = "p"
[run]
command = "train {{.Stages.sim}}"
[params.nphotons]
values = [1e6, 1e7]
[models.pinn]
[models.baseline]
args = ["{{.StudyFileDir}}/baseline.sh", "{{.Stages.sim}}"]
[slurm]
gpus = 1
partition = "gpu"
[stages.sim]
key = ["nphotons"]
command = "sim {{.Params.nphotons}} {{.StageDir}}"
timeout = "1h"
[stages.sim.slurm]
gpus = 0
partition = "cpu"
[stages.sim.local]
gpu_per_run = 0.5
[stages.cmp]
after = "runs"
key = ["nphotons", "trial"]
args = ["cmp", "{{index .Runs \"pinn\"}}", "{{.Stages.sim}}"]
[provenance]
code = "git rev-parse HEAD"
`

// The resolved study.toml gives the same stages, per-model commands,
// provenance and study-file folder, including a stage's own zero value
// over a study's non-zero one.
func TestStagesRoundTrip(t *testing.T) {
	st, err := Parse("study.toml", stagesSrc, "/where/the/file/is", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if st.FileDir != "/where/the/file/is" {
		t.Errorf("FileDir %q", st.FileDir)
	}
	sim := st.Stage("sim")
	if sim.Slurm.GPUs != 0 || sim.Slurm.Partition != "cpu" || sim.Local.GPUPerRun != 0.5 || st.Slurm.GPUs != 1 {
		t.Errorf("merged settings: %+v %+v", sim.Slurm, sim.Local)
	}
	var b strings.Builder
	if err := st.Encode(&b, "test"); err != nil {
		t.Fatal(err)
	}
	again, err := Parse("sd/study.toml", b.String(), "/study/dir", Overrides{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if again.FileDir != st.FileDir {
		t.Errorf("FileDir %q after the round trip, want %q", again.FileDir, st.FileDir)
	}
	if !reflect.DeepEqual(again.Stages, st.Stages) {
		t.Errorf("stages after the round trip:\n%+v\nwant\n%+v", again.Stages[0], st.Stages[0])
	}
	if !reflect.DeepEqual(again.Provenance, st.Provenance) {
		t.Errorf("provenance %v, want %v", again.Provenance, st.Provenance)
	}
	if cmd, args := again.RunCommand("baseline"); cmd != "" || !reflect.DeepEqual(args, st.Model("baseline").Args) {
		t.Errorf("baseline's command %q %q", cmd, args)
	}
	if cmd, _ := again.RunCommand("pinn"); cmd != st.Run.Command {
		t.Errorf("pinn's command %q, want [run]'s", cmd)
	}
}

func TestStageRefusals(t *testing.T) {
	tests := []struct{ name, stages, want string }{
		{"param outside key", "[stages.a]\nkey = []\ncommand = \"x {{.Params.nphotons}}\"",
			`stages.a.command: uses parameter "nphotons", which is not in the stage's key []`},
		{"model-only param before runs", "[stages.a]\nkey = [\"tv\"]\ncommand = \"x\"",
			`stages.a.key: parameter "tv" is swept for model pinn only`},
		{"fixed in key", "[stages.a]\nkey = [\"N\"]\ncommand = \"x\"", `stages.a.key: "N" is fixed, not swept`},
		{"twice in key", "[stages.a]\nkey = [\"trial\", \"trial\"]\ncommand = \"x\"", `stages.a.key: "trial" is in the key twice`},
		{"no command", "[stages.a]\nkey = []", `stages.a: no command`},
		{"both", "[stages.a]\ncommand = \"x\"\nargs = [\"x\"]", `stages.a: give command or args, not both`},
		{"bad name", "[stages.\"a-b\"]\ncommand = \"x\"", `stage name "a-b"`},
		{"unknown slurm key", "[stages.a]\ncommand = \"x\"\n[stages.a.slurm]\nrequeue = true", `stages.a.slurm.requeue: unknown key`},
		{"after-runs stage in run command", "[stages.a]\nafter = \"runs\"\ncommand = \"x\"", `run.command:`},
		{"provenance not a string", "[provenance]\nx = 1", `provenance.x: want a shell command`},
		{"model command", "[models.baseline]\ncommand = \"x {{.Params.nope}}\"", `models.baseline.command:`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := "true"
			if strings.HasPrefix(tc.name, "after-runs") {
				run = "x {{.Stages.a}}"
			}
			src := "name = \"r\"\n[run]\ncommand = \"" + run + "\"\n[params.nphotons]\nvalues = [1]\n[fixed]\nN = 64\n" +
				"[models.pinn.params.tv]\nvalues = [1]\n" + tc.stages + "\n"
			_, err := Parse("study.toml", src, t.TempDir(), Overrides{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
