package meta

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/locks"
)

// File locks (flock and fcntl) of the service's client sessions live in
// the metadata store, one record per locked inode:
//
//	L <ino>   the inode's locks (locks.Set), every session's
//
// so that they survive a restart of the service with the sessions that
// hold them, a lock change commits with its call record (a call sent
// again is answered, not redone), and the locks of a session go in the
// transaction that ends it. An inode without locks has no record.
const tagLock = 'L'

func lockKey(ino uint64) []byte { return u64key(tagLock, ino) }

// errBlocked aborts the transaction of a lock request another lock
// stands in the way of.
var errBlocked = errors.New("blocked")

// locks returns the locks of ino.
func (r reader) locks(ino uint64) (locks.Set, error) {
	k := lockKey(ino)
	p, ok, err := r.get(k)
	if err != nil || !ok {
		return nil, err
	}
	s, err := locks.Decode(p)
	if err != nil {
		r.fs.corrupt(k)
		return nil, syscall.EIO
	}
	return s, nil
}

func (t *tx) putLocks(ino uint64, s locks.Set) {
	if len(s) == 0 {
		t.t.Delete(lockKey(ino))
		return
	}
	t.put(lockKey(ino), s.Encode())
}

// SetLock takes, converts or (locks.Unlock) releases lock l on ino. If a
// lock of another owner stands in the way it fails with EAGAIN and
// changes nothing, except that a flock conversion has dropped the
// owner's old lock (as on Linux). changed reports whether ino's locks
// changed, which may let waiters through.
func (fs *FS) SetLock(ctx context.Context, ino uint64, l locks.Lock) (changed bool, err error) {
	if err := l.Check(); err != nil {
		return false, fail("setlk", ino, "", errInval)
	}
	var blocked, dropped bool
	err = fs.update(ctx, func(t *tx) error {
		blocked, dropped, changed = false, false, false
		if l.Type != locks.Unlock {
			if _, err := t.inode(ino); err != nil {
				return err
			}
		}
		set, err := t.locks(ino)
		if err != nil {
			return err
		}
		next, _, ok, ch := set.Apply(l)
		if !ok {
			blocked, dropped = true, ch
			return errBlocked
		}
		if ch {
			t.putLocks(ino, next)
		}
		changed = ch
		return nil
	})
	if !blocked {
		return changed, fail("setlk", ino, "", err)
	}
	if dropped {
		// A flock conversion that failed: the old lock goes all the same,
		// in a transaction that does not record the call as done (it
		// failed, and a resend must try again).
		drop := l
		drop.Type = locks.Unlock
		if _, err := fs.SetLock(context.WithValue(ctx, callStampKey{}, nil), ino, drop); err != nil {
			return false, err
		}
	}
	return dropped, fail("setlk", ino, "", syscall.EAGAIN)
}

// GetLock returns a lock of another owner that stands in the way of
// request on ino (F_GETLK), or ok=false.
func (fs *FS) GetLock(ctx context.Context, ino uint64, request locks.Lock) (blocker locks.Lock, ok bool, err error) {
	if err := request.Check(); err != nil || request.Type == locks.Unlock {
		return locks.Lock{}, false, fail("getlk", ino, "", errInval)
	}
	err = fs.view(ctx, func(r reader) error {
		set, err := r.locks(ino)
		blocker, ok = set.Conflict(request)
		return err
	})
	return blocker, ok, fail("getlk", ino, "", err)
}

// Locks returns the locks held on ino.
func (fs *FS) Locks(ctx context.Context, ino uint64) (locks.Set, error) {
	var s locks.Set
	err := fs.view(ctx, func(r reader) error {
		var err error
		s, err = r.locks(ino)
		return err
	})
	return s, fail("locks", ino, "", err)
}

// DropLocks releases every lock of session and returns the inodes whose
// locks changed. CloseSession does it too; a caller that wants to wake
// the waiters of those inodes calls it first.
func (fs *FS) DropLocks(ctx context.Context, session uint64) ([]uint64, error) {
	return fs.dropLocks(ctx, func(s uint64) bool { return s == session })
}

// DropStrayLocks releases the locks of every session not in sessions: a
// service that starts calls it with the sessions it recorded, so that a
// lock a session took as it ended (a call that raced with its end) does
// not outlive it.
func (fs *FS) DropStrayLocks(ctx context.Context, sessions []uint64) ([]uint64, error) {
	keep := make(map[uint64]bool, len(sessions))
	for _, s := range sessions {
		keep[s] = true
	}
	return fs.dropLocks(ctx, func(s uint64) bool { return !keep[s] })
}

// dropLocks releases the locks of the sessions drop says and returns the
// inodes whose locks changed.
func (fs *FS) dropLocks(ctx context.Context, drop func(session uint64) bool) ([]uint64, error) {
	var inos []uint64
	prefix := []byte{tagLock}
	err := fs.update(ctx, func(t *tx) error {
		inos = inos[:0]
		type change struct {
			ino uint64
			s   locks.Set
		}
		var changes []change
		err := t.scan(prefix, kv.PrefixEnd(prefix), func(k, p []byte) (bool, error) {
			if len(k) != 9 {
				return true, nil
			}
			s, err := locks.Decode(p)
			if err != nil {
				fs.corrupt(k)
				return true, nil // fsck reports it; the other sessions' locks stay
			}
			if next, ch := s.DropSessions(drop); ch {
				changes = append(changes, change{binary.BigEndian.Uint64(k[1:]), next})
			}
			return true, nil
		})
		for _, c := range changes {
			t.putLocks(c.ino, c.s)
			inos = append(inos, c.ino)
		}
		return err
	})
	return inos, fail("droplocks", 0, "", err)
}

// checkLocks returns what is wrong with the lock record k: p, for Check,
// or "". Its locks are dropped when repaired: they belong to an inode
// that is gone, or cannot be read.
func checkLocks(k, p []byte, inodes map[uint64]*checkInode) string {
	if len(k) != 9 {
		return "lock record with a malformed key"
	}
	ino := binary.BigEndian.Uint64(k[1:])
	if _, err := locks.Decode(p); err != nil {
		return fmt.Sprintf("locks of inode %d: undecodable", ino)
	}
	if _, ok := inodes[ino]; !ok {
		return fmt.Sprintf("locks of missing inode %d", ino)
	}
	return ""
}
