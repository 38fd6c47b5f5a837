package fusefs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/locks"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fakeLocker records lock calls and keeps MayHold as the client does.
type fakeLocker struct {
	mu      sync.Mutex
	calls   []string
	held    map[[2]uint64]bool // ino, owner<<1|flock
	blocker locks.Lock
	setErr  error
}

func key(ino, owner uint64, flock bool) [2]uint64 {
	k := [2]uint64{ino, owner << 1}
	if flock {
		k[1] |= 1
	}
	return k
}

func (l *fakeLocker) GetLock(ctx context.Context, ino uint64, r locks.Lock) (locks.Lock, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("get %d %v", ino, r))
	return l.blocker, nil
}

func (l *fakeLocker) SetLock(ctx context.Context, ino uint64, r locks.Lock, wait bool) error {
	l.mu.Lock()
	l.calls = append(l.calls, fmt.Sprintf("set %d %v wait=%v", ino, r, wait))
	err := l.setErr
	if r.Type == locks.Unlock {
		delete(l.held, key(ino, r.Owner.ID, r.Flock))
	} else if err == nil {
		l.held[key(ino, r.Owner.ID, r.Flock)] = true
	}
	l.mu.Unlock()
	if err != nil && wait {
		<-ctx.Done()
		return fmt.Errorf("wait: %w", syscall.EINTR)
	}
	return err
}

func (l *fakeLocker) MayHold(ino, owner uint64, flock bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[key(ino, owner, flock)]
}

func (l *fakeLocker) took() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

func lockFixture(t *testing.T) (*fileSystem, *fakeLocker, uint64, uint64) {
	f, _, _ := fileFixture(t, 0o644, 10)
	l := &fakeLocker{held: map[[2]uint64]bool{}}
	f.locker = l
	var ro, rw fuse.OpenOut
	if st := f.Open(nil, &fuse.OpenIn{InHeader: hdr(3), Flags: syscall.O_RDONLY}, &ro); st != fuse.OK {
		t.Fatal(st)
	}
	if st := f.Open(nil, &fuse.OpenIn{InHeader: hdr(3), Flags: syscall.O_RDWR}, &rw); st != fuse.OK {
		t.Fatal(st)
	}
	// With shared locks every handle gets FLUSH: it releases POSIX locks.
	if ro.OpenFlags&fuse.FOPEN_NOFLUSH != 0 || rw.OpenFlags&fuse.FOPEN_NOFLUSH != 0 {
		t.Fatalf("open flags %#x and %#x: FLUSH is off", ro.OpenFlags, rw.OpenFlags)
	}
	if o := f.withLocks(&fuse.MountOptions{}); !o.EnableLocks {
		t.Fatal("a Locker's mount does not enable locks")
	}
	return f, l, ro.Fh, rw.Fh
}

func lkIn(fh, owner uint64, typ uint32, start, end uint64, flock bool) *fuse.LkIn {
	in := &fuse.LkIn{InHeader: hdr(3), Fh: fh, Owner: owner, Lk: fuse.FileLock{Start: start, End: end, Typ: typ, Pid: 42}}
	if flock {
		in.LkFlags = fuse.LK_FLOCK
	}
	return in
}

// TestFlushReleasesPosixLocks: FLUSH asks the Locker only for an owner
// that may hold a lock, and a handle's RELEASE drops its flock and OFD
// owners, not the POSIX owners that closed it.
func TestFlushReleasesPosixLocks(t *testing.T) {
	f, l, ro, rw := lockFixture(t)
	f.Flush(nil, &fuse.FlushIn{InHeader: hdr(3), Fh: ro, LockOwner: 7})
	if c := l.took(); len(c) != 0 {
		t.Fatalf("FLUSH of an owner without locks: %v", c)
	}
	if st := f.SetLk(nil, lkIn(ro, 7, syscall.F_RDLCK, 0, 9, false)); st != fuse.OK {
		t.Fatal(st)
	}
	if st := f.SetLk(nil, lkIn(rw, 8, syscall.F_WRLCK, 0, math.MaxInt64, true)); st != fuse.OK {
		t.Fatal(st)
	}
	if st := f.SetLk(nil, lkIn(rw, 9, syscall.F_WRLCK, 20, 29, false)); st != fuse.OK { // an OFD lock
		t.Fatal(st)
	}
	l.took()
	f.Flush(nil, &fuse.FlushIn{InHeader: hdr(3), Fh: rw, LockOwner: 7}) // another descriptor of the owner
	want := []string{"set 3 posix unlock [0,18446744073709551615] owner 0/7 pid 0 wait=false"}
	if c := l.took(); !slices.Equal(c, want) {
		t.Fatalf("FLUSH of a lock owner: %v, want %v", c, want)
	}
	f.Release(nil, &fuse.ReleaseIn{InHeader: hdr(3), Fh: ro})
	if c := l.took(); len(c) != 0 {
		t.Fatalf("RELEASE of a handle whose owner closed it: %v", c)
	}
	f.Release(nil, &fuse.ReleaseIn{InHeader: hdr(3), Fh: rw, ReleaseFlags: fuse.FUSE_RELEASE_FLOCK_UNLOCK, LockOwner: 8})
	c := l.took()
	slices.Sort(c)
	want = []string{
		"set 3 flock unlock [0,18446744073709551615] owner 0/8 pid 0 wait=false",
		"set 3 posix unlock [0,18446744073709551615] owner 0/9 pid 0 wait=false",
	}
	if !slices.Equal(c, want) {
		t.Fatalf("RELEASE: %v, want %v", c, want)
	}
}

func TestGetLkAndSetLk(t *testing.T) {
	f, l, ro, _ := lockFixture(t)
	var out fuse.LkOut
	if st := f.GetLk(nil, lkIn(ro, 7, syscall.F_WRLCK, 0, math.MaxInt64, false), &out); st != fuse.OK || out.Lk.Typ != syscall.F_UNLCK {
		t.Fatalf("GetLk with nothing in the way: %v %+v", st, out)
	}
	l.blocker = locks.Lock{Type: locks.Write, Start: 5, End: locks.Whole, Pid: 0}
	if st := f.GetLk(nil, lkIn(ro, 7, syscall.F_RDLCK, 0, 9, false), &out); st != fuse.OK ||
		out.Lk != (fuse.FileLock{Start: 5, End: math.MaxInt64, Typ: syscall.F_WRLCK}) {
		t.Fatalf("GetLk: %v %+v", st, out)
	}
	for _, in := range []*fuse.LkIn{lkIn(ro, 7, 9, 0, 1, false), lkIn(ro, 7, syscall.F_RDLCK, 5, 1, false)} {
		if st := f.SetLk(nil, in); st != fuse.EINVAL {
			t.Errorf("SetLk(%+v) = %v, want EINVAL", in.Lk, st)
		}
	}
	if st := f.GetLk(nil, lkIn(ro, 7, syscall.F_UNLCK, 0, 1, false), &out); st != fuse.EINVAL {
		t.Errorf("GetLk of an unlock = %v, want EINVAL", st)
	}
	l.setErr = fmt.Errorf("setlk: %w", syscall.EAGAIN)
	if st := f.SetLk(nil, lkIn(ro, 7, syscall.F_WRLCK, 0, 1, false)); st != fuse.Status(syscall.EAGAIN) {
		t.Fatalf("a conflicting SetLk = %v, want EAGAIN", st)
	}
	// SetLkw waits until the kernel interrupts it.
	cancel := make(chan struct{})
	done := make(chan fuse.Status, 1)
	go func() { done <- f.SetLkw(cancel, lkIn(ro, 7, syscall.F_WRLCK, 0, 1, false)) }()
	close(cancel)
	select {
	case st := <-done:
		if st != fuse.EINTR {
			t.Fatalf("an interrupted SetLkw = %v, want EINTR", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SetLkw did not return within 10s of its interrupt")
	}
}

func TestLocksWithoutLocker(t *testing.T) {
	f, _, _ := fileFixture(t, 0o644, 10)
	var out fuse.LkOut
	if st := f.GetLk(nil, lkIn(1, 7, syscall.F_RDLCK, 0, 1, false), &out); st != fuse.ENOSYS {
		t.Errorf("GetLk without a Locker = %v", st)
	}
	if st := f.SetLk(nil, lkIn(1, 7, syscall.F_RDLCK, 0, 1, false)); st != fuse.ENOSYS {
		t.Errorf("SetLk without a Locker = %v", st)
	}
	if o := f.withLocks(&fuse.MountOptions{}); o.EnableLocks {
		t.Error("an embedded mount enables shared locks")
	}
}
