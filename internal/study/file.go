package study

// file mirrors the study file's TOML. Decoding fills it; resolve turns it
// into a Study. Fields of type any keep the TOML type so that validation can
// say what was wrong rather than fail inside the decoder.
type file struct {
	Name        string               `toml:"name"`
	Trials      *int64               `toml:"trials"`
	Seed        int64                `toml:"seed"`
	Constraints []string             `toml:"constraints"`
	Zip         [][]string           `toml:"zip"`
	Run         runFile              `toml:"run"`
	Params      map[string]paramFile `toml:"params"`
	Fixed       map[string]any       `toml:"fixed"`
	Models      map[string]modelFile `toml:"models"`
	Slurm       Slurm                `toml:"slurm"`
	Local       Local                `toml:"local"`
	Collect     Collect              `toml:"collect"`
	Plots       Plots                `toml:"plots"`
	Metrics     Metrics              `toml:"metrics"`
	Gridstudy   map[string]any       `toml:"gridstudy"`
	Stages      map[string]stageFile `toml:"stages"`
	Provenance  map[string]any       `toml:"provenance"`

	// stageOrder and provOrder list [stages] and [provenance] names in
	// file order (the decoder's maps lose it).
	stageOrder, provOrder []string
}

type runFile struct {
	Command    string   `toml:"command"`
	Args       []string `toml:"args"`
	BaseConfig string   `toml:"base_config"`
	Timeout    string   `toml:"timeout"`
	Retain     string   `toml:"retain"`
	Keep       []string `toml:"keep"`
}

type paramFile struct {
	Values []any      `toml:"values"`
	Range  *rangeFile `toml:"range"`
	Scale  string     `toml:"scale"`
}

type rangeFile struct {
	Start any    `toml:"start"`
	Stop  any    `toml:"stop"`
	Num   *int64 `toml:"num"`
	Step  any    `toml:"step"`
	Scale string `toml:"scale"`
}

type modelFile struct {
	Command   string               `toml:"command"`
	Args      []string             `toml:"args"`
	Overrides map[string]any       `toml:"overrides"`
	Params    map[string]paramFile `toml:"params"`
}

// keyTree is the set of keys a study file may hold. A nil entry accepts any
// key below it (free-form maps such as [fixed]); "*" matches a user-chosen
// name such as a parameter or model name.
type keyTree map[string]keyTree

var (
	rangeKeys = keyTree{"start": {}, "stop": {}, "num": {}, "step": {}, "scale": {}}
	paramKeys = keyTree{"values": {}, "range": rangeKeys, "scale": {}}
	studyKeys = keyTree{
		"name": {}, "trials": {}, "seed": {}, "constraints": {}, "zip": {},
		"run":        {"command": {}, "args": {}, "base_config": {}, "timeout": {}, "retain": {}, "keep": {}},
		"params":     {"*": paramKeys},
		"fixed":      nil,
		"models":     {"*": {"command": {}, "args": {}, "overrides": nil, "params": {"*": paramKeys}}},
		"stages":     {"*": stageKeys},
		"provenance": {"*": {}},
		"slurm": {
			"partition": {}, "account": {}, "qos": {}, "time": {}, "gpus": {}, "gpu_type": {},
			"gpus_per_task": {}, "cpus_per_task": {}, "mem": {}, "max_concurrent": {},
			"runs_per_task": {}, "runs_at_once": {}, "setup": {}, "extra": {}, "template": {}, "constraint": {},
			"requeue": {}, "max_array_size": {}, "max_queued": {}, "job_name": {},
			"signal_before": {},
		},
		"local":     {"workers": {}, "gpus": {}, "gpu_per_run": {}, "mem_per_run": {}, "max_attempts": {}},
		"collect":   {"maximize": {}, "minimize": {}, "metrics": {"*": metricDeclKeys}},
		"plots":     {"heatmaps": {}, "formats": {}, "width": {}, "metrics": {}, "kinds": {}, "pareto": {}},
		"metrics":   {"truth": {}, "recon": {}, "convention": {}},
		"gridstudy": nil,
	}
)
