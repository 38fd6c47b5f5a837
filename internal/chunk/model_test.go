package chunk

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

// TestModel runs random writes, reads, flushes, truncations and
// invalidations on one file and compares every read with a byte slice.
func TestModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"roomy", Options{BlockSize: 64 << 10, DirtyBytes: 8 << 20, CacheBytes: 8 << 20}},
		{"tight", Options{BlockSize: 16 << 10, DirtyBytes: 40 << 10, CacheBytes: 32 << 10, Uploads: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seeds := []uint64{*seedFlag}
			if *seedFlag == 0 {
				seeds = []uint64{rand.Uint64(), rand.Uint64(), rand.Uint64()}
			}
			for _, seed := range seeds {
				t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, tc.opts, seed, 600) })
			}
		})
	}
}

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: random)")

// runModel runs steps random operations from seed. The seed is printed on
// failure; -seed replays it (background uploads make timing vary).
func runModel(t *testing.T, opts Options, seed uint64, steps int) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (replay with -seed %d)", seed, seed)
		}
	})
	runModelOn(t, newFakeBlob(), opts, seed, steps)
}

// runModelOn runs the model test over objs.
func runModelOn(t *testing.T, objs blob.Store, opts Options, seed uint64, steps int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	r := newRigOn(t, objs, opts)
	ctx := context.Background()
	const ino = 42
	bs := int64(opts.BlockSize)
	span := 12 * bs
	var model []byte // the file's contents; len is its size

	randLen := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return rng.Int64N(64) + 1
		case 1:
			return rng.Int64N(bs) + 1
		case 2:
			return bs
		default:
			return rng.Int64N(3*bs) + 1
		}
	}
	for step := range steps {
		switch op := rng.IntN(20); {
		case op < 9: // write
			off, n := rng.Int64N(span), randLen()
			p := fill(make([]byte, n), rng.Uint64())
			if err := r.s.Write(ctx, ino, p, off, false); err != nil {
				t.Fatalf("step %d: write [%d,+%d): %v", step, off, n, err)
			}
			if end := off + n; end > int64(len(model)) {
				model = append(model, make([]byte, end-int64(len(model)))...)
			}
			copy(model[off:], p)
		case op < 15: // read
			off, n := rng.Int64N(span+bs), randLen()
			got := r.read(ino, off, int(n))
			var want []byte
			if off < int64(len(model)) {
				want = model[off:min(off+n, int64(len(model)))]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("step %d: read [%d,+%d): %d bytes differ from the model's %d (first difference at %d)",
					step, off, n, len(got), len(want), firstDiff(got, want))
			}
		case op < 17:
			r.flush(ino)
			if _, _, ok := r.s.buffered(ino); ok {
				t.Fatalf("step %d: dirty after flush", step)
			}
			if got := r.lay.size(ino); got != uint64(len(model)) {
				t.Fatalf("step %d: committed size %d, want %d", step, got, len(model))
			}
			r.checkObjects()
		case op < 19: // truncate, as the client does: store first, then metadata
			size := rng.Int64N(span)
			r.s.Truncate(ino, uint64(size))
			r.lay.truncate(ino, uint64(size))
			if size > int64(len(model)) {
				model = append(model, make([]byte, size-int64(len(model)))...)
			}
			model = model[:size]
		default:
			r.s.Invalidate(ino)
		}
		if got := r.fileSize(ino); got != uint64(len(model)) {
			t.Fatalf("step %d: size %d, want %d", step, got, len(model))
		}
	}
	r.flush(ino)
	if got := r.read(ino, 0, len(model)+1); !bytes.Equal(got, model) {
		t.Fatalf("final read differs from the model at %d", firstDiff(got, model))
	}
	r.checkObjects()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.s.peakDirty > opts.DirtyBytes {
		t.Fatalf("peak dirty memory %d over the limit %d", r.s.peakDirty, opts.DirtyBytes)
	}
	if r.s.dirty != 0 || r.s.inflight != 0 || r.s.applying != 0 || r.s.dirtyList.Len() != 0 {
		t.Fatalf("accounting not back to zero: dirty %d inflight %d applying %d list %d",
			r.s.dirty, r.s.inflight, r.s.applying, r.s.dirtyList.Len())
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// fill fills p with bytes derived from seed, every 8-byte word distinct,
// and returns it.
func fill(p []byte, seed uint64) []byte {
	var w [8]byte
	for i := 0; i < len(p); i += 8 {
		binary.LittleEndian.PutUint64(w[:], (seed+uint64(i))*0x9e3779b97f4a7c15|0x0101010101010101)
		copy(p[i:], w[:])
	}
	return p
}

// testSeed returns -seed or a random seed, printed if t fails.
func testSeed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (replay with -seed %d)", seed, seed)
		}
	})
	return seed
}
