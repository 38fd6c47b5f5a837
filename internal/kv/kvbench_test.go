package kv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/bboltkv"
	"github.com/ferryfs/ferry/internal/kv/memkv"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

// The benchmarks compare the backends on the shapes of work the metadata
// service produces. Disk backends run on b.TempDir(), i.e. the real disk.
// Run: go test -run xxx -bench . -benchtime 2s -count 3 ./internal/kv/...

type backend struct {
	name string
	open func(b *testing.B) kv.Store
}

var backends = []backend{
	{"memkv", func(b *testing.B) kv.Store { return memkv.New() }},
	{"pebblekv", func(b *testing.B) kv.Store {
		s, err := pebblekv.Open(b.TempDir(), pebblekv.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
	{"bboltkv", func(b *testing.B) kv.Store {
		s, err := bboltkv.Open(filepath.Join(b.TempDir(), "kv.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

const (
	preload   = 20000
	valueSize = 100
)

func benchKey(prefix string, n uint64) []byte { return fmt.Appendf(nil, "%s/%016x", prefix, n) }

var benchValue = func() []byte {
	v := make([]byte, valueSize)
	for i := range v {
		v[i] = byte('a' + i%26)
	}
	return v
}()

// openLoaded opens a store holding preload inodes and dentries.
func openLoaded(b *testing.B, be backend) kv.Store {
	s := be.open(b)
	b.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	for i := 0; i < preload; i += 1000 {
		err := s.Update(ctx, func(tx kv.Txn) error {
			for j := i; j < i+1000; j++ {
				tx.Set(benchKey("i", uint64(j)), benchValue)
				tx.Set(benchKey("d", uint64(j)), benchValue)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// create is the shape of a file create: read the parent inode, check the
// name is free, then write the new inode, the dentry and the parent.
func create(ctx context.Context, s kv.Store, rng *rand.Rand) error {
	parent := benchKey("i", rng.Uint64N(preload))
	id := rng.Uint64()
	return s.Update(ctx, func(tx kv.Txn) error {
		if _, err := tx.Get(parent); err != nil {
			return err
		}
		name := benchKey("d", id)
		if _, err := tx.Get(name); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("name taken: %v", err)
		}
		tx.Set(benchKey("i", id), benchValue)
		tx.Set(name, benchValue)
		tx.Set(parent, benchValue)
		return nil
	})
}

func BenchmarkCreate(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openLoaded(b, be)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			for range b.N {
				if err := create(b.Context(), s, rng); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCreate2Goroutines(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openLoaded(b, be)
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for g := range 2 {
				n := b.N / 2
				if g == 0 {
					n = b.N - n
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 3))
					for range n {
						if err := create(b.Context(), s, rng); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkViewGet(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openLoaded(b, be)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			for range b.N {
				key := benchKey("i", rng.Uint64N(preload))
				err := s.View(b.Context(), func(r kv.Reader) error {
					_, err := r.Get(key)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScan100(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openLoaded(b, be)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			for range b.N {
				start := benchKey("d", rng.Uint64N(preload-200))
				n := 0
				err := s.View(b.Context(), func(r kv.Reader) error {
					return r.Scan(start, nil, func(_, _ []byte) bool {
						n++
						return n < 100
					})
				})
				if err != nil || n != 100 {
					b.Fatalf("scan: %d keys, %v", n, err)
				}
			}
		})
	}
}

// BenchmarkCreateSync100 makes every hundredth create durable, like a
// stream of creates with an fsync now and then.
func BenchmarkCreateSync100(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openLoaded(b, be)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			cpu := startCPU(b)
			defer cpu.report(b)
			for i := range b.N {
				if err := create(b.Context(), s, rng); err != nil {
					b.Fatal(err)
				}
				if i%100 == 99 {
					if err := s.Sync(b.Context()); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
