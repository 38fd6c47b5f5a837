package appliancetest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/fusefs"
	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

var _ fusefs.Locker = (*client.Client)(nil)

// lockWait bounds every wait for a lock to be granted.
const lockWait = 30 * time.Second

func openRW(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func flock(f *os.File, how int) error { return unix.Flock(int(f.Fd()), how) }

func setlk(f *os.File, cmd int, typ int16, start, n int64) error {
	return unix.FcntlFlock(f.Fd(), cmd, &unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: start, Len: n})
}

func getlk(t *testing.T, f *os.File, typ int16, start, n int64) string {
	t.Helper()
	lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: start, Len: n}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		t.Fatalf("F_GETLK: %v", err)
	}
	return lkString(lk)
}

func wantBlocked(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("%s: %v, want EWOULDBLOCK", what, err)
	}
}

// granted waits (bounded) for a blocking lock call to return.
func granted(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(lockWait):
		t.Fatalf("%s: not granted within %v", what, lockWait)
	}
}

// notYet fails if a blocking lock call already returned.
func notYet(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned (%v) while the lock in its way was held", what, err)
	default:
	}
}

func twoMounts(t *testing.T, opts testmount.ServeOptions) (*testmount.Service, *testmount.Remote, *testmount.Remote) {
	testmount.RequireFUSE(t)
	svc := testmount.StartServe(t, opts)
	a := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: time.Minute})
	b := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: time.Minute})
	return svc, a, b
}

// TestFlockAcrossClients: an exclusive flock on one mount keeps the other
// out; a blocking flock there is granted once the holder unlocks, and
// once it closes its file.
func TestFlockAcrossClients(t *testing.T) {
	_, a, b := twoMounts(t, testmount.ServeOptions{})
	fa := openRW(t, a.Path("f"))
	fb := openRW(t, b.Path("f"))

	if err := flock(fa, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatalf("A's exclusive flock: %v", err)
	}
	wantBlocked(t, flock(fb, unix.LOCK_EX|unix.LOCK_NB), "B's exclusive flock under A's")
	wantBlocked(t, flock(fb, unix.LOCK_SH|unix.LOCK_NB), "B's shared flock under A's")
	// fcntl locks are independent of flock.
	if err := setlk(fb, unix.F_SETLK, unix.F_WRLCK, 0, 0); err != nil {
		t.Fatalf("B's fcntl lock beside A's flock: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- flock(fb, unix.LOCK_EX) }()
	wantBlocked(t, flock(openRW(t, b.Path("f")), unix.LOCK_EX|unix.LOCK_NB), "another open file of B under A's flock")
	notYet(t, done, "B's blocking flock")
	if err := flock(fa, unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	granted(t, done, "B's blocking flock after A unlocked")
	wantBlocked(t, flock(fa, unix.LOCK_SH|unix.LOCK_NB), "A's shared flock under B's")

	// A waits; B's close (the last of its open file) releases B's flock.
	go func() { done <- flock(fa, unix.LOCK_SH) }()
	notYet(t, done, "A's blocking flock")
	fb.Close()
	granted(t, done, "A's blocking flock after B closed")
}

// TestFcntlAcrossClients: byte ranges across clients, F_GETLK, and a
// process's POSIX locks released when it closes any descriptor of the
// file.
func TestFcntlAcrossClients(t *testing.T) {
	_, a, b := twoMounts(t, testmount.ServeOptions{})
	fa := openRW(t, a.Path("f"))
	fb := openRW(t, b.Path("f"))

	if err := setlk(fa, unix.F_SETLK, unix.F_WRLCK, 0, 100); err != nil {
		t.Fatal(err)
	}
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_RDLCK, 50, 1), "B's read lock in A's range")
	if err := setlk(fb, unix.F_SETLK, unix.F_WRLCK, 100, 0); err != nil {
		t.Fatalf("B's lock past A's range, to the end: %v", err)
	}
	// Another client's lock: its pid means nothing here, so it is 0.
	if got := getlk(t, fb, unix.F_RDLCK, 0, 0); got != "lk w 0 100 0" {
		t.Fatalf("B's F_GETLK: %s", got)
	}
	if got := getlk(t, fa, unix.F_RDLCK, 200, 5); got != "lk w 100 0 0" {
		t.Fatalf("A's F_GETLK of B's range to the end: %s", got)
	}
	if got := getlk(t, fa, unix.F_WRLCK, 0, 100); got != "lk u 0 100 0" {
		t.Fatalf("A's F_GETLK of its own range: %s", got)
	}
	// A unlocks the middle of its range: B may lock it, not the rest.
	if err := setlk(fa, unix.F_SETLK, unix.F_UNLCK, 20, 10); err != nil {
		t.Fatal(err)
	}
	if err := setlk(fb, unix.F_SETLK, unix.F_WRLCK, 20, 10); err != nil {
		t.Fatalf("B's lock in the hole of A's range: %v", err)
	}
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_WRLCK, 19, 1), "B's lock at the end of A's first part")
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_WRLCK, 30, 1), "B's lock at the start of A's second part")

	// B waits for byte 0; A closes ANOTHER descriptor of the file, which
	// releases all its locks on it (POSIX close semantics).
	done := make(chan error, 1)
	go func() { done <- setlk(fb, unix.F_SETLKW, unix.F_WRLCK, 0, 1) }()
	other, err := os.Open(a.Path("f")) // read-only: FLUSH must come all the same
	if err != nil {
		t.Fatal(err)
	}
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_WRLCK, 40, 1), "B's lock while A holds the range")
	notYet(t, done, "B's F_SETLKW")
	other.Close()
	granted(t, done, "B's F_SETLKW after A closed another descriptor")
	if got := getlk(t, fb, unix.F_WRLCK, 0, 0); got != "lk u 0 0 0" {
		t.Fatalf("A still holds a lock after its close: %s", got)
	}
}

// TestLockOwnersOnOneMount: two processes on one mount are two owners;
// a process killed while it waits in F_SETLKW does not get the lock
// later (the kernel interrupts its request).
func TestLockOwnersOnOneMount(t *testing.T) {
	_, a, b := twoMounts(t, testmount.ServeOptions{})
	fa := openRW(t, a.Path("f"))
	child := startLocker(t)
	fd := openIn(t, child, a.Path("f"))
	if r := child.do("setlk %s w 10 10 nb", fd); r != "ok" {
		t.Fatalf("child's lock: %s", r)
	}
	wantBlocked(t, setlk(fa, unix.F_SETLK, unix.F_RDLCK, 15, 1), "a lock of another process of the same mount")
	if got := getlk(t, fa, unix.F_WRLCK, 0, 0); got != "lk w 10 10 "+strconv.Itoa(child.cmd.Process.Pid) {
		t.Fatalf("F_GETLK of another process of the same mount: %s (child %d)", got, child.cmd.Process.Pid)
	}
	if r := child.do("setlk %s u 0 0 nb", fd); r != "ok" {
		t.Fatalf("child's unlock: %s", r)
	}
	if err := setlk(fa, unix.F_SETLK, unix.F_WRLCK, 0, 0); err != nil {
		t.Fatal(err)
	}
	child.send("setlk %s w 0 1 wait", fd)
	fb := openRW(t, b.Path("f"))
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_WRLCK, 0, 1), "B under A's lock")
	child.kill()
	if err := setlk(fa, unix.F_SETLK, unix.F_UNLCK, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := setlk(fb, unix.F_SETLK, unix.F_WRLCK, 0, 1); err != nil {
		t.Fatalf("B's lock after A unlocked, the killed waiter gone: %v", err)
	}
}

// TestLocksOfKilledClient: a client killed with its locks held loses
// them after the lease period; a blocking lock elsewhere gets through.
func TestLocksOfKilledClient(t *testing.T) {
	svc, a, _ := twoMounts(t, testmount.ServeOptions{Lease: 2 * time.Second, RecallTimeout: time.Second})
	kdir := t.TempDir()
	kpid := mountProcess(t, svc.Addr, kdir)
	fa := openRW(t, a.Path("f"))
	child := startLocker(t)
	fd := openIn(t, child, filepath.Join(kdir, "f"))
	for _, cmd := range []string{"flock %s ex nb", "setlk %s w 0 0 nb"} {
		if r := child.do(cmd, fd); r != "ok" {
			t.Fatalf("%s: %s", cmd, r)
		}
	}
	wantBlocked(t, flock(fa, unix.LOCK_SH|unix.LOCK_NB), "A's flock under the doomed client's")
	syscall.Kill(kpid, syscall.SIGKILL)
	child.kill()

	done := make(chan error, 2)
	go func() { done <- flock(fa, unix.LOCK_EX) }()
	go func() { done <- setlk(fa, unix.F_SETLKW, unix.F_WRLCK, 0, 0) }()
	granted(t, done, "a blocking lock once the killed client's session expired")
	granted(t, done, "a blocking lock once the killed client's session expired")
}

// TestLocksAcrossServiceRestart: locks survive a kill -9 of the service
// and its restart; the waiter is granted the lock once it is released.
func TestLocksAcrossServiceRestart(t *testing.T) {
	svc, a, b := twoMounts(t, testmount.ServeOptions{})
	fa := openRW(t, a.Path("f"))
	fb := openRW(t, b.Path("f"))
	if err := flock(fa, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if err := setlk(fa, unix.F_SETLK, unix.F_WRLCK, 0, 10); err != nil {
		t.Fatal(err)
	}
	svc.Kill(t)
	svc.Restart(t)
	wantBlocked(t, flock(fb, unix.LOCK_SH|unix.LOCK_NB), "B's flock after the restart")
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_RDLCK, 5, 1), "B's fcntl lock after the restart")
	if got := getlk(t, fb, unix.F_WRLCK, 0, 0); got != "lk w 0 10 0" {
		t.Fatalf("B's F_GETLK after the restart: %s", got)
	}
	done := make(chan error, 1)
	go func() { done <- flock(fb, unix.LOCK_EX) }()
	notYet(t, done, "B's blocking flock")
	if err := flock(fa, unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	granted(t, done, "B's blocking flock after A unlocked")
	if err := setlk(fa, unix.F_SETLK, unix.F_UNLCK, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := setlk(fb, unix.F_SETLK, unix.F_WRLCK, 0, 0); err != nil {
		t.Fatalf("B's fcntl lock after A unlocked: %v", err)
	}
}

// TestOFDLocksAcrossClients: an open file description lock (F_OFD_SETLK)
// goes at the last close of its file, which the kernel tells only by
// RELEASE.
func TestOFDLocksAcrossClients(t *testing.T) {
	_, a, b := twoMounts(t, testmount.ServeOptions{})
	fa, err := os.OpenFile(a.Path("g"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb := openRW(t, b.Path("g"))
	if err := setlk(fa, unix.F_OFD_SETLK, unix.F_WRLCK, 0, 0); err != nil {
		t.Fatalf("A's OFD lock: %v", err)
	}
	wantBlocked(t, setlk(fb, unix.F_SETLK, unix.F_RDLCK, 0, 1), "B's lock under A's OFD lock")
	done := make(chan error, 1)
	go func() { done <- setlk(fb, unix.F_SETLKW, unix.F_WRLCK, 0, 0) }()
	notYet(t, done, "B's F_SETLKW")
	fa.Close()
	granted(t, done, "B's F_SETLKW after A closed the OFD lock's file")
}

// TestWritesUnderLockSeenByNextHolder: what a client wrote under a lock
// is what the next holder of the lock reads, with both files open all
// along (no close-to-open to lean on): an unlock commits the writes
// first, and the commit recalls the other client's cached pages.
func TestWritesUnderLockSeenByNextHolder(t *testing.T) {
	_, a, b := twoMounts(t, testmount.ServeOptions{})
	fa := openRW(t, a.Path("f"))
	fb := openRW(t, b.Path("f"))
	buf := make([]byte, 64)
	for i, kind := range []string{"fcntl", "flock", "fcntl", "flock"} {
		w, r := fa, fb
		if i%2 == 1 {
			w, r = fb, fa
		}
		lock := func(f *os.File) error {
			if kind == "flock" {
				return flock(f, unix.LOCK_EX)
			}
			return setlk(f, unix.F_SETLKW, unix.F_WRLCK, 0, 0)
		}
		unlock := func(f *os.File) error {
			if kind == "flock" {
				return flock(f, unix.LOCK_UN)
			}
			return setlk(f, unix.F_SETLK, unix.F_UNLCK, 0, 0)
		}
		// The reader reads (and caches) the old contents first.
		if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if err := lock(w); err != nil {
			t.Fatal(err)
		}
		want := []byte("round " + strconv.Itoa(i) + " by " + kind)
		if _, err := w.WriteAt(want, 0); err != nil {
			t.Fatal(err)
		}
		if err := unlock(w); err != nil {
			t.Fatal(err)
		}
		if err := lock(r); err != nil {
			t.Fatal(err)
		}
		n, err := r.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if got := string(buf[:n]); !strings.HasPrefix(got, string(want)) {
			t.Fatalf("round %d (%s): the next holder read %q, want %q", i, kind, got, want)
		}
		if err := unlock(r); err != nil {
			t.Fatal(err)
		}
	}
}
