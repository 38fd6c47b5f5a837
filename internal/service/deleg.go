package service

import (
	"context"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// Directory delegations. A client that made a directory, and is the only
// one holding it, may ask for its delegation (OpDelegate) and a range of
// inode numbers: it then answers creates in it itself and sends them on
// without waiting (OpCreateAs, or OpCreateBatch for files it closed
// since, batch.go), each made durable before its reply as every change
// is. Before any other session's call that names the
// directory runs, or hands it out, the delegation is recalled: the
// holder waits until the service answered every create it sent, then
// acknowledges, so the other session sees them all (the promise holds).

// maxDelegatedInos bounds the inode numbers one OpDelegate reserves.
const maxDelegatedInos = 4096

// delegate serves OpDelegate.
func (h *handler) delegate(ctx context.Context, r *wire.Delegate) (wire.Message, []uint64, error) {
	s, sess := h.s, h.sess
	a, ok, err := s.meta.Delegable(ctx, r.Dir)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("delegate directory %d: it has extended attributes: %w", r.Dir, syscall.EOPNOTSUPP)
	}
	s.mu.Lock()
	granted := s.table.Delegate(sess.id, r.Dir)
	s.mu.Unlock()
	if !granted {
		return nil, nil, fmt.Errorf("delegate directory %d: another client holds it, or this one does not: %w", r.Dir, syscall.EBUSY)
	}
	sess.mu.Lock()
	marked := sess.delegating
	sess.mu.Unlock()
	if !marked {
		if err := s.meta.MarkDelegating(ctx, uint64(sess.id)); err != nil {
			return nil, nil, err
		}
	}
	var first uint64
	n := min(int(r.Want), maxDelegatedInos)
	if n > 0 {
		if first, err = s.meta.NewInos(ctx, n); err != nil {
			return nil, nil, err
		}
	}
	if !marked || n > 0 {
		// Even with Async: a restart must know the session may have
		// creates to send again, and a reservation lost in a crash
		// would hand the client's numbers out again.
		if err := s.durable(ctx); err != nil {
			return nil, nil, err
		}
	}
	sess.mu.Lock()
	sess.delegating = true
	if n > 0 {
		sess.inos = append(sess.inos, newInoRange(first, uint64(n)))
	}
	sess.mu.Unlock()
	return &wire.Delegation{First: first, N: uint64(n), Dir: a}, nil, nil
}

// createAs serves OpCreateAs. A number the session was handed in this
// run is checked against what it used in memory; any other (handed out
// before a restart) is checked by meta against the store.
func (h *handler) createAs(ctx context.Context, r *wire.MakeAs) (wire.Message, []uint64, error) {
	mk := &r.Make
	known, fresh := h.sess.claim(r.Ino)
	if known && !fresh {
		return nil, nil, fmt.Errorf("create %d/%q: inode number %d was used already: %w", mk.Parent, mk.Name, r.Ino, syscall.EEXIST)
	}
	a, err := h.s.meta.CreateAs(meta.WithUmask(ctx, mk.Umask), mk.C, meta.CreateAsIn{
		Ino: r.Ino, Parent: mk.Parent, Name: mk.Name, Mode: mk.Mode, At: r.Time, Open: !r.Closed, Unused: known,
	})
	if err != nil {
		if known {
			h.sess.unclaim(r.Ino)
		}
		return nil, nil, err
	}
	if !r.Closed {
		h.sess.opened(a.Ino)
		h.s.wrote(h.sess.id, a.Ino)
	}
	return &wire.Entered{Attr: a}, []uint64{a.Ino}, nil
}

// inoRange is a range of inode numbers handed to a session, with those
// it used.
type inoRange struct {
	first, n, left uint64
	used           []uint64 // a bit per number
}

func newInoRange(first, n uint64) *inoRange {
	return &inoRange{first: first, n: n, left: n, used: make([]uint64, (n+63)/64)}
}

// claim marks ino used: known reports whether it is in one of the
// session's ranges, fresh whether it was unused. A range all used is
// forgotten (a number of it used again is then checked in the store).
func (sess *session) claim(ino uint64) (known, fresh bool) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	for i, r := range sess.inos {
		if ino < r.first || ino >= r.first+r.n {
			continue
		}
		k := ino - r.first
		if r.used[k/64]&(1<<(k%64)) != 0 {
			return true, false
		}
		r.used[k/64] |= 1 << (k % 64)
		if r.left--; r.left == 0 {
			sess.inos = append(sess.inos[:i], sess.inos[i+1:]...)
		}
		return true, true
	}
	return false, false
}

// unclaim undoes the claim of ino by a create that failed.
func (sess *session) unclaim(ino uint64) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	for _, r := range sess.inos {
		if ino >= r.first && ino < r.first+r.n {
			k := ino - r.first
			r.used[k/64] &^= 1 << (k % 64)
			r.left++
			return
		}
	}
}

// recallDelegations recalls, and waits for, the delegations held by other
// sessions of the directories a request names (directly, or by a name in
// its parent for rmdir and rename, which act on the directory the name
// resolves to).
func (h *handler) recallDelegations(ctx context.Context, op wire.Op, req wire.Message) {
	for _, ino := range h.named(ctx, op, req) {
		h.s.recallDelegation(ctx, ino, h.sess.id)
	}
}

// named returns the inodes a request names.
func (h *handler) named(ctx context.Context, op wire.Op, req wire.Message) []uint64 {
	child := func(parent uint64, name string) uint64 {
		a, err := h.s.meta.Lookup(ctx, meta.Root, parent, name)
		if err != nil {
			return 0
		}
		return a.Ino
	}
	switch r := req.(type) {
	case *wire.Entry:
		if op == wire.OpRmdir {
			return []uint64{r.Parent, child(r.Parent, r.Name)}
		}
		return []uint64{r.Parent}
	case *wire.Ino:
		return []uint64{r.Ino}
	case *wire.SetAttr:
		return []uint64{r.Ino}
	case *wire.Make:
		return []uint64{r.Parent}
	case *wire.MakeAs:
		return []uint64{r.Make.Parent}
	case *wire.CreateBatch:
		var dirs []uint64
		for i := range r.Items {
			dirs = append(dirs, r.Items[i].Make.Parent)
		}
		return dirs
	case *wire.Link:
		return []uint64{r.Ino, r.NewParent}
	case *wire.Rename:
		return []uint64{r.OldParent, r.NewParent, child(r.OldParent, r.OldName), child(r.NewParent, r.NewName)}
	case *wire.InoOp:
		return []uint64{r.Ino}
	case *wire.ReadDir:
		return []uint64{r.Ino}
	case *wire.Xattr:
		return []uint64{r.Ino}
	case *wire.Fallocate:
		return []uint64{r.Ino}
	case *wire.GetLayout:
		return []uint64{r.Ino}
	case *wire.CommitWrite:
		return []uint64{r.Ino}
	}
	return nil
}

// recallDelegation recalls dir's delegation from its holder, unless that
// is except, and waits until it is gone.
func (s *Service) recallDelegation(ctx context.Context, dir uint64, except lease.SessionID) {
	if dir == 0 {
		return
	}
	s.mu.Lock()
	id, holder, started := s.table.RecallDelegation(dir, except, s.opts.Now())
	if id == 0 {
		s.mu.Unlock()
		return
	}
	wait := s.waiters[id]
	if wait == nil {
		wait = make(chan struct{})
		s.waiters[id] = wait
	}
	sess := s.sessions[holder]
	s.mu.Unlock()
	if started {
		s.kick()
		if sess != nil {
			msg := &wire.Recall{Items: []wire.RecallItem{{Ino: dir, What: wire.ReturnDelegation}}}
			sess.mu.Lock()
			sess.pending[id] = msg
			p := sess.push
			sess.mu.Unlock()
			if p != nil {
				p.Push(wire.OpRecall, uint64(id), msg)
			}
		}
	}
	select {
	case <-wait:
	case <-ctx.Done():
	}
}
