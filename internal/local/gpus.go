package local

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DetectGPUs lists the GPU indices nvidia-smi reports, or none when it is
// absent or fails: a machine without GPUs runs every run without one.
func DetectGPUs(ctx context.Context) []int {
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=index", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil
	}
	var ids []int
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(strings.TrimSuffix(f, ",")); err == nil {
			ids = append(ids, n)
		}
	}
	return ids
}

// ParseGPUs reads --gpus: "auto" (detect), "none", or a list "0,1".
func ParseGPUs(ctx context.Context, spec string) ([]int, error) {
	switch spec {
	case "", "auto":
		return DetectGPUs(ctx), nil
	case "none":
		return nil, nil
	}
	var ids []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--gpus %q: want auto, none or GPU indices such as 0,1", spec)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// gpuPool hands out GPUs to runs: with perRun below 1, each GPU has
// floor(1/perRun) slots that runs share; with perRun of 1 or more, a run
// takes ceil(perRun) whole GPUs.
type gpuPool struct {
	mu    sync.Mutex
	cond  *sync.Cond
	ids   []int
	free  []int // free slots per GPU
	slots int   // slots per GPU
	whole int   // GPUs per run, when runs take whole GPUs
}

func newGPUPool(ids []int, perRun float64) (*gpuPool, error) {
	p := &gpuPool{ids: ids, slots: 1, whole: 0}
	switch {
	case len(ids) == 0 || perRun <= 0:
		return nil, nil
	case perRun < 1:
		p.slots = int(1/perRun + 1e-9)
	default:
		p.whole = int(perRun + 1 - 1e-9)
		if p.whole > len(ids) {
			return nil, fmt.Errorf("gpu_per_run = %g needs more GPUs than the %d available", perRun, len(ids))
		}
	}
	p.free = make([]int, len(ids))
	for i := range p.free {
		p.free[i] = p.slots
	}
	p.cond = sync.NewCond(&p.mu)
	return p, nil
}

// capacity is how many runs can hold GPUs at once.
func (p *gpuPool) capacity() int {
	if p.whole > 0 {
		return len(p.ids) / p.whole
	}
	return len(p.ids) * p.slots
}

// acquire blocks until GPUs are free and returns their positions in ids.
func (p *gpuPool) acquire() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.whole > 0 {
			var got []int
			for i, f := range p.free {
				if f == p.slots && len(got) < p.whole {
					got = append(got, i)
				}
			}
			if len(got) == p.whole {
				for _, i := range got {
					p.free[i] = 0
				}
				return got
			}
		} else {
			// The GPU with the most free slots, so that runs spread out.
			best := -1
			for i, f := range p.free {
				if f > 0 && (best < 0 || f > p.free[best]) {
					best = i
				}
			}
			if best >= 0 {
				p.free[best]--
				return []int{best}
			}
		}
		p.cond.Wait()
	}
}

func (p *gpuPool) release(got []int) {
	p.mu.Lock()
	for _, i := range got {
		if p.whole > 0 {
			p.free[i] = p.slots
		} else {
			p.free[i]++
		}
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

// visible is the CUDA_VISIBLE_DEVICES value for the acquired GPUs.
func (p *gpuPool) visible(got []int) string {
	s := make([]string, len(got))
	for i, g := range got {
		s[i] = strconv.Itoa(p.ids[g])
	}
	return strings.Join(s, ",")
}

// availableMemory reads MemAvailable from /proc/meminfo, in bytes; 0 when
// unknown.
func availableMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// ParseSize reads a memory size such as 8G, 4000M or 512K (bytes when no
// suffix; a trailing B is allowed).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: want a number with K, M, G or T", s)
	}
	return v * mult, nil
}
