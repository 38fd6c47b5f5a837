package faulty_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/blobtest"
	"github.com/ferryfs/ferry/internal/blob/faulty"
	"github.com/ferryfs/ferry/internal/blob/localblob"
	"github.com/ferryfs/ferry/internal/blob/memblob"
)

var ctx = context.Background()

// TestConformance checks that an idle decorator is transparent.
func TestConformance(t *testing.T) {
	t.Run("mem", func(t *testing.T) {
		blobtest.Run(t, func(*testing.T) blob.Store { return faulty.New(memblob.New()) })
	})
	t.Run("local", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store {
			s, err := localblob.Open(t.TempDir(), localblob.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return faulty.New(s)
		})
	})
}

func TestCrashAt(t *testing.T) {
	inner := memblob.New()
	s := faulty.New(inner)
	s.CrashAt(3, nil)
	mustPut(t, s, "a") // write 1
	mustPut(t, s, "b") // write 2
	// Write 3 is the crash point.
	if err := s.Delete(ctx, "a"); !errors.Is(err, faulty.ErrCrashed) {
		t.Fatalf("third write = %v, want ErrCrashed", err)
	}
	if !s.Crashed() {
		t.Fatal("Crashed() is false after the crash point")
	}
	if err := s.Put(ctx, "c", []byte("c")); !errors.Is(err, faulty.ErrCrashed) {
		t.Fatalf("write after the crash = %v", err)
	}
	if err := s.Sync(ctx); !errors.Is(err, faulty.ErrCrashed) {
		t.Fatalf("Sync after the crash = %v", err)
	}
	// Nothing from the crash point on reached the inner store.
	if _, err := inner.Get(ctx, "a", 0, -1); err != nil {
		t.Fatalf("the crashed Delete reached the inner store: %v", err)
	}
	if _, err := inner.Get(ctx, "c", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("a Put after the crash reached the inner store: %v", err)
	}
	// Reads still work.
	if b, err := s.Get(ctx, "b", 0, -1); err != nil || string(b) != "b" {
		t.Fatalf("Get after the crash = %q, %v", b, err)
	}
	want := faulty.Counts{Puts: 3, Deletes: 1, Writes: 4, Gets: 1, Syncs: 1}
	if got := s.Counts(); got != want {
		t.Fatalf("Counts = %+v, want %+v", got, want)
	}
	// Turning the crash point off does not revive a crashed store.
	s.CrashAt(0, nil)
	if err := s.Put(ctx, "d", nil); !errors.Is(err, faulty.ErrCrashed) {
		t.Fatalf("write after CrashAt(0) on a crashed store = %v", err)
	}
}

func TestCrashAtRelative(t *testing.T) {
	s := faulty.New(memblob.New())
	mustPut(t, s, "a")
	mustPut(t, s, "b")
	s.CrashAt(s.Counts().Writes+2, syscall.EIO) // one more write succeeds
	mustPut(t, s, "c")
	err := s.Put(ctx, "d", []byte("d"))
	var oe *blob.OpError
	if !errors.Is(err, syscall.EIO) || !errors.As(err, &oe) || oe.Op != "put" || oe.Key != "d" {
		t.Fatalf("crashing write = %v, want a put of d failing with EIO", err)
	}
}

// TestCrashAtConcurrent checks that exactly n-1 of many concurrent writes
// reach the inner store.
func TestCrashAtConcurrent(t *testing.T) {
	inner := memblob.New()
	s := faulty.New(inner)
	s.CrashAt(25, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if err := s.Put(ctx, fmt.Sprintf("k/%d/%d", w, i), []byte{1}); err != nil {
					if !errors.Is(err, faulty.ErrCrashed) {
						t.Error(err)
					}
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if inner.Len() != 24 || failed != 80-24 {
		t.Fatalf("%d writes reached the store and %d failed; want 24 and 56", inner.Len(), failed)
	}
}

func TestFailPutsNoSpace(t *testing.T) {
	inner := memblob.New()
	s := faulty.New(inner)
	mustPut(t, s, "old")
	s.FailPuts(syscall.ENOSPC)
	err := s.Put(ctx, "new", []byte("n"))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put on a full store = %v, want ENOSPC", err)
	}
	if inner.Len() != 1 {
		t.Fatal("a failed Put reached the inner store")
	}
	if err := s.Delete(ctx, "old"); err != nil {
		t.Fatalf("Delete on a full store: %v", err)
	}
	if inner.Len() != 0 {
		t.Fatal("Delete on a full store did not reach the inner store")
	}
	s.FailPuts(nil)
	mustPut(t, s, "new")
	if s.Crashed() {
		t.Fatal("ENOSPC counted as a crash")
	}
}

func TestCorrupt(t *testing.T) {
	inner := memblob.New()
	s := faulty.New(inner)
	data := bytes.Repeat([]byte("abcdefgh"), 64)
	for _, k := range []string{"bad", "good"} {
		if err := s.Put(ctx, k, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "empty", nil); err != nil {
		t.Fatal(err)
	}
	s.Corrupt("bad", "empty")
	for _, r := range [][2]int64{{0, -1}, {100, 50}, {511, 1}} {
		got, err := s.Get(ctx, "bad", r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		want := blob.Clip(data, r[0], r[1])
		if len(got) != len(want) || bitsDiffer(got, want) != 1 {
			t.Fatalf("Get(bad, %d, %d) differs from the object in %d bits, want 1", r[0], r[1], bitsDiffer(got, want))
		}
	}
	if b, err := s.Get(ctx, "empty", 0, -1); err != nil || len(b) != 0 {
		t.Fatalf("Get of a corrupt empty object = %q, %v", b, err)
	}
	if b, _ := s.Get(ctx, "good", 0, -1); !bytes.Equal(b, data) {
		t.Fatal("an object not marked corrupt came back damaged")
	}
	if b, _ := inner.Get(ctx, "bad", 0, -1); !bytes.Equal(b, data) {
		t.Fatal("Corrupt damaged the stored object")
	}
	s.Uncorrupt()
	if b, _ := s.Get(ctx, "bad", 0, -1); !bytes.Equal(b, data) {
		t.Fatal("Uncorrupt did not stop the damage")
	}
}

// syncCounter is a store with a Syncer that counts Syncs.
type syncCounter struct {
	*memblob.Store
	syncs int
}

func (s *syncCounter) Sync(context.Context) error { s.syncs++; return nil }

func TestSyncForwards(t *testing.T) {
	inner := &syncCounter{Store: memblob.New()}
	s := faulty.New(inner)
	for range 2 {
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if inner.syncs != 2 {
		t.Fatalf("inner Sync called %d times, want 2", inner.syncs)
	}
	if err := faulty.New(memblob.New()).Sync(ctx); err != nil {
		t.Fatalf("Sync over a store without Syncer: %v", err)
	}
}

func mustPut(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if err := s.Put(ctx, key, []byte(key)); err != nil {
		t.Fatal(err)
	}
}

func bitsDiffer(a, b []byte) int {
	n := 0
	for i := range a {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}
