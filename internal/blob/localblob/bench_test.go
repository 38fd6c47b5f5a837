package localblob_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryfs/ferry/internal/blob/localblob"
)

// The benchmarks compare the store with plain os.WriteFile / os.ReadFile of
// the same bytes in the same directory tree. They write b.N objects of
// 4 MiB; bound them with -benchtime=Nx. FERRY_BENCH_DIR picks the file
// system (default: the test's temporary directory).

const benchSize = 4 << 20

func benchDir(b *testing.B) string {
	if d := os.Getenv("FERRY_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "blobbench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

func benchData() []byte {
	data := make([]byte, benchSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return data
}

// benchKey puts every object in one shard directory: the steady state of a
// volume, whose 256 shards exist after its first few hundred objects.
func benchKey(i int) string { return fmt.Sprintf("blocks/00/%016x", i) }

func BenchmarkWrite4MiB(b *testing.B) {
	data := benchData()
	ctx := context.Background()
	for _, sync := range []bool{false, true} {
		suffix := ""
		if sync {
			suffix = "+Sync"
		}
		b.Run("localblob/Put"+suffix, func(b *testing.B) {
			s, err := localblob.Open(benchDir(b), localblob.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(benchSize)
			for i := 0; b.Loop(); i++ {
				if err := s.Put(ctx, benchKey(i), data); err != nil {
					b.Fatal(err)
				}
				if sync {
					if err := s.Sync(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run("os/WriteFile"+suffix, func(b *testing.B) {
			dir := benchDir(b)
			b.SetBytes(benchSize)
			for i := 0; b.Loop(); i++ {
				p := filepath.Join(dir, filepath.FromSlash(benchKey(i)))
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o600); err != nil {
					b.Fatal(err)
				}
				if sync { // the file, then the directory that names it
					for _, name := range []string{p, filepath.Dir(p)} {
						if err := fsync(name); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}

func BenchmarkRead4MiB(b *testing.B) {
	const objects = 16
	data := benchData()
	ctx := context.Background()
	dir := benchDir(b)
	s, err := localblob.Open(dir, localblob.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range objects {
		if err := s.Put(ctx, benchKey(i), data); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("localblob/Get", func(b *testing.B) {
		b.SetBytes(benchSize)
		for i := 0; b.Loop(); i++ {
			got, err := s.Get(ctx, benchKey(i%objects), 0, -1)
			if err != nil || len(got) != benchSize {
				b.Fatal(len(got), err)
			}
		}
	})
	b.Run("os/ReadFile", func(b *testing.B) {
		b.SetBytes(benchSize)
		for i := 0; b.Loop(); i++ {
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(benchKey(i%objects))))
			if err != nil || len(got) != benchSize {
				b.Fatal(len(got), err)
			}
		}
	})
	b.Run("localblob/Get1MiBRange", func(b *testing.B) {
		b.SetBytes(1 << 20)
		for i := 0; b.Loop(); i++ {
			got, err := s.Get(ctx, benchKey(i%objects), 1<<20, 1<<20)
			if err != nil || len(got) != 1<<20 {
				b.Fatal(len(got), err)
			}
		}
	})
}

func fsync(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
