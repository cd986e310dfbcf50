package study

import "testing"

func TestRunsAtOnceOrDefault(t *testing.T) {
	tests := []struct {
		s    Slurm
		want int
	}{
		{Slurm{}, 1}, // SLURM gives a task one CPU by default
		{Slurm{CPUsPerTask: 8}, 8},
		{Slurm{CPUsPerTask: 8, RunsAtOnce: 2}, 2},
		{Slurm{RunsAtOnce: 3, GPUs: 4}, 3},
		{Slurm{GPUs: 4}, 1}, // packed runs share the GPUs: no share per run to count with
	}
	for _, tt := range tests {
		if got := tt.s.RunsAtOnceOrDefault(); got != tt.want {
			t.Errorf("%+v: RunsAtOnceOrDefault() = %d, want %d", tt.s, got, tt.want)
		}
	}
}
