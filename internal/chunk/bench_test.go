package chunk

import (
	"context"
	"testing"
)

const benchFile = 64 << 20

// BenchmarkSequentialWrite writes a 64 MiB file in 1 MiB writes and flushes
// it, through a zero-latency in-memory store with the default options.
func BenchmarkSequentialWrite(b *testing.B) {
	r := newRig(b, Options{BlockSize: DefaultBlockSize})
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
		b.StopTimer()
		r.s.Truncate(ino, 0)
		r.lay.truncate(ino, 0) // deletes the objects
		r.s.Invalidate(ino)
		b.StartTimer()
	}
}

// BenchmarkSequentialRead reads a committed 64 MiB file in 128 KiB reads
// with every cache dropped first, through a zero-latency in-memory store.
func BenchmarkSequentialRead(b *testing.B) {
	benchRead(b, newRig(b, Options{BlockSize: DefaultBlockSize}))
}

func benchRead(b *testing.B, r *rig) {
	ctx := context.Background()
	const ino = 1
	p := fill(make([]byte, 1<<20), 1)
	for off := 0; off < benchFile; off += len(p) {
		if err := r.s.Write(ctx, ino, p, int64(off), false); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.s.Flush(ctx, ino); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 128<<10)
	b.SetBytes(benchFile)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		r.s.wg.Wait() // prefetches of the last round
		r.s.Invalidate(ino)
		b.StartTimer()
		for off := int64(0); off < benchFile; off += int64(len(buf)) {
			if n, err := r.s.Read(ctx, ino, buf, off, benchFile); err != nil || n != len(buf) {
				b.Fatalf("read at %d: %d, %v", off, n, err)
			}
		}
	}
}
