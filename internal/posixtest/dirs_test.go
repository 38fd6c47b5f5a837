package posixtest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDirs(t *testing.T) {
	runCases(t, []fsCase{
		{"MkdirRmdir", testMkdirRmdir},
		{"DotDot", testDotDot},
		{"ReaddirMany", testReaddirMany},
		{"Errnos", testDirErrnos},
		{"StatFS", testStatFS},
	})
}

func testMkdirRmdir(t *testing.T, dir string) {
	d := filepath.Join(dir, "d")
	mkdir(t, d, 0o750)
	st := lstat(t, d)
	wantMode(t, "new dir", st, unix.S_IFDIR|0o750)
	wantNlink(t, "new dir", st, 2)
	wantNlink(t, "parent after mkdir", lstat(t, dir), 3)
	wantNames(t, d)
	for i := range 3 {
		mkdir(t, filepath.Join(d, fmt.Sprintf("sub%d", i)), 0o755)
	}
	writeFile(t, filepath.Join(d, "file"), nil, 0o644)
	wantNlink(t, "dir with 3 subdirs and a file", lstat(t, d), 5)
	wantNames(t, d, "file", "sub0", "sub1", "sub2")
	must(t, "rmdir sub1", unix.Rmdir(filepath.Join(d, "sub1")))
	wantNlink(t, "dir after rmdir", lstat(t, d), 4)
	wantNames(t, d, "file", "sub0", "sub2")
	var sst unix.Stat_t
	wantErrno(t, "stat removed dir", unix.Lstat(filepath.Join(d, "sub1"), &sst), unix.ENOENT)
	// A removed directory that is still open lists as empty and takes no new entries.
	sub0 := filepath.Join(d, "sub0")
	fd := openFd(t, sub0, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, "rmdir open dir", unix.Rmdir(sub0))
	wantNlink(t, "removed open dir", fstat(t, fd), 0)
	_, err := unix.Openat(fd, "x", unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErrno(t, "create in removed dir", err, unix.ENOENT)
	wantErrno(t, "mkdir in removed dir", unix.Mkdirat(fd, "x", 0o755), unix.ENOENT)
}

func testDotDot(t *testing.T, dir string) {
	a := filepath.Join(dir, "a")
	b := filepath.Join(a, "b")
	mkdir(t, a, 0o755)
	mkdir(t, b, 0o755)
	if st, pt := stat(t, b+"/.."), stat(t, a); st.Ino != pt.Ino {
		t.Errorf("b/.. is inode %d, a is %d", st.Ino, pt.Ino)
	}
	if st, pt := stat(t, b+"/."), stat(t, b); st.Ino != pt.Ino {
		t.Errorf("b/. is inode %d, b is %d", st.Ino, pt.Ino)
	}
	// getdents returns "." and ".." as well.
	fd := openFd(t, b, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	buf := make([]byte, 4096)
	n, err := unix.ReadDirent(fd, buf)
	must(t, "getdents", err)
	_, _, names := unix.ParseDirent(buf[:n], -1, nil)
	if len(names) != 0 {
		t.Errorf("empty dir lists %q", names)
	}
	var raw []string
	for off := 0; off < n; {
		reclen := int(buf[off+16]) | int(buf[off+17])<<8
		name := buf[off+19 : off+reclen]
		if i := slices.Index(name, 0); i >= 0 {
			name = name[:i]
		}
		raw = append(raw, string(name))
		off += reclen
	}
	slices.Sort(raw)
	if !slices.Equal(raw, []string{".", ".."}) {
		t.Errorf("getdents of empty dir: %q, want . and ..", raw)
	}
}

// testReaddirMany lists a directory too large for one READDIR reply, in
// small batches, and lists it again after removing half of it.
func testReaddirMany(t *testing.T, dir string) {
	const n = 400
	var want []string
	for i := range n {
		name := fmt.Sprintf("entry-with-a-longish-name-%04d", i)
		want = append(want, name)
		if i%10 == 0 {
			mkdir(t, filepath.Join(dir, name), 0o755)
		} else {
			writeFile(t, filepath.Join(dir, name), nil, 0o644)
		}
	}
	f, err := os.Open(dir)
	must(t, "open dir", err)
	defer f.Close()
	var got []string
	for range n + 10 {
		ents, err := f.ReadDir(7)
		for _, e := range ents {
			got = append(got, e.Name())
			isDir := e.Name()[len(e.Name())-1] == '0'
			if e.IsDir() != isDir {
				t.Errorf("%s: IsDir %v", e.Name(), e.IsDir())
			}
		}
		if err != nil {
			break
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("readdir: %d names, want %d; first %q", len(got), len(want), got[:min(3, len(got))])
	}
	var left []string
	for i, name := range want {
		if i%2 == 0 {
			must(t, "remove", os.Remove(filepath.Join(dir, name)))
		} else {
			left = append(left, name)
		}
	}
	wantNames(t, dir, left...)
}

func testDirErrnos(t *testing.T, dir string) {
	d := filepath.Join(dir, "d")
	f := filepath.Join(dir, "f")
	mkdir(t, d, 0o755)
	writeFile(t, filepath.Join(d, "inner"), nil, 0o644)
	writeFile(t, f, []byte("x"), 0o644)
	var st unix.Stat_t

	wantErrno(t, "mkdir existing dir", unix.Mkdir(d, 0o755), unix.EEXIST)
	wantErrno(t, "mkdir over file", unix.Mkdir(f, 0o755), unix.EEXIST)
	wantErrno(t, "rmdir non-empty", unix.Rmdir(d), unix.ENOTEMPTY)
	wantErrno(t, "rmdir a file", unix.Rmdir(f), unix.ENOTDIR)
	wantErrno(t, "rmdir missing", unix.Rmdir(filepath.Join(dir, "missing")), unix.ENOENT)
	wantErrno(t, "rmdir .", unix.Rmdir(d+"/."), unix.EINVAL)
	wantErrno(t, "unlink a dir", unix.Unlink(d), unix.EISDIR)
	wantErrno(t, "unlink missing", unix.Unlink(filepath.Join(dir, "missing")), unix.ENOENT)
	wantErrno(t, "stat missing", unix.Lstat(filepath.Join(dir, "missing"), &st), unix.ENOENT)
	wantErrno(t, "stat through missing dir", unix.Lstat(filepath.Join(dir, "missing", "x"), &st), unix.ENOENT)
	wantErrno(t, "stat through a file", unix.Lstat(filepath.Join(f, "x"), &st), unix.ENOTDIR)
	wantErrno(t, "mkdir through a file", unix.Mkdir(filepath.Join(f, "x"), 0o755), unix.ENOTDIR)
	_, err := unix.Open(filepath.Join(f, "x"), unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErrno(t, "create through a file", err, unix.ENOTDIR)
	wantErrno(t, "stat file/", unix.Stat(f+"/", &st), unix.ENOTDIR)
	_, err = unix.Open(filepath.Join(dir, "missing"), unix.O_RDONLY, 0)
	wantErrno(t, "open missing", err, unix.ENOENT)
	wantErrno(t, "mkdir in missing dir", unix.Mkdir(filepath.Join(dir, "missing", "x"), 0o755), unix.ENOENT)
	wantErrno(t, "rmdir file/..", unix.Rmdir(filepath.Join(d, "inner")+"/.."), unix.ENOTDIR)
	must(t, "rmdir empty", unix.Rmdir(mkdirEmpty(t, dir, "e")))
	wantNlink(t, "dir after the errors", lstat(t, dir), 3)
}

func mkdirEmpty(t *testing.T, dir, name string) string {
	p := filepath.Join(dir, name)
	mkdir(t, p, 0o700)
	return p
}

func testStatFS(t *testing.T, dir string) {
	var s unix.Statfs_t
	must(t, "statfs", unix.Statfs(dir, &s))
	if s.Namelen != 255 {
		t.Errorf("namelen %d, want 255", s.Namelen)
	}
	if s.Bsize <= 0 || s.Frsize <= 0 {
		t.Errorf("bsize %d frsize %d", s.Bsize, s.Frsize)
	}
	if s.Blocks == 0 || s.Bfree > s.Blocks || s.Bavail > s.Bfree {
		t.Errorf("blocks %d bfree %d bavail %d", s.Blocks, s.Bfree, s.Bavail)
	}
	if s.Files == 0 || s.Ffree > s.Files {
		t.Errorf("files %d ffree %d", s.Files, s.Ffree)
	}
	// Writing and creating show up in the counts.
	for i := range 20 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%d", i)), pattern(64<<10, byte(i)), 0o644)
	}
	fd := openFd(t, filepath.Join(dir, "f0"), unix.O_RDONLY, 0)
	must(t, "fsync", unix.Fsync(fd))
	var s2 unix.Statfs_t
	must(t, "statfs after writes", unix.Fstatfs(fd, &s2))
	// Other tests create and remove files meanwhile: only a lower bound
	// on the inodes in use holds.
	if s2.Files-s2.Ffree < 21 {
		t.Errorf("statfs counts %d inodes in use after creating 20 files", s2.Files-s2.Ffree)
	}
	if s2.Namelen != 255 || s2.Blocks == 0 || s2.Bfree > s2.Blocks {
		t.Errorf("statfs after writes: namelen %d blocks %d bfree %d", s2.Namelen, s2.Blocks, s2.Bfree)
	}
}
