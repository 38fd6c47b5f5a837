package pgkv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
)

// TestRoundTrips counts the batches sent for the shapes of transaction the
// metadata service runs.
func TestRoundTrips(t *testing.T) {
	s := mustOpen(t, freshURL(t))
	ctx := context.Background()
	count := func(what string, want uint64, fn func() error) {
		t.Helper()
		before := s.Stats().RoundTrips.Load()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := s.Stats().RoundTrips.Load() - before; got != want {
			t.Errorf("%s: %d round trips, want %d", what, got, want)
		}
	}
	count("blind write", 1, func() error {
		return s.Update(ctx, func(tx kv.Txn) error {
			tx.Set([]byte("parent"), []byte("p"))
			return nil
		})
	})
	// A create: read the parent, miss the name, write three records.
	count("create", 3, func() error {
		return s.Update(ctx, func(tx kv.Txn) error {
			if _, err := tx.Get([]byte("parent")); err != nil {
				return err
			}
			if _, err := tx.Get([]byte("name")); !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			tx.Set([]byte("name"), []byte("n"))
			tx.Set([]byte("child"), []byte("c"))
			tx.Set([]byte("parent"), []byte("p2"))
			// Read again: answered from the transaction's buffer.
			for _, k := range []string{"parent", "name", "child"} {
				if _, err := tx.Get([]byte(k)); err != nil {
					return err
				}
			}
			tx.Delete([]byte("gone"))
			return nil
		})
	})
	// The same with the two reads announced: one round trip fewer.
	count("create with prefetch", 2, func() error {
		return s.Update(ctx, func(tx kv.Txn) error {
			tx.(interface{ Prefetch(...[]byte) }).Prefetch([]byte("parent"), []byte("name2"), []byte("name"))
			if v, err := tx.Get([]byte("parent")); err != nil || string(v) != "p2" {
				return fmt.Errorf("prefetched parent: %q, %v", v, err)
			}
			if _, err := tx.Get([]byte("name2")); !errors.Is(err, kv.ErrNotFound) {
				return fmt.Errorf("prefetched missing name: %v", err)
			}
			tx.Set([]byte("name2"), []byte("n2"))
			tx.(interface{ Prefetch(...[]byte) }).Prefetch([]byte("name2"), []byte("parent")) // all known: nothing sent
			if v, err := tx.Get([]byte("name2")); err != nil || string(v) != "n2" {
				return fmt.Errorf("own write after prefetch: %q, %v", v, err)
			}
			return nil
		})
	})
	count("point get", 1, func() error { _, err := s.Get(ctx, []byte("name")); return err })
	count("view of one key", 2, func() error {
		return s.View(ctx, func(r kv.Reader) error { _, err := r.Get([]byte("name")); return err })
	})
	count("empty update", 0, func() error { return s.Update(ctx, func(kv.Txn) error { return nil }) })
	count("sync after a commit", 1, func() error { return s.Sync(ctx) })
	count("sync with nothing new", 0, func() error { return s.Sync(ctx) })
}

func TestLock(t *testing.T) {
	raw := freshURL(t)
	a, b := mustOpen(t, raw), mustOpen(t, raw)
	ctx := context.Background()
	release, err := a.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = b.Lock(ctx)
	var held *pgkv.HeldError
	if !errors.Is(err, pgkv.ErrHeld) || !errors.As(err, &held) || !strings.HasPrefix(held.Holder, "ferry pid ") {
		t.Fatalf("second Lock: %v; want a HeldError naming the holder", err)
	}
	t.Logf("%v", err)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	release, err = b.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	release()
}
