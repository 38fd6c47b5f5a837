package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/locks"
	"github.com/ferryfs/ferry/internal/wire"
)

// File locks are the service's (OpSetLk, OpGetLk): every client of the
// volume sees every other's. A blocking lock asks again without waiting
// each time the service pushes that the inode's locks changed
// (OpLocksChanged), and every lockRetry in any case (a push is lost when
// the connection breaks, and a restarted service has forgotten who
// waits), until it is granted or its caller gives up.
//
// The client remembers which lock owners may hold locks on which inode
// (a superset: an owner is remembered from its first lock request until
// it unlocks all of its kind), so that the FLUSH the kernel sends at
// every close(2) costs no round trip unless the closing process may hold
// a POSIX lock on the file.

// lockRetry is how often a blocked lock asks again without a push.
const lockRetry = 2 * time.Second

type holder struct {
	ino, owner uint64
	flock      bool
}

// lockState is guarded by its mutex, which is taken under no other lock.
type lockState struct {
	mu      sync.Mutex
	changed map[uint64]*watch // inodes that blocked locks wait on
	held    map[holder]bool
}

// watch is closed at the next push naming its inode; n counts the
// waiters that use it.
type watch struct {
	ch chan struct{}
	n  int
}

// watch returns a channel closed at the next push naming ino, and a
// function to call once it is no longer needed.
func (s *lockState) watch(ino uint64) (<-chan struct{}, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(map[uint64]*watch)
	}
	w := s.changed[ino]
	if w == nil {
		w = &watch{ch: make(chan struct{})}
		s.changed[ino] = w
	}
	w.n++
	return w.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if w.n--; w.n == 0 && s.changed[ino] == w {
			delete(s.changed, ino)
		}
	}
}

func (s *lockState) pushed(ino uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.changed[ino]; w != nil {
		close(w.ch)
		delete(s.changed, ino)
	}
}

func (s *lockState) mark(h holder, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = make(map[holder]bool)
	}
	if on {
		s.held[h] = true
	} else {
		delete(s.held, h)
	}
}

// locksChanged handles an OpLocksChanged push.
func (c *Client) locksChanged(p []byte) {
	var m wire.Ino
	if err := wire.Decode(p, &m); err != nil {
		c.log.Warn("client: malformed locks_changed push from the service", "err", err)
		return
	}
	c.locks.pushed(m.Ino)
}

// MayHold reports whether the kernel's lock owner may hold locks on ino
// of the kind (flock or POSIX); false is certain.
func (c *Client) MayHold(ino, owner uint64, flock bool) bool {
	c.locks.mu.Lock()
	defer c.locks.mu.Unlock()
	return c.locks.held[holder{ino, owner, flock}]
}

func lkOf(ino uint64, l locks.Lock, wait bool) *wire.Lk {
	return &wire.Lk{Ino: ino, Owner: l.Owner.ID, Start: l.Start, End: l.End, Pid: l.Pid, Type: uint8(l.Type), Flock: l.Flock, Wait: wait}
}

// GetLock returns a lock of another owner (of any client) that stands in
// the way of l on ino, or a lock of Type locks.Unlock if none does.
// l.Owner.ID is the kernel's owner id; the session is the service's to
// add.
func (c *Client) GetLock(ctx context.Context, ino uint64, l locks.Lock) (locks.Lock, error) {
	var r wire.LkReply
	if err := c.call(ctx, wire.OpGetLk, lkOf(ino, l, false), &r); err != nil {
		return locks.Lock{}, err
	}
	return locks.Lock{Type: locks.Type(r.Type), Start: r.Start, End: r.End, Pid: r.Pid}, nil
}

// SetLock takes, converts or releases l on ino. With wait it waits until
// no lock stands in the way, or until ctx is done (EINTR: a signal to
// the waiting process); without, a conflict is EAGAIN.
func (c *Client) SetLock(ctx context.Context, ino uint64, l locks.Lock, wait bool) error {
	h := holder{ino, l.Owner.ID, l.Flock}
	if l.Type != locks.Unlock {
		// Before the call: its reply may be lost while the lock is taken.
		c.locks.mark(h, true)
	}
	var retry *time.Timer
	for {
		changed, done := c.locks.watch(ino)
		// A call under way runs to its end even if the caller gives up:
		// the caller must learn whether it got the lock.
		err := c.call(context.WithoutCancel(ctx), wire.OpSetLk, lkOf(ino, l, wait), nil)
		if err == nil && l.Type == locks.Unlock && (l.Flock || l.Start == 0 && l.End >= math.MaxInt64) {
			c.locks.mark(h, false)
		}
		if !wait || !errors.Is(err, syscall.EAGAIN) {
			done()
			return err
		}
		if retry == nil {
			retry = time.NewTimer(lockRetry)
			defer retry.Stop()
		} else {
			retry.Reset(lockRetry)
		}
		select {
		case <-changed:
		case <-retry.C:
		case <-ctx.Done():
			done()
			return fmt.Errorf("wait for a lock on inode %d: %w", ino, syscall.EINTR)
		}
		done()
	}
}
