package service

import (
	"context"
	"errors"
	"sync"
	"syscall"

	"github.com/ferryfs/ferry/internal/locks"
	"github.com/ferryfs/ferry/internal/wire"
)

// File locks are records of the metadata store (meta.SetLock): they
// survive a restart of the service with the sessions that hold them, and
// a lock change commits with its call record. A blocking lock does not
// wait here, holding one of the connection's call slots: the client asks
// again without waiting (OpSetLk with Wait), and the service remembers
// that the session waits on the inode and pushes it OpLocksChanged at the
// next change of the inode's locks. The session is registered before its
// request reads the locks, so a change that commits after that read
// always finds it. Registrations live in memory only: after a restart the
// client's periodic retry registers again.

// lockWaiters are the sessions waiting for a change of an inode's locks.
// Its mutex is taken under no other lock, and nothing is called under it.
type lockWaiters struct {
	mu sync.Mutex
	m  map[uint64]map[*session]struct{}
}

func (w *lockWaiters) add(ino uint64, sess *session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[uint64]map[*session]struct{})
	}
	if w.m[ino] == nil {
		w.m[ino] = make(map[*session]struct{})
	}
	w.m[ino][sess] = struct{}{}
}

func (w *lockWaiters) remove(ino uint64, sess *session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ws := w.m[ino]; ws != nil {
		delete(ws, sess)
		if len(ws) == 0 {
			delete(w.m, ino)
		}
	}
}

// take removes and returns the sessions waiting on ino.
func (w *lockWaiters) take(ino uint64) []*session {
	w.mu.Lock()
	defer w.mu.Unlock()
	ws := w.m[ino]
	delete(w.m, ino)
	out := make([]*session, 0, len(ws))
	for sess := range ws {
		out = append(out, sess)
	}
	return out
}

// forget drops every registration of sess.
func (w *lockWaiters) forget(sess *session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ino, ws := range w.m {
		delete(ws, sess)
		if len(ws) == 0 {
			delete(w.m, ino)
		}
	}
}

// locksChanged tells the sessions waiting on ino that its locks changed.
func (s *Service) locksChanged(ino uint64) {
	for _, sess := range s.lockWaits.take(ino) {
		sess.mu.Lock()
		push := sess.push
		sess.mu.Unlock()
		if push == nil {
			continue // detached: its periodic retry finds the change
		}
		if err := push.Push(wire.OpLocksChanged, 0, &wire.Ino{Ino: ino}); err != nil {
			s.log.Debug("locks changed: push failed", "session", uint64(sess.id), "ino", ino, "cause", err)
		}
	}
}

// dropLocks releases the locks of a session that ends and wakes whoever
// waited for them.
func (s *Service) dropLocks(sess *session) {
	s.lockWaits.forget(sess)
	inos, err := s.meta.DropLocks(context.Background(), uint64(sess.id))
	if err != nil {
		s.log.Warn("dropping an ended session's locks failed", "session", uint64(sess.id), "cause", err)
	}
	for _, ino := range inos {
		s.locksChanged(ino)
	}
}

// dropStrayLocks drops, as the service starts, the locks of sessions it
// did not record (meta.DropStrayLocks).
func (s *Service) dropStrayLocks(ctx context.Context, recorded map[uint64]bool) {
	sessions := make([]uint64, 0, len(recorded))
	for id := range recorded {
		sessions = append(sessions, id)
	}
	inos, err := s.meta.DropStrayLocks(ctx, sessions)
	if err != nil {
		s.log.Warn("dropping the locks of unrecorded sessions failed", "cause", err)
	} else if len(inos) > 0 {
		s.log.Info("dropped the locks of unrecorded sessions", "inodes", len(inos))
	}
}

// live reports whether sess is still one of the service's sessions.
func (s *Service) live(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sess.id] == sess
}

// sessionEnded is the failure of a call whose session ended under it:
// the client opens a new session and sends the call again.
type sessionEnded struct{}

func (sessionEnded) Error() string { return wire.ReasonSessionExpired }
func (sessionEnded) Unwrap() error { return syscall.ESTALE }

func isLockOp(op wire.Op) bool { return op == wire.OpGetLk || op == wire.OpSetLk }

// lockOf is the lock a request of sess asks for.
func lockOf(sess *session, r *wire.Lk) locks.Lock {
	return locks.Lock{
		Owner: locks.Owner{Session: uint64(sess.id), ID: r.Owner},
		Flock: r.Flock, Type: locks.Type(r.Type), Start: r.Start, End: r.End, Pid: r.Pid,
	}
}

// serveLock serves OpGetLk and OpSetLk.
func (h *handler) serveLock(ctx context.Context, op wire.Op, r *wire.Lk) (wire.Message, []uint64, error) {
	s, sess := h.s, h.sess
	l := lockOf(sess, r)
	if op == wire.OpGetLk {
		b, found, err := s.meta.GetLock(ctx, r.Ino, l)
		if err != nil || !found {
			return &wire.LkReply{Type: wire.LockUnlock}, nil, err
		}
		out := &wire.LkReply{Start: b.Start, End: b.End, Type: uint8(b.Type)}
		if b.Owner.Session == uint64(sess.id) {
			out.Pid = b.Pid
		}
		return out, nil, nil
	}
	if r.Wait {
		s.lockWaits.add(r.Ino, sess)
	}
	changed, err := s.meta.SetLock(ctx, r.Ino, l)
	if r.Wait && !errors.Is(err, syscall.EAGAIN) {
		s.lockWaits.remove(r.Ino, sess)
	}
	if err == nil && l.Type != locks.Unlock && !s.live(sess) {
		// The session ended while the lock was taken: its end may have
		// dropped its locks before this one committed.
		s.dropLocks(sess)
		return nil, nil, sessionEnded{}
	}
	if changed {
		if !s.opts.Async {
			if serr := s.durable(ctx); serr != nil && err == nil {
				err = serr
			}
		}
		s.locksChanged(r.Ino)
	}
	return nil, nil, err
}
