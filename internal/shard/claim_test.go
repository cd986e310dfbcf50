package shard

import (
	"errors"
	"os"
	"sync"
	"testing"
)

// Many runners claiming one run at once: exactly one goes ahead, the others
// find its live claim and back off; none sees a claim as a shard.
func TestClaimConcurrentOneLive(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	var (
		mu     sync.Mutex
		claims []*Claim
		busy   int
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			c, err := TakeClaim(dir, "c1_t1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBusy):
				busy++
			case err != nil:
				t.Error(err)
			default:
				claims = append(claims, c)
			}
		})
	}
	close(start)
	wg.Wait()
	// Two claims may both go ahead only if one was released before the
	// other looked, which cannot happen while all are held.
	if len(claims) != 1 || busy != n-1 {
		t.Fatalf("concurrent claims: %d went ahead, %d busy; want 1 and %d", len(claims), busy, n-1)
	}
	entries, err := Scan(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("Scan after claims = %v, %v; want no shards (claims ignored)", entries, err)
	}
	if err := claims[0].Release(); err != nil {
		t.Fatal(err)
	}
	c, err := TakeClaim(dir, "c1_t1")
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	c.Release()
}

func TestClaimSkipsShardsAndDeadClaims(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 finished (shard, claim released).
	if err := os.WriteFile(Path(dir, "r", 1), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := TakeClaim(dir, "r")
	if err != nil || c2.Attempt != 2 || c2.DeadBefore {
		t.Fatalf("TakeClaim = %+v, %v; want attempt 2, nothing dead before", c2, err)
	}
	// A live claim makes the next claimer back off.
	if _, err := TakeClaim(dir, "r"); !errors.Is(err, ErrBusy) {
		t.Fatalf("TakeClaim beside a live claim = %v, want ErrBusy", err)
	}
	// Attempt 2's runner dies: its claim stays, unlocked.
	c2.Abandon()
	c3, err := TakeClaim(dir, "r")
	if err != nil || c3.Attempt != 3 || !c3.DeadBefore {
		t.Fatalf("TakeClaim after a dead claim = %+v, %v; want attempt 3 with DeadBefore", c3, err)
	}
	if !Claimed(dir, "r", 2) || Claimed(dir, "r", 4) {
		t.Errorf("Claimed(2), Claimed(4) = %v, %v; want true, false", Claimed(dir, "r", 2), Claimed(dir, "r", 4))
	}
	if err := c3.Release(); err != nil {
		t.Fatal(err)
	}
	c, err := TakeClaim(dir, "r")
	if err != nil || c.Attempt != 3 {
		t.Errorf("TakeClaim after Release = %+v, %v; want 3 again (nothing was written)", c, err)
	}
}
