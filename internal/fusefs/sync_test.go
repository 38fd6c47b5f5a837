package fusefs

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestFsyncDirOrder checks that fsync of a directory makes objects
// durable before the metadata that references them.
func TestFsyncDirOrder(t *testing.T) {
	f, m, d := testFS(t, Options{})
	in := fuse.FsyncIn{InHeader: hdr(1)}
	if st := f.FsyncDir(nil, &in); st != fuse.OK {
		t.Fatal(st)
	}
	if s := d.took(); s != "[syncobjects 0]" {
		t.Fatalf("data calls %s", s)
	}
	if c := m.took(); !slices.Equal(c, []string{"sync"}) {
		t.Fatalf("meta calls %v", c)
	}

	// An object store that fails to sync fails the fsync, and the
	// metadata is not synced past it.
	d.errs["syncobjects"] = syscall.EIO
	if st := f.FsyncDir(nil, &in); st != fuse.EIO {
		t.Fatalf("fsyncdir with failing objects: %v", st)
	}
	if c := m.took(); len(c) != 0 {
		t.Fatalf("meta synced after the objects failed: %v", c)
	}
}

// runSyncLoop runs the background sync loop for ticks hand-fed ticks and
// returns once it has ended.
func runSyncLoop(f *fileSystem, ticks int) {
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.syncLoop(ctx, tick)
	}()
	for range ticks {
		tick <- time.Time{}
	}
	cancel()
	<-done
}

// TestSyncLoop checks that each tick commits all buffered writes, makes
// objects durable, then syncs the metadata, and that a failure is logged
// and the next tick tries again.
func TestSyncLoop(t *testing.T) {
	f, m, d := testFS(t, Options{})
	runSyncLoop(f, 2)
	if s := d.took(); s != "[flushall 0 syncobjects 0 flushall 0 syncobjects 0]" {
		t.Fatalf("data calls %s", s)
	}
	if c := m.took(); !slices.Equal(c, []string{"sync", "sync"}) {
		t.Fatalf("meta calls %v", c)
	}

	d.errs["flushall"] = syscall.ENOSPC
	runSyncLoop(f, 3)
	if s := d.took(); s != "[flushall 0 flushall 0 flushall 0]" {
		t.Fatalf("data calls with a failing flush %s", s)
	}
	if c := m.took(); len(c) != 0 {
		t.Fatalf("meta synced after a failed flush: %v", c)
	}
}

// TestSyncerStop checks that a disabled syncer stops at once and an
// enabled one stops when asked.
func TestSyncerStop(t *testing.T) {
	f, _, d := testFS(t, Options{})
	startSyncer(f, -1).stop()
	s := startSyncer(f, time.Hour)
	s.stop()
	select {
	case <-s.done:
	default:
		t.Fatal("syncer still running after stop")
	}
	if c := d.took(); c != "[]" {
		t.Fatalf("a syncer stopped before its first tick synced: %s", c)
	}
}
