package chunk

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

// committedFile writes data to ino, commits it and drops every cache.
func committedFile(t *testing.T, r *rig, ino uint64, data []byte) {
	t.Helper()
	r.write(ino, data, 0)
	r.flush(ino)
	r.s.Invalidate(ino)
}

func TestCorruptObjectIsEIO(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"flipped bit", func(b []byte) []byte { b[ObjectHeaderSize+10] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-7] }},
		{"header lost", func(b []byte) []byte { return b[ObjectHeaderSize:] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Options{BlockSize: 16 << 10})
			const ino = 2
			committedFile(t, r, ino, fill(make([]byte, 1000), 5))
			keys := r.objs.keys()
			if len(keys) != 1 {
				t.Fatalf("objects %v", keys)
			}
			r.objs.mutate(keys[0], tc.damage)
			p := make([]byte, 100)
			n, err := r.s.Read(context.Background(), ino, p, 0, 1000)
			if n != 0 || !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read of a corrupt object: %d, %v; want EIO", n, err)
			}
			if !strings.Contains(err.Error(), keys[0]) {
				t.Fatalf("error %q does not name the object", err)
			}
			var lines []string
			for line := range strings.Lines(r.log.String()) {
				if strings.Contains(line, keys[0]) {
					lines = append(lines, line)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "level=ERROR") {
				t.Fatalf("want one error line naming the object, log:\n%s", r.log.String())
			}
		})
	}
}

// TestMissingObjectRefetchesLayout replaces a block behind the store's
// back, as another client's commit would: the cached layout names an object
// that is gone, and the read must fetch the layout again.
func TestMissingObjectRefetchesLayout(t *testing.T) {
	r := newRig(t, Options{BlockSize: 16 << 10})
	const ino = 8
	committedFile(t, r, ino, fill(make([]byte, 1000), 1))
	if got := r.read(ino, 0, 10); len(got) != 10 { // caches the layout
		t.Fatal("short read")
	}
	r.s.cache.dropIno(ino) // but not the object

	// Another writer commits new contents; the old object is deleted.
	fresh := fill(make([]byte, 1000), 2)
	ctx := context.Background()
	id, _ := r.lay.NewObjectIDs(ctx, 1)
	if err := r.objs.Put(ctx, ObjectKey(id), EncodeObject(fresh)); err != nil {
		t.Fatal(err)
	}
	if err := r.lay.CommitWrite(ctx, ino, Write{Blocks: []Block{{Index: 0, Pieces: []Piece{{Obj: id, Len: 1000}}}}, Size: 1000}); err != nil {
		t.Fatal(err)
	}
	if got := r.read(ino, 0, 1000); !bytes.Equal(got, fresh) {
		t.Fatal("read after a concurrent commit returned stale data")
	}

	// An object missing for good is EIO naming it.
	_ = r.objs.Delete(ctx, ObjectKey(id))
	r.s.cache.dropIno(ino)
	_, err := r.s.Read(ctx, ino, make([]byte, 10), 0, 1000)
	if !errors.Is(err, syscall.EIO) || !errors.Is(err, blob.ErrNotFound) || !strings.Contains(err.Error(), ObjectKey(id)) {
		t.Fatalf("read of a missing object: %v", err)
	}
}

// TestSequentialReadPrefetches reads the first block of a file and checks
// that the next blocks were fetched without being read.
func TestSequentialReadPrefetches(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs, CacheBytes: 64 * bs})
	const ino = 11
	data := fill(make([]byte, 10*bs), 4)
	committedFile(t, r, ino, data)
	r.objs.mu.Lock()
	r.objs.gets = nil
	r.objs.mu.Unlock()
	for off := 0; off < bs; off += 4096 {
		if got := r.read(ino, int64(off), 4096); !bytes.Equal(got, data[off:off+4096]) {
			t.Fatalf("read at %d differs", off)
		}
	}
	r.s.wg.Wait() // for the prefetches; nothing else spawns work now
	want := make([]string, 0)
	for idx := uint64(0); idx <= prefetchDepth; idx++ {
		want = append(want, ObjectKey(r.lay.pieces(ino, idx)[0].Obj))
	}
	r.objs.mu.Lock()
	got := slices.Clone(r.objs.gets)
	r.objs.mu.Unlock()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fetched %v, want blocks 0..%d once each: %v", got, prefetchDepth, want)
	}
}

// TestCacheBound reads a file several times the cache and checks the cache
// stays within its budget and every object is fetched whole.
func TestCacheBound(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs, CacheBytes: 3 * bs})
	const ino = 12
	data := fill(make([]byte, 20*bs), 6)
	committedFile(t, r, ino, data)
	for off := 0; off < len(data); off += 5000 {
		n := min(5000, len(data)-off)
		if got := r.read(ino, int64(off), n); !bytes.Equal(got, data[off:off+n]) {
			t.Fatalf("read at %d differs", off)
		}
		if used := r.s.cache.usedBytes(); used > 3*bs {
			t.Fatalf("cache holds %d bytes, budget %d", used, 3*bs)
		}
	}
}

func TestReadArguments(t *testing.T) {
	r := newRig(t, Options{})
	if _, err := r.s.Read(context.Background(), 1, make([]byte, 4), -1, 10); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("negative offset: %v", err)
	}
	if n, err := r.s.Read(context.Background(), 1, make([]byte, 4), 0, 0); n != 0 || err != nil {
		t.Fatalf("read of an empty file: %d, %v", n, err)
	}
	// A file nothing was ever written to reads as zeros up to its size.
	p := []byte{1, 2, 3, 4}
	if n, err := r.s.Read(context.Background(), 1, p, 0, 3); n != 3 || err != nil || !bytes.Equal(p, []byte{0, 0, 0, 4}) {
		t.Fatalf("read of a hole: %d, %v, %v", n, err, p)
	}
}

// TestBadLayoutIsEIO serves a layout that points outside its block.
func TestBadLayoutIsEIO(t *testing.T) {
	r := newRig(t, Options{BlockSize: 16 << 10})
	r.lay.mu.Lock()
	r.lay.file(1).blocks[0] = []Piece{{Obj: 1, Off: 16<<10 - 10, Len: 20}}
	r.lay.file(1).size = 16 << 10
	r.lay.mu.Unlock()
	_, err := r.s.Read(context.Background(), 1, make([]byte, 10), 0, 16<<10)
	if !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read through a bad layout: %v", err)
	}
}

// TestReadSlicesSharesCommittedData reads a range that spans committed
// data, a buffered write and a hole: the committed parts come back as
// slices of the cached payloads, not copied into p, the rest in p.
func TestReadSlicesSharesCommittedData(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 5
	committed := fill(make([]byte, 3000), 7)
	committedFile(t, r, ino, committed)
	dirty := fill(make([]byte, 500), 8)
	r.write(ino, dirty, 1000)
	want := slices.Concat(committed[:1000], dirty, committed[1500:], make([]byte, 2000)) // a hole up to 5000

	p := make([]byte, 5000)
	segs, n, err := r.s.ReadSlices(context.Background(), ino, p, 0, 5000)
	if err != nil || n != 5000 {
		t.Fatalf("ReadSlices = %d, %v", n, err)
	}
	if got := slices.Concat(segs...); !bytes.Equal(got, want) {
		t.Fatal("segments do not read as the file")
	}
	inP := func(seg []byte) bool {
		return len(seg) > 0 && &seg[0] == &p[0:cap(p)][cap(p)-cap(seg)]
	}
	var shared, filled int
	for _, seg := range segs {
		if inP(seg) {
			filled += len(seg)
		} else {
			shared += len(seg)
		}
	}
	if shared != 2500 || filled != 2500 {
		t.Fatalf("%d bytes shared with the cache, %d filled in p; want 2500 and 2500", shared, filled)
	}
	q := make([]byte, 5000)
	if m, err := r.s.Read(context.Background(), ino, q, 0, 5000); err != nil || m != 5000 || !bytes.Equal(q, want) {
		t.Fatalf("Read = %d, %v; or other bytes", m, err)
	}
}
