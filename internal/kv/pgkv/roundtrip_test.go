package pgkv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
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
	// A View sends no COMMIT: the next transaction on its connection ends
	// it in its own first batch.
	for i := range 3 {
		count(fmt.Sprintf("view of one key, %d", i), 1, func() error {
			return s.View(ctx, func(r kv.Reader) error { _, err := r.Get([]byte("name")); return err })
		})
	}
	count("view whose fn fails", 1, func() error {
		err := s.View(ctx, func(r kv.Reader) error {
			_, err := r.Get([]byte("missing"))
			return err
		})
		if !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("view of a missing key: %v", err)
		}
		return nil
	})
	count("empty update", 0, func() error { return s.Update(ctx, func(kv.Txn) error { return nil }) })
	count("sync after a commit", 1, func() error { return s.Sync(ctx) })
	count("sync with nothing new", 0, func() error { return s.Sync(ctx) })
	update := func() error {
		return s.Update(ctx, func(tx kv.Txn) error { tx.Set([]byte("k"), []byte("v")); return nil })
	}
	// A Sync after every commit: once a Sync found exactly one commit to
	// flush, the commits flush the WAL themselves.
	count("commit", 1, update)
	count("sync after one commit", 1, func() error { return s.Sync(ctx) })
	for i := range 3 {
		count(fmt.Sprintf("commit followed by a sync, %d", i), 1, update)
		count(fmt.Sprintf("sync after an eager commit, %d", i), 0, func() error { return s.Sync(ctx) })
	}
	// Commits without Syncs between them: asynchronous again.
	count("commit", 1, update)
	count("commit", 1, update)
	count("sync after two commits", 1, func() error { return s.Sync(ctx) })
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

// TestParkedViewEnds: a View left open on a parked connection is ended by
// the janitor once it is old, so an idle store holds no snapshot.
func TestParkedViewEnds(t *testing.T) {
	raw := pgtest.WithParam(t, freshURL(t), "application_name", "ferry-park-test")
	s := mustOpen(t, raw)
	ctx := context.Background()
	if err := s.View(ctx, func(r kv.Reader) error { _, _ = r.Get([]byte("k")); return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	open := func() int {
		var n int
		err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'ferry-park-test' AND state = 'idle in transaction'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := open(); n != 1 {
		t.Fatalf("%d Views open after one View, want 1 (parked)", n)
	}
	for i := 0; open() != 0; i++ {
		if i == 200 {
			t.Fatal("the parked View was never ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
