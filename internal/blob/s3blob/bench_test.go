package s3blob

import (
	"context"
	"fmt"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/localblob"
)

// The benchmarks compare the store on versitygw (over a local directory,
// through loopback HTTP) with localblob on the same file system, both
// writing or reading b.N objects of 4 MiB one at a time; bound them with
// -benchtime=Nx:
//
//	go test -run '^$' -bench 4MiB -benchtime 32x ./internal/blob/s3blob

const benchSize = 4 << 20

type namedStore struct {
	name string
	blob.Store
}

// benchStores returns the stores to compare, each empty and closed at the
// end of the benchmark.
func benchStores(b *testing.B) []namedStore {
	srv := startServer(b)
	s3s := srv.open(b, srv.newBucket(b), "", Options{})
	local, err := localblob.Open(b.TempDir(), localblob.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { local.Close() })
	return []namedStore{{"versitygw", s3s}, {"localblob", local}}
}

func benchKey(i int) string { return fmt.Sprintf("blocks/00/%016x", i) }

// BenchmarkPut4MiB puts objects; for localblob, each Put is followed by a
// Sync, since an S3 Put is durable when it returns (as far as the service
// promises: versitygw's posix backend does not fsync).
func BenchmarkPut4MiB(b *testing.B) {
	data := randomBytes(benchSize)
	ctx := context.Background()
	for _, s := range benchStores(b) {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			for i := 0; b.Loop(); i++ {
				if err := s.Put(ctx, benchKey(i), data); err != nil {
					b.Fatal(err)
				}
				if err := blob.Sync(ctx, s.Store); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGet4MiB(b *testing.B) {
	const objects = 8
	data := randomBytes(benchSize)
	ctx := context.Background()
	for _, s := range benchStores(b) {
		for i := range objects {
			if err := s.Put(ctx, benchKey(i), data); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			for i := 0; b.Loop(); i++ {
				got, err := s.Get(ctx, benchKey(i%objects), 0, -1)
				if err != nil || len(got) != benchSize {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}
