package lifecycle

import (
	"slices"
	"testing"

	"github.com/gridstudy/gridstudy/internal/shard"
)

func TestDecide(t *testing.T) {
	ok, failed, cancelled := shard.StatusOK, shard.StatusFailed, shard.StatusCancelled
	tests := []struct {
		name     string
		attempts []Attempt
		queue    string
		state    string
		result   int
	}{
		{"nothing yet", nil, "", Missing, 0},
		{"queued, never started", nil, "PENDING", Pending, 0},
		{"ok", []Attempt{{Number: 1, Status: ok}}, "", ok, 1},
		{"retried after a failure", []Attempt{{Number: 1, Status: failed}, {Number: 2, Status: ok}}, "", ok, 2},
		{"forced re-run failed: the failure is the result", []Attempt{{Number: 1, Status: ok}, {Number: 2, Status: failed}}, "", failed, 2},
		{"runner died: the earlier result stands", []Attempt{{Number: 1, Status: ok}, {Number: 2}}, "", ok, 1},
		{"runner died on the first attempt", []Attempt{{Number: 1}}, "", Missing, 0},
		{"live attempt beats everything", []Attempt{{Number: 1, Status: ok}, {Number: 2, Live: true}}, "", Running, 1},
		{"a packed task still holds the claim of an attempt it wrote", []Attempt{{Number: 1, Status: ok}, {Number: 1, Live: true}}, "", ok, 1},
		{"a live claim below the result changes nothing", []Attempt{{Number: 1, Live: true}, {Number: 2, Status: failed}}, "", failed, 2},
		{"failed, resubmitted and queued", []Attempt{{Number: 1, Status: failed}}, "PENDING", Pending, 1},
		{"cancelled, requeued and running", []Attempt{{Number: 1, Status: cancelled}}, "RUNNING", Running, 1},
		{"ok beats a stale queue entry", []Attempt{{Number: 1, Status: ok}}, "RUNNING", ok, 1},
		{"order does not matter", []Attempt{{Number: 3, Status: failed}, {Number: 1, Status: ok}, {Number: 2}}, "", failed, 3},
	}
	for _, tt := range tests {
		d := Decide(tt.attempts, Queued{State: tt.queue})
		if d.State != tt.state || d.Result != tt.result {
			t.Errorf("%s: Decide = %+v, want state %s, result %d", tt.name, d, tt.state, tt.result)
		}
	}
}

func TestLostAndRetry(t *testing.T) {
	for _, s := range States {
		want := s == Missing || s == shard.StatusCancelled || s == shard.StatusTimeout || s == shard.StatusPreempted
		if Lost(s, false) != want {
			t.Errorf("Lost(%s, false) = %v, want %v", s, !want, want)
		}
		if Lost(s, true) != (want || s == shard.StatusFailed) {
			t.Errorf("Lost(%s, true) wrong", s)
		}
		if Done(s) != (s == shard.StatusOK) {
			t.Errorf("Done(%s) wrong", s)
		}
	}
	if !Retry(shard.StatusFailed) || !Retry(shard.StatusTimeout) || Retry(shard.StatusCancelled) || Retry(shard.StatusOK) {
		t.Error("Retry: want failed and timeout only")
	}
}

// FuzzDecide checks the rule's invariants on arbitrary attempt histories:
// the result is the highest finished attempt, a live attempt above the result means
// running, the state is one of States, and the order of attempts and the
// queue of an ok run do not matter.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{1, 0, 2, 1, 3, 2}, uint8(0))
	f.Add([]byte{0, 5}, uint8(1))
	f.Add([]byte{}, uint8(2))
	statuses := []string{"", shard.StatusOK, shard.StatusFailed, shard.StatusTimeout, shard.StatusPreempted, shard.StatusCancelled}
	queues := []string{"", "PENDING", "RUNNING", "REQUEUED", "COMPLETING"}
	f.Fuzz(func(t *testing.T, raw []byte, q uint8) {
		var attempts []Attempt
		for i := 0; i+1 < len(raw) && len(attempts) < 64; i += 2 {
			st := statuses[int(raw[i+1]%8)%len(statuses)]
			attempts = append(attempts, Attempt{Number: int(raw[i]%32) + 1, Status: st, Live: st == "" && raw[i+1]&0x80 != 0})
		}
		queue := Queued{State: queues[int(q)%len(queues)]}
		d := Decide(attempts, queue)
		if !slices.Contains(States, d.State) {
			t.Fatalf("state %q is not one of States", d.State)
		}
		wantResult, resultStatus, live := 0, "", false
		for _, a := range attempts {
			if a.Status != "" && a.Number > wantResult {
				wantResult, resultStatus = a.Number, a.Status
			}
		}
		for _, a := range attempts {
			live = live || (a.Live && a.Number > wantResult)
		}
		if d.Result != wantResult {
			t.Fatalf("result %d, want the highest finished attempt %d", d.Result, wantResult)
		}
		if live && d.State != Running {
			t.Fatalf("a live attempt but state %s", d.State)
		}
		if !live && resultStatus == shard.StatusOK && d.State != shard.StatusOK {
			t.Fatalf("ok result, no live attempt, but state %s", d.State)
		}
		rev := slices.Clone(attempts)
		slices.Reverse(rev)
		// Ties (two finished attempts with one number) cannot happen on
		// disk; only compare where numbers are distinct.
		seen := map[int]bool{}
		distinct := true
		for _, a := range attempts {
			distinct = distinct && !seen[a.Number]
			seen[a.Number] = true
		}
		if distinct && Decide(rev, queue) != d {
			t.Fatalf("order changed the decision: %+v vs %+v", Decide(rev, queue), d)
		}
	})
}

func TestEnded(t *testing.T) {
	for state, want := range map[string]bool{
		shard.StatusOK: true, shard.StatusFailed: true, shard.StatusCancelled: true,
		shard.StatusTimeout: true, shard.StatusPreempted: true,
		Running: false, Pending: false, Missing: false, "": false,
	} {
		if got := Ended(state); got != want {
			t.Errorf("Ended(%q) = %v, want %v", state, got, want)
		}
	}
}
