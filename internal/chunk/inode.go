package chunk

import (
	"container/list"
	"slices"
	"sort"
	"sync"
)

// inode is the per-file state of a Store: buffered writes, uploaded but
// uncommitted pieces, and the cached committed layout.
type inode struct {
	ino uint64

	// flushMu serializes Flush and Truncate of this inode. It is taken
	// before mu and held across blob and layout calls.
	flushMu sync.Mutex

	mu       sync.Mutex
	dead     bool                   // removed from Store.inodes; look it up again
	dirty    map[uint64]*dirtyBlock // by block index; not yet sealed
	sealed   []*sealedBlock         // sealed, oldest first, not yet committed
	sealedBy map[uint64][]*sealedBlock
	writes   bool // uncommitted writes exist
	// reported: size and mtime stay reported by Reported after their commit,
	// until Invalidate. A caller may have read the attributes just before
	// the commit landed in the metadata and Reported just after; reporting
	// the committed values (equal to the metadata's) closes that window.
	reported bool
	wgen     uint64 // counts writes
	size     uint64 // highest byte written, clamped by Truncate; valid if writes
	mtime    int64  // time of the last write; valid if writes
	killSUID bool   // a pending write asked to clear suid/sgid
	err      error  // background upload failure not reported yet
	flushing bool

	layout  map[uint64][]Piece // committed pieces of blocks in fetched windows
	windows map[uint64]bool    // layout windows fetched
	gen     uint64             // bumped whenever cached layout may be stale
	// fence, when set, is a size the committed layout is known to end at:
	// Truncate sets it, and until the next commit or Invalidate fetched
	// layouts are trimmed there, since the metadata may be truncated only
	// after a fetch.
	fence    uint64
	fenceSet bool

	seqEnd uint64 // offset just past the last write
	seqRun uint64 // bytes written sequentially up to seqEnd

	readNext     uint64 // offset just past the last read
	prefetchNext uint64 // first block not yet handed to prefetch
}

func newInode(ino uint64) *inode {
	return &inode{
		ino:      ino,
		dirty:    make(map[uint64]*dirtyBlock),
		sealedBy: make(map[uint64][]*sealedBlock),
		layout:   make(map[uint64][]Piece),
		windows:  make(map[uint64]bool),
	}
}

// idle reports whether the inode holds nothing but caches. Caller holds mu.
func (in *inode) idle() bool {
	return !in.writes && !in.flushing && in.err == nil && len(in.dirty) == 0 && len(in.sealed) == 0
}

// takeErr returns and clears the unreported upload failure. Caller holds mu.
func (in *inode) takeErr() error {
	err := in.err
	in.err = nil
	return err
}

// cachedBlock returns the committed pieces of block idx if its layout window
// is cached. Caller holds mu.
func (in *inode) cachedBlock(idx uint64) ([]Piece, bool) {
	if !in.windows[idx/layoutWindow] {
		return nil, false
	}
	return in.layout[idx], true
}

// dropLayout forgets the cached layout. Caller holds mu.
func (in *inode) dropLayout() {
	clear(in.layout)
	clear(in.windows)
	in.gen++
}

// install caches the fetched blocks of window w, trimmed at the fence.
// Caller holds mu.
func (in *inode) install(w uint64, blocks []Block, bs uint32) {
	in.windows[w] = true
	for _, b := range blocks {
		pieces := b.Pieces
		if start := b.Index * uint64(bs); in.fenceSet && start+uint64(bs) > in.fence {
			if start >= in.fence {
				continue
			}
			pieces = Truncate(pieces, uint32(in.fence-start))
		}
		if len(pieces) > 0 {
			in.layout[b.Index] = pieces
		}
	}
}

// dropWindow forgets the cached layout of the window holding block idx.
// Caller holds mu.
func (in *inode) dropWindow(idx uint64) {
	w := idx / layoutWindow
	delete(in.windows, w)
	for b := w * layoutWindow; b < (w+1)*layoutWindow; b++ {
		delete(in.layout, b)
	}
	in.gen++
}

// removeSealed drops sb from the sealed lists. Caller holds mu.
func (in *inode) removeSealed(sb *sealedBlock) {
	in.sealed = slices.DeleteFunc(in.sealed, func(x *sealedBlock) bool { return x == sb })
	l := slices.DeleteFunc(in.sealedBy[sb.idx], func(x *sealedBlock) bool { return x == sb })
	if len(l) == 0 {
		delete(in.sealedBy, sb.idx)
	} else {
		in.sealedBy[sb.idx] = l
	}
}

// retire drops the committed sealed blocks snap, which are the oldest ones
// (Flush snapshots a prefix of in.sealed and only appends happen until it
// commits). Caller holds mu.
func (in *inode) retire(snap []*sealedBlock) {
	if len(in.sealed) < len(snap) || (len(snap) > 0 && in.sealed[len(snap)-1] != snap[len(snap)-1]) {
		panic("chunk: sealed blocks retired behind a flush's back")
	}
	in.sealed = slices.Clone(in.sealed[len(snap):])
	for _, sb := range snap {
		l := in.sealedBy[sb.idx]
		if len(l) == 0 || l[0] != sb {
			panic("chunk: sealed blocks of a block out of order")
		}
		if len(l) == 1 {
			delete(in.sealedBy, sb.idx)
		} else {
			in.sealedBy[sb.idx] = l[1:]
		}
	}
}

// An extent is a run of buffered bytes inside a block. The buffer keeps
// room for an object header in front of the data so that a sealed extent
// uploads without a copy.
type extent struct {
	off uint32
	buf []byte // ObjectHeaderSize bytes of header room, then the data
}

func (e *extent) data() []byte { return e.buf[ObjectHeaderSize:] }
func (e *extent) len() uint32  { return uint32(len(e.buf) - ObjectHeaderSize) }
func (e *extent) end() uint32  { return e.off + e.len() }

// A dirtyBlock holds the buffered writes to one block that are not sealed
// yet. Its buffers are mutable: readers copy from them under inode.mu.
type dirtyBlock struct {
	in   *inode
	idx  uint64
	exts []extent // sorted by off, neither overlapping nor adjacent
	// cost is the memory accounted for exts (the capacity of their
	// buffers). It changes only with both inode.mu and Store.mu held.
	cost int64
	elem *list.Element // in Store.dirtyList
}

// write merges p at block offset o into the block and returns the change
// in accounted memory. With dry set it only computes that change; the real
// call then makes exactly the same choices. bs is the block size. A buffer
// it allocates has room to grow: twice the data, or up to the end of the
// block when stream says the file is being written sequentially.
func (db *dirtyBlock) write(o uint32, p []byte, bs uint32, stream, dry bool) int64 {
	const hdr = ObjectHeaderSize
	end := o + uint32(len(p))
	i := sort.Search(len(db.exts), func(k int) bool { return db.exts[k].end() >= o })
	j := i
	for j < len(db.exts) && db.exts[j].off <= end {
		j++
	}
	if i == j { // touches nothing: a new extent, with room to grow
		room := min(2*uint32(len(p)), bs-o)
		if stream {
			room = bs - o
		}
		if dry {
			return int64(hdr + room)
		}
		buf := make([]byte, hdr+len(p), hdr+room)
		copy(buf[hdr:], p)
		db.exts = slices.Insert(db.exts, i, extent{off: o, buf: buf})
		return int64(hdr + room)
	}
	first := &db.exts[i]
	newOff := min(o, first.off)
	newEnd := max(end, db.exts[j-1].end())
	need := newEnd - newOff
	if j == i+1 && first.off == newOff && uint32(cap(first.buf)-hdr) >= need {
		if !dry { // fits in place
			first.buf = first.buf[:hdr+need]
			copy(first.buf[hdr+o-newOff:], p)
		}
		return 0
	}
	// A new buffer. When the merge grows an extent at its end, as
	// sequential writes do, leave room to grow into.
	room := need
	if stream {
		room = bs - newOff
	} else if first.off == newOff {
		room = max(need, min(2*first.len(), bs-newOff))
	}
	var old int64
	for k := i; k < j; k++ {
		old += int64(cap(db.exts[k].buf))
	}
	delta := int64(hdr+room) - old
	if dry {
		return delta
	}
	buf := make([]byte, hdr+need, hdr+room)
	for k := i; k < j; k++ {
		copy(buf[hdr+db.exts[k].off-newOff:], db.exts[k].data())
	}
	copy(buf[hdr+o-newOff:], p)
	db.exts[i] = extent{off: newOff, buf: buf}
	db.exts = slices.Delete(db.exts, i+1, j)
	return delta
}

// full reports whether the block's buffered bytes cover all of it.
func (db *dirtyBlock) full(bs uint32) bool {
	return len(db.exts) == 1 && db.exts[0].off == 0 && db.exts[0].len() == bs
}

// trim drops the bytes at or past block offset t and returns the change in
// accounted memory (never positive).
func (db *dirtyBlock) trim(t uint32) int64 {
	var delta int64
	keep := db.exts[:0]
	for _, e := range db.exts {
		switch {
		case e.off >= t:
			delta -= int64(cap(e.buf))
		case e.end() > t:
			e.buf = e.buf[:ObjectHeaderSize+t-e.off]
			keep = append(keep, e)
		default:
			keep = append(keep, e)
		}
	}
	clear(db.exts[len(keep):])
	db.exts = keep
	return delta
}

type sealState int

const (
	uploading sealState = iota
	uploaded
	failed
)

// A sealedBlock is a set of extents of one block taken out of the dirty
// buffer to be uploaded, one object per extent, and then committed. Its
// data is immutable. Once uploaded the data is released and only the
// pieces remain until the commit.
type sealedBlock struct {
	idx   uint64
	exts  []extent // nil once uploaded
	ids   []uint64 // object id per extent; owned by the running upload
	put   []bool   // whether extent k is stored; owned by the running upload
	limit uint32   // bytes at or past limit were truncated away
	cost  int64    // accounted memory, until uploaded

	state  sealState
	err    error         // why the last upload failed
	done   chan struct{} // closed when the current upload attempt ends
	pieces []Piece       // once uploaded, sorted and disjoint
}

// livePieces returns the uploaded pieces that survive truncation. Caller
// holds inode.mu and the block is uploaded.
func (sb *sealedBlock) livePieces() []Piece {
	return Truncate(sb.pieces, sb.limit)
}
