package pgkv_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
)

// lockedStore opens a store and takes its lock, which turns its cache on.
func lockedStore(t testing.TB, raw string) *pgkv.Store {
	t.Helper()
	s := mustOpen(t, raw)
	release, err := s.Lock(context.Background())
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	t.Cleanup(func() { release() })
	return s
}

// TestConformanceLocked runs the suite with the lock held: Store.Get then
// answers from what the process committed.
func TestConformanceLocked(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return lockedStore(t, freshURL(t)) })
}

func TestCacheSavesRoundTrips(t *testing.T) {
	s := lockedStore(t, freshURL(t))
	ctx := context.Background()
	rts := func() uint64 { return s.Stats().RoundTrips.Load() }
	if err := s.Update(ctx, func(tx kv.Txn) error {
		tx.Set([]byte("written"), []byte("w"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := rts()
	if v, err := s.Get(ctx, []byte("written")); err != nil || string(v) != "w" || rts() != before {
		t.Errorf("Get of a key this process committed: %q, %v, %d round trips; want w, no round trip", v, err, rts()-before)
	}
	if _, err := s.Get(ctx, []byte("missing")); err == nil {
		t.Fatal("missing key found")
	}
	if _, err := s.Get(ctx, []byte("missing")); err == nil || rts() != before+2 {
		t.Errorf("misses are not cached: %d round trips, want 2", rts()-before)
	}
}

// TestCacheUnderConcurrentCommits: a reader's Store.Gets of a counter that
// concurrent Updates increment never go back, and the last one sees the
// final count.
func TestCacheUnderConcurrentCommits(t *testing.T) {
	s := lockedStore(t, freshURL(t))
	ctx := context.Background()
	key := []byte("n")
	const writers, each = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.Update(ctx, func(tx kv.Txn) error {
					var n uint64
					if v, err := tx.Get(key); err == nil {
						n = binary.BigEndian.Uint64(v)
					}
					tx.Set(key, binary.BigEndian.AppendUint64(nil, n+1))
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(errs)
		var last uint64
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			v, err := s.Get(ctx, key)
			if err != nil {
				continue // not written yet
			}
			n := binary.BigEndian.Uint64(v)
			if n < last {
				errs <- fmt.Errorf("Store.Get went back from %d to %d", last, n)
				return
			}
			last = n
		}
	}()
	wg.Wait()
	close(done)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := s.Get(ctx, key)
	if err != nil || binary.BigEndian.Uint64(v) != writers*each {
		t.Fatalf("final count: %x, %v; want %d", v, err, writers*each)
	}
}

// TestCacheOffWhenLockLost: once the connection that holds the lock is
// gone, Store.Get asks the server again.
func TestCacheOffWhenLockLost(t *testing.T) {
	raw := freshURL(t)
	s := lockedStore(t, raw)
	ctx := context.Background()
	if err := s.Update(ctx, func(tx kv.Txn) error { tx.Set([]byte("k"), []byte("v")); return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	err = c.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objid = to_regclass('ferry_kv')::oid`).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate the lock's session: %d, %v", n, err)
	}
	for i := 0; ; i++ {
		before := s.Stats().RoundTrips.Load()
		if _, err := s.Get(ctx, []byte("k")); err != nil {
			t.Fatal(err)
		}
		if s.Stats().RoundTrips.Load() > before {
			return // asked the server: the cache is off
		}
		if i == 200 {
			t.Fatal("the cache stayed on after the lock's connection died")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
