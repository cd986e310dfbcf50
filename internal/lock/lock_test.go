package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestTryExcludesAndUnlockFrees(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, err := Try(path)
	if err != nil {
		t.Fatal(err)
	}
	// A second open file in the same process is excluded too: the local
	// executor runs many runs in one process.
	if _, err := Try(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Try = %v, want ErrBusy", err)
	}
	if !Held(path) {
		t.Fatal("Held = false while locked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a held lock = %v, want deadline exceeded", err)
	}
	a.Unlock()
	if Held(path) {
		t.Fatal("Held = true after Unlock")
	}
	b, err := Wait(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	b.Unlock()
}

// A lock never outlives its holder: kill -9 of the process that holds it
// frees it at once.
func TestLockDiesWithHolder(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	path := filepath.Join(t.TempDir(), "x.lock")
	// With --close only flock(1) itself holds the lock; its child cat
	// ends when the test closes its stdin.
	cmd := exec.Command("flock", "--exclusive", "--close", path, "cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !Held(path) {
		if time.Now().After(deadline) {
			t.Fatal("flock(1) never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := Try(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("Try beside another process's lock = %v, want ErrBusy", err)
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	for Held(path) {
		if time.Now().After(deadline) {
			t.Fatal("lock still held after its holder was killed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	l, err := Try(path)
	if err != nil {
		t.Fatalf("Try after the holder died = %v", err)
	}
	l.Unlock()
	stdin.Close()
	cmd.Wait()
}

func TestHeldOnMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none")
	if Held(path) {
		t.Fatal("Held(missing) = true")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("Held created the file")
	}
}
