// Package lock takes exclusive locks on files, to keep two gridstudy
// processes from doing the same work at once: two local executors on one
// study, two runners on one run, two collects writing one data folder.
//
// The primitive is flock(2), for three reasons. The kernel drops the lock
// when its holder dies, however it dies, so a lock never outlives a dead
// process and no stale-lock clean-up is needed. Locks belong to an open
// file, not to a process, so two runs that one process executes at once
// exclude each other too (fcntl's POSIX locks would not). And on NFS the
// Linux client sends flock locks to the server as whole-file byte-range
// locks (since Linux 2.6.12), so a lock taken on a compute node is seen on
// the login node; Lustre does the same when mounted with -o flock, the
// usual setting for home and project folders (with -o localflock a lock is
// seen on its own node only). An exclusive lock over NFS needs the file
// open for writing, which is why lock files are opened read-write.
package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// ErrBusy is returned by Try when another open file holds the lock.
var ErrBusy = errors.New("locked by another process")

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// Try takes the lock on path, creating the file if needed, or returns
// ErrBusy at once when someone else holds it.
func Try(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Wait takes the lock on path, waiting while someone else holds it, until
// ctx ends. It polls rather than block in flock so that it can give up.
func Wait(ctx context.Context, path string) (*Lock, error) {
	delay := 10 * time.Millisecond
	for {
		l, err := Try(path)
		if !errors.Is(err, ErrBusy) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// Hold locks an open file (read-write) exclusively, failing with ErrBusy
// when someone else holds it.
func Hold(f *os.File) (*Lock, error) {
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return &Lock{f: f}, nil
}

// Held reports whether someone holds the lock on path now. A missing or
// unreadable file is not held.
func Held(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	// A shared lock is enough to probe (and needs only read access on
	// NFS); it conflicts with the holder's exclusive one.
	err = flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		flock(f, syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// File returns the locked file, for the holder to write what it wants
// others to read (who holds it, since when).
func (l *Lock) File() *os.File { return l.f }

// Unlock releases the lock and closes its file.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the lock
	l.f = nil
	return err
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
