package chunk

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestStressOneInode runs writers on disjoint ranges of one file, each
// reading back its own writes, alongside flushes and invalidations, with a
// small write-back budget; then checks the file.
func TestStressOneInode(t *testing.T) {
	seed := testSeed(t)
	const bs, span = 16 << 10, 5 * (16 << 10) / 2 // ranges straddle blocks
	r := newRig(t, Options{BlockSize: bs, DirtyBytes: 3 * bs, CacheBytes: 4 * bs, Uploads: 2})
	const ino, writers = 77, 4
	ctx := context.Background()
	final := make([][]byte, writers)
	var wg sync.WaitGroup
	for w := range writers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		base := int64(w * span)
		mine := make([]byte, span)
		final[w] = mine
		wg.Go(func() {
			for i := range 150 {
				off := rng.Int64N(span)
				n := min(rng.Int64N(bs)+1, span-off)
				p := fill(make([]byte, n), rng.Uint64())
				if err := r.s.Write(ctx, ino, p, base+off, false); err != nil {
					t.Error(err)
					return
				}
				copy(mine[off:], p)
				got := make([]byte, n)
				// The size is at least the end of this write.
				if _, err := r.s.Read(ctx, ino, got, base+off, uint64(base+off+n)); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, p) {
					t.Errorf("writer %d step %d: read-back differs at %d", w, i, firstDiff(got, p))
					return
				}
				switch rng.IntN(10) {
				case 0:
					if err := r.s.Flush(ctx, ino); err != nil {
						t.Error(err)
						return
					}
				case 1:
					r.s.Invalidate(ino)
				}
			}
		})
	}
	wg.Wait()
	r.flush(ino)
	r.s.Invalidate(ino)
	got := r.read(ino, 0, writers*span)
	for w := range writers {
		mine := final[w]
		part := got[w*span:]
		part = part[:min(len(part), span)]
		// Bytes never written read as zeros, and past EOF not at all.
		want := mine[:len(part)]
		if !bytes.Equal(part, want) {
			t.Fatalf("writer %d's range differs at %d", w, firstDiff(part, want))
		}
	}
	r.checkObjects()
}
