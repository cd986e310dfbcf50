// Package study reads, validates and expands gridstudy study files: the
// parameters, models, trials and constraints that define a grid, and the
// settings of the executors that run it.
package study

import (
	"maps"
	"slices"
	"time"
)

// Study is a validated study: parameters in the order the file gives them,
// ranges expanded into values.
type Study struct {
	Name        string
	Trials      int
	Seed        int64
	Constraints []string
	Zip         [][]string
	Run         Run
	Params      []*Param // swept for every model
	Fixed       []Setting
	Models      []*Model // empty when the study compares no models
	Slurm       Slurm
	Local       Local
	Collect     Collect
	Plots       Plots
	Metrics     Metrics
	// Stages are the [stages.NAME] tables in file order.
	Stages []*Stage
	// Provenance are the [provenance] commands in file order.
	Provenance []Provenance
	// FileDir is the absolute folder of the study file (the working
	// directory for a study built from flags), as plan first saw it: the
	// templates' .StudyFileDir.
	FileDir string
	// Path is the study file the study was read from ("" when built from
	// flags alone); relative paths in the study are relative to its folder.
	Path string

	constraints []constraint
}

// Run is what one run executes.
type Run struct {
	Command    string
	Args       []string
	BaseConfig string // absolute path, or ""
	Timeout    time.Duration
	// Retain is which run folders stay once their shard is written:
	// RetainAll (also for ""), RetainFailed or RetainNone.
	Retain string
	// Keep are glob patterns, relative to the run folder, of the files
	// that stay when retention removes a folder.
	Keep []string
}

// Param is one swept parameter.
type Param struct {
	Name   string
	Kind   Kind
	Values []Value
	// Scale is how the values are spaced: "linear", "log", "log2" or
	// "list" for an explicit list; figures use it to choose their axes.
	Scale string
	// Model is the model the parameter belongs to, or "" for all models.
	Model string
}

// Setting is a fixed value at a dotted path of the run's config.
type Setting struct {
	Name  string
	Value any
}

// Model is one comparison model with its overrides and its own parameters.
type Model struct {
	Name string
	// Command or Args, when set, replace [run]'s for this model's runs.
	Command   string
	Args      []string
	Overrides []Setting
	Params    []*Param
}

// Slurm holds the [slurm] table.
type Slurm struct {
	Partition     string   `toml:"partition,omitempty" json:"partition,omitempty"`
	Account       string   `toml:"account,omitempty" json:"account,omitempty"`
	QOS           string   `toml:"qos,omitempty" json:"qos,omitempty"`
	Time          string   `toml:"time,omitempty" json:"time,omitempty"`
	GPUs          int64    `toml:"gpus,omitzero" json:"gpus,omitzero"`
	GPUType       string   `toml:"gpu_type,omitempty" json:"gpu_type,omitempty"`
	GPUsPerTask   bool     `toml:"gpus_per_task,omitzero" json:"gpus_per_task,omitzero"`
	CPUsPerTask   int64    `toml:"cpus_per_task,omitzero" json:"cpus_per_task,omitzero"`
	Mem           string   `toml:"mem,omitempty" json:"mem,omitempty"`
	MaxConcurrent int64    `toml:"max_concurrent,omitzero" json:"max_concurrent,omitzero"`
	RunsPerTask   int64    `toml:"runs_per_task,omitzero" json:"runs_per_task,omitzero"`
	RunsAtOnce    int64    `toml:"runs_at_once,omitzero" json:"runs_at_once,omitzero"` // see RunsAtOnceOrDefault
	Setup         []string `toml:"setup,omitempty" json:"setup,omitempty"`
	Extra         []string `toml:"extra,omitempty" json:"extra,omitempty"`
	Template      string   `toml:"template,omitempty" json:"template,omitempty"`
	Constraint    string   `toml:"constraint,omitempty" json:"constraint,omitempty"`
	Requeue       bool     `toml:"requeue,omitzero" json:"requeue,omitzero"`
	MaxArraySize  int64    `toml:"max_array_size,omitzero" json:"max_array_size,omitzero"`
	MaxQueued     int64    `toml:"max_queued,omitzero" json:"max_queued,omitzero"`
	JobName       string   `toml:"job_name,omitempty" json:"job_name,omitempty"`
	// SignalBefore overrides SignalLead: how long before the time limit
	// the runner is warned, a duration below the limit ("90s", "00:01:30").
	SignalBefore string `toml:"signal_before,omitempty" json:"signal_before,omitempty"`
}

// RunsAtOnceOrDefault is how many runs of one packed task run at the same
// time, the rest waiting inside the task: runs_at_once when given, else
// cpus_per_task, else 1, since SLURM gives a task one CPU unless
// cpus_per_task says otherwise. Packed runs share the task's GPUs and
// [slurm] has no share per run, so GPUs do not enter the default.
func (s Slurm) RunsAtOnceOrDefault() int {
	switch {
	case s.RunsAtOnce > 0:
		return int(s.RunsAtOnce)
	case s.CPUsPerTask > 0:
		return int(s.CPUsPerTask)
	}
	return 1
}

// maxSignalLead is the longest lead sbatch's --signal takes (a 16-bit
// count of seconds).
const maxSignalLead = 65535 * time.Second

// SignalLead is how long before the time limit SLURM sends the runner its
// warning signal (--signal=B:USR1@N): signal_before when the study gives
// it, else a tenth of the time limit, at most 2 minutes and at least a
// second, so that a short job is not warned at its start. Without a time
// limit (the partition's default applies) it is 2 minutes.
func (s Slurm) SignalLead() time.Duration {
	if d, err := ParseDuration(s.SignalBefore); err == nil {
		return d
	}
	limit, err := ParseDuration(s.Time)
	if err != nil {
		return 2 * time.Minute
	}
	return max(min(2*time.Minute, (limit/10).Truncate(time.Second)), time.Second)
}

// Local holds the [local] table: the single-machine executor.
type Local struct {
	Workers     int64   `toml:"workers,omitzero" json:"workers,omitzero"`
	GPUs        any     `toml:"gpus,omitempty" json:"gpus,omitempty"` // "auto", "none", "0,1" or [0, 1]
	GPUPerRun   float64 `toml:"gpu_per_run,omitzero" json:"gpu_per_run,omitzero"`
	MemPerRun   string  `toml:"mem_per_run,omitempty" json:"mem_per_run,omitempty"`
	MaxAttempts int64   `toml:"max_attempts,omitzero" json:"max_attempts,omitzero"`
}

// Collect holds the [collect] table: how the collector judges metrics.
type Collect struct {
	Maximize []string `toml:"maximize,omitempty"`
	Minimize []string `toml:"minimize,omitempty"`
	// Metrics are the [collect.metrics.NAME] tables. (The issue asked for
	// [metrics.NAME], but [metrics] already configures the image metrics
	// the runner computes.)
	Metrics map[string]MetricDecl `toml:"metrics,omitempty"`

	// order lists the names of Metrics as the file declares them.
	order []string
}

// Metric directions (MetricDecl.Direction, Collect.Direction).
const (
	Maximize = "maximize"
	Minimize = "minimize"
)

// MetricDecl declares one metric: how figures and reports name it, which
// way is better, and the range its values can take (error bars are clipped
// to it).
type MetricDecl struct {
	Label      string   `toml:"label,omitempty"`
	Unit       string   `toml:"unit,omitempty"`
	Direction  string   `toml:"direction,omitempty"` // Maximize, Minimize or ""
	LowerBound *float64 `toml:"lower_bound,omitempty"`
	UpperBound *float64 `toml:"upper_bound,omitempty"`
}

// Direction returns Maximize or Minimize when the study declares which
// way metric m is better (in [collect] maximize/minimize or
// [collect.metrics.NAME] direction), else "": an undeclared metric has no
// best value, and nothing guesses one from its name.
func (c Collect) Direction(m string) string {
	if d := c.Metrics[m].Direction; d != "" {
		return d
	}
	for _, x := range c.Maximize {
		if x == m {
			return Maximize
		}
	}
	for _, x := range c.Minimize {
		if x == m {
			return Minimize
		}
	}
	return ""
}

// Declared lists the metrics the study names in [collect]: the
// [collect.metrics] tables in file order, then maximize, then minimize.
func (c Collect) Declared() []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range [][]string{c.metricNames(), c.Maximize, c.Minimize} {
		for _, m := range list {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// metricNames returns the names of c.Metrics in file order (sorted when
// the order is unknown, as for a Collect built in code).
func (c Collect) metricNames() []string {
	if len(c.order) == len(c.Metrics) {
		return c.order
	}
	return slices.Sorted(maps.Keys(c.Metrics))
}

// Plots holds the [plots] table: which figures collect draws.
type Plots struct {
	Heatmaps [][]string `toml:"heatmaps,omitempty"`
	Formats  []string   `toml:"formats,omitempty"`
	Width    float64    `toml:"width,omitzero"`
	// Metrics are the metrics to draw (default: the declared ones).
	Metrics []string `toml:"metrics,omitempty"`
	// Kinds are the figure kinds to draw, of plots.Kinds (default: all).
	Kinds []string `toml:"kinds,omitempty"`
	// Pareto are (x, y) metric pairs of Pareto plots.
	Pareto [][]string `toml:"pareto,omitempty"`
}

// Metrics holds the [metrics] table: image-quality metrics the runner
// computes itself from arrays the run leaves behind.
type Metrics struct {
	Truth      string `toml:"truth,omitempty"`
	Recon      string `toml:"recon,omitempty"`
	Convention string `toml:"convention,omitempty"`
	// truthLine is truth's line in the study file, for CheckTruth's
	// problems; 0 when unknown.
	truthLine int
}

// ModelNames returns the models' names, or a single "" when the study
// compares no models.
func (s *Study) ModelNames() []string {
	if len(s.Models) == 0 {
		return []string{""}
	}
	names := make([]string, len(s.Models))
	for i, m := range s.Models {
		names[i] = m.Name
	}
	return names
}

// Model returns the model called name, or nil.
func (s *Study) Model(name string) *Model {
	for _, m := range s.Models {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// AllParams returns every swept parameter: the study's, then each model's.
func (s *Study) AllParams() []*Param {
	out := append([]*Param(nil), s.Params...)
	for _, m := range s.Models {
		out = append(out, m.Params...)
	}
	return out
}

// ParamsFor returns the parameters swept for one model, in grid order.
func (s *Study) ParamsFor(model string) []*Param {
	out := append([]*Param(nil), s.Params...)
	if m := s.Model(model); m != nil {
		out = append(out, m.Params...)
	}
	return out
}
