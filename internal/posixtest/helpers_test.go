package posixtest

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// errnoOf returns the errno err carries: 0 for nil, EIO-like sentinel 1<<16
// for an error that carries none.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.Errno(1 << 16)
}

func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "success"
	}
	if name := unix.ErrnoName(e); name != "" {
		return name
	}
	return e.Error()
}

// wantErrno checks that err carries one of want (0 means success).
func wantErrno(t testing.TB, what string, err error, want ...syscall.Errno) {
	t.Helper()
	got := errnoOf(err)
	if slices.Contains(want, got) {
		return
	}
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = errnoName(w)
	}
	t.Errorf("%s: got %s (%v), want %v", what, errnoName(got), err, names)
}

// must fails the test now if err is not nil.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func lstat(t testing.TB, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, "lstat "+path, unix.Lstat(path, &st))
	return st
}

func stat(t testing.TB, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, "stat "+path, unix.Stat(path, &st))
	return st
}

func fstat(t testing.TB, fd int) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, "fstat", unix.Fstat(fd, &st))
	return st
}

func writeFile(t testing.TB, path string, data []byte, perm os.FileMode) {
	t.Helper()
	must(t, "write "+path, os.WriteFile(path, data, perm))
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, "read "+path, err)
	return b
}

func mkdir(t testing.TB, path string, mode uint32) {
	t.Helper()
	must(t, "mkdir "+path, unix.Mkdir(path, mode))
}

// openFd opens path and closes the descriptor when the test ends; callers
// must not close it themselves (the number could be reused meanwhile).
func openFd(t testing.TB, path string, flags int, mode uint32) int {
	t.Helper()
	fd := openRaw(t, path, flags, mode)
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// openRaw opens path; the caller closes the descriptor.
func openRaw(t testing.TB, path string, flags int, mode uint32) int {
	t.Helper()
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, mode)
	must(t, "open "+path, err)
	return fd
}

func pwrite(t testing.TB, fd int, data []byte, off int64) {
	t.Helper()
	n, err := unix.Pwrite(fd, data, off)
	must(t, "pwrite", err)
	if n != len(data) {
		t.Fatalf("pwrite: wrote %d of %d bytes", n, len(data))
	}
}

// pread reads n bytes at off; a short read is returned as is.
func pread(t testing.TB, fd int, n int, off int64) []byte {
	t.Helper()
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := unix.Pread(fd, buf[got:], off+int64(got))
		must(t, "pread", err)
		if k == 0 {
			break
		}
		got += k
	}
	return buf[:got]
}

// readdirNames lists dir without "." and "..", sorted.
func readdirNames(t testing.TB, dir string) []string {
	t.Helper()
	f, err := os.Open(dir)
	must(t, "open dir", err)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	must(t, "readdir "+dir, err)
	slices.Sort(names)
	return names
}

func wantNames(t testing.TB, dir string, want ...string) {
	t.Helper()
	got := readdirNames(t, dir)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("readdir %s: got %q, want %q", dir, got, w)
	}
}

func wantContent(t testing.TB, path string, want []byte) {
	t.Helper()
	got := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("content of %s: got %d bytes %q, want %d bytes %q", path, len(got), abbrev(got), len(want), abbrev(want))
	}
}

func abbrev(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func wantMode(t testing.TB, what string, st unix.Stat_t, want uint32) {
	t.Helper()
	if st.Mode != want {
		t.Errorf("%s: mode %#o, want %#o", what, st.Mode, want)
	}
}

func wantNlink(t testing.TB, what string, st unix.Stat_t, want uint64) {
	t.Helper()
	if uint64(st.Nlink) != want {
		t.Errorf("%s: nlink %d, want %d", what, st.Nlink, want)
	}
}

func tsNano(ts unix.Timespec) int64 { return ts.Nano() }

// waitClockPast sleeps until the wall clock is clearly past ts, so that a
// timestamp taken by the next operation differs from ts even on a clock of
// coarse granularity. It asserts nothing about durations.
func waitClockPast(ts unix.Timespec) {
	deadline := time.Unix(ts.Unix()).Add(20 * time.Millisecond)
	for i := 0; i < 100 && time.Now().Before(deadline); i++ {
		time.Sleep(5 * time.Millisecond)
	}
}

// pattern returns n bytes that differ from position to position.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}
