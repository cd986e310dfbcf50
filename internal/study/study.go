// Package study reads, validates and expands gridstudy study files: the
// parameters, models, trials and constraints that define a grid, and the
// settings of the executors that run it.
package study

import (
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
	Name      string
	Overrides []Setting
	Params    []*Param
}

// Slurm holds the [slurm] table.
type Slurm struct {
	Partition     string   `toml:"partition,omitempty"`
	Account       string   `toml:"account,omitempty"`
	QOS           string   `toml:"qos,omitempty"`
	Time          string   `toml:"time,omitempty"`
	GPUs          int64    `toml:"gpus,omitzero"`
	GPUType       string   `toml:"gpu_type,omitempty"`
	GPUsPerTask   bool     `toml:"gpus_per_task,omitzero"`
	CPUsPerTask   int64    `toml:"cpus_per_task,omitzero"`
	Mem           string   `toml:"mem,omitempty"`
	MaxConcurrent int64    `toml:"max_concurrent,omitzero"`
	RunsPerTask   int64    `toml:"runs_per_task,omitzero"`
	Setup         []string `toml:"setup,omitempty"`
	Extra         []string `toml:"extra,omitempty"`
	Template      string   `toml:"template,omitempty"`
	Constraint    string   `toml:"constraint,omitempty"`
	Requeue       bool     `toml:"requeue,omitzero"`
	MaxArraySize  int64    `toml:"max_array_size,omitzero"`
	MaxQueued     int64    `toml:"max_queued,omitzero"`
	JobName       string   `toml:"job_name,omitempty"`
}

// Local holds the [local] table: the single-machine executor.
type Local struct {
	Workers     int64   `toml:"workers,omitzero"`
	GPUs        any     `toml:"gpus,omitempty"` // "auto", "none", "0,1" or [0, 1]
	GPUPerRun   float64 `toml:"gpu_per_run,omitzero"`
	MemPerRun   string  `toml:"mem_per_run,omitempty"`
	MaxAttempts int64   `toml:"max_attempts,omitzero"`
}

// Collect holds the [collect] table.
type Collect struct {
	Maximize []string `toml:"maximize,omitempty"`
	Minimize []string `toml:"minimize,omitempty"`
}

// Plots holds the [plots] table.
type Plots struct {
	Heatmaps [][]string `toml:"heatmaps,omitempty"`
	Formats  []string   `toml:"formats,omitempty"`
	Width    float64    `toml:"width,omitzero"`
}

// Metrics holds the [metrics] table: image-quality metrics the runner
// computes itself from arrays the run leaves behind.
type Metrics struct {
	Truth      string `toml:"truth,omitempty"`
	Recon      string `toml:"recon,omitempty"`
	Convention string `toml:"convention,omitempty"`
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
