package chunk

// A blockView is what one block of a file reads as right now: the committed
// pieces, with the pieces and data of sealed blocks laid over them in seal
// order, and the dirty extents over those. Piece.Obj of a view piece is an
// index into srcs, not an object id.
type blockView struct {
	pieces []Piece
	srcs   []source
}

// A source is either a stored object or a buffer in memory.
type source struct {
	obj uint64
	mem []byte // data of an extent; nil for an object
}

// objectSource returns the source index of object id, adding it if needed.
func (v *blockView) objectSource(id uint64) uint64 {
	for i, s := range v.srcs {
		if s.mem == nil && s.obj == id {
			return uint64(i)
		}
	}
	v.srcs = append(v.srcs, source{obj: id})
	return uint64(len(v.srcs) - 1)
}

// layObjects lays pieces (sorted, disjoint, addressing objects) over v.
func (v *blockView) layObjects(pieces []Piece) {
	if len(pieces) == 0 {
		return
	}
	top := make([]Piece, len(pieces))
	for i, p := range pieces {
		p.Obj = v.objectSource(p.Obj)
		top[i] = p
	}
	v.pieces = OverlayAll(v.pieces, top)
}

// layExtents lays extents (sorted, disjoint), clipped at block offset limit,
// over v.
func (v *blockView) layExtents(exts []extent, limit uint32) {
	top := make([]Piece, 0, len(exts))
	for i := range exts {
		e := &exts[i]
		if e.off >= limit {
			break
		}
		v.srcs = append(v.srcs, source{mem: e.data()})
		p := Piece{Obj: uint64(len(v.srcs) - 1), Off: e.off, Len: min(e.end(), limit) - e.off}
		top = append(top, p)
	}
	if len(top) > 0 {
		v.pieces = OverlayAll(v.pieces, top)
	}
}

// view builds the view of block idx over its committed pieces. Caller
// holds in.mu and must copy memory sources before releasing it.
func (in *inode) view(idx uint64, committed []Piece, bs uint32) blockView {
	var v blockView
	v.layObjects(committed)
	for _, sb := range in.sealedBy[idx] {
		if sb.state == uploaded {
			v.layObjects(sb.livePieces())
		} else {
			v.layExtents(sb.exts, sb.limit)
		}
	}
	if db := in.dirty[idx]; db != nil {
		v.layExtents(db.exts, bs)
	}
	return v
}

// An objCopy copies n bytes at payload offset objOff of object obj to
// offset dst of a read buffer.
type objCopy struct {
	obj    uint64
	objOff uint32
	dst    uint32
	n      uint32
}

// fill copies the parts of v inside block range [lo, lo+len(dst)) that are
// in memory into dst, zeroes the holes, and returns the copies still to be
// made from objects, in dst order; what they cover of dst is left as it
// was. Caller holds in.mu.
func (v *blockView) fill(lo uint32, dst []byte) []objCopy {
	hi := lo + uint32(len(dst))
	var out []objCopy
	at := lo // dst is filled up to here
	for _, p := range v.pieces {
		a, b := max(p.Off, lo), min(p.End(), hi)
		if a >= b {
			continue
		}
		clear(dst[at-lo : a-lo])
		at = b
		srcOff := p.ObjOff + (a - p.Off)
		s := v.srcs[p.Obj]
		if s.mem != nil {
			copy(dst[a-lo:b-lo], s.mem[srcOff:srcOff+(b-a)])
			continue
		}
		out = append(out, objCopy{obj: s.obj, objOff: srcOff, dst: a - lo, n: b - a})
	}
	clear(dst[at-lo:])
	return out
}

// objects returns the objects v reads from.
func (v *blockView) objects() []uint64 {
	var out []uint64
	for _, p := range v.pieces {
		if s := v.srcs[p.Obj]; s.mem == nil && !containsID(out, s.obj) {
			out = append(out, s.obj)
		}
	}
	return out
}

func containsID(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
