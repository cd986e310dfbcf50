package local

import (
	"context"
	"reflect"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"8G", 8 << 30, false}, {"4000M", 4000 << 20, false}, {"512k", 512 << 10, false},
		{"1TB", 1 << 40, false}, {"100", 100, false}, {"lots", 0, true}, {"-1G", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseGPUs(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  bool
	}{
		{"none", nil, false}, {"0,1", []int{0, 1}, false}, {"3", []int{3}, false}, {"a", nil, true}, {"-1", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseGPUs(context.Background(), tt.in)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseGPUs(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestGPUPool(t *testing.T) {
	tests := []struct {
		name     string
		ids      []int
		perRun   float64
		capacity int
		first    []string // CUDA_VISIBLE_DEVICES of the first acquisitions
	}{
		{"shared halves", []int{0, 1}, 0.5, 4, []string{"0", "1", "0", "1"}},
		{"whole", []int{2, 3}, 1, 2, []string{"2", "3"}},
		{"two per run", []int{0, 1, 2, 3}, 2, 2, []string{"0,1", "2,3"}},
		{"thirds", []int{0}, 0.34, 2, []string{"0", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newGPUPool(tt.ids, tt.perRun)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.capacity(); got != tt.capacity {
				t.Errorf("capacity = %d, want %d", got, tt.capacity)
			}
			var held [][]int
			for i, want := range tt.first {
				got := p.acquire()
				if v := p.visible(got); v != want {
					t.Errorf("acquisition %d: CUDA_VISIBLE_DEVICES=%s, want %s", i, v, want)
				}
				held = append(held, got)
			}
			for _, h := range held {
				p.release(h)
			}
		})
	}
	if _, err := newGPUPool([]int{0}, 2); err == nil {
		t.Error("gpu_per_run 2 with one GPU: no error, want one")
	}
	if p, _ := newGPUPool(nil, 1); p != nil {
		t.Error("no GPUs: want no pool")
	}
}
