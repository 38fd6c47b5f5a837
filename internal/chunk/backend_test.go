package chunk

import (
	"context"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/localblob"
	"github.com/ferryfs/ferry/internal/blob/memblob"
)

// TestModelOnBackends runs the model test over the real object stores.
func TestModelOnBackends(t *testing.T) {
	opts := Options{BlockSize: 32 << 10, DirtyBytes: 256 << 10, CacheBytes: 256 << 10}
	for _, tc := range []struct {
		name string
		open func(t *testing.T) blob.Store
	}{
		{"memblob", func(t *testing.T) blob.Store { return memblob.New() }},
		{"localblob", func(t *testing.T) blob.Store { return openLocal(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seed := testSeed(t)
			runModelOn(t, tc.open(t), opts, seed, 300)
		})
	}
}

func openLocal(tb testing.TB) *localblob.Store {
	tb.Helper()
	s, err := localblob.Open(tb.TempDir(), localblob.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkLocalSequentialWrite is BenchmarkSequentialWrite into a local
// directory, syncing the objects at the end as fsync would.
func BenchmarkLocalSequentialWrite(b *testing.B) {
	r := newRigOn(b, openLocal(b), Options{})
	ctx := context.Background()
	p := fill(make([]byte, 1<<20), 1)
	b.SetBytes(benchFile)
	b.ResetTimer()
	for i := range b.N {
		ino := uint64(i + 1)
		for off := 0; off < benchFile; off += len(p) {
			if err := r.s.Write(ctx, ino, p, int64(off), false); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.s.Flush(ctx, ino); err != nil {
			b.Fatal(err)
		}
		if err := r.s.SyncObjects(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		r.s.Truncate(ino, 0)
		r.lay.truncate(ino, 0)
		r.s.Invalidate(ino)
		b.StartTimer()
	}
}

// BenchmarkLocalSequentialRead is BenchmarkSequentialRead from a local
// directory (through the page cache, which it does not drop).
func BenchmarkLocalSequentialRead(b *testing.B) {
	r := newRigOn(b, openLocal(b), Options{})
	benchRead(b, r)
}
