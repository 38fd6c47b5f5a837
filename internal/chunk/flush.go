package chunk

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"syscall"
)

// Flush uploads ino's buffered writes and commits them: every dirty extent
// becomes one object, and one CommitWrite lays all the pieces, the size,
// the mtime and the suid/sgid clearing. Writes made while Flush runs stay
// buffered for the next one. An upload failure not reported yet is returned
// (and forgotten); failed uploads are retried. On failure nothing is
// committed and nothing buffered is lost.
func (s *Store) Flush(ctx context.Context, ino uint64) error {
	err := s.flush(ctx, ino)
	if err != nil && s.removed(ctx, ino) {
		// Writes that cannot be stored (a full disk, say) to a file that
		// no longer exists are not worth keeping or retrying.
		s.log.Warn("discarding writes to a removed file", "ino", ino, "err", err)
		s.Truncate(ino, 0)
		s.Invalidate(ino)
		return nil
	}
	return err
}

// removed reports whether the metadata service says ino is gone.
func (s *Store) removed(ctx context.Context, ino uint64) bool {
	_, err := s.layout.GetLayout(ctx, ino, 0, 1)
	var en syscall.Errno
	return errors.As(err, &en) && (en == syscall.ENOENT || en == syscall.ESTALE)
}

func (s *Store) flush(ctx context.Context, ino uint64) error {
	if err := s.checkOpen(); err != nil {
		return wrap("flush", ino, err)
	}
	in := s.peek(ino)
	if in == nil {
		return nil
	}
	in.flushMu.Lock()
	defer in.flushMu.Unlock()

	in.mu.Lock()
	if in.dead || (!in.writes && in.err == nil) {
		in.mu.Unlock()
		return nil
	}
	if err := in.takeErr(); err != nil {
		in.mu.Unlock()
		return wrap("flush", ino, err)
	}
	for _, idx := range slices.Sorted(maps.Keys(in.dirty)) {
		s.sealLocked(in, in.dirty[idx])
	}
	for _, sb := range in.sealed {
		if sb.state == failed {
			s.startUploadLocked(in, sb)
		}
	}
	snap := slices.Clone(in.sealed)
	w := Write{Size: in.size, Mtime: in.mtime, KillSUID: in.killSUID}
	wgen := in.wgen
	in.killSUID = false
	in.flushing = true
	in.mu.Unlock()

	err := s.commit(ctx, in, snap, w, wgen)

	in.mu.Lock()
	in.flushing = false
	if err != nil {
		in.killSUID = in.killSUID || w.KillSUID
	}
	in.mu.Unlock()
	return wrap("flush", ino, err)
}

// commit waits for the uploads of snap, compacts fragmented blocks and
// commits, then retires snap and updates the cached layout.
func (s *Store) commit(ctx context.Context, in *inode, snap []*sealedBlock, w Write, wgen uint64) error {
	for _, sb := range snap {
		select {
		case <-sb.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	// The pieces to commit, per block, and every object uploaded for them.
	in.mu.Lock()
	blocks := make(map[uint64][]Piece)
	var uploadedIDs []uint64
	for _, sb := range snap {
		if sb.state == failed {
			err := sb.err
			in.err = nil // reported here
			in.mu.Unlock()
			return err
		}
		for _, p := range sb.pieces {
			uploadedIDs = append(uploadedIDs, p.Obj)
		}
		if live := sb.livePieces(); len(live) > 0 {
			blocks[sb.idx] = OverlayAll(blocks[sb.idx], live)
		}
	}
	in.mu.Unlock()

	for idx, pieces := range blocks {
		if p, ok := s.compact(ctx, in, idx, pieces); ok {
			blocks[idx] = []Piece{p}
			uploadedIDs = append(uploadedIDs, p.Obj)
		}
	}
	for _, idx := range slices.Sorted(maps.Keys(blocks)) {
		w.Blocks = append(w.Blocks, Block{Index: idx, Pieces: blocks[idx]})
	}

	if err := s.layout.CommitWrite(ctx, in.ino, w); err != nil {
		if errors.Is(err, syscall.ESTALE) || errors.Is(err, syscall.ENOENT) {
			s.discard(in, snap, wgen) // the file is gone
		}
		return err
	}

	in.mu.Lock()
	in.retire(snap)
	for _, b := range w.Blocks {
		if committed, ok := in.cachedBlock(b.Index); ok {
			if merged := OverlayAll(committed, b.Pieces); len(merged) > 0 {
				in.layout[b.Index] = merged
			} else {
				delete(in.layout, b.Index)
			}
		}
	}
	in.gen++
	in.fenceSet = false // the metadata was truncated before this commit
	if in.wgen == wgen && len(in.dirty) == 0 && len(in.sealed) == 0 {
		in.writes = false
	}
	in.reported = true
	in.mu.Unlock()

	// Objects uploaded but shadowed before they were ever committed belong
	// to nobody: the metadata service will never delete them.
	committed := make(map[uint64]struct{})
	for _, b := range w.Blocks {
		maps.Copy(committed, Objects(b.Pieces))
	}
	s.deleteObjects(ctx, in.ino, slices.DeleteFunc(uploadedIDs, func(id uint64) bool {
		_, ok := committed[id]
		return ok
	}))
	return nil
}

// discard drops the sealed blocks snap of a file that no longer exists
// (the metadata service collects their objects) and the memory they hold.
func (s *Store) discard(in *inode, snap []*sealedBlock, wgen uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.retire(snap)
	if in.wgen == wgen && len(in.dirty) == 0 && len(in.sealed) == 0 {
		in.writes = false
	}
	s.log.Warn("discarding writes to a removed file", "ino", in.ino, "blocks", len(snap))
}

// deleteObjects deletes objects nothing references, logging failures (gc
// collects what is left).
func (s *Store) deleteObjects(ctx context.Context, ino uint64, ids []uint64) {
	for _, id := range ids {
		s.cache.drop(id)
		if err := s.objs.Delete(ctx, ObjectKey(id)); err != nil {
			s.log.Warn("cannot delete unreferenced object", "ino", ino, "key", ObjectKey(id), "err", err)
		}
	}
}

// FlushAll flushes every file with buffered writes, several at a time, and
// returns every failure.
func (s *Store) FlushAll(ctx context.Context) error {
	s.mu.Lock()
	inos := make([]uint64, 0, len(s.inodes))
	for ino := range s.inodes {
		inos = append(inos, ino)
	}
	s.mu.Unlock()
	slices.Sort(inos)

	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, flushAllJobs)
	)
	for _, ino := range inos {
		if err := acquire(ctx, sem); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.Flush(ctx, ino); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
