package meta

import (
	"context"
	"math"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/locks"
)

func lk(session, owner uint64, t locks.Type, start, end uint64) locks.Lock {
	return locks.Lock{Owner: locks.Owner{Session: session, ID: owner}, Type: t, Start: start, End: end, Pid: uint32(owner)}
}

func TestLocks(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))

	if changed, err := fs.SetLock(ctx, f.Ino, lk(1, 7, locks.Write, 0, 99)); err != nil || !changed {
		t.Fatalf("first lock: changed %v, %v", changed, err)
	}
	_, err := fs.SetLock(ctx, f.Ino, lk(2, 7, locks.Read, 50, 50))
	wantErrno(t, err, syscall.EAGAIN)
	b, ok, err := fs.GetLock(ctx, f.Ino, lk(2, 7, locks.Read, 50, math.MaxInt64))
	if err != nil || !ok || b != lk(1, 7, locks.Write, 0, 99) {
		t.Fatalf("GetLock = %v %v %v", b, ok, err)
	}
	if _, ok, _ := fs.GetLock(ctx, f.Ino, lk(2, 7, locks.Write, 100, 200)); ok {
		t.Fatal("GetLock found a conflict past the locked range")
	}
	// A lock on an inode that does not exist; an unlock of one is fine.
	_, err = fs.SetLock(ctx, 999999, lk(1, 7, locks.Read, 0, 0))
	wantErrno(t, err, syscall.ENOENT)
	if _, err := fs.SetLock(ctx, 999999, lk(1, 7, locks.Unlock, 0, 0)); err != nil {
		t.Fatal(err)
	}
	_, err = fs.SetLock(ctx, f.Ino, lk(1, 7, locks.Read, 5, 1))
	wantErrno(t, err, syscall.EINVAL)
	_, _, err = fs.GetLock(ctx, f.Ino, lk(1, 7, locks.Unlock, 0, 1))
	wantErrno(t, err, syscall.EINVAL)

	// Unlocking what is held changes the set; again, nothing.
	if changed, err := fs.SetLock(ctx, f.Ino, lk(1, 7, locks.Unlock, 0, math.MaxInt64)); err != nil || !changed {
		t.Fatalf("unlock: changed %v, %v", changed, err)
	}
	if changed, err := fs.SetLock(ctx, f.Ino, lk(1, 7, locks.Unlock, 0, math.MaxInt64)); err != nil || changed {
		t.Fatalf("second unlock: changed %v, %v", changed, err)
	}
	if s := must[locks.Set](t)(fs.Locks(ctx, f.Ino)); len(s) != 0 {
		t.Fatalf("locks left: %v", s)
	}
}

func TestLockCallRecords(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	shared := func(s, o uint64) locks.Lock {
		return locks.Lock{Owner: locks.Owner{Session: s, ID: o}, Flock: true, Type: locks.Read, End: locks.Whole}
	}
	if _, err := fs.SetLock(WithCall(ctx, 1, 10), f.Ino, shared(1, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.SetLock(ctx, f.Ino, shared(2, 1)); err != nil {
		t.Fatal(err)
	}
	// Session 1 converts to exclusive: session 2's shared lock is in
	// the way. As on Linux the old lock goes, and the failed call is not
	// recorded as done.
	up := shared(1, 1)
	up.Type = locks.Write
	changed, err := fs.SetLock(WithCall(ctx, 1, 11), f.Ino, up)
	wantErrno(t, err, syscall.EAGAIN)
	if !changed {
		t.Fatal("a failed conversion did not report the dropped lock")
	}
	if s := must[locks.Set](t)(fs.Locks(ctx, f.Ino)); !slices.Equal(s, locks.Set{shared(2, 1)}) {
		t.Fatalf("after a failed conversion: %v", s)
	}
	for id, want := range map[uint64]bool{10: true, 11: false} {
		if done := must[bool](t)(fs.CallDone(ctx, 1, id)); done != want {
			t.Errorf("CallDone(1, %d) = %v, want %v", id, done, want)
		}
	}
}

func TestLocksOfEndedSession(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	g := must[Attr](t)(fs.Create(ctx, Root, RootIno, "g", 0o644, 0))
	for _, s := range []uint64{1, 2} {
		if err := fs.OpenSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.SetLock(ctx, f.Ino, lk(s, 3, locks.Read, 0, 9)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.SetLock(ctx, g.Ino, lk(1, 3, locks.Write, 0, 9)); err != nil {
		t.Fatal(err)
	}
	inos := must[[]uint64](t)(fs.DropLocks(ctx, 1))
	slices.Sort(inos)
	if !slices.Equal(inos, []uint64{f.Ino, g.Ino}) {
		t.Fatalf("DropLocks changed %v, want %v", inos, []uint64{f.Ino, g.Ino})
	}
	if s := must[locks.Set](t)(fs.Locks(ctx, f.Ino)); !slices.Equal(s, locks.Set{lk(2, 3, locks.Read, 0, 9)}) {
		t.Fatalf("locks of f: %v", s)
	}
	// A lock of a session nobody recorded goes when the service starts.
	if _, err := fs.SetLock(ctx, g.Ino, lk(5, 3, locks.Read, 0, 9)); err != nil {
		t.Fatal(err)
	}
	if inos := must[[]uint64](t)(fs.DropStrayLocks(ctx, []uint64{1, 2})); !slices.Equal(inos, []uint64{g.Ino}) {
		t.Fatalf("DropStrayLocks changed %v, want %v", inos, []uint64{g.Ino})
	}
	if s := must[locks.Set](t)(fs.Locks(ctx, f.Ino)); len(s) != 1 {
		t.Fatalf("DropStrayLocks dropped a recorded session's lock: %v", s)
	}
	if err := fs.CloseSession(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if s := must[locks.Set](t)(fs.Locks(ctx, f.Ino)); len(s) != 0 {
		t.Fatalf("a closed session's locks stayed: %v", s)
	}
}

func TestCheckLockRecords(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	if _, err := fs.SetLock(ctx, f.Ino, lk(1, 3, locks.Read, 0, 9)); err != nil {
		t.Fatal(err)
	}
	if rep := must[CheckReport](t)(fs.Check(ctx, false)); len(rep.Problems) != 0 {
		t.Fatalf("a held lock is a problem: %v", rep.Problems)
	}
	err := fs.update(ctx, func(t *tx) error {
		t.putLocks(424242, locks.Set{lk(1, 3, locks.Read, 0, 9)})
		t.put(lockKey(434343), []byte{9})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := must[CheckReport](t)(fs.Check(ctx, true))
	if got := strings.Join(rep.Problems, "; "); !strings.Contains(got, "locks of missing inode 424242") || !strings.Contains(got, "locks of inode 434343: undecodable") {
		t.Fatalf("problems: %s", got)
	}
	if rep := must[CheckReport](t)(fs.Check(ctx, false)); len(rep.Problems) != 0 {
		t.Fatalf("after repair: %v", rep.Problems)
	}
	if s := must[locks.Set](t)(fs.Locks(ctx, f.Ino)); len(s) != 1 {
		t.Fatalf("repair dropped a good lock record: %v", s)
	}
}
