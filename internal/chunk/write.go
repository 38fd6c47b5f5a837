package chunk

import (
	"context"
	"fmt"
	"math"
	"syscall"
)

// Write buffers p at offset off of ino. It blocks while the write-back
// buffer is full, sealing the oldest buffered blocks for upload to make
// room. A block whose buffered bytes cover it wholly is uploaded in the
// background at once. An upload failure of ino not reported yet is
// returned instead, and then nothing of p is buffered.
func (s *Store) Write(ctx context.Context, ino uint64, p []byte, off int64, killSUID bool) error {
	if off < 0 || int64(len(p)) > math.MaxInt64-off {
		return &Error{Op: "write", Ino: ino, Err: syscall.EINVAL}
	}
	if len(p) == 0 {
		return nil
	}
	if err := s.checkOpen(); err != nil {
		return wrap("write", ino, err)
	}
	in := s.lockInode(ino)
	err := in.takeErr()
	in.mu.Unlock()
	if err != nil {
		return wrap("write", ino, err)
	}
	pos := uint64(off)
	for len(p) > 0 {
		idx, bo := pos/uint64(s.bs), uint32(pos%uint64(s.bs))
		n := min(len(p), int(s.bs-bo))
		if err := s.writeBlock(ctx, ino, idx, bo, p[:n], killSUID); err != nil {
			return err
		}
		p, pos = p[n:], pos+uint64(n)
	}
	return nil
}

// writeBlock buffers p at offset bo of block idx: it reserves the memory
// the merge needs (without holding inode.mu), then applies it, starting
// over if the block changed meanwhile.
func (s *Store) writeBlock(ctx context.Context, ino, idx uint64, bo uint32, p []byte, killSUID bool) error {
	var reserved int64
	for {
		in := s.lockInode(ino)
		pos := idx*uint64(s.bs) + uint64(bo)
		stream := pos == in.seqEnd && in.seqRun >= uint64(s.bs)
		db := in.dirty[idx]
		var delta int64
		if db == nil {
			delta = (&dirtyBlock{}).write(bo, p, s.bs, stream, true)
		} else {
			delta = db.write(bo, p, s.bs, stream, true)
		}
		if delta <= reserved {
			s.applyLocked(in, db, idx, bo, p, stream, killSUID, reserved)
			in.mu.Unlock()
			return nil
		}
		in.mu.Unlock()
		if reserved > 0 {
			s.unreserve(reserved)
			reserved = 0
		}
		if err := s.reserve(ctx, delta); err != nil {
			return wrap("write", ino, err)
		}
		reserved = delta
	}
}

// applyLocked merges p into block idx of in (db is its dirty block or
// nil), settling the reservation. Caller holds in.mu.
func (s *Store) applyLocked(in *inode, db *dirtyBlock, idx uint64, bo uint32, p []byte, stream, killSUID bool, reserved int64) {
	fresh := db == nil
	if fresh {
		db = &dirtyBlock{in: in, idx: idx}
		in.dirty[idx] = db
	}
	delta := db.write(bo, p, s.bs, stream, false)
	pos := idx*uint64(s.bs) + uint64(bo)
	end := pos + uint64(len(p))
	if pos == in.seqEnd {
		in.seqRun += uint64(len(p))
	} else {
		in.seqRun = uint64(len(p))
	}
	in.seqEnd = end
	if !in.writes && !in.reported || end > in.size {
		in.size = end
	}
	in.writes = true
	in.wgen++
	in.mtime = s.opts.Now().UnixNano()
	in.killSUID = in.killSUID || killSUID

	s.mu.Lock()
	if fresh {
		db.elem = s.dirtyList.PushBack(db)
	}
	db.cost += delta
	s.dirty -= reserved - delta
	if reserved > 0 {
		s.applying--
	}
	s.broadcastLocked()
	s.mu.Unlock()

	if db.full(s.bs) {
		s.sealLocked(in, db)
	}
}

// reserve accounts n bytes of write-back memory, waiting for uploads to
// release memory while there is not enough. Waiting writers seal the oldest
// dirty blocks, so that memory always comes free unless uploads fail.
func (s *Store) reserve(ctx context.Context, n int64) error {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		if s.dirty+n <= s.opts.DirtyBytes {
			s.dirty += n
			s.peakDirty = max(s.peakDirty, s.dirty)
			s.applying++
			s.mu.Unlock()
			return nil
		}
		need := s.dirty + n - s.opts.DirtyBytes
		var victims []*dirtyBlock
		for el, coming := s.dirtyList.Front(), s.inflight; el != nil && coming < need; el = el.Next() {
			db := el.Value.(*dirtyBlock)
			victims = append(victims, db)
			coming += db.cost
		}
		if len(victims) == 0 && s.inflight == 0 && s.applying == 0 && s.dirtyList.Len() == 0 {
			// All buffered memory belongs to blocks whose upload failed:
			// nothing will free it before someone flushes them again.
			err := s.lastErr
			s.mu.Unlock()
			if err == nil {
				err = syscall.ENOMEM
			}
			return fmt.Errorf("write-back buffer full of data that failed to upload: %w", err)
		}
		wait := s.changed
		s.mu.Unlock()
		if len(victims) > 0 {
			for _, db := range victims {
				s.sealVictim(db)
			}
			continue
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// unreserve returns an unused reservation.
func (s *Store) unreserve(n int64) {
	s.mu.Lock()
	s.dirty -= n
	s.applying--
	s.broadcastLocked()
	s.mu.Unlock()
}

// sealVictim seals db if it is still dirty.
func (s *Store) sealVictim(db *dirtyBlock) {
	in := db.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.dead && in.dirty[db.idx] == db {
		s.sealLocked(in, db)
	}
}

// sealLocked takes db out of the dirty buffer and starts its upload. Caller
// holds in.mu.
func (s *Store) sealLocked(in *inode, db *dirtyBlock) {
	delete(in.dirty, db.idx)
	sb := &sealedBlock{
		idx:   db.idx,
		exts:  db.exts,
		ids:   make([]uint64, len(db.exts)),
		put:   make([]bool, len(db.exts)),
		limit: s.bs,
		cost:  db.cost,
	}
	for i := range sb.exts {
		putHeader(sb.exts[i].buf) // the data is immutable from here on
	}
	in.sealed = append(in.sealed, sb)
	in.sealedBy[sb.idx] = append(in.sealedBy[sb.idx], sb)
	s.mu.Lock()
	s.dirtyList.Remove(db.elem)
	s.mu.Unlock()
	s.startUploadLocked(in, sb)
}

// Truncate discards buffered bytes of ino at or past size and forgets its
// cached layout; the caller then truncates the metadata. It waits for a
// Flush of ino in progress. Until the next commit of ino or Invalidate,
// layouts fetched for ino are trimmed at size, so that a fetch racing with
// the metadata truncation cannot bring truncated bytes back.
func (s *Store) Truncate(ino uint64, size uint64) {
	in := s.peek(ino)
	if in == nil {
		return
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dead {
		return
	}
	last, t := size/uint64(s.bs), uint32(size%uint64(s.bs))
	gone := func(idx uint64) bool { return idx > last || (idx == last && t == 0) }
	for idx, db := range in.dirty {
		var delta int64
		switch {
		case gone(idx):
			delta = -db.cost
			db.exts = nil
		case idx == last:
			delta = db.trim(t)
		default:
			continue
		}
		s.mu.Lock()
		db.cost += delta
		s.dirty += delta
		if len(db.exts) == 0 {
			s.dirtyList.Remove(db.elem)
			delete(in.dirty, idx)
		}
		s.broadcastLocked()
		s.mu.Unlock()
	}
	var drop []*sealedBlock
	for _, sb := range in.sealed {
		switch {
		case gone(sb.idx):
			sb.limit = 0
		case sb.idx == last:
			sb.limit = min(sb.limit, t)
		}
		if sb.limit == 0 && sb.state == failed {
			drop = append(drop, sb) // nothing of it survives: no need to retry
		}
	}
	for _, sb := range drop {
		in.removeSealed(sb)
		s.mu.Lock()
		s.dirty -= sb.cost
		sb.cost = 0
		s.broadcastLocked()
		s.mu.Unlock()
	}
	if (in.writes || in.reported) && in.size > size {
		in.size = size
	}
	in.dropLayout()
	if !in.fenceSet || size < in.fence {
		in.fence, in.fenceSet = size, true
	}
	in.readNext, in.prefetchNext = 0, 0
}
