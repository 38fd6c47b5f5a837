package pebblekv

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// vmRSS returns the process's resident set size in bytes, from /proc.
func vmRSS(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatalf("read /proc/self/status: %v", err)
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			kb, err := strconv.ParseFloat(string(f[0]), 64)
			if err != nil {
				b.Fatalf("parse VmRSS %q: %v", line, err)
			}
			return kb * 1024
		}
	}
	b.Fatalf("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkFootprint runs b.N create-shaped Updates on the default options
// and then b.N single-Get Views, and reports the memory Pebble accounts for
// (block cache plus memtables, including zombie ones) and the process's
// resident size at the end. Run it on its own, e.g.
//
//	go test -run xxx -bench Footprint -benchtime 300000x ./internal/kv/pebblekv/
//
// since the resident size includes whatever earlier benchmarks left behind.
func BenchmarkFootprint(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	v := make([]byte, 100)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range b.N {
		id := rng.Uint64()
		parent := benchKey(uint64(i % 5000))
		err := s.Update(ctx, func(tx kv.Txn) error {
			if _, err := tx.Get(parent); err != nil && !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			if _, err := tx.Get(benchKey(id ^ 1)); !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			tx.Set(benchKey(id), v)
			tx.Set(benchKey(id^2), v)
			tx.Set(parent, v)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		err := s.View(ctx, func(r kv.Reader) error {
			_, err := r.Get(benchKey(rng.Uint64()))
			if errors.Is(err, kv.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	m := s.db.Metrics()
	pebbleBytes := float64(m.BlockCache.Size) + float64(m.MemTable.Size) + float64(m.MemTable.ZombieSize)
	b.ReportMetric(pebbleBytes/(1<<20), "pebble-MiB")
	b.ReportMetric(vmRSS(b)/(1<<20), "rss-MiB")
}
