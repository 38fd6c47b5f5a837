package service_test

import (
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

func (p *peer) lockPushed(payload []byte) {
	var m wire.Ino
	if err := wire.Decode(payload, &m); err != nil {
		p.t.Errorf("%s: locks_changed push: %v", p.name, err)
		return
	}
	select {
	case p.lockPush <- m.Ino:
	default:
		p.t.Errorf("%s: too many locks_changed pushes", p.name)
	}
}

// nextLockPush waits for an OpLocksChanged push and returns its inode.
func (p *peer) nextLockPush() uint64 {
	p.t.Helper()
	select {
	case ino := <-p.lockPush:
		return ino
	case <-time.After(wait):
		p.t.Fatalf("%s: no locks_changed push within %v", p.name, wait)
		return 0
	}
}

func (p *peer) setlk(l wire.Lk) error { return p.call(wire.OpSetLk, &l, nil) }

func (p *peer) getlk(l wire.Lk) wire.LkReply {
	p.t.Helper()
	var r wire.LkReply
	p.must(p.call(wire.OpGetLk, &l, &r))
	return r
}

func flockReq(ino, owner uint64, typ uint8, wait bool) wire.Lk {
	return wire.Lk{Ino: ino, Owner: owner, Type: typ, Flock: true, End: math.MaxUint64, Wait: wait}
}

// TestLockWaiters: a conflicting lock fails with EAGAIN; a session that
// said it waits is pushed locks_changed when the holder unlocks, and
// gets the lock when it asks again.
func TestLockWaiters(t *testing.T) {
	e := newEnv(t, 5*time.Second, 5*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	f, err := a.mknod(meta.RootIno, "f")
	a.must(err)

	a.must(a.setlk(flockReq(f.Ino, 1, wire.LockWrite, false)))
	wantErrno(t, b.setlk(flockReq(f.Ino, 1, wire.LockRead, false)), syscall.EAGAIN, "B's flock under A's")
	wantErrno(t, b.setlk(flockReq(f.Ino, 1, wire.LockRead, true)), syscall.EAGAIN, "B's waiting flock")
	a.must(a.setlk(flockReq(f.Ino, 1, wire.LockUnlock, false)))
	if ino := b.nextLockPush(); ino != f.Ino {
		t.Fatalf("locks_changed for inode %d, want %d", ino, f.Ino)
	}
	b.must(b.setlk(flockReq(f.Ino, 1, wire.LockRead, true)))
	// Shared: A reads too; nobody waits, so nobody is pushed.
	a.must(a.setlk(flockReq(f.Ino, 2, wire.LockRead, false)))
	select {
	case ino := <-a.lockPush:
		t.Fatalf("A was pushed locks_changed of %d without waiting", ino)
	case ino := <-b.lockPush:
		t.Fatalf("B was pushed locks_changed of %d after its lock was granted", ino)
	default:
	}
}

// TestLockRanges: POSIX ranges across sessions, F_GETLK's answer (the
// pid only for the asking session's own locks), and flock beside POSIX.
func TestLockRanges(t *testing.T) {
	e := newEnv(t, 5*time.Second, 5*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	f, err := a.mknod(meta.RootIno, "f")
	a.must(err)
	px := func(owner uint64, typ uint8, start, end uint64) wire.Lk {
		return wire.Lk{Ino: f.Ino, Owner: owner, Type: typ, Start: start, End: end, Pid: uint32(owner)}
	}
	a.must(a.setlk(px(7, wire.LockWrite, 100, 199)))
	b.must(b.setlk(px(7, wire.LockWrite, 200, math.MaxInt64))) // same kernel owner id, other client
	wantErrno(t, b.setlk(px(7, wire.LockRead, 150, 150)), syscall.EAGAIN, "B's read lock in A's range")
	if r := b.getlk(px(7, wire.LockRead, 0, math.MaxInt64)); r != (wire.LkReply{Start: 100, End: 199, Type: wire.LockWrite}) {
		t.Fatalf("B's F_GETLK: %+v", r)
	}
	if r := a.getlk(px(8, wire.LockRead, 150, 150)); r != (wire.LkReply{Start: 100, End: 199, Type: wire.LockWrite, Pid: 7}) {
		t.Fatalf("F_GETLK of another owner of A: %+v", r)
	}
	if r := a.getlk(px(7, wire.LockWrite, 0, 199)); r.Type != wire.LockUnlock {
		t.Fatalf("F_GETLK of A's own range: %+v", r)
	}
	// Split A's range: the middle goes, B may take it.
	a.must(a.setlk(px(7, wire.LockUnlock, 120, 179)))
	b.must(b.setlk(px(7, wire.LockWrite, 120, 179)))
	wantErrno(t, b.setlk(px(7, wire.LockWrite, 119, 120)), syscall.EAGAIN, "B's lock over A's remaining start")
	// flock is independent of POSIX locks.
	a.must(a.setlk(flockReq(f.Ino, 9, wire.LockWrite, false)))
	wantErrno(t, b.setlk(wire.Lk{Ino: f.Ino, Owner: 1, Type: 9, End: 1}), syscall.EINVAL, "an unknown lock type")
	wantErrno(t, b.setlk(wire.Lk{Ino: 999999, Owner: 1, Type: wire.LockRead, End: 1}), syscall.ENOENT, "a lock of a missing inode")
}

// TestLocksOfEndedSessions: the locks of a session that says goodbye go
// at once, those of a session that vanished after the lease period, and
// the sessions that waited for them are pushed.
func TestLocksOfEndedSessions(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	px := newProxy(t, e.addr)
	a := e.connectTo(t, "A", true, px.addr())
	b := e.connect(t, "B", true)
	c := e.connect(t, "C", true)
	f, err := b.mknod(meta.RootIno, "f")
	b.must(err)
	g, err := b.mknod(meta.RootIno, "g")
	b.must(err)

	c.must(c.setlk(flockReq(g.Ino, 1, wire.LockWrite, false)))
	wantErrno(t, b.setlk(flockReq(g.Ino, 1, wire.LockWrite, true)), syscall.EAGAIN, "B's flock under C's")
	c.must(c.call(wire.OpBye, &wire.Empty{}, nil))
	if ino := b.nextLockPush(); ino != g.Ino {
		t.Fatalf("locks_changed for inode %d, want %d", ino, g.Ino)
	}
	b.must(b.setlk(flockReq(g.Ino, 1, wire.LockWrite, false)))

	a.must(a.setlk(wire.Lk{Ino: f.Ino, Owner: 1, Type: wire.LockWrite, End: math.MaxInt64}))
	wantErrno(t, b.setlk(wire.Lk{Ino: f.Ino, Owner: 1, Type: wire.LockWrite, End: 0, Wait: true}), syscall.EAGAIN, "B's lock under A's")
	px.pause(true)
	px.cut()
	if ino := b.nextLockPush(); ino != f.Ino {
		t.Fatalf("locks_changed for inode %d, want %d", ino, f.Ino)
	}
	b.must(b.setlk(wire.Lk{Ino: f.Ino, Owner: 1, Type: wire.LockWrite, End: 0}))
	if s, err := e.fs.Locks(t.Context(), f.Ino); err != nil || len(s) != 1 {
		t.Fatalf("locks of f after A expired: %v, %v", s, err)
	}
}
