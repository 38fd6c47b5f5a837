package posixtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestLocks(t *testing.T) {
	runCases(t, []fsCase{
		{"Flock", testFlock},
		{"FlockChild", testFlockChild},
		{"Fcntl", testFcntlLocks},
		{"FcntlRead", testFcntlReadLocks},
	})
}

// testFlock: flock locks belong to open file descriptions; two opens of
// one file conflict, a dup does not.
func testFlock(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, nil, 0o644)
	a := openFd(t, p, unix.O_RDONLY, 0)
	b := openRaw(t, p, unix.O_RDWR, 0)
	must(t, "LOCK_EX a", unix.Flock(a, unix.LOCK_EX|unix.LOCK_NB))
	wantErrno(t, "LOCK_EX|LOCK_NB b", unix.Flock(b, unix.LOCK_EX|unix.LOCK_NB), unix.EWOULDBLOCK)
	wantErrno(t, "LOCK_SH|LOCK_NB b", unix.Flock(b, unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK)
	dup, err := unix.Dup(a)
	must(t, "dup", err)
	defer unix.Close(dup)
	must(t, "LOCK_EX on a dup", unix.Flock(dup, unix.LOCK_EX|unix.LOCK_NB))
	must(t, "LOCK_UN a", unix.Flock(a, unix.LOCK_UN))
	must(t, "LOCK_SH b", unix.Flock(b, unix.LOCK_SH|unix.LOCK_NB))
	must(t, "LOCK_SH a", unix.Flock(a, unix.LOCK_SH|unix.LOCK_NB))
	wantErrno(t, "LOCK_EX a while b shares", unix.Flock(a, unix.LOCK_EX|unix.LOCK_NB), unix.EWOULDBLOCK)
	// Closing the last descriptor of b's description releases its lock.
	must(t, "close b", unix.Close(b))
	must(t, "LOCK_EX a after b closed", unix.Flock(a, unix.LOCK_EX|unix.LOCK_NB))
	// A blocking lock gets the lock once the holder lets go. (The bound
	// only keeps a broken file system from hanging the test.)
	c := openFd(t, p, unix.O_RDONLY, 0)
	done := make(chan error, 1)
	go func() { done <- unix.Flock(c, unix.LOCK_EX) }()
	must(t, "LOCK_UN a", unix.Flock(a, unix.LOCK_UN))
	select {
	case err := <-done:
		must(t, "blocking LOCK_EX", err)
	case <-time.After(time.Minute):
		t.Fatalf("blocking LOCK_EX still waiting a minute after the holder unlocked")
	}
}

func testFlockChild(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, nil, 0o644)
	a := openFd(t, p, unix.O_RDONLY, 0)
	must(t, "LOCK_SH", unix.Flock(a, unix.LOCK_SH))
	res := runAs(t, nil,
		childOp{Op: "flock", Path: p, Flags: unix.LOCK_EX | unix.LOCK_NB},
		childOp{Op: "flock", Path: p, Flags: unix.LOCK_SH | unix.LOCK_NB})
	if res[0].Errno != unix.EWOULDBLOCK || res[1].Errno != 0 {
		t.Errorf("child flock: LOCK_EX %s, LOCK_SH %s; want EWOULDBLOCK, success", errnoName(res[0].Errno), errnoName(res[1].Errno))
	}
	must(t, "LOCK_UN", unix.Flock(a, unix.LOCK_UN))
	wantAs(t, nil, childOp{Op: "flock", Path: p, Flags: unix.LOCK_EX | unix.LOCK_NB}, 0)
}

// testFcntlLocks: POSIX record locks belong to processes; a child sees the
// parent's lock, with its range and pid.
func testFcntlLocks(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, make([]byte, 1000), 0o644)
	fd := openFd(t, p, unix.O_RDWR, 0)
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 100}
	must(t, "F_SETLK write [0,100)", unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk))
	res := runAs(t, nil,
		childOp{Op: "setlk", Path: p, Flags: unix.F_WRLCK, Off: 50, Len: 10},
		childOp{Op: "setlk", Path: p, Flags: unix.F_RDLCK, Off: 99, Len: 1},
		childOp{Op: "setlk", Path: p, Flags: unix.F_WRLCK, Off: 200, Len: 10},
		childOp{Op: "getlk", Path: p, Flags: unix.F_WRLCK, Off: 0, Len: 0},
		childOp{Op: "getlk", Path: p, Flags: unix.F_WRLCK, Off: 100, Len: 50})
	for i, want := range []struct {
		what string
		errs []unix.Errno
	}{
		{"child F_SETLK write [50,60)", []unix.Errno{unix.EAGAIN, unix.EACCES}},
		{"child F_SETLK read [99,100)", []unix.Errno{unix.EAGAIN, unix.EACCES}},
		{"child F_SETLK write [200,210)", []unix.Errno{0}},
	} {
		var err error
		if res[i].Errno != 0 {
			err = res[i].Errno
		}
		wantErrno(t, want.what, err, want.errs...)
	}
	if l := res[3].Lock; res[3].Errno != 0 || l == nil {
		t.Errorf("child F_GETLK: %s", errnoName(res[3].Errno))
	} else if l.Type != unix.F_WRLCK || l.Start != 0 || l.Len != 100 || int(l.Pid) != os.Getpid() {
		t.Errorf("child F_GETLK: type %d [%d,+%d) pid %d; want F_WRLCK [0,+100) pid %d", l.Type, l.Start, l.Len, l.Pid, os.Getpid())
	}
	// The child (now gone) held [200,210): that range and [100,150) are free.
	if l := res[4].Lock; res[4].Errno != 0 || l == nil || l.Type != unix.F_UNLCK {
		t.Errorf("child F_GETLK on a free range: %+v %s", res[4].Lock, errnoName(res[4].Errno))
	}
	g := unix.Flock_t{Type: unix.F_WRLCK, Start: 200, Len: 10}
	must(t, "parent F_GETLK after child exit", unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &g))
	if g.Type != unix.F_UNLCK {
		t.Errorf("child's lock survived its exit: %+v", g)
	}
	// Unlocking part of the range frees that part.
	un := unix.Flock_t{Type: unix.F_UNLCK, Start: 0, Len: 60}
	must(t, "F_SETLK unlock [0,60)", unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &un))
	res = runAs(t, nil,
		childOp{Op: "setlk", Path: p, Flags: unix.F_WRLCK, Off: 10, Len: 10},
		childOp{Op: "getlk", Path: p, Flags: unix.F_RDLCK, Off: 0, Len: 0})
	if res[0].Errno != 0 {
		t.Errorf("child F_SETLK in the unlocked part: %s", errnoName(res[0].Errno))
	}
	if l := res[1].Lock; l == nil || l.Type != unix.F_WRLCK || l.Start != 60 || l.Len != 40 || int(l.Pid) != os.Getpid() {
		t.Errorf("child F_GETLK after partial unlock: %+v, want F_WRLCK [60,+40) pid %d", l, os.Getpid())
	}
	// Closing any descriptor of the file drops the process's locks.
	other := openRaw(t, p, unix.O_RDONLY, 0)
	must(t, "close other fd", unix.Close(other))
	wantAs(t, nil, childOp{Op: "setlk", Path: p, Flags: unix.F_WRLCK, Off: 0, Len: 0}, 0)
}

func testFcntlReadLocks(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, nil, 0o644)
	fd := openFd(t, p, unix.O_RDWR, 0)
	lk := unix.Flock_t{Type: unix.F_RDLCK, Start: 0, Len: 0}
	must(t, "F_SETLK read whole file", unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk))
	res := runAs(t, nil,
		childOp{Op: "setlk", Path: p, Flags: unix.F_RDLCK, Off: 0, Len: 0},
		childOp{Op: "setlk", Path: p, Flags: unix.F_WRLCK, Off: 1 << 40, Len: 1})
	if res[0].Errno != 0 {
		t.Errorf("child read lock beside parent's: %s", errnoName(res[0].Errno))
	}
	if res[1].Errno != unix.EAGAIN && res[1].Errno != unix.EACCES {
		t.Errorf("child write lock at 1 TiB inside parent's read lock to EOF: %s", errnoName(res[1].Errno))
	}
	// Upgrading to a write lock in the same process replaces the read lock.
	wlk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 0}
	must(t, "upgrade to write lock", unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &wlk))
	res = runAs(t, nil, childOp{Op: "getlk", Path: p, Flags: unix.F_RDLCK})
	if l := res[0].Lock; l == nil || l.Type != unix.F_WRLCK || l.Len != 0 {
		t.Errorf("after upgrade child sees %+v, want a write lock to EOF", l)
	}
}
