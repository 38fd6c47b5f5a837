package chunk

import (
	"context"
)

// startUploadLocked starts, or starts again, the upload of sb. Caller holds
// in.mu.
func (s *Store) startUploadLocked(in *inode, sb *sealedBlock) {
	sb.state = uploading
	sb.err = nil
	sb.done = make(chan struct{})
	s.mu.Lock()
	s.inflight += sb.cost
	s.mu.Unlock()
	s.spawn(func() { s.upload(in, sb) })
}

// upload stores each extent of sb not stored yet as one object, then
// records the pieces and releases the memory, or records the failure and
// keeps the data for a later Flush to retry. It owns sb.ids and sb.put
// while sb.state is uploading; sb.exts is immutable meanwhile.
func (s *Store) upload(in *inode, sb *sealedBlock) {
	err := acquire(s.bg, s.upSem)
	if err == nil {
		for k := range sb.exts {
			if sb.put[k] {
				continue // stored by an earlier attempt
			}
			var id uint64
			if id, err = s.storeObject(s.bg, in.ino, sb.exts[k].buf); err != nil {
				break
			}
			sb.ids[k], sb.put[k] = id, true
		}
		<-s.upSem
	}

	in.mu.Lock()
	if err == nil {
		sb.pieces = make([]Piece, len(sb.exts))
		for k := range sb.exts {
			e := &sb.exts[k]
			sb.pieces[k] = Piece{Obj: sb.ids[k], Off: e.off, Len: e.len()}
			s.cache.put(in.ino, sb.ids[k], e.data(), int64(cap(e.buf)))
		}
		sb.exts = nil
		sb.state = uploaded
	} else {
		err = wrap("upload", in.ino, err)
		sb.state = failed
		sb.err = err
		if in.err == nil {
			in.err = err
		}
	}
	close(sb.done)
	s.mu.Lock()
	s.inflight -= sb.cost
	if err == nil {
		s.dirty -= sb.cost
		sb.cost = 0
	} else {
		s.lastErr = err
	}
	s.broadcastLocked()
	s.mu.Unlock()
	in.mu.Unlock()
	if err != nil {
		s.log.Warn("upload failed; data stays buffered", "ino", in.ino, "block", sb.idx, "err", err)
	}
}

// storeObject stores obj (header room included, header filled) under a
// fresh object id and returns the id. The caller holds an upload slot.
func (s *Store) storeObject(ctx context.Context, ino uint64, obj []byte) (uint64, error) {
	id, err := s.newID(ctx)
	if err != nil {
		return 0, err
	}
	key := ObjectKey(id)
	if err := s.objs.Put(ctx, key, obj); err != nil {
		return 0, &Error{Op: "upload", Ino: ino, Key: key, Err: err}
	}
	return id, nil
}

// newID returns a fresh object id, reserving a batch from the layout
// service when the last one is used up. s.idMu is held across the call.
func (s *Store) newID(ctx context.Context) (uint64, error) {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	if s.idNext == s.idEnd {
		first, err := s.layout.NewObjectIDs(ctx, idBatch)
		if err != nil {
			return 0, &Error{Op: "new object ids", Err: err}
		}
		s.idNext, s.idEnd = first, first+idBatch
	}
	id := s.idNext
	s.idNext++
	return id, nil
}

// acquire takes a slot of sem.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
