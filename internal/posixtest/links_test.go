package posixtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLinks(t *testing.T) {
	runCases(t, []fsCase{
		{"Symlink", testSymlink},
		{"SymlinkLoop", testSymlinkLoop},
		{"HardLink", testHardLink},
		{"Mknod", testMknod},
		{"UnixSocket", testUnixSocket},
	})
}

func testSymlink(t *testing.T, dir string) {
	f := filepath.Join(dir, "file")
	writeFile(t, f, []byte("content"), 0o600)
	l := filepath.Join(dir, "link")
	must(t, "symlink", unix.Symlink("file", l))
	buf := make([]byte, 256)
	n, err := unix.Readlink(l, buf)
	must(t, "readlink", err)
	if string(buf[:n]) != "file" {
		t.Errorf("readlink: %q", buf[:n])
	}
	st := lstat(t, l)
	wantMode(t, "lstat symlink", st, unix.S_IFLNK|0o777)
	if st.Size != 4 {
		t.Errorf("symlink size %d, want 4", st.Size)
	}
	wantNlink(t, "symlink", st, 1)
	if st, ft := stat(t, l), lstat(t, f); st.Ino != ft.Ino || st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("stat through symlink: ino %d mode %#o, want ino %d mode %#o", st.Ino, st.Mode, ft.Ino, ft.Mode)
	}
	wantContent(t, l, []byte("content"))
	// A short buffer truncates, silently.
	n, err = unix.Readlink(l, buf[:2])
	if err != nil || string(buf[:n]) != "fi" {
		t.Errorf("readlink into 2 bytes: %q, %v", buf[:n], err)
	}
	// Dangling, absolute, through a directory, long targets.
	must(t, "dangling", unix.Symlink("no/such/thing", filepath.Join(dir, "dangling")))
	var sst unix.Stat_t
	wantErrno(t, "stat dangling", unix.Stat(filepath.Join(dir, "dangling"), &sst), unix.ENOENT)
	lstat(t, filepath.Join(dir, "dangling"))
	sub := filepath.Join(dir, "sub")
	mkdir(t, sub, 0o755)
	writeFile(t, filepath.Join(sub, "inner"), []byte("inner"), 0o644)
	must(t, "symlink to dir", unix.Symlink("sub", filepath.Join(dir, "dirlink")))
	wantContent(t, filepath.Join(dir, "dirlink", "inner"), []byte("inner"))
	must(t, "symlink upwards", unix.Symlink("../file", filepath.Join(sub, "up")))
	wantContent(t, filepath.Join(sub, "up"), []byte("content"))
	must(t, "absolute symlink", unix.Symlink(f, filepath.Join(dir, "abs")))
	wantContent(t, filepath.Join(dir, "abs"), []byte("content"))
	long := strings.Repeat("abcdefgh/", 450) + "end" // 4053 bytes
	must(t, "long symlink", unix.Symlink(long, filepath.Join(dir, "long")))
	big := make([]byte, 8192)
	n, err = unix.Readlink(filepath.Join(dir, "long"), big)
	if err != nil || string(big[:n]) != long {
		t.Errorf("readlink long: %d bytes, %v", n, err)
	}
	if st := lstat(t, filepath.Join(dir, "long")); st.Size != int64(len(long)) {
		t.Errorf("long symlink size %d, want %d", st.Size, len(long))
	}
	_, err = unix.Readlink(f, buf)
	wantErrno(t, "readlink of a file", err, unix.EINVAL)
	wantErrno(t, "symlink over existing", unix.Symlink("x", f), unix.EEXIST)
	wantErrno(t, "empty symlink target", unix.Symlink("", filepath.Join(dir, "empty")), unix.ENOENT)
	// Removing a symlink leaves its target.
	must(t, "unlink symlink", unix.Unlink(l))
	wantContent(t, f, []byte("content"))
}

func testSymlinkLoop(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	must(t, "symlink a", unix.Symlink("b", a))
	must(t, "symlink b", unix.Symlink("a", b))
	self := filepath.Join(dir, "self")
	must(t, "symlink self", unix.Symlink("self", self))
	var st unix.Stat_t
	wantErrno(t, "stat a<->b", unix.Stat(a, &st), unix.ELOOP)
	wantErrno(t, "stat self", unix.Stat(self, &st), unix.ELOOP)
	_, err := unix.Open(a, unix.O_RDONLY, 0)
	wantErrno(t, "open a<->b", err, unix.ELOOP)
	_, err = unix.Open(filepath.Join(self, "x"), unix.O_RDONLY, 0)
	wantErrno(t, "path through a loop", err, unix.ELOOP)
	_, err = unix.Open(self, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	wantErrno(t, "O_NOFOLLOW on a loop", err, unix.ELOOP)
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	must(t, "symlink f", unix.Symlink("f", filepath.Join(dir, "tof")))
	_, err = unix.Open(filepath.Join(dir, "tof"), unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	wantErrno(t, "O_NOFOLLOW on a symlink to a file", err, unix.ELOOP)
	// A chain of 41 links is too long even without a loop.
	prev := "f"
	for i := range 41 {
		name := fmt.Sprintf("c%d", i)
		must(t, "chain", unix.Symlink(prev, filepath.Join(dir, name)))
		prev = name
	}
	wantErrno(t, "stat a chain of 41", unix.Stat(filepath.Join(dir, "c40"), &st), unix.ELOOP)
	must(t, "stat a chain of 40", unix.Stat(filepath.Join(dir, "c39"), &st))
	// lstat and readlink do not follow.
	lstat(t, a)
	must(t, "lstat self", unix.Lstat(self, &st))
	fd, err := unix.Open(self, unix.O_PATH|unix.O_NOFOLLOW, 0)
	must(t, "O_PATH|O_NOFOLLOW on a loop", err)
	unix.Close(fd)
}

func testHardLink(t *testing.T, dir string) {
	a := filepath.Join(dir, "a")
	writeFile(t, a, []byte("shared"), 0o640)
	sub := filepath.Join(dir, "sub")
	mkdir(t, sub, 0o755)
	b := filepath.Join(sub, "b")
	must(t, "link", unix.Link(a, b))
	sa, sb := lstat(t, a), lstat(t, b)
	if sa.Ino != sb.Ino {
		t.Errorf("links have inodes %d and %d", sa.Ino, sb.Ino)
	}
	wantNlink(t, "a after link", sa, 2)
	wantNlink(t, "b after link", sb, 2)
	c := filepath.Join(dir, "c")
	must(t, "second link", unix.Link(b, c))
	wantNlink(t, "a after second link", lstat(t, a), 3)
	// Data written through one name is seen through the others.
	fd := openFd(t, b, unix.O_WRONLY|unix.O_APPEND, 0)
	_, err := unix.Write(fd, []byte("+more"))
	must(t, "append through b", err)
	wantContent(t, a, []byte("shared+more"))
	wantContent(t, c, []byte("shared+more"))
	must(t, "chmod through c", unix.Chmod(c, 0o600))
	wantMode(t, "a after chmod of c", lstat(t, a), unix.S_IFREG|0o600)
	// Unlinking one name keeps the others.
	must(t, "unlink a", unix.Unlink(a))
	wantNlink(t, "b after unlink a", lstat(t, b), 2)
	wantContent(t, b, []byte("shared+more"))
	must(t, "unlink c", unix.Unlink(c))
	wantNlink(t, "b alone", lstat(t, b), 1)
	wantNlink(t, "fd of b", fstat(t, fd), 1)
	wantContent(t, b, []byte("shared+more"))
	// Errors.
	wantErrno(t, "link a dir", unix.Link(sub, filepath.Join(dir, "dirlink")), unix.EPERM)
	wantErrno(t, "link to an existing name", unix.Link(b, b), unix.EEXIST)
	wantErrno(t, "link missing", unix.Link(a, filepath.Join(dir, "x")), unix.ENOENT)
	wantErrno(t, "link into missing dir", unix.Link(b, filepath.Join(dir, "missing", "x")), unix.ENOENT)
	// A hard link to a symlink links the symlink itself.
	sl := filepath.Join(dir, "sl")
	must(t, "symlink", unix.Symlink("sub/b", sl))
	must(t, "link symlink", unix.Linkat(unix.AT_FDCWD, sl, unix.AT_FDCWD, filepath.Join(dir, "sl2"), 0))
	st := lstat(t, filepath.Join(dir, "sl2"))
	if st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Nlink != 2 {
		t.Errorf("link to symlink: mode %#o nlink %d", st.Mode, st.Nlink)
	}
	wantContent(t, filepath.Join(dir, "sl2"), []byte("shared+more"))
}

func testMknod(t *testing.T, dir string) {
	fifo := filepath.Join(dir, "fifo")
	must(t, "mkfifo", unix.Mkfifo(fifo, 0o640))
	wantMode(t, "fifo", lstat(t, fifo), unix.S_IFIFO|0o640)
	// The pipe lives in the kernel; the file system only names it.
	fd := openFd(t, fifo, unix.O_RDWR|unix.O_NONBLOCK, 0)
	_, err := unix.Write(fd, []byte("through the pipe"))
	must(t, "write fifo", err)
	buf := make([]byte, 64)
	n, err := unix.Read(fd, buf)
	if err != nil || string(buf[:n]) != "through the pipe" {
		t.Errorf("read fifo: %q, %v", buf[:n], err)
	}
	if st := lstat(t, fifo); st.Size != 0 {
		t.Errorf("fifo size %d", st.Size)
	}

	sock := filepath.Join(dir, "sock")
	must(t, "mknod socket", unix.Mknod(sock, unix.S_IFSOCK|0o600, 0))
	wantMode(t, "socket", lstat(t, sock), unix.S_IFSOCK|0o600)

	chr := filepath.Join(dir, "chr")
	must(t, "mknod char", unix.Mknod(chr, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	st := lstat(t, chr)
	wantMode(t, "char device", st, unix.S_IFCHR|0o666)
	if st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("char device rdev %#x, want %#x", st.Rdev, unix.Mkdev(1, 3))
	}
	blk := filepath.Join(dir, "blk")
	must(t, "mknod block", unix.Mknod(blk, unix.S_IFBLK|0o660, int(unix.Mkdev(259, 65539))))
	st = lstat(t, blk)
	wantMode(t, "block device", st, unix.S_IFBLK|0o660)
	if st.Rdev != unix.Mkdev(259, 65539) {
		t.Errorf("block device rdev %#x, want %#x", st.Rdev, unix.Mkdev(259, 65539))
	}
	reg := filepath.Join(dir, "reg")
	must(t, "mknod regular", unix.Mknod(reg, unix.S_IFREG|0o604, 0))
	wantMode(t, "mknod regular", lstat(t, reg), unix.S_IFREG|0o604)
	wantErrno(t, "mknod existing", unix.Mknod(fifo, unix.S_IFIFO|0o600, 0), unix.EEXIST)
	wantNames(t, dir, "blk", "chr", "fifo", "reg", "sock")
}

// testUnixSocket binds a socket in the directory and talks through it. The
// path goes through /proc/self/fd so that it fits in sun_path.
func testUnixSocket(t *testing.T, dir string) {
	dfd := openFd(t, dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	addr := fmt.Sprintf("/proc/self/fd/%d/s", dfd)
	ln, err := net.Listen("unix", addr)
	must(t, "listen", err)
	defer ln.Close()
	st := lstat(t, filepath.Join(dir, "s"))
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		t.Errorf("bound socket has mode %#o", st.Mode)
	}
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = c.Write([]byte("pong"))
		done <- err
	}()
	c, err := net.Dial("unix", addr)
	must(t, "dial", err)
	defer c.Close()
	buf := make([]byte, 4)
	_, err = c.Read(buf)
	if err != nil || string(buf) != "pong" {
		t.Errorf("read from socket: %q, %v", buf, err)
	}
	must(t, "accept side", <-done)
	must(t, "remove socket", os.Remove(filepath.Join(dir, "s")))
}
