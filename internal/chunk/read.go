package chunk

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/blob"
)

// Read fills p from offset off of ino, whose current size is size (the
// committed size with Reported's size laid over it). Bytes past size are not
// read; n < len(p) only at end of file. Committed data comes from whole,
// verified objects kept in a bounded cache; buffered writes are laid over
// it; holes read as zeros. Sequential reads prefetch the next blocks.
func (s *Store) Read(ctx context.Context, ino uint64, p []byte, off int64, size uint64) (int, error) {
	segs, n, err := s.ReadSlices(ctx, ino, p, off, size)
	if err != nil {
		return 0, err
	}
	pos := 0
	for _, seg := range segs {
		if len(seg) > 0 && &seg[0] != &p[pos] {
			copy(p[pos:], seg)
		}
		pos += len(seg)
	}
	return n, nil
}

// ReadSlices is Read without the copy of committed data: the n bytes read
// come back as segs, in order, which are slices of cached object payloads
// and of p (holes and buffered writes are filled in there). Payload slices
// are shared with the cache and other readers: they must not be written.
func (s *Store) ReadSlices(ctx context.Context, ino uint64, p []byte, off int64, size uint64) (segs [][]byte, n int, err error) {
	if off < 0 {
		return nil, 0, &Error{Op: "read", Ino: ino, Err: syscall.EINVAL}
	}
	if uint64(off) >= size || len(p) == 0 {
		return nil, 0, nil
	}
	n = int(min(uint64(len(p)), size-uint64(off)))
	pos, dst := uint64(off), p[:n]
	for len(dst) > 0 {
		idx, bo := pos/uint64(s.bs), uint32(pos%uint64(s.bs))
		m := min(len(dst), int(s.bs-bo))
		if segs, err = s.readBlock(ctx, ino, idx, bo, dst[:m], segs); err != nil {
			return nil, 0, err
		}
		dst, pos = dst[m:], pos+uint64(m)
	}
	s.readAhead(ino, uint64(off), uint64(n), size)
	return segs, n, nil
}

// readBlock reads [bo, bo+len(dst)) of block idx and appends it to segs:
// memory data and holes filled in dst, committed data as payload slices.
// An object missing from the store may have been replaced by a commit
// since the layout was cached: the layout is fetched again once before
// the read fails.
func (s *Store) readBlock(ctx context.Context, ino, idx uint64, bo uint32, dst []byte, segs [][]byte) ([][]byte, error) {
	for attempt := 0; ; attempt++ {
		var copies []objCopy
		err := s.withLayout(ctx, ino, idx, false, func(in *inode, committed []Piece) {
			v := in.view(idx, committed, s.bs)
			copies = v.fill(bo, dst)
		})
		var out [][]byte
		if err == nil {
			out, err = s.objectSlices(ctx, ino, copies, dst, segs)
		}
		if err == nil {
			return out, nil
		}
		if attempt == 0 && errors.Is(err, blob.ErrNotFound) {
			in := s.lockInode(ino)
			in.dropWindow(idx)
			in.mu.Unlock()
			continue
		}
		return nil, wrap("read", ino, err)
	}
}

// objectSlices appends dst to segs with the ranges that copies (sorted by
// dst offset) name replaced by slices of their objects' payloads, fetched
// in parallel.
func (s *Store) objectSlices(ctx context.Context, ino uint64, copies []objCopy, dst []byte, segs [][]byte) ([][]byte, error) {
	calls := make(map[uint64]*fetchCall, len(copies))
	for _, c := range copies {
		if calls[c.obj] == nil {
			calls[c.obj] = s.startFetch(ino, c.obj)
		}
	}
	at := uint32(0) // dst is appended up to here
	for _, c := range copies {
		payload, err := calls[c.obj].wait(ctx)
		if err != nil {
			return nil, err
		}
		if uint64(c.objOff)+uint64(c.n) > uint64(len(payload)) {
			return nil, s.corruptPiece(ino, c.obj, c.objOff, c.n, len(payload))
		}
		if c.dst > at {
			segs = append(segs, dst[at:c.dst])
		}
		segs = append(segs, payload[c.objOff:c.objOff+c.n:c.objOff+c.n])
		at = c.dst + c.n
	}
	if int(at) < len(dst) {
		segs = append(segs, dst[at:])
	}
	return segs, nil
}

func (s *Store) corruptPiece(ino, id uint64, objOff, n uint32, size int) error {
	key := ObjectKey(id)
	err := &Error{Op: "read", Ino: ino, Key: key, Err: fmt.Errorf("%w: piece [%d, %d) outside the %d-byte payload: %w",
		ErrCorrupt, objOff, uint64(objOff)+uint64(n), size, syscall.EIO)}
	s.log.Error("layout points outside object", "ino", ino, "key", key, "err", err)
	return err
}

// startFetch starts fetching object id of ino into the cache.
func (s *Store) startFetch(ino, id uint64) *fetchCall {
	return s.cache.start(ino, id, s.spawn, func() ([]byte, int64, error) {
		key := ObjectKey(id)
		data, err := s.objs.Get(s.bg, key, 0, -1)
		if err != nil {
			if errors.Is(err, blob.ErrNotFound) {
				err = fmt.Errorf("%w: %w", err, syscall.EIO)
			}
			return nil, 0, &Error{Op: "read", Ino: ino, Key: key, Err: err}
		}
		payload, err := DecodeObject(key, data)
		if err != nil {
			if e, ok := errors.AsType[*Error](err); ok {
				e.Ino = ino
			}
			s.log.Error("corrupt object", "ino", ino, "key", key, "err", err)
			return nil, 0, err
		}
		return payload, int64(cap(data)), nil
	})
}

// withLayout calls f, with in.mu held, with the committed pieces of block
// idx, fetching its layout window first if it is not cached. A fetch that
// races with a commit or an invalidation is done again; after two such
// races it is done holding flushMu, which excludes commits, unless the
// caller holds it already (underFlush).
func (s *Store) withLayout(ctx context.Context, ino, idx uint64, underFlush bool, f func(in *inode, committed []Piece)) error {
	for try := 0; ; try++ {
		in := s.lockInode(ino)
		if committed, ok := in.cachedBlock(idx); ok {
			f(in, committed)
			in.mu.Unlock()
			return nil
		}
		gen := in.gen
		in.mu.Unlock()
		if try == layoutRetries {
			return &Error{Op: "get layout", Ino: ino, Err: fmt.Errorf("layout keeps changing: %w", syscall.EIO)}
		}
		locked := try >= 2 && !underFlush
		if locked {
			in.flushMu.Lock()
		}
		err := s.fetchWindow(ctx, in, idx/layoutWindow, gen)
		if locked {
			in.flushMu.Unlock()
		}
		if err != nil {
			return err
		}
	}
}

// fetchWindow fetches the layout of window w of in and caches it unless the
// cached layout changed since generation gen.
func (s *Store) fetchWindow(ctx context.Context, in *inode, w, gen uint64) error {
	first := w * layoutWindow
	blocks, err := s.layout.GetLayout(ctx, in.ino, first, layoutWindow)
	if err != nil {
		return &Error{Op: "get layout", Ino: in.ino, Err: err}
	}
	for _, b := range blocks {
		if b.Index < first || b.Index-first >= layoutWindow || !validPieces(b.Pieces, s.bs) {
			return &Error{Op: "get layout", Ino: in.ino,
				Err: fmt.Errorf("%w: bad layout of block %d: %w", ErrCorrupt, b.Index, syscall.EIO)}
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dead || in.gen != gen {
		return nil
	}
	in.install(w, blocks, s.bs)
	return nil
}

// validPieces reports whether ps is sorted, disjoint and inside a block of
// bs bytes.
func validPieces(ps []Piece, bs uint32) bool {
	for _, p := range ps {
		if uint64(p.Off)+uint64(p.Len) > uint64(bs) {
			return false
		}
	}
	return sortedDisjoint(ps)
}

// readAhead notes a read of [off, off+n) of ino and, when reads are
// sequential, prefetches the next blocks into the cache.
func (s *Store) readAhead(ino, off, n, size uint64) {
	if s.depth == 0 {
		return
	}
	in := s.peek(ino)
	if in == nil {
		return
	}
	bs := uint64(s.bs)
	in.mu.Lock()
	seq := off+bs >= in.readNext && off <= in.readNext+bs
	in.readNext = off + n
	if !seq {
		in.prefetchNext = 0
		in.mu.Unlock()
		return
	}
	cur := (off + n - 1) / bs
	first := max(cur+1, in.prefetchNext)
	last := min(cur+s.depth, (size-1)/bs)
	if first <= last {
		in.prefetchNext = last + 1
	}
	in.mu.Unlock()
	for b := first; b <= last; b++ {
		s.spawn(func() { s.prefetch(ino, b) })
	}
}

// prefetch fetches the objects block idx of ino reads from into the cache.
func (s *Store) prefetch(ino, idx uint64) {
	if acquire(s.bg, s.prefetchSem) != nil {
		return
	}
	defer func() { <-s.prefetchSem }()
	var ids []uint64
	err := s.withLayout(s.bg, ino, idx, false, func(in *inode, committed []Piece) {
		v := in.view(idx, committed, s.bs)
		ids = v.objects()
	})
	calls := make([]*fetchCall, len(ids))
	for i, id := range ids {
		calls[i] = s.startFetch(ino, id)
	}
	for _, c := range calls {
		if _, e := c.wait(s.bg); e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		s.log.Debug("prefetch failed", "ino", ino, "block", idx, "err", err)
	}
}
