package chunk

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"
)

func TestOverwriteDropsObjects(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 1
	first := fill(make([]byte, bs), 1)
	r.write(ino, first, 0)
	r.flush(ino)
	old := r.objs.keys()
	if len(old) != 1 {
		t.Fatalf("objects %v after the first write", old)
	}
	// Overwrite the middle, then the whole block.
	mid := fill(make([]byte, 100), 2)
	r.write(ino, mid, 1000)
	r.flush(ino)
	if got := r.lay.pieces(ino, 0); len(got) != 3 {
		t.Fatalf("pieces %v, want 3", got)
	}
	want := bytes.Clone(first)
	copy(want[1000:], mid)
	if got := r.read(ino, 0, bs); !bytes.Equal(got, want) {
		t.Fatal("partial overwrite differs")
	}
	second := fill(make([]byte, bs), 3)
	r.write(ino, second, 0)
	r.flush(ino)
	keys := r.objs.keys()
	if len(keys) != 1 || keys[0] == old[0] {
		t.Fatalf("objects %v after overwriting %v", keys, old)
	}
	r.checkObjects()
	r.s.Invalidate(ino)
	if got := r.read(ino, 0, bs); !bytes.Equal(got, second) {
		t.Fatal("overwrite differs")
	}
}

// TestShadowedUploadsDeleted overwrites a block twice before one flush: the
// first upload is never committed and must not leak.
func TestShadowedUploadsDeleted(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 1
	r.write(ino, fill(make([]byte, bs), 1), 0) // full: uploads now
	r.waitUploads()
	last := fill(make([]byte, bs), 2)
	r.write(ino, last, 0)
	r.flush(ino)
	r.checkObjects()
	if n := len(r.objs.keys()); n != 1 {
		t.Fatalf("%d objects, want 1", n)
	}
	if got := r.read(ino, 0, bs); !bytes.Equal(got, last) {
		t.Fatal("data differs")
	}
}

// TestCompaction commits small pieces into one block, one flush each: the
// flush that would leave more than compactPieces rewrites the block as one
// object.
func TestCompaction(t *testing.T) {
	const bs = 64 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 6
	var model []byte
	write := func(p []byte, off int) {
		r.write(ino, p, int64(off))
		model = append(model, make([]byte, max(0, off+len(p)-len(model)))...)
		copy(model[off:], p)
		r.flush(ino)
	}
	for i := range compactPieces {
		write(fill(make([]byte, 100), uint64(i)), i*1000)
	}
	if n := len(r.lay.pieces(ino, 0)); n != compactPieces {
		t.Fatalf("%d pieces before compaction, want %d", n, compactPieces)
	}
	write([]byte("zz"), 20000)
	checkCompacted(t, r, ino, model)
}

// TestCompactionOfForeignLayout compacts a block that another client left
// with more than compactPieces pieces, at the next flush touching it.
func TestCompactionOfForeignLayout(t *testing.T) {
	const bs = 64 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 6
	ctx := context.Background()
	var model []byte
	var w Write
	w.Blocks = []Block{{Index: 0}}
	for i := range compactPieces + 4 {
		p := fill(make([]byte, 300), uint64(i))
		id, _ := r.lay.NewObjectIDs(ctx, 1)
		if err := r.objs.Put(ctx, ObjectKey(id), EncodeObject(p)); err != nil {
			t.Fatal(err)
		}
		off := i * 500
		w.Blocks[0].Pieces = append(w.Blocks[0].Pieces, Piece{Obj: id, ObjOff: 50, Off: uint32(off), Len: 250})
		model = append(model, make([]byte, off+250-len(model))...)
		copy(model[off:], p[50:])
	}
	w.Size = uint64(len(model))
	if err := r.lay.CommitWrite(ctx, ino, w); err != nil {
		t.Fatal(err)
	}
	if got := r.read(ino, 0, len(model)); !bytes.Equal(got, model) {
		t.Fatalf("fragmented block differs at %d", firstDiff(got, model))
	}
	r.write(ino, []byte("zz"), 50)
	copy(model[50:], "zz")
	r.flush(ino)
	checkCompacted(t, r, ino, model)
}

// checkCompacted asserts block 0 of ino is one piece of one object holding
// model.
func checkCompacted(t *testing.T, r *rig, ino uint64, model []byte) {
	t.Helper()
	pieces := r.lay.pieces(ino, 0)
	if len(pieces) != 1 || pieces[0].Off != 0 || pieces[0].Len != uint32(len(model)) {
		t.Fatalf("pieces after compaction %v", pieces)
	}
	r.checkObjects()
	if n := len(r.objs.keys()); n != 1 {
		t.Fatalf("%d objects after compaction", n)
	}
	r.s.Invalidate(ino)
	if got := r.read(ino, 0, len(model)+10); !bytes.Equal(got, model) {
		t.Fatalf("compacted block differs at %d", firstDiff(got, model))
	}
}

// TestCommitFailureKeepsData fails the commit: the data stays readable and
// the next flush commits it.
func TestCommitFailureKeepsData(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 2
	data := fill(make([]byte, 3*bs/2), 1)
	if err := r.s.Write(context.Background(), ino, data, 0, true); err != nil {
		t.Fatal(err)
	}
	r.lay.commitErr = syscall.EROFS
	if err := r.s.Flush(context.Background(), ino); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("flush: %v, want EROFS", err)
	}
	if got := r.read(ino, 0, len(data)); !bytes.Equal(got, data) {
		t.Fatal("data lost by a failed commit")
	}
	r.lay.commitErr = nil
	r.flush(ino)
	if !r.lay.files[ino].killSUID {
		t.Fatal("suid clearing lost by a failed commit")
	}
	r.s.Invalidate(ino)
	if got := r.read(ino, 0, len(data)); !bytes.Equal(got, data) {
		t.Fatal("committed data differs")
	}
	r.checkObjects()
}

func TestSyncObjects(t *testing.T) {
	r := newRig(t, Options{})
	if err := r.s.SyncObjects(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.objs.syncs != 1 {
		t.Fatalf("%d syncs", r.objs.syncs)
	}
}

// TestFlushOfRemovedFile drops the writes of a file the metadata service
// no longer has, instead of retrying them forever.
func TestFlushOfRemovedFile(t *testing.T) {
	r := newRig(t, Options{BlockSize: 16 << 10})
	const ino = 3
	r.write(ino, fill(make([]byte, 40<<10), 1), 0)
	r.lay.commitErr = syscall.ESTALE
	if err := r.s.Flush(context.Background(), ino); !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("flush: %v, want ESTALE", err)
	}
	if _, _, ok := r.s.buffered(ino); ok {
		t.Fatal("writes of a removed file still pending")
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.s.dirty != 0 {
		t.Fatalf("%d bytes still accounted", r.s.dirty)
	}
}
