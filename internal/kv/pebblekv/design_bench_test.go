package pebblekv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ferryfs/ferry/internal/kv"
)

// These benchmarks justify two choices made in this package: View reads
// through an iterator rather than a pebble.Snapshot, and Sync writes a
// synced empty log record rather than flushing the memtable.

const benchKeys = 20000

func benchKey(n uint64) []byte { return fmt.Appendf(nil, "i/%016x", n) }

func openBench(b *testing.B) *Store {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	v := make([]byte, 100)
	for i := 0; i < benchKeys; i += 1000 {
		err := s.Update(context.Background(), func(tx kv.Txn) error {
			for j := i; j < i+1000; j++ {
				tx.Set(benchKey(uint64(j)), v)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func (d viewDesign) bind(s *Store) func(fn func(kv.Reader) error) error {
	return func(fn func(kv.Reader) error) error { return d.view(s, fn) }
}

// viewSnapshot is the alternative View design: a pebble.Snapshot per View.
func (s *Store) viewSnapshot(fn func(kv.Reader) error) error {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	return fn(reader{snap})
}

// BenchmarkViewDesignLSM compares the View designs on a store whose data
// sits in flushed tables on several levels, as a long-lived volume's does,
// rather than in the memtable.
func BenchmarkViewDesignLSM(b *testing.B) {
	const n = 200000
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v := make([]byte, 100)
	for i := 0; i < n; i += 1000 {
		if err := s.Update(context.Background(), func(tx kv.Txn) error {
			for j := i; j < i+1000; j++ {
				tx.Set(benchKey(uint64(j)*7919%n), v)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, shape := range []string{"Get", "Get4", "Scan100"} {
		for _, d := range viewDesigns {
			view := d.bind(s)
			b.Run(shape+"/"+d.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				cpu := startCPU(b)
				defer cpu.report(b)
				for range b.N {
					var err error
					switch shape {
					case "Get":
						err = view(func(r kv.Reader) error { _, err := r.Get(benchKey(rng.Uint64N(n))); return err })
					case "Get4":
						err = view(func(r kv.Reader) error {
							for range 4 {
								if _, err := r.Get(benchKey(rng.Uint64N(n))); err != nil {
									return err
								}
							}
							return nil
						})
					case "Scan100":
						start := benchKey(rng.Uint64N(n - 200))
						k := 0
						err = view(func(r kv.Reader) error {
							return r.Scan(start, nil, func(_, _ []byte) bool { k++; return k < 100 })
						})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// viewDesign is one way of running a View over s.
type viewDesign struct {
	name string
	view func(s *Store, fn func(kv.Reader) error) error
}

var viewDesigns = []viewDesign{
	{"iterator", func(s *Store, fn func(kv.Reader) error) error { return s.View(context.Background(), fn) }},
	{"snapshot", (*Store).viewSnapshot},
}

// BenchmarkViewDesign compares the two View designs, each on a store of its
// own so that neither inherits the other's background work.
func BenchmarkViewDesign(b *testing.B) {
	for _, d := range viewDesigns {
		b.Run("Get/"+d.name, func(b *testing.B) {
			view := d.bind(openBench(b))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			rng := rand.New(rand.NewPCG(1, 2))
			for range b.N {
				key := benchKey(rng.Uint64N(benchKeys))
				if err := view(func(r kv.Reader) error { _, err := r.Get(key); return err }); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("GetParallel/"+d.name, func(b *testing.B) {
			view := d.bind(openBench(b))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 2))
				for pb.Next() {
					key := benchKey(rng.Uint64N(benchKeys))
					if err := view(func(r kv.Reader) error { _, err := r.Get(key); return err }); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("Get4/"+d.name, func(b *testing.B) {
			view := d.bind(openBench(b))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			rng := rand.New(rand.NewPCG(1, 2))
			for range b.N {
				err := view(func(r kv.Reader) error {
					for range 4 {
						if _, err := r.Get(benchKey(rng.Uint64N(benchKeys))); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Scan100/"+d.name, func(b *testing.B) {
			view := d.bind(openBench(b))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			rng := rand.New(rand.NewPCG(1, 2))
			for range b.N {
				start := benchKey(rng.Uint64N(benchKeys - 200))
				n := 0
				err := view(func(r kv.Reader) error {
					return r.Scan(start, nil, func(_, _ []byte) bool { n++; return n < 100 })
				})
				if err != nil || n != 100 {
					b.Fatalf("scan: %d, %v", n, err)
				}
			}
		})
	}
}

// BenchmarkSyncDesign measures one small Update followed by making it
// durable, by each candidate mechanism.
func BenchmarkSyncDesign(b *testing.B) {
	syncs := []struct {
		name string
		sync func(s *Store) error
	}{
		{"LogData", func(s *Store) error { return s.db.LogData(nil, pebble.Sync) }},
		{"EmptyBatch", func(s *Store) error { return s.db.NewBatch().Commit(pebble.Sync) }},
		{"Flush", func(s *Store) error { return s.db.Flush() }},
	}
	for _, sy := range syncs {
		b.Run(sy.name, func(b *testing.B) {
			s := openBench(b)
			v := make([]byte, 100)
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			for i := range b.N {
				if err := s.Update(context.Background(), func(tx kv.Txn) error {
					tx.Set(benchKey(uint64(i)), v)
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				if err := sy.sync(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// updateUnlocked is Update without the writer lock. It is not serializable
// in general; on disjoint keys it bounds what any finer-grained concurrency
// control could reach.
func (s *Store) updateUnlocked(fn func(kv.Txn) error) error {
	b := s.db.NewIndexedBatch()
	defer b.Close()
	if err := fn(&txn{reader: reader{b}, b: b}); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

var benchMu sync.Mutex

// BenchmarkWriterLock runs the create-shaped Update (2 Gets, 3 Sets on
// random keys) from two goroutines with and without the writer lock.
func BenchmarkWriterLock(b *testing.B) {
	v := make([]byte, 100)
	designs := []struct {
		name   string
		update func(s *Store, fn func(kv.Txn) error) error
	}{
		{"chan", func(s *Store, fn func(kv.Txn) error) error { return s.Update(context.Background(), fn) }},
		{"syncmutex", func(s *Store, fn func(kv.Txn) error) error {
			benchMu.Lock()
			defer benchMu.Unlock()
			return s.updateUnlocked(fn)
		}},
		{"nolock", (*Store).updateUnlocked},
	}
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			s := openBench(b)
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			b.SetParallelism(1) // GOMAXPROCS goroutines
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 5))
				for pb.Next() {
					parent := benchKey(rng.Uint64N(benchKeys))
					id := rng.Uint64()
					err := d.update(s, func(tx kv.Txn) error {
						if _, err := tx.Get(parent); err != nil {
							return err
						}
						if _, err := tx.Get(benchKey(id ^ 1)); !errors.Is(err, kv.ErrNotFound) {
							return fmt.Errorf("unexpected: %v", err)
						}
						tx.Set(benchKey(id), v)
						tx.Set(benchKey(id^2), v)
						tx.Set(parent, v)
						return nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
