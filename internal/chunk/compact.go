package chunk

import (
	"context"
)

// compact rewrites block idx of in as one object when laying pieces (the
// block's part of a commit) over its committed layout would leave more than
// compactPieces pieces, and returns the piece that replaces pieces. The
// caller holds in.flushMu, so the committed layout cannot change meanwhile.
// A failure is logged and leaves the block fragmented.
func (s *Store) compact(ctx context.Context, in *inode, idx uint64, pieces []Piece) (Piece, bool) {
	if len(pieces) <= compactPieces && covers(pieces, s.bs) {
		return Piece{}, false // hides everything committed
	}
	var committed []Piece
	err := s.withLayout(ctx, in.ino, idx, true, func(_ *inode, c []Piece) { committed = c })
	if err != nil {
		s.log.Warn("cannot compact block", "ino", in.ino, "block", idx, "err", err)
		return Piece{}, false
	}
	merged := OverlayAll(committed, pieces)
	if len(merged) <= compactPieces {
		return Piece{}, false
	}
	end := merged[len(merged)-1].End()
	buf := make([]byte, ObjectHeaderSize+int(end))
	calls := make(map[uint64]*fetchCall)
	for _, p := range merged {
		if calls[p.Obj] == nil {
			calls[p.Obj] = s.startFetch(in.ino, p.Obj)
		}
	}
	for _, p := range merged {
		payload, err := calls[p.Obj].wait(ctx)
		if err == nil && uint64(p.ObjOff)+uint64(p.Len) > uint64(len(payload)) {
			err = s.corruptPiece(in.ino, p.Obj, p.ObjOff, p.Len, len(payload))
		}
		if err != nil {
			s.log.Warn("cannot compact block", "ino", in.ino, "block", idx, "err", err)
			return Piece{}, false
		}
		copy(buf[ObjectHeaderSize+p.Off:], payload[p.ObjOff:p.ObjOff+p.Len])
	}
	putHeader(buf)
	if err := acquire(ctx, s.upSem); err != nil {
		return Piece{}, false
	}
	id, err := s.storeObject(ctx, in.ino, buf)
	<-s.upSem
	if err != nil {
		s.log.Warn("cannot compact block", "ino", in.ino, "block", idx, "err", err)
		return Piece{}, false
	}
	s.cache.put(in.ino, id, buf[ObjectHeaderSize:], int64(cap(buf)))
	s.log.Debug("compacted block", "ino", in.ino, "block", idx, "pieces", len(merged), "key", ObjectKey(id))
	return Piece{Obj: id, Len: end}, true
}

// covers reports whether pieces, sorted and disjoint, cover [0, bs).
func covers(pieces []Piece, bs uint32) bool {
	var next uint32
	for _, p := range pieces {
		if p.Off != next {
			return false
		}
		next = p.End()
	}
	return next == bs
}
