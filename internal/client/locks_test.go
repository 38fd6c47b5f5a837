package client_test

import (
	"context"
	"errors"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/locks"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/service"
)

// serveLocks runs a service with one file in it, and returns its address
// and the file.
func serveLocks(t *testing.T) (rpc.Addr, uint64) {
	t.Helper()
	var ino uint64
	addr := serveOn(t, nil, service.Options{LeasePeriod: 10 * time.Second}, func(fs *meta.FS) {
		ctx := context.Background()
		f, err := fs.Create(ctx, meta.Root, meta.RootIno, "f", 0o644, 0)
		if err == nil {
			err = fs.Release(ctx, f.Ino)
		}
		if err != nil {
			t.Fatal(err)
		}
		ino = f.Ino
	})
	return addr, ino
}

func connect(t *testing.T, a rpc.Addr) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, client.Options{Addrs: []rpc.Addr{a}, Patience: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func posix(owner uint64, typ locks.Type, start, end uint64) locks.Lock {
	return locks.Lock{Owner: locks.Owner{ID: owner}, Type: typ, Start: start, End: end, Pid: 1}
}

func wait(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer within 10s", what)
		return nil
	}
}

// TestSetLockWaits: a blocked lock is granted at the holder's unlock
// (the service's push wakes it, well before the periodic retry), and
// gives up with EINTR when its context ends; MayHold follows the
// owner's locks.
func TestSetLockWaits(t *testing.T) {
	addr, ino := serveLocks(t)
	a, b := connect(t, addr), connect(t, addr)
	ctx := context.Background()

	if a.MayHold(ino, 1, false) {
		t.Fatal("MayHold before any lock")
	}
	if err := a.SetLock(ctx, ino, posix(1, locks.Write, 0, 99), false); err != nil {
		t.Fatal(err)
	}
	if !a.MayHold(ino, 1, false) || a.MayHold(ino, 1, true) || b.MayHold(ino, 1, false) {
		t.Fatal("MayHold does not follow the lock")
	}
	if err := b.SetLock(ctx, ino, posix(1, locks.Read, 50, 50), false); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("B's conflicting lock: %v, want EAGAIN", err)
	}
	got, err := b.GetLock(ctx, ino, posix(1, locks.Read, 0, math.MaxInt64))
	if err != nil || got != (locks.Lock{Type: locks.Write, Start: 0, End: 99}) {
		t.Fatalf("B's GetLock: %v, %v", got, err)
	}

	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- b.SetLock(ctx, ino, posix(1, locks.Write, 0, 0), true) }()
	// A partial unlock that leaves byte 0 locked does not let B in.
	if err := a.SetLock(ctx, ino, posix(1, locks.Unlock, 50, 99), false); err != nil {
		t.Fatal(err)
	}
	if !a.MayHold(ino, 1, false) {
		t.Fatal("a partial unlock ended MayHold")
	}
	if err := a.SetLock(ctx, ino, posix(1, locks.Unlock, 0, math.MaxInt64), false); err != nil {
		t.Fatal(err)
	}
	if a.MayHold(ino, 1, false) {
		t.Fatal("MayHold after the owner unlocked everything")
	}
	if err := wait(t, done, "B's waiting lock"); err != nil {
		t.Fatalf("B's waiting lock: %v", err)
	}
	t.Logf("B's lock granted %v after it started waiting", time.Since(start).Round(time.Millisecond))

	// A waits now; its caller gives up.
	wctx, cancel := context.WithCancel(ctx)
	go func() { done <- a.SetLock(wctx, ino, posix(2, locks.Read, 0, 0), true) }()
	cancel()
	if err := wait(t, done, "A's canceled wait"); !errors.Is(err, syscall.EINTR) {
		t.Fatalf("A's canceled wait: %v, want EINTR", err)
	}
	if got, err := b.GetLock(ctx, ino, posix(9, locks.Write, 0, 0)); err != nil || got.Type != locks.Write || got.Pid != 1 {
		t.Fatalf("B's lock after A gave up: %v, %v", got, err)
	}
}
