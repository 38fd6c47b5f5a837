package posixtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFiles(t *testing.T) {
	runCases(t, []fsCase{
		{"RegularFile", testRegularFile},
		{"LargeContent", testLargeContent},
		{"Truncate", testTruncate},
		{"Ftruncate", testFtruncate},
		{"SparseOver4GiB", testSparseOver4GiB},
		{"Append", testAppend},
		{"Excl", testExcl},
		{"Trunc", testOTrunc},
		{"Relatime", testRelatime},
		{"Fallocate", testFallocate},
		{"FallocateKeepSize", testFallocateKeepSize},
		{"PunchHole", testPunchHole},
		{"UnlinkOpen", testUnlinkOpen},
		{"RenameOverOpen", testRenameOverOpen},
		{"BadFd", testBadFd},
	})
}

func testRegularFile(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	fd := openFd(t, p, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR, 0o644)
	st := fstat(t, fd)
	wantMode(t, "new file", st, unix.S_IFREG|0o644)
	wantNlink(t, "new file", st, 1)
	if st.Size != 0 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("new file: size %d uid %d gid %d, want 0 0 0", st.Size, st.Uid, st.Gid)
	}
	if n, err := unix.Write(fd, []byte("hello, world")); err != nil || n != 12 {
		t.Fatalf("write: %d, %v", n, err)
	}
	pwrite(t, fd, []byte("W0RLD"), 7)
	if got := pread(t, fd, 100, 0); string(got) != "hello, W0RLD" {
		t.Errorf("pread: %q", got)
	}
	if got := pread(t, fd, 100, 7); string(got) != "W0RLD" {
		t.Errorf("pread at 7: %q", got)
	}
	if got := pread(t, fd, 10, 12); len(got) != 0 {
		t.Errorf("pread at EOF: %q", got)
	}
	// A write past the end leaves a hole of zeros.
	pwrite(t, fd, []byte("!"), 20)
	if st := lstat(t, p); st.Size != 21 {
		t.Errorf("size after write at 20: %d, want 21", st.Size)
	}
	must(t, "fsync", unix.Fsync(fd))
	wantContent(t, p, []byte("hello, W0RLD\x00\x00\x00\x00\x00\x00\x00\x00!"))
	names := readdirNames(t, dir)
	if len(names) != 1 || names[0] != "f" {
		t.Errorf("readdir: %q", names)
	}
}

// testLargeContent writes several MiB in odd-sized pieces, so that the data
// spans blocks of the object store, and reads it back with other sizes.
func testLargeContent(t *testing.T, dir string) {
	const size = 9<<20 + 12345
	data := pattern(size, 7)
	p := filepath.Join(dir, "big")
	fd := openRaw(t, p, unix.O_CREAT|unix.O_WRONLY, 0o644)
	pieces := []int{1, 4095, 4097, 65536 + 3, 1<<20 - 1, 700 << 10, 3 << 20}
	for off, i := 0, 0; off < size; i++ {
		n := min(pieces[i%len(pieces)], size-off)
		pwrite(t, fd, data[off:off+n], int64(off))
		off += n
	}
	// Overwrite a range crossing a 4 MiB boundary.
	patch := bytes.Repeat([]byte{0xAB}, 100000)
	pwrite(t, fd, patch, 4<<20-50000)
	copy(data[4<<20-50000:], patch)
	must(t, "close", unix.Close(fd))
	rfd := openFd(t, p, unix.O_RDONLY, 0)
	for _, off := range []int{0, 1, 4<<20 - 1, 4 << 20, 8<<20 + 3, size - 10} {
		n := min(1<<20+17, size-off)
		if got := pread(t, rfd, n, int64(off)); !bytes.Equal(got, data[off:off+n]) {
			t.Errorf("pread %d bytes at %d differs", n, off)
		}
	}
	if got := readFile(t, p); !bytes.Equal(got, data) {
		t.Errorf("whole file differs (len %d, want %d)", len(got), len(data))
	}
}

func testTruncate(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, []byte("0123456789abcdef"), 0o644)
	must(t, "truncate shrink", unix.Truncate(p, 4))
	wantContent(t, p, []byte("0123"))
	// Growing again must not bring the old bytes back.
	must(t, "truncate grow", unix.Truncate(p, 10))
	wantContent(t, p, []byte("0123\x00\x00\x00\x00\x00\x00"))
	must(t, "truncate grow 3 MiB", unix.Truncate(p, 3<<20))
	got := readFile(t, p)
	if len(got) != 3<<20 || !bytes.Equal(got[:4], []byte("0123")) || !allZero(got[4:]) {
		t.Errorf("after growing to 3 MiB: len %d, head %q, rest zero %v", len(got), abbrev(got), allZero(got[4:]))
	}
	must(t, "truncate 0", unix.Truncate(p, 0))
	if st := lstat(t, p); st.Size != 0 {
		t.Errorf("size after truncate 0: %d", st.Size)
	}
	wantErrno(t, "truncate missing", unix.Truncate(filepath.Join(dir, "missing"), 0), unix.ENOENT)
	wantErrno(t, "truncate dir", unix.Truncate(dir, 0), unix.EISDIR)
	wantErrno(t, "truncate negative", unix.Truncate(p, -1), unix.EINVAL)
}

func testFtruncate(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	fd := openFd(t, p, unix.O_CREAT|unix.O_RDWR, 0o644)
	data := pattern(100000, 1)
	pwrite(t, fd, data, 0)
	must(t, "ftruncate shrink", unix.Ftruncate(fd, 5000))
	if st := fstat(t, fd); st.Size != 5000 {
		t.Errorf("fstat size %d, want 5000", st.Size)
	}
	must(t, "ftruncate grow", unix.Ftruncate(fd, 200000))
	got := pread(t, fd, 300000, 0)
	if len(got) != 200000 || !bytes.Equal(got[:5000], data[:5000]) || !allZero(got[5000:]) {
		t.Errorf("after shrink+grow: len %d, kept prefix %v, rest zero %v", len(got), bytes.Equal(got[:min(5000, len(got))], data[:min(5000, len(got))]), allZero(got[min(5000, len(got)):]))
	}
	// Writing after the hole keeps the hole.
	pwrite(t, fd, []byte("end"), 200000)
	if got := pread(t, fd, 10, 199998); !bytes.Equal(got, []byte("\x00\x00end")) {
		t.Errorf("around the end: %q", got)
	}
	rfd := openFd(t, p, unix.O_RDONLY, 0)
	wantErrno(t, "ftruncate read-only fd", unix.Ftruncate(rfd, 0), unix.EINVAL, unix.EBADF)
}

func testSparseOver4GiB(t *testing.T, dir string) {
	const off = 5 << 30
	p := filepath.Join(dir, "sparse")
	fd := openRaw(t, p, unix.O_CREAT|unix.O_RDWR, 0o644)
	pwrite(t, fd, []byte("head"), 0)
	pwrite(t, fd, []byte("tail"), off)
	if st := fstat(t, fd); st.Size != off+4 {
		t.Errorf("size %d, want %d", st.Size, int64(off+4))
	}
	if got := pread(t, fd, 8, off-4); !bytes.Equal(got, []byte("\x00\x00\x00\x00tail")) {
		t.Errorf("read at 5 GiB - 4: %q", got)
	}
	if got := pread(t, fd, 4096, 4<<30); len(got) != 4096 || !allZero(got) {
		t.Errorf("read in the hole at 4 GiB: %d bytes, zero %v", len(got), allZero(got))
	}
	if got := pread(t, fd, 8, 0); !bytes.Equal(got, []byte("head\x00\x00\x00\x00")) {
		t.Errorf("read at 0: %q", got)
	}
	must(t, "close", unix.Close(fd))
	if st := lstat(t, p); st.Size != off+4 {
		t.Errorf("size after close %d", st.Size)
	}
	must(t, "truncate to 6 GiB", unix.Truncate(p, 6<<30))
	must(t, "truncate to 5 GiB + 2", unix.Truncate(p, off+2))
	rfd := openFd(t, p, unix.O_RDONLY, 0)
	if got := pread(t, rfd, 10, off); !bytes.Equal(got, []byte("ta")) {
		t.Errorf("read after truncate to 5 GiB + 2: %q", got)
	}
}

// testAppend writes through two O_APPEND descriptions in turn: every write
// lands at the end, none overwrites another.
func testAppend(t *testing.T, dir string) {
	p := filepath.Join(dir, "log")
	writeFile(t, p, []byte("start\n"), 0o644)
	a := openFd(t, p, unix.O_WRONLY|unix.O_APPEND, 0)
	b := openFd(t, p, unix.O_WRONLY|unix.O_APPEND, 0)
	var want bytes.Buffer
	want.WriteString("start\n")
	for i := range 20 {
		fd, tag := a, "a"
		if i%2 == 1 {
			fd, tag = b, "b"
		}
		line := []byte(tag + string(rune('0'+i%10)) + "\n")
		if _, err := unix.Write(fd, line); err != nil {
			t.Fatalf("append write %d: %v", i, err)
		}
		want.Write(line)
	}
	wantContent(t, p, want.Bytes())
	// Seeking does not matter for O_APPEND.
	_, err := unix.Seek(a, 0, 0)
	must(t, "seek", err)
	_, err = unix.Write(a, []byte("last\n"))
	must(t, "write after seek", err)
	want.WriteString("last\n")
	wantContent(t, p, want.Bytes())
}

func testExcl(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, []byte("x"), 0o644)
	_, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
	wantErrno(t, "O_EXCL on a file", err, unix.EEXIST)
	mkdir(t, filepath.Join(dir, "d"), 0o755)
	_, err = unix.Open(filepath.Join(dir, "d"), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
	wantErrno(t, "O_EXCL on a dir", err, unix.EEXIST)
	// O_EXCL does not follow a symlink, even a dangling one.
	must(t, "symlink", unix.Symlink("nowhere", filepath.Join(dir, "dangling")))
	_, err = unix.Open(filepath.Join(dir, "dangling"), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
	wantErrno(t, "O_EXCL on a dangling symlink", err, unix.EEXIST)
	if err := unix.Access(filepath.Join(dir, "nowhere"), unix.F_OK); err == nil {
		t.Errorf("O_EXCL through a dangling symlink created its target")
	}
	// Without O_EXCL, O_CREAT through a dangling symlink creates the target.
	fd, err := unix.Open(filepath.Join(dir, "dangling"), unix.O_CREAT|unix.O_WRONLY, 0o600)
	must(t, "O_CREAT through dangling symlink", err)
	unix.Close(fd)
	if st := lstat(t, filepath.Join(dir, "nowhere")); st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("target created through symlink: mode %#o", st.Mode)
	}
	wantContent(t, p, []byte("x"))
}

func testOTrunc(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, pattern(50000, 3), 0o644)
	before := lstat(t, p)
	waitClockPast(before.Mtim)
	fd := openFd(t, p, unix.O_WRONLY|unix.O_TRUNC, 0)
	st := fstat(t, fd)
	if st.Size != 0 {
		t.Errorf("size after O_TRUNC: %d", st.Size)
	}
	if tsNano(st.Mtim) <= tsNano(before.Mtim) || tsNano(st.Ctim) <= tsNano(before.Ctim) {
		t.Errorf("O_TRUNC did not move mtime/ctime: %v/%v -> %v/%v", before.Mtim, before.Ctim, st.Mtim, st.Ctim)
	}
	pwrite(t, fd, []byte("new"), 0)
	wantContent(t, p, []byte("new"))
	// O_TRUNC on an empty file is fine, and O_CREAT|O_TRUNC on an existing one keeps its mode.
	fd2 := openFd(t, p, unix.O_CREAT|unix.O_TRUNC|unix.O_WRONLY, 0o600)
	if st := fstat(t, fd2); st.Size != 0 || st.Mode != unix.S_IFREG|0o644 {
		t.Errorf("O_CREAT|O_TRUNC on existing: size %d mode %#o", st.Size, st.Mode)
	}
}

func testFallocate(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	fd := openFd(t, p, unix.O_CREAT|unix.O_RDWR, 0o644)
	must(t, "fallocate mode 0", unix.Fallocate(fd, 0, 1024, 4096))
	if st := fstat(t, fd); st.Size != 5120 {
		t.Errorf("size after fallocate: %d, want 5120", st.Size)
	}
	if got := pread(t, fd, 10000, 0); len(got) != 5120 || !allZero(got) {
		t.Errorf("read after fallocate: %d bytes, zero %v", len(got), allZero(got))
	}
	// Inside the file, data stays; the size does not shrink.
	pwrite(t, fd, []byte("data"), 100)
	must(t, "fallocate inside", unix.Fallocate(fd, 0, 0, 200))
	if got := pread(t, fd, 4, 100); string(got) != "data" {
		t.Errorf("data after fallocate inside: %q", got)
	}
	if st := fstat(t, fd); st.Size != 5120 {
		t.Errorf("size after fallocate inside: %d", st.Size)
	}
	wantErrno(t, "fallocate len 0", unix.Fallocate(fd, 0, 0, 0), unix.EINVAL)
}

func testFallocateKeepSize(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	fd := openFd(t, p, unix.O_CREAT|unix.O_RDWR, 0o644)
	pwrite(t, fd, []byte("0123456789"), 0)
	err := unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, 5, 100000)
	if errnoOf(err) == unix.EOPNOTSUPP {
		t.Skipf("fallocate FALLOC_FL_KEEP_SIZE is not supported: %v", err)
	}
	must(t, "fallocate KEEP_SIZE", err)
	if st := fstat(t, fd); st.Size != 10 {
		t.Errorf("size after KEEP_SIZE: %d, want 10", st.Size)
	}
	if got := pread(t, fd, 100, 0); string(got) != "0123456789" {
		t.Errorf("content after KEEP_SIZE: %q", got)
	}
}

func testPunchHole(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	fd := openFd(t, p, unix.O_CREAT|unix.O_RDWR, 0o644)
	data := bytes.Repeat([]byte{'x'}, 3*4096)
	pwrite(t, fd, data, 0)
	err := unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 4096, 4096)
	if errnoOf(err) == unix.EOPNOTSUPP {
		t.Skipf("fallocate FALLOC_FL_PUNCH_HOLE is not supported: %v", err)
	}
	must(t, "punch hole", err)
	if st := fstat(t, fd); st.Size != 3*4096 {
		t.Errorf("size after punch: %d", st.Size)
	}
	copy(data[4096:8192], make([]byte, 4096))
	if got := pread(t, fd, len(data)+1, 0); !bytes.Equal(got, data) {
		t.Errorf("content after punch differs")
	}
	// An unaligned hole zeroes exactly its bytes.
	must(t, "punch unaligned", unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 10, 7))
	copy(data[10:17], make([]byte, 7))
	if got := pread(t, fd, len(data)+1, 0); !bytes.Equal(got, data) {
		t.Errorf("content after unaligned punch differs")
	}
	wantErrno(t, "punch without KEEP_SIZE", unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE, 0, 10), unix.EOPNOTSUPP, unix.EINVAL)
}

// testUnlinkOpen removes a file that is open: it stays readable and
// writable through the descriptor until closed, with nlink 0.
func testUnlinkOpen(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	fd := openFd(t, p, unix.O_CREAT|unix.O_RDWR, 0o644)
	pwrite(t, fd, []byte("before"), 0)
	rfd := openFd(t, p, unix.O_RDONLY, 0)
	must(t, "unlink open file", unix.Unlink(p))
	var st unix.Stat_t
	wantErrno(t, "lstat after unlink", unix.Lstat(p, &st), unix.ENOENT)
	wantNames(t, dir)
	pwrite(t, fd, []byte("+after"), 6)
	if got := pread(t, fd, 100, 0); string(got) != "before+after" {
		t.Errorf("read through writer fd: %q", got)
	}
	if got := pread(t, rfd, 100, 0); string(got) != "before+after" {
		t.Errorf("read through second fd: %q", got)
	}
	st = fstat(t, fd)
	wantNlink(t, "fstat after unlink", st, 0)
	if st.Size != 12 {
		t.Errorf("fstat size %d, want 12", st.Size)
	}
	must(t, "ftruncate unlinked", unix.Ftruncate(fd, 3))
	if got := pread(t, rfd, 100, 0); string(got) != "bef" {
		t.Errorf("read after ftruncate of unlinked file: %q", got)
	}
	// A new file of the same name is another file.
	writeFile(t, p, []byte("new"), 0o644)
	if got := pread(t, rfd, 100, 0); string(got) != "bef" {
		t.Errorf("unlinked file changed by new file of same name: %q", got)
	}
	wantContent(t, p, []byte("new"))
	if a, b := fstat(t, fd), lstat(t, p); a.Ino == b.Ino {
		t.Errorf("new file has the inode number of the unlinked open one")
	}
}

func testRenameOverOpen(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte("aaa"), 0o644)
	writeFile(t, b, []byte("bbb"), 0o644)
	fd := openFd(t, b, unix.O_RDWR, 0)
	must(t, "rename over open file", unix.Rename(a, b))
	wantContent(t, b, []byte("aaa"))
	if got := pread(t, fd, 10, 0); string(got) != "bbb" {
		t.Errorf("replaced file through fd: %q", got)
	}
	pwrite(t, fd, []byte("X"), 0)
	wantContent(t, b, []byte("aaa"))
	wantNlink(t, "replaced file", fstat(t, fd), 0)
}

func testBadFd(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, []byte("data"), 0o644)
	r := openFd(t, p, unix.O_RDONLY, 0)
	_, err := unix.Write(r, []byte("x"))
	wantErrno(t, "write to O_RDONLY fd", err, unix.EBADF)
	_, err = unix.Pwrite(r, []byte("x"), 0)
	wantErrno(t, "pwrite to O_RDONLY fd", err, unix.EBADF)
	w := openFd(t, p, unix.O_WRONLY, 0)
	_, err = unix.Read(w, make([]byte, 4))
	wantErrno(t, "read from O_WRONLY fd", err, unix.EBADF)
	_, err = unix.Open(dir, unix.O_WRONLY, 0)
	wantErrno(t, "open dir for write", err, unix.EISDIR)
	_, err = unix.Open(dir, unix.O_RDWR, 0)
	wantErrno(t, "open dir read-write", err, unix.EISDIR)
	_, err = unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	wantErrno(t, "O_DIRECTORY on a file", err, unix.ENOTDIR)
	d := openFd(t, dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	_, err = unix.Read(d, make([]byte, 4))
	wantErrno(t, "read a dir", err, unix.EISDIR)
	wantContent(t, p, []byte("data"))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// testRelatime: under relatime (the default mount option) the first read
// after a modification moves the access time past the modification time;
// further reads leave it. The page cache is dropped before reading: on a
// FUSE mount only reads that reach the server can update the access time.
func testRelatime(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, []byte("data"), 0o644)
	before := stat(t, p)
	time.Sleep(20 * time.Millisecond)
	fd := openRaw(t, p, unix.O_RDONLY, 0)
	defer unix.Close(fd)
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Read(fd, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	var after unix.Stat_t
	// The access time reaches the kernel's attribute cache asynchronously
	// on a FUSE mount; give it a bounded moment.
	for i := 0; i < 100; i++ {
		if after = stat(t, p); unix.TimespecToNsec(after.Atim) > unix.TimespecToNsec(before.Atim) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if unix.TimespecToNsec(after.Atim) < unix.TimespecToNsec(after.Mtim) {
		t.Fatalf("read after a write left atime %v before mtime %v", after.Atim, after.Mtim)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
	if again := stat(t, p); again.Atim != after.Atim {
		t.Fatalf("second read moved atime from %v to %v", after.Atim, again.Atim)
	}
}
