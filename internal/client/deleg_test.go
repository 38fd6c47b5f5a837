package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/service"
)

// fullKV fails every Update with ENOSPC while full is set: a store that
// ran out of room.
type fullKV struct {
	kv.Store
	full *atomic.Bool
}

func (f fullKV) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if f.full.Load() {
		return syscall.ENOSPC
	}
	return f.Store.Update(ctx, fn)
}

// serve runs a service over the in-memory store behind fullKV.
func serve(t *testing.T, full *atomic.Bool) rpc.Addr {
	t.Helper()
	return serveOn(t, func(st kv.Store) kv.Store { return fullKV{st, full} },
		service.Options{LeasePeriod: 10 * time.Second, RecallTimeout: 5 * time.Second})
}

// A create answered under a delegation that the service then refuses
// (ENOSPC) returns at once, and its error shows at the file's next
// fsync (Settled with wait), once; the name is free again.
func TestDelegatedCreateRefused(t *testing.T) {
	var full atomic.Bool
	addr := serve(t, &full)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, client.Options{Addrs: []rpc.Addr{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.Mkdir(ctx, meta.Root, meta.RootIno, "d", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	c.Looked(d.Ino) // the kernel holds d, as it would
	ok, err := c.Create(ctx, meta.Root, d.Ino, "ok", 0o644, syscall.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Settled(ctx, ok.Ino, true); err != nil {
		t.Fatalf("the service refused a create: %v", err)
	}
	if got, err := c.Lookup(ctx, meta.Root, d.Ino, "ok"); err != nil || got != ok {
		t.Fatalf("lookup of the delegated create: %+v, %v; it was answered %+v", got, err, ok)
	}

	full.Store(true)
	a, err := c.Create(ctx, meta.Root, d.Ino, "f", 0o644, syscall.O_WRONLY)
	if err != nil {
		t.Fatalf("a delegated create waited for the service: %v", err)
	}
	if err := c.Release(ctx, a.Ino); err != nil {
		t.Fatalf("release of a file whose create is unanswered: %v", err)
	}
	if err := c.Settled(ctx, a.Ino, true); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fsync after a refused create: %v, want ENOSPC", err)
	}
	if err := c.Settled(ctx, a.Ino, true); err != nil {
		t.Fatalf("the refusal was reported twice: %v", err)
	}
	full.Store(false)
	if _, err := c.Lookup(ctx, meta.Root, d.Ino, "f"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup of the refused name: %v, want ENOENT", err)
	}
	if _, err := c.Create(ctx, meta.Root, d.Ino, "f", 0o644, syscall.O_WRONLY); err != nil {
		t.Fatalf("create again after the refusal: %v", err)
	}
}
