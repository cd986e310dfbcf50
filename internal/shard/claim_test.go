package shard

import (
	"os"
	"sort"
	"sync"
	"testing"
)

func TestClaimConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := Claim(dir, "c1_t1")
			if err != nil {
				t.Error(err)
			}
			got[i] = a
		})
	}
	wg.Wait()
	sort.Ints(got)
	for i, a := range got {
		if a != i+1 {
			t.Fatalf("concurrent claims = %v, want 1..%d each once", got, n)
		}
	}
	entries, err := Scan(dir)
	if err != nil || len(entries) != 0 {
		t.Errorf("Scan after claims = %v, %v; want no shards (claims ignored)", entries, err)
	}
}

func TestClaimSkipsShardsAndKeepsDeadClaims(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 finished (shard, claim released); attempt 2 was killed
	// (claim, no shard).
	if err := os.WriteFile(Path(dir, "r", 1), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if a, err := Claim(dir, "r"); err != nil || a != 2 {
		t.Fatalf("Claim = %d, %v; want 2", a, err)
	}
	if a, err := Claim(dir, "r"); err != nil || a != 3 {
		t.Fatalf("Claim after a dead claim = %d, %v; want 3", a, err)
	}
	if !Claimed(dir, "r", 2) || Claimed(dir, "r", 4) {
		t.Errorf("Claimed(2), Claimed(4) = %v, %v; want true, false", Claimed(dir, "r", 2), Claimed(dir, "r", 4))
	}
	if err := Release(dir, "r", 3); err != nil {
		t.Fatal(err)
	}
	if err := Release(dir, "r", 3); err != nil {
		t.Errorf("second Release = %v, want nil", err)
	}
	if a, err := Claim(dir, "r"); err != nil || a != 3 {
		t.Errorf("Claim after Release = %d, %v; want 3 again (nothing was written)", a, err)
	}
}
