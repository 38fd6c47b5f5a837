package pebblekv

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/kv"
)

// TestBlockCacheServesReads guards the cache sizing: Pebble charges full
// memtables to the block cache, and a cache sized for blocks alone would
// hold none once the memtables fill it. Repeated reads of flushed tables
// must then be served from the cache.
func TestBlockCacheServesReads(t *testing.T) {
	s, err := Open("db", Options{FS: vfs.NewMem(), CacheBytes: 8 << 20, MemTableBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	v := make([]byte, 100)
	key := func(i int) []byte { return []byte{'k', byte(i >> 16), byte(i >> 8), byte(i)} }
	const n = 40000 // about 4.5 MiB: fills the first memtable
	for i := 0; i < n; i += 1000 {
		if err := s.Update(ctx, func(tx kv.Txn) error {
			for j := i; j < i+1000; j++ {
				tx.Set(key(j), v)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	before := s.db.Metrics().BlockCache
	for round := range 3 {
		if err := s.View(ctx, func(r kv.Reader) error {
			for i := round; i < n; i += 97 {
				if _, err := r.Get(key(i)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	after := s.db.Metrics().BlockCache
	hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
	t.Logf("block cache: %d blocks, %d hits, %d misses", after.Count, hits, misses)
	if after.Count == 0 || hits <= misses {
		t.Fatalf("block cache holds %d blocks and served %d hits for %d misses; want it to serve repeated reads",
			after.Count, hits, misses)
	}
}
