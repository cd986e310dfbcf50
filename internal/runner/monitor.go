package runner

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Sampling periods. Memory is read often enough to catch a training loop's
// peak; nvidia-smi costs tens of milliseconds per call, so it is asked less
// often.
const (
	memPeriod = 200 * time.Millisecond
	gpuEvery  = 5 // memory samples per GPU sample
)

// peaks is what the monitor measured of one process group.
type peaks struct {
	rssBytes int64   // largest sum of the RSS of the group's processes
	gpuMB    float64 // largest sum of their GPU memory
	gpuSeen  bool    // nvidia-smi answered at least once while the group ran
}

// monitor samples the memory of the process groups of the runs in flight.
// One monitor serves every run of the process, so that a packed task of K
// runs reads /proc once per period rather than K times.
type monitor struct {
	mu      sync.Mutex
	groups  map[int]*peaks // by process group id
	running bool
	ticks   int
}

var procMonitor = &monitor{groups: map[int]*peaks{}}

// gpuQuery is nvidia-smi's path, or "" where there is none: the lookup is
// made once per process.
var gpuQuery = sync.OnceValue(func() string {
	p, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return ""
	}
	return p
})

// watch starts measuring process group pgid; the returned function stops
// and returns what was measured.
func (m *monitor) watch(pgid int) func() peaks {
	m.mu.Lock()
	m.groups[pgid] = &peaks{}
	if !m.running {
		m.running = true
		go m.loop()
	}
	m.mu.Unlock()
	return func() peaks {
		m.mu.Lock()
		defer m.mu.Unlock()
		p := *m.groups[pgid]
		delete(m.groups, pgid)
		return p
	}
}

// loop samples until no group is left to watch.
func (m *monitor) loop() {
	t := time.NewTicker(memPeriod)
	defer t.Stop()
	for range t.C {
		m.mu.Lock()
		if len(m.groups) == 0 {
			m.running = false
			m.mu.Unlock()
			return
		}
		m.ticks++
		gpu := m.ticks%gpuEvery == 1 && gpuQuery() != ""
		m.mu.Unlock()
		m.sample(gpu)
	}
}

// sample reads every process's group and RSS once, and GPU memory when gpu
// is set, and raises the peaks of the watched groups.
func (m *monitor) sample(gpu bool) {
	procs := readProcs()
	var gpuMB map[int]float64
	var gpuErr error
	if gpu {
		gpuMB, gpuErr = readGPU()
	}
	rss := map[int]int64{}
	gpuSum := map[int]float64{}
	for _, p := range procs {
		rss[p.pgid] += p.rss
		gpuSum[p.pgid] += gpuMB[p.pid]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for pgid, pk := range m.groups {
		pk.rssBytes = max(pk.rssBytes, rss[pgid])
		if gpu && gpuErr == nil {
			pk.gpuSeen = true
			pk.gpuMB = max(pk.gpuMB, gpuSum[pgid])
		}
	}
}

type proc struct {
	pid, pgid int
	rss       int64 // bytes
}

var pageSize = int64(os.Getpagesize())

// readProcs lists the processes in /proc with their group and RSS. Where
// there is no /proc it returns nothing, and peaks fall back to rusage.
func readProcs() []proc {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	out := make([]proc, 0, len(names))
	buf := make([]byte, 1024)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		f, err := os.Open("/proc/" + name + "/stat")
		if err != nil {
			continue // exited since the listing
		}
		n, _ := f.Read(buf)
		f.Close()
		if pgid, rss, ok := parseStat(buf[:n]); ok {
			out = append(out, proc{pid: pid, pgid: pgid, rss: rss * pageSize})
		}
	}
	return out
}

// parseStat reads the process group (field 5) and RSS in pages (field 24)
// of a /proc/<pid>/stat line. Fields are counted after the command name,
// which is in parentheses and may itself hold spaces and parentheses.
func parseStat(b []byte) (pgid int, rssPages int64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 22 {
		return 0, 0, false
	}
	g, err1 := strconv.Atoi(string(f[2]))
	r, err2 := strconv.ParseInt(string(f[21]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return g, r, true
}

// readGPU asks nvidia-smi for the GPU memory of every compute process, in
// MiB by pid. The pids are the host's: in a container with its own pid
// namespace they match nothing and the peak stays 0.
func readGPU() (map[int]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gpuQuery(), "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil, err
	}
	return parseGPU(out), nil
}

// parseGPU reads lines of "pid, used_memory"; lines it cannot read ("[N/A]"
// memory on some drivers) are skipped.
func parseGPU(out []byte) map[int]float64 {
	m := map[int]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		pidText, memText, ok := bytes.Cut(sc.Bytes(), []byte(","))
		if !ok {
			continue
		}
		pid, err1 := strconv.Atoi(string(bytes.TrimSpace(pidText)))
		mb, err2 := strconv.ParseFloat(string(bytes.TrimSpace(memText)), 64)
		if err1 == nil && err2 == nil {
			m[pid] += mb
		}
	}
	return m
}
