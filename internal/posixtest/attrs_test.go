package posixtest

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestAttrs(t *testing.T) {
	runCases(t, []fsCase{
		{"Chmod", testChmod},
		{"Chown", testChown},
		{"Utimens", testUtimens},
		{"UtimensSymlink", testUtimensSymlink},
		{"Ctime", testCtime},
		{"MtimeOnWrite", testMtimeOnWrite},
	})
}

func testChmod(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	for _, m := range []uint32{0, 0o777, 0o4755, 0o2750, 0o1700, 0o7777, 0o600} {
		must(t, "chmod", unix.Chmod(f, m))
		wantMode(t, "file after chmod", lstat(t, f), unix.S_IFREG|m)
	}
	fd := openFd(t, f, unix.O_RDONLY, 0)
	must(t, "fchmod", unix.Fchmod(fd, 0o640))
	wantMode(t, "fstat after fchmod", fstat(t, fd), unix.S_IFREG|0o640)
	d := filepath.Join(dir, "d")
	mkdir(t, d, 0o755)
	must(t, "chmod dir", unix.Chmod(d, 0o3711))
	wantMode(t, "dir after chmod", lstat(t, d), unix.S_IFDIR|0o3711)
	// chmod follows symlinks; the link keeps 0777.
	must(t, "symlink", unix.Symlink("f", filepath.Join(dir, "s")))
	must(t, "chmod through symlink", unix.Chmod(filepath.Join(dir, "s"), 0o604))
	wantMode(t, "target", lstat(t, f), unix.S_IFREG|0o604)
	wantMode(t, "symlink", lstat(t, filepath.Join(dir, "s")), unix.S_IFLNK|0o777)
	wantErrno(t, "chmod missing", unix.Chmod(filepath.Join(dir, "missing"), 0o644), unix.ENOENT)
}

func testChown(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	must(t, "chown", unix.Chown(f, 1234, 5678))
	st := lstat(t, f)
	if st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("after chown: %d:%d", st.Uid, st.Gid)
	}
	must(t, "chown -1 -1", unix.Chown(f, -1, -1))
	must(t, "chown gid only", unix.Chown(f, -1, 42))
	st = lstat(t, f)
	if st.Uid != 1234 || st.Gid != 42 {
		t.Errorf("after chown -1:42: %d:%d", st.Uid, st.Gid)
	}
	must(t, "symlink", unix.Symlink("f", filepath.Join(dir, "s")))
	must(t, "lchown", unix.Lchown(filepath.Join(dir, "s"), 77, 88))
	ls := lstat(t, filepath.Join(dir, "s"))
	if ls.Uid != 77 || ls.Gid != 88 {
		t.Errorf("symlink after lchown: %d:%d", ls.Uid, ls.Gid)
	}
	if st := lstat(t, f); st.Uid != 1234 || st.Gid != 42 {
		t.Errorf("lchown changed the target: %d:%d", st.Uid, st.Gid)
	}
	fd := openFd(t, f, unix.O_RDONLY, 0)
	must(t, "fchown", unix.Fchown(fd, 0, 0))
	if st := fstat(t, fd); st.Uid != 0 || st.Gid != 0 {
		t.Errorf("after fchown: %d:%d", st.Uid, st.Gid)
	}
	// chown of a suid/sgid executable clears both bits, even by root; a
	// directory keeps its setgid bit.
	must(t, "chmod 06755", unix.Chmod(f, 0o6755))
	must(t, "chown suid file", unix.Chown(f, 1000, 1000))
	wantMode(t, "suid file after chown", lstat(t, f), unix.S_IFREG|0o755)
	d := filepath.Join(dir, "d")
	mkdir(t, d, 0o755)
	must(t, "chmod dir 02755", unix.Chmod(d, 0o2755))
	must(t, "chown setgid dir", unix.Chown(d, 1000, 1000))
	wantMode(t, "setgid dir after chown", lstat(t, d), unix.S_IFDIR|0o2755)
}

func testUtimens(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, []byte("x"), 0o644)
	at := unix.Timespec{Sec: 1234567890, Nsec: 123456789}
	mt := unix.Timespec{Sec: 1700000000, Nsec: 987654321}
	must(t, "utimensat", unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{at, mt}, 0))
	st := lstat(t, f)
	if st.Atim != at || st.Mtim != mt {
		t.Errorf("after utimensat: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, at, mt)
	}
	// UTIME_OMIT leaves a time alone.
	mt2 := unix.Timespec{Sec: 1600000000, Nsec: 1}
	must(t, "utimensat omit atime", unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{{Nsec: unix.UTIME_OMIT}, mt2}, 0))
	st = lstat(t, f)
	if st.Atim != at || st.Mtim != mt2 {
		t.Errorf("after UTIME_OMIT atime: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, at, mt2)
	}
	// UTIME_NOW sets the current time (compared with a generous margin:
	// the kernel's clock may be coarse).
	before := time.Now().Add(-time.Second)
	must(t, "utimensat now/omit", unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_OMIT}}, 0))
	after := time.Now().Add(time.Second)
	st = lstat(t, f)
	if a := time.Unix(st.Atim.Unix()); a.Before(before) || a.After(after) {
		t.Errorf("UTIME_NOW atime %v not now", a)
	}
	if st.Mtim != mt2 {
		t.Errorf("UTIME_OMIT mtime changed to %v", st.Mtim)
	}
	// Times before 1970 and far in the future.
	old := unix.Timespec{Sec: -1000000000, Nsec: 500}
	future := unix.Timespec{Sec: 4102444800, Nsec: 999999999}
	fd := openFd(t, f, unix.O_RDONLY, 0)
	must(t, "futimens", unix.UtimesNanoAt(fd, "", []unix.Timespec{old, future}, unix.AT_EMPTY_PATH))
	st = fstat(t, fd)
	if st.Atim != old || st.Mtim != future {
		t.Errorf("after futimens: atime %v mtime %v, want %v %v", st.Atim, st.Mtim, old, future)
	}
	// Directories too.
	d := filepath.Join(dir, "d")
	mkdir(t, d, 0o755)
	must(t, "utimensat dir", unix.UtimesNanoAt(unix.AT_FDCWD, d, []unix.Timespec{at, mt}, 0))
	if st := lstat(t, d); st.Mtim != mt {
		t.Errorf("dir mtime %v, want %v", st.Mtim, mt)
	}
}

func testUtimensSymlink(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	s := filepath.Join(dir, "s")
	must(t, "symlink", unix.Symlink("f", s))
	ft := lstat(t, f)
	mt := unix.Timespec{Sec: 1500000000, Nsec: 42}
	must(t, "utimensat nofollow", unix.UtimesNanoAt(unix.AT_FDCWD, s, []unix.Timespec{mt, mt}, unix.AT_SYMLINK_NOFOLLOW))
	if st := lstat(t, s); st.Mtim != mt {
		t.Errorf("symlink mtime %v, want %v", st.Mtim, mt)
	}
	if st := lstat(t, f); st.Mtim != ft.Mtim {
		t.Errorf("target mtime changed to %v", st.Mtim)
	}
	must(t, "utimensat follow", unix.UtimesNanoAt(unix.AT_FDCWD, s, []unix.Timespec{mt, mt}, 0))
	if st := lstat(t, f); st.Mtim != mt {
		t.Errorf("target mtime %v, want %v", st.Mtim, mt)
	}
}

// testCtime: chmod, chown, link, unlink of another name, rename, utimens,
// xattr and truncate move ctime; reading does not.
func testCtime(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, []byte("data"), 0o644)
	prev := lstat(t, f)
	step := func(what string, op func() error, path string) {
		t.Helper()
		waitClockPast(prev.Ctim)
		must(t, what, op())
		st := lstat(t, path)
		if tsNano(st.Ctim) <= tsNano(prev.Ctim) {
			t.Errorf("%s: ctime did not move (%v -> %v)", what, prev.Ctim, st.Ctim)
		}
		prev = st
	}
	g := filepath.Join(dir, "g")
	step("chmod", func() error { return unix.Chmod(f, 0o600) }, f)
	step("chown", func() error { return unix.Chown(f, 5, 5) }, f)
	step("link", func() error { return unix.Link(f, g) }, f)
	step("unlink other name", func() error { return unix.Unlink(g) }, f)
	step("rename", func() error { return unix.Rename(f, g) }, g)
	f = g
	step("utimensat", func() error {
		return unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{{Sec: 1}, {Sec: 2}}, 0)
	}, f)
	step("setxattr", func() error { return unix.Setxattr(f, "user.k", []byte("v"), 0) }, f)
	step("truncate", func() error { return unix.Truncate(f, 1) }, f)
	waitClockPast(prev.Ctim)
	readFile(t, f)
	if st := lstat(t, f); st.Ctim != prev.Ctim {
		t.Errorf("read moved ctime %v -> %v", prev.Ctim, st.Ctim)
	}
	// The parent's mtime and ctime move when entries change.
	pd := lstat(t, dir)
	waitClockPast(pd.Ctim)
	writeFile(t, filepath.Join(dir, "new"), nil, 0o644)
	st := lstat(t, dir)
	if tsNano(st.Mtim) <= tsNano(pd.Mtim) || tsNano(st.Ctim) <= tsNano(pd.Ctim) {
		t.Errorf("create did not move the parent's mtime/ctime: %v/%v -> %v/%v", pd.Mtim, pd.Ctim, st.Mtim, st.Ctim)
	}
}

func testMtimeOnWrite(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, []byte("data"), 0o644)
	old := unix.Timespec{Sec: 1000000000}
	must(t, "utimensat", unix.UtimesNanoAt(unix.AT_FDCWD, f, []unix.Timespec{old, old}, 0))
	fd := openFd(t, f, unix.O_WRONLY, 0)
	pwrite(t, fd, []byte("D"), 0)
	must(t, "fsync", unix.Fsync(fd))
	st := fstat(t, fd)
	if tsNano(st.Mtim) <= tsNano(old) || tsNano(st.Ctim) <= tsNano(old) {
		t.Errorf("write did not move mtime/ctime: %v %v", st.Mtim, st.Ctim)
	}
	if st.Atim != old {
		t.Errorf("write moved atime to %v", st.Atim)
	}
}
