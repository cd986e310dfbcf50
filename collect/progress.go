package collect

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progress redraws one line "read N/M shards, R/s, ETA T" a few times a
// second while shards are read. It is for terminals only: the caller passes
// a nil writer elsewhere, so logs of batch jobs stay free of it.
type progress struct {
	w     io.Writer
	total int
	n     atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// progressEvery is how often the line is redrawn.
const progressEvery = 200 * time.Millisecond

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now(), stop: make(chan struct{})}
	if w == nil || total == 0 {
		return p
	}
	p.wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	})
	return p
}

func (p *progress) add(n int) { p.n.Add(int64(n)) }

func (p *progress) draw() {
	n := int(p.n.Load())
	el := time.Since(p.start).Seconds()
	rate := float64(n) / el
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-n) / rate * float64(time.Second))).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\rcollect: read %d/%d shards, %.0f/s, ETA %s   ", n, p.total, rate, eta)
}

// done stops the redraws and clears the line.
func (p *progress) done() {
	if p.w == nil || p.total == 0 {
		return
	}
	close(p.stop)
	p.wg.Wait()
	fmt.Fprintf(p.w, "\r%*s\r", 60, "")
}
